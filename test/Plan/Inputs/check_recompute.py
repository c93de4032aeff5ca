"""Checks the three activation recompute policies of one plan, from three
plan reports (dist-opt --report-json) of recompute=none, selective and full:
recompute time 0 < selective < full, activation memory none > selective >
full; selective (the attention core only) recomputes less than half of
what full does and keeps less than half of none's activations."""

import json
import sys

steps = [json.load(open(f))["step"] for f in sys.argv[1:4]]
names = ["none", "selective", "full"]
for step, name in zip(steps, names):
    assert step["plan"]["recompute"] == name, (step["plan"]["recompute"], name)
recompute = [s["breakdown"]["recomputeSeconds"] for s in steps]
memory = [s["memory"]["activationsBytes"] for s in steps]
assert recompute[0] == 0 < recompute[1] < recompute[2], recompute
assert memory[0] > memory[1] > memory[2], memory
assert recompute[1] < 0.5 * recompute[2], recompute
assert memory[1] < 0.5 * memory[0], memory
print("recompute seconds", " < ".join(f"{r:.3e}" for r in recompute),
      "; activation bytes", " > ".join(f"{m:.3e}" for m in memory))
