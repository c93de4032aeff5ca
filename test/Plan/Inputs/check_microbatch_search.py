"""The micro-batch size search against each size planned alone: the plan the
planner chooses with the size free must be as fast as the fastest of the
sizes fixed one by one (`--plan microbatch=b`, the model imported at b), and
must be that size. Every size the free search reports has the step of its
fixed run, or one slower where the fixed run is no faster than the chosen
plan; a size reported as "no plan is faster than" the best step before it
is no faster planned alone (the search's pruning lost nothing).

usage: check_microbatch_search.py DIST_OPT MODEL INPUT SEQ MODEL_BATCH
                                  GLOBAL_BATCH WORKDIR -- PLANNER_ARGS...
"""

import json
import os
import subprocess
import sys

sep = sys.argv.index("--")
dist_opt, model, name, seq, model_batch, batch, work = sys.argv[1:sep]
planner_args = sys.argv[sep + 1:]
os.makedirs(work, exist_ok=True)


def plan(shape_batch, spec, out):
    out = os.path.join(work, out + ".json")
    args = [dist_opt, model, "--shape", f"{name}={shape_batch}x{seq}",
            "--mode", "train", "--batch", batch, "--report-json", out]
    args += planner_args
    if spec:
        args += ["--plan", spec]
    run = subprocess.run(args, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return json.load(open(out))


free = plan(model_batch, "", "free")
trials = free["micro_batch_sizes"]
assert trials, "the free plan tried no micro-batch size"
chosen = free["step"]["plan"]["microBatch"]
fixed = {}
for trial in trials:
    size = trial["micro_batch"]
    report = plan(batch, f"microbatch={size}", f"size{size}")
    assert report["step"]["plan"]["microBatch"] == size
    step = report["step"]["stepSeconds"]
    fixed[size] = step
    if not trial["priced"]:
        assert trial["reason"].startswith("no plan is faster than"), trial
        assert step >= free["step"]["stepSeconds"], (size, step)
        continue
    assert trial["fits"], trial
    assert trial["step_seconds"] >= step * (1 - 1e-12), (
        size, trial["step_seconds"], step)
    if abs(trial["step_seconds"] - step) > 1e-12 * step:
        assert step >= free["step"]["stepSeconds"], (size, step)

fastest = min(fixed, key=lambda s: (fixed[s], s))
assert chosen == fastest, f"chose {chosen}, fastest alone {fastest}: {fixed}"
assert free["step"]["stepSeconds"] == fixed[fastest]
print(f"sizes {sorted(fixed)}; chosen {chosen} "
      f"({'not ' if chosen != int(model_batch) else ''}the model's "
      f"{model_batch}): {free['step']['stepSeconds'] * 1e3:.3f} ms")
