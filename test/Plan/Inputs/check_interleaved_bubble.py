"""Checks the step of an interleaved 1F1B plan (dist-opt --report-json).

Stage c runs on pipeline position c mod pp; a position's micro-batch is the
sum of its stages'. The step is m micro-batches of the slowest position,
plus the bubble of (pp - 1) / chunks of them, plus the update once per
step (docs/cluster.md, "Step composition").
"""

import json
import math
import sys

step = json.load(open(sys.argv[1]))["step"]
plan = step["plan"]
pp, v, m = plan["pp"], plan["chunks"], plan["microBatches"]
stages = step["stages"]
assert len(stages) == pp * v, f"{len(stages)} stages, expected {pp} x {v}"
positions = [0.0] * pp
for c, stage in enumerate(stages):
    positions[c % pp] += stage["microBatchSeconds"]
slowest = max(positions)
breakdown = step["breakdown"]
bubble = breakdown["pipelineBubbleSeconds"]
expected = (pp - 1) / v * slowest
assert math.isclose(bubble, expected, rel_tol=1e-9), (bubble, expected)
total = m * slowest + bubble + breakdown["optimizerSeconds"]
assert math.isclose(step["stepSeconds"], total, rel_tol=1e-9), (
    step["stepSeconds"], total)
print(f"bubble {bubble:.3e} s = ({pp} - 1) / {v} x {slowest:.3e} s")
