#!/usr/bin/python3
"""Compiles every valid model that make_indexing_models.py wrote, runs it
with dist-run on its inputs and compares each output with the expected one
(numpy; same shape and element type, rtol 1e-5, atol 1e-6).

    /usr/bin/python3 run_indexing_models.py DIR DIST_OPT DIST_RUN

Prints `MISMATCH name: ...` for each difference and `checked N outputs of
M models, K mismatched`; exits 1 on a mismatch or a failed command.
"""
import glob
import os
import subprocess
import sys

import numpy as np
import onnx


def main(folder, dist_opt, dist_run):
    names = sorted({os.path.basename(f).split(".expected")[0]
                    for f in glob.glob(os.path.join(folder, "*.expected*.npy"))})
    checked = mismatched = 0
    for name in names:
        model = onnx.load(os.path.join(folder, f"{name}.onnx"))
        inits = {t.name for t in model.graph.initializer}
        inputs = [i.name for i in model.graph.input if i.name not in inits]
        artifact = os.path.join(folder, f"{name}.dist")
        out = os.path.join(folder, f"{name}.out")
        feed = [f"--input={n}={os.path.join(folder, f'{name}.in{k}.npy')}"
                for k, n in enumerate(inputs)]
        for cmd in ([dist_opt, os.path.join(folder, f"{name}.onnx"), "--devices=1",
                     "-o", artifact],
                    [dist_run, artifact, *feed, "--output-dir", out]):
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"FAILED {name}: {' '.join(cmd)}: {proc.stderr.strip()}")
                return 1
        for j, output in enumerate(model.graph.output):
            want = np.load(os.path.join(folder, f"{name}.expected{j}.npy"))
            got = np.load(os.path.join(out, f"{output.name}.npy"))
            checked += 1
            if got.shape != want.shape or got.dtype != want.dtype or \
                    not np.allclose(got, want, rtol=1e-5, atol=1e-6):
                mismatched += 1
                print(f"MISMATCH {name} {output.name}: got {got.dtype}{list(got.shape)} "
                      f"{got.ravel()[:6]}, expected {want.dtype}{list(want.shape)} "
                      f"{want.ravel()[:6]}")
    print(f"checked {checked} outputs of {len(names)} models, {mismatched} mismatched")
    return 1 if mismatched else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
