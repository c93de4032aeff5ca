#!/usr/bin/python3
"""Runs the shell blocks that the docs mark as tested, as written.

    run_doc_commands.py --src SRC --dist-opt PATH --out OUT DOC.md [DOC.md ...]

A block is tested when the line before its ```sh fence is
`<!-- doc-commands: NAME -->`. Each block runs with bash -euo pipefail in
its own folder OUT/NAME, which holds `examples`, `test` and `models` (links
to the source tree's) and `build/bin` (a link to the folder of PATH, the dist-opt to test), so that the
commands run exactly as a user runs them from a clone after a build. Prints
each block's name and fails on the first block that fails, or when a
document has no tested block.
"""
import argparse
import os
import re
import subprocess
import sys

MARKER = re.compile(r"^<!-- doc-commands: ([\w.-]+) -->\n```sh\n(.*?)^```",
                    re.MULTILINE | re.DOTALL)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--src", required=True)
    parser.add_argument("--dist-opt", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("docs", nargs="+")
    args = parser.parse_args()
    bin_dir = os.path.dirname(os.path.abspath(args.dist_opt))
    for doc in args.docs:
        blocks = MARKER.findall(open(os.path.join(args.src, doc)).read())
        if not blocks:
            sys.exit(f"{doc}: no block marked <!-- doc-commands: NAME -->")
        for name, commands in blocks:
            folder = os.path.join(args.out, name)
            os.makedirs(os.path.join(folder, "build"), exist_ok=True)
            for tree in ("examples", "test", "models"):
                os.symlink(os.path.join(args.src, tree), os.path.join(folder, tree))
            os.symlink(bin_dir, os.path.join(folder, "build", "bin"))
            print(f"{doc}: {name}", flush=True)
            run = subprocess.run(["bash", "-euo", "pipefail", "-c", commands],
                                 cwd=folder)
            if run.returncode != 0:
                sys.exit(f"{doc}: block '{name}' failed (exit {run.returncode})")


if __name__ == "__main__":
    main()
