"""Brute force over the planner's whole search space: every grid dp x tp x pp
of the devices (pp dividing the layers), every activation recompute, ZeRO
stage and pipeline schedule (1F1B, interleaved with each chunk count that
divides the layers per stage), each fixed with --plan and planned alone.
The plan the planner chooses freely must be at least as fast as the fastest
of those that fit.

usage: check_search_brute_force.py DIST_OPT MODEL CLUSTER DEVICES BATCH LAYERS
                                   WORKDIR
"""

import json
import math
import os
import subprocess
import sys

dist_opt, model, cluster, devices, batch, layers, work = sys.argv[1:8]
devices, layers = int(devices), int(layers)
os.makedirs(work, exist_ok=True)


def plan(spec, name):
    out = os.path.join(work, name + ".json")
    args = [dist_opt, model, "--cluster", cluster, "--devices", str(devices),
            "--mode", "train", "--batch", batch, "--report-json", out]
    if spec:
        args += ["--plan", spec]
    run = subprocess.run(args, capture_output=True, text=True)
    if run.returncode != 0:
        return None, run.stderr.strip().splitlines()[-1]
    return json.load(open(out)), None


free, error = plan("", "free")
assert free, error
free_step = free["step"]

best = None
tried = fitting = 0
for pp in [p for p in range(1, devices + 1)
           if devices % p == 0 and layers % p == 0]:
    for tp in [t for t in range(1, devices // pp + 1)
               if (devices // pp) % t == 0]:
        dp = devices // pp // tp
        schedules = ["schedule=1f1b"]
        if pp > 1:
            schedules += [f"chunks={v}" for v in range(2, layers // pp + 1)
                          if (layers // pp) % v == 0]
        for recompute in ["none", "selective", "full"]:
            for zero in range(4):
                for schedule in schedules:
                    spec = (f"dp={dp},tp={tp},pp={pp},recompute={recompute},"
                            f"zero={zero},{schedule}")
                    report, error = plan(spec, f"fixed{tried}")
                    tried += 1
                    if not report:
                        continue
                    step = report["step"]
                    if not step["memory"]["fits"]:
                        continue
                    fitting += 1
                    if best is None or step["stepSeconds"] < best[0]:
                        best = (step["stepSeconds"], spec)

assert best, "no fixed plan fits"
assert free_step["memory"]["fits"]
free_time = free_step["stepSeconds"]
assert free_time <= best[0] * (1 + 1e-9), (
    f"free choice {free_time:.9e} s, fastest fixed {best[0]:.9e} s ({best[1]})")
plan_of = free_step["plan"]
print(f"{tried} settings, {fitting} fit; free choice dp={free['grid']['dp']} "
      f"tp={free['grid']['tp']} pp={free['grid']['pp']} recompute="
      f"{plan_of['recompute']} zero={plan_of['zero']} schedule="
      f"{plan_of['schedule']} chunks={plan_of.get('chunks', 1)}: "
      f"{free_time * 1e3:.3f} ms; fastest fixed {best[0] * 1e3:.3f} ms ({best[1]})")
