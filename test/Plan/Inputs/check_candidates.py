"""Checks the candidates of a training plan report (dist-opt --report-json):
one object per grid with numeric figures, the settings the search
considered on it, and the reported setting the fastest of those that fit;
the plan is the fastest candidate. Prints the plan's grid and setting."""

import json
import sys

report = json.load(open(sys.argv[1]))
candidates = report["candidates"]
assert candidates, "no candidates"
for c in candidates:
    assert c["fits"] and isinstance(c["step_seconds"], (int, float)), c
    assert 0 < c["memory_bytes"] <= c["device_memory_bytes"], c
    assert c["recompute"] in ("none", "selective", "full"), c
    assert 0 <= c["zero"] <= 3 and c["chunks"] >= 1, c
    considered = c["considered"]
    assert considered, c["grid"]
    for s in considered:
        assert isinstance(s["step_seconds"], (int, float)), s
        assert isinstance(s["memory_bytes"], (int, float)), s
        assert s["recompute"] in ("none", "selective", "full"), s
    fitting = [s for s in considered if s["fits"]]
    fastest = min(fitting, key=lambda s: s["step_seconds"])
    assert fastest["step_seconds"] == c["step_seconds"], (c["grid"], fastest)
    for key in ("recompute", "zero", "schedule", "chunks"):
        assert fastest[key] == c[key], (c["grid"], key, fastest, c)
best = min(candidates, key=lambda c: c["step_seconds"])
step = report["step"]
assert best["step_seconds"] == step["stepSeconds"], (best, step["stepSeconds"])
print(f"{len(candidates)} grids; fastest {best['grid']} recompute "
      f"{best['recompute']} zero {best['zero']} {best['schedule']} chunks "
      f"{best['chunks']}")
