"""Checks the grids an inference search did not solve (their relaxation's
bound exceeded the best step found): there are at least MIN, and the
CHECKED ones of lowest bound (the closest calls), each planned alone with
`--plan` fixing its grid, must be slower than the plan the search chose.

    check_pruned_grids.py REPORT.json DIST-OPT MODEL CLUSTER DEVICES MIN CHECKED
"""
import json
import re
import os
import subprocess
import sys
import tempfile

report_file, dist_opt, model, cluster, devices, minimum, checked = sys.argv[1:8]
with open(report_file) as f:
    report = json.load(f)
best = report["step"]["stepSeconds"]
pruned = [c for c in report["candidates"]
          if c["reason"].startswith("not solved: no plan of this grid beats")]
if len(pruned) < int(minimum):
    sys.exit(f"expected at least {minimum} grids not solved, got {len(pruned)}")
for c in pruned:
    if "step_seconds" in c:
        sys.exit(f"{c['grid']}: not solved, yet it has a step time")


def bound(candidate):
    return float(re.search(r"its bound: ([0-9.]+) ms", candidate["reason"])[1])


for c in sorted(pruned, key=bound)[:int(checked)]:
    grid = c["grid"]
    with tempfile.TemporaryDirectory() as work:
        alone_file = os.path.join(work, "alone.json")
        subprocess.run(
            [dist_opt, model, "--cluster", cluster, "--devices", devices,
             "--plan", grid, "--report-json", alone_file],
            check=True, capture_output=True)
        with open(alone_file) as f:
            alone = json.load(f)
    step = alone["step"]["stepSeconds"]
    if not step > best:
        sys.exit(f"{grid}: planned alone it takes {step} s, not slower than "
                 f"the chosen {best} s: it should have been solved")
    print(f"{grid}: {step * 1e3:.3f} ms alone > {best * 1e3:.3f} ms chosen")
print(f"{len(pruned)} grids not solved; the {checked} of lowest bound "
      "are slower alone")
