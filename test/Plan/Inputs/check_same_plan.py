"""Compares two plan reports (dist-opt --report-json): the same grid,
shardings, stages and predicted step time. With --faster-stage-first, checks
one report of two stages on fast then slow devices: stage 0 holds more ops,
and the stages' micro-batch times are within 25% of each other."""

import json
import math
import re
import sys


def ops(stage):
    return sum(int(m.group(1)) for s in stage["segments"]
               for m in [re.match(r"(\d+) ops", s)] if m)


a = json.load(open(sys.argv[1]))
if sys.argv[2] == "--faster-stage-first":
    stages = a["step"]["stages"]
    assert len(stages) == 2, len(stages)
    assert ops(stages[0]) > ops(stages[1]), [ops(s) for s in stages]
    t = [s["microBatchSeconds"] for s in stages]
    assert max(t) / min(t) < 1.25, t
    print(f"ops {ops(stages[0])} on H100, {ops(stages[1])} on V100; "
          f"{t[0]:.3e} s and {t[1]:.3e} s per micro-batch")
    sys.exit(0)
b = json.load(open(sys.argv[2]))
assert a["grid"] == b["grid"], (a["grid"], b["grid"])
assert a["shardings"] == b["shardings"]
sa, sb = a["step"], b["step"]
assert math.isclose(sa["stepSeconds"], sb["stepSeconds"], rel_tol=1e-12), (
    sa["stepSeconds"], sb["stepSeconds"])
assert [s["segments"] for s in sa["stages"]] == [
    s["segments"] for s in sb["stages"]]
print(f"both {a['grid']['dp']}x{a['grid']['tp']}x{a['grid']['pp']}, "
      f"{sa['stepSeconds']:.6e} s")
