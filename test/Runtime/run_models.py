#!/usr/bin/python3
"""Runs every test model through dist-opt and dist-run and compares the
outputs with PyTorch's and with ONNX Runtime's.

    /usr/bin/python3 run_models.py --build BUILD_DIR --out DIR [--ranks 1]
        [--models a,b] [--opsets 13,17] [--no-ort]

For each model of models/zoo.py and each opset: export it (models/export.py),
compile it (`dist-opt model.onnx --shape ... --devices N -o model.dist`), run
it (`dist-run`, under `mpirun -np N` when N > 1) on the exported inputs, and
compare every output with the PyTorch reference and with ONNX Runtime's
output (test/oracle/run_ort.js) at rtol 1e-4, atol 1e-5. Prints one line per
model and opset and finally `N passed, M failed`; exits 1 on any failure.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
RTOL, ATOL = 1e-4, 1e-5


def run(cmd, what):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): "
                           f"{(proc.stderr or proc.stdout).strip()[-800:]}")
    return proc


def compare(name, got, want):
    if got.shape != want.shape:
        raise RuntimeError(f"{name}: shape {got.shape}, expected {want.shape}")
    if got.dtype != want.dtype:
        raise RuntimeError(f"{name}: dtype {got.dtype}, expected {want.dtype}")
    err = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64)))) \
        if got.size else 0.0
    if not np.allclose(got, want, rtol=RTOL, atol=ATOL):
        raise RuntimeError(f"{name}: max abs error {err:.3g} exceeds rtol {RTOL}, atol {ATOL}")
    return err


def mpi_prefix(ranks):
    if ranks == 1:
        return []
    env = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
    os.environ.update(env)
    return ["mpirun", "-np", str(ranks), "--oversubscribe"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--ranks", type=int, default=1)
    parser.add_argument("--models", default="")
    parser.add_argument("--opsets", default="13,14,17")
    parser.add_argument("--no-ort", action="store_true")
    args = parser.parse_args()
    dist_opt = os.path.join(args.build, "bin", "dist-opt")
    dist_run = os.path.join(args.build, "bin", "dist-run")
    export = [sys.executable, os.path.join(ROOT, "models", "export.py"),
              "--out", args.out, "--opsets", args.opsets]
    if args.models:
        export += ["--models", args.models]
    run(export, "export")
    ort = os.path.join(ROOT, "test", "oracle", "run_ort.js")
    use_ort = not args.no_ort

    passed = failed = 0
    for model in sorted(os.listdir(args.out)):
        for opset_dir in sorted(os.listdir(os.path.join(args.out, model))):
            folder = os.path.join(args.out, model, opset_dir)
            meta_path = os.path.join(folder, "meta.json")
            if not os.path.exists(meta_path):
                continue
            meta = json.load(open(meta_path))
            tag = f"{model} {opset_dir}"
            try:
                shapes = [f"--shape={i['name']}={'x'.join(map(str, i['shape']))}"
                          for i in meta["inputs"]]
                artifact = os.path.join(folder, f"model-{args.ranks}.dist")
                run([dist_opt, os.path.join(folder, "model.onnx"), *shapes,
                     f"--devices={args.ranks}", "-o", artifact], "dist-opt")
                inputs = [f"--input={i['name']}={os.path.join(folder, i['file'])}"
                          for i in meta["inputs"]]
                outdir = os.path.join(folder, f"dist-run-{args.ranks}")
                run([*mpi_prefix(args.ranks), dist_run, artifact, *inputs,
                     "--output-dir", outdir], "dist-run")
                if use_ort:
                    ortdir = os.path.join(folder, "ort")
                    ort_inputs = []
                    for i in meta["inputs"]:
                        ort_inputs += ["--input",
                                       f"{i['name']}={os.path.join(folder, i['file'])}"]
                    run(["node", ort, os.path.join(folder, "model.onnx"), *ort_inputs,
                         "--output-dir", ortdir], "onnxruntime")
                worst_torch = worst_ort = 0.0
                for o in meta["outputs"]:
                    got = np.load(os.path.join(outdir, o["name"] + ".npy"))
                    worst_torch = max(worst_torch, compare(
                        f"{o['name']} vs PyTorch", got,
                        np.load(os.path.join(folder, o["file"]))))
                    if use_ort:
                        worst_ort = max(worst_ort, compare(
                            f"{o['name']} vs ONNX Runtime", got,
                            np.load(os.path.join(ortdir, o["name"] + ".npy"))))
                print(f"PASS {tag}: max abs error vs PyTorch {worst_torch:.2e}" +
                      (f", vs ONNX Runtime {worst_ort:.2e}" if use_ort else ""))
                passed += 1
            except RuntimeError as e:
                print(f"FAIL {tag}: {e}")
                failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
