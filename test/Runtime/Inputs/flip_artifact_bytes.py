# Flips one byte at a time at COUNT places spread over an artifact (its
# first and last bytes included), runs dist-run on each damaged copy, and
# sorts the outcomes: refused (exit 1 with an error), ran with the undamaged
# artifact's outputs, ran with other outputs (silently wrong), or anything
# else (a crash, another exit status). Prints one line per outcome that is
# not a refusal and a summary; exits 1 when a run gave other outputs or
# crashed.
#
#   flip_artifact_bytes.py DIST_RUN ARTIFACT WORKDIR COUNT -- DIST_RUN_ARGS...
import os
import shutil
import subprocess
import sys

import numpy as np

dist_run, artifact, work, count = sys.argv[1:5]
count = int(count)
args = sys.argv[sys.argv.index("--") + 1:]


def run(path, out):
    shutil.rmtree(out, ignore_errors=True)
    proc = subprocess.run([dist_run, path, *args, "--output-dir", out],
                          capture_output=True, text=True, errors="replace",
                          timeout=120)
    outputs = {}
    if proc.returncode == 0:
        for name in sorted(os.listdir(out)):
            outputs[name] = np.load(os.path.join(out, name))
    return proc, outputs


def same(a, b):
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and
        np.array_equal(a[k], b[k], equal_nan=True) for k in a)


proc, reference = run(artifact, os.path.join(work, "reference"))
if proc.returncode != 0 or not reference:
    sys.exit("the undamaged artifact does not run: " + proc.stderr)
data = open(artifact, "rb").read()
places = sorted({round(i * (len(data) - 1) / (count - 1)) for i in range(count)})
refused = identical = changed = other = 0
for place in places:
    damaged = bytearray(data)
    damaged[place] ^= 0xFF
    path = os.path.join(work, "flipped.dist")
    open(path, "wb").write(damaged)
    proc, outputs = run(path, os.path.join(work, "out"))
    if proc.returncode == 1 and "error: " in proc.stderr:
        refused += 1
    elif proc.returncode == 0 and same(outputs, reference):
        identical += 1
        print(f"byte {place}: ran with the same outputs")
    elif proc.returncode == 0:
        changed += 1
        print(f"byte {place}: ran with OTHER outputs")
    else:
        other += 1
        print(f"byte {place}: exit {proc.returncode}: {proc.stderr[-300:]}")
print(f"{len(places)} flips: {refused} refused, {identical} same outputs, "
      f"{changed} other outputs, {other} other exits")
sys.exit(1 if changed or other else 0)
