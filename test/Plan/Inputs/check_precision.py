#!/usr/bin/env python3
"""Compares the plan reports (--report-json) of one float32 model trained in
fp32 and in bf16 on the same grid: bf16 must be predicted faster (GEMMs at
the bf16 peak, half the bytes) and keep half the activation bytes, and its
model states are mixed precision (2 + 2 + 12 bytes per parameter against
fp32's 4 + 4 + 8). Each report must state its precision. Prints one line per
check and exits 1 when one fails.

Usage: check_precision.py FP32.json BF16.json [DEFAULT.json]
DEFAULT.json, planned without --precision, must be priced as fp32 (the
model's own precision).
"""
import json
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def main():
    fp32, bf16 = load(sys.argv[1]), load(sys.argv[2])
    failures = 0

    def check(what, ok, detail):
        nonlocal failures
        print(("OK " if ok else "FAIL ") + what + ": " + detail)
        failures += 0 if ok else 1

    for name, report, expected in (("fp32", fp32, "fp32"),
                                   ("bf16", bf16, "bf16")):
        stated = (report["precision"], report["step"]["plan"]["precision"])
        check(name + " report states its precision",
              stated == (expected, expected), str(stated))
    grids = [(r["grid"]["dp"], r["grid"]["tp"], r["grid"]["pp"])
             for r in (fp32, bf16)]
    check("same grid", grids[0] == grids[1], str(grids))
    t32, t16 = fp32["step"]["stepSeconds"], bf16["step"]["stepSeconds"]
    check("bf16 is predicted faster", t16 < t32,
          "fp32 %.6g s, bf16 %.6g s (%.2fx)" % (t32, t16, t32 / t16))
    c32 = fp32["step"]["breakdown"]["forwardComputeSeconds"]
    c16 = bf16["step"]["breakdown"]["forwardComputeSeconds"]
    check("bf16 forward compute is faster", c16 < c32,
          "fp32 %.6g s, bf16 %.6g s" % (c32, c16))
    m32, m16 = fp32["step"]["memory"], bf16["step"]["memory"]
    a32, a16 = m32["activationsBytes"], m16["activationsBytes"]
    # Half of every float value; the integer token ids stay as they are.
    check("bf16 keeps about half the activation bytes",
          0.45 * a32 <= a16 <= 0.55 * a32,
          "fp32 %d, bf16 %d (%.3f)" % (a32, a16, a16 / a32))
    # With zero=0 fixed, a device of P parameters holds 4P + 4P + 8P bytes
    # of model states in fp32 and 2P + 2P + 12P in bf16 (P is each plan's
    # own: the two may shard the weights differently).
    for name, memory, width, states in (("fp32", m32, 4, 8),
                                        ("bf16", m16, 2, 12)):
        got = (memory["parametersBytes"], memory["gradientsBytes"],
               memory["optimizerStatesBytes"])
        p = got[0] / width
        expected = (width * p, width * p, states * p)
        check("%s model states are %d + %d + %d bytes per parameter" %
              (name, width, width, states),
              p > 0 and all(abs(a - b) <= 1e-9 * b
                            for a, b in zip(got, expected)), str(got))
    if len(sys.argv) > 3:
        default = load(sys.argv[3])
        check("without --precision the float32 model is priced in fp32",
              default["precision"] == "fp32" and
              default["step"]["stepSeconds"] == t32,
              "%s, %.6g s" % (default["precision"],
                              default["step"]["stepSeconds"]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
