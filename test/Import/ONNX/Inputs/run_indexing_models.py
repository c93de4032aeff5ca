#!/usr/bin/python3
"""Compiles all.onnx, the valid models of make_indexing_models.py in one
graph, runs it with dist-run on their inputs and compares each output with
the expected one (numpy; same shape and element type, rtol 1e-5, atol
1e-6).

    /usr/bin/python3 run_indexing_models.py DIR DIST_OPT DIST_RUN

Prints `MISMATCH name: ...` for each difference and `checked N outputs of
M cases, K mismatched`; exits 1 on a mismatch or a failed command.
"""
import os
import subprocess
import sys

import numpy as np
import onnx


def main(folder, dist_opt, dist_run):
    model = onnx.load(os.path.join(folder, "all.onnx"))
    artifact = os.path.join(folder, "all.dist")
    out = os.path.join(folder, "all.out")
    feed = [f"--input={i.name}={os.path.join(folder, f'all.{i.name}.npy')}"
            for i in model.graph.input]
    for cmd in ([dist_opt, os.path.join(folder, "all.onnx"), "--devices=1", "-o", artifact],
                [dist_run, artifact, *feed, "--output-dir", out]):
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"FAILED {' '.join(cmd)}: {proc.stderr.strip()}")
            return 1
    mismatched = 0
    for output in model.graph.output:
        want = np.load(os.path.join(folder, f"all.{output.name}.expected.npy"))
        got = np.load(os.path.join(out, f"{output.name}.npy"))
        if got.shape != want.shape or got.dtype != want.dtype or \
                not np.allclose(got, want, rtol=1e-5, atol=1e-6):
            mismatched += 1
            print(f"MISMATCH {output.name}: got {got.dtype}{list(got.shape)} "
                  f"{got.ravel()[:6]}, expected {want.dtype}{list(want.shape)} "
                  f"{want.ravel()[:6]}")
    cases = len({o.name.split(".")[0] for o in model.graph.output})
    print(f"checked {len(model.graph.output)} outputs of {cases} cases, "
          f"{mismatched} mismatched")
    return 1 if mismatched else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
