#!/usr/bin/env python3
# ===- compare_arena.py - recompute shrinks dist-run's arena ---------------===#
#
# Reads the "memory: arena N bytes ..." line that dist-run prints after its
# training steps from two outputs (without and with activation recompute) and
# prints both sizes; exits 1 unless the second arena is smaller.
#
# ===-----------------------------------------------------------------------===#
"""Usage: compare_arena.py WITHOUT.txt WITH.txt"""

import re
import sys


def arena_bytes(path):
    with open(path) as f:
        for line in f:
            m = re.match(r"memory: arena (\d+) bytes", line)
            if m:
                return int(m.group(1))
    sys.exit(f"error: {path}: no 'memory: arena N bytes' line")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    without, with_ = arena_bytes(sys.argv[1]), arena_bytes(sys.argv[2])
    smaller = with_ < without
    print(f"arena: {'SMALLER' if smaller else 'NOT SMALLER'} with recompute: "
          f"{with_} vs {without} bytes ({100.0 * with_ / without:.0f}%)")
    return 0 if smaller else 1


if __name__ == "__main__":
    sys.exit(main())
