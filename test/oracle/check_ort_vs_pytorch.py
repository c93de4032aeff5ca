#!/usr/bin/python3
"""Checks the two test oracles against each other: ONNX Runtime and PyTorch.

    /usr/bin/python3 test/oracle/check_ort_vs_pytorch.py [--out DIR]
        [--models mlp,gpt2,...] [--opsets 13,14,17] [--rtol 1e-4] [--atol 1e-5]
        [--opt-level all] [--threads 1] [--jobs N] [--no-install] [-v]

Exports every model of models/zoo.py with models/export.py (ONNX file,
inputs, PyTorch reference outputs output_*.npy), runs each model.onnx on CPU
with ONNX Runtime through run_ort.js, and compares ORT's outputs with
PyTorch's: same shape, same dtype, all finite, and
|ort - torch| <= atol + rtol * |torch| element-wise (numpy.allclose).
Before the dist-opt runtime is compared with these oracles, they must agree
with each other.

One line per model/opset: PASS/FAIL, the worst output's max absolute error,
max relative error (over elements with |torch| >= 1e-3; near 0 a relative
error means nothing) and `tol` = max |ort - torch| / (atol + rtol*|torch|),
which is <= 1 exactly when the check passes; then `total time`, and the last
line is exactly `N passed, M failed`. Exit status 1 when M > 0, 2 on bad
arguments or when the oracle cannot be installed or run at all.

--out DIR keeps the exports (DIR/export/M/opsetN) and ORT's outputs
(DIR/ort/M/opsetN/<output>.npy); without it a temporary folder is used and
removed. Unless --no-install, test/oracle/install.sh is run first (a no-op
when node_modules is up to date).
"""

import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODELS_DIR = os.path.join(ROOT, "models")
RUN_ORT = os.path.join(HERE, "run_ort.js")
INSTALL = os.path.join(HERE, "install.sh")

try:
    import numpy as np
except ImportError as e:
    raise SystemExit(f"error: {e}. Run this script with /usr/bin/python3 "
                     "(Debian's python3-numpy).")

REL_FLOOR = 1e-3  # relative errors are reported over |torch| >= this


def model_names():
    """Names in models/zoo.py's registry (imports torch through zoo)."""
    sys.path.insert(0, MODELS_DIR)
    try:
        import zoo
    except ImportError as e:
        raise SystemExit(f"error: cannot import models/zoo.py: {e}. Run with /usr/bin/python3 "
                         "(Debian's python3-torch).")
    finally:
        sys.path.remove(MODELS_DIR)
    return list(zoo.MODELS)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", help="keep exports and ORT outputs here (default: temporary)")
    p.add_argument("--models", help="comma-separated subset of models/zoo.py (default: all)")
    p.add_argument("--opsets", default="13,14,17", help="comma-separated opsets (default 13,14,17)")
    p.add_argument("--rtol", type=float, default=1e-4)
    p.add_argument("--atol", type=float, default=1e-5)
    p.add_argument("--opt-level", default="all",
                   choices=["disabled", "basic", "extended", "layout", "all"],
                   help="ONNX Runtime graph optimization level (default all)")
    p.add_argument("--threads", type=int, default=1, help="ORT intra-op threads per run (default 1)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="models run at the same time (default: number of CPUs)")
    p.add_argument("--no-install", action="store_true", help="do not run install.sh first")
    p.add_argument("-v", "--verbose", action="store_true", help="one extra line per output")
    a = p.parse_args(argv)
    try:
        a.opsets = [int(s) for s in a.opsets.split(",")]
    except ValueError:
        p.error(f"--opsets must be comma-separated integers, got '{a.opsets}'")
    if a.threads < 0 or a.jobs < 1:
        p.error("--threads must be >= 0 and --jobs >= 1")
    return a


def compare(ort, ref, rtol, atol):
    """(ok, detail dict) for one output."""
    d = {"shape": list(ref.shape), "max_abs": float("nan"), "max_rel": float("nan"),
         "tol": float("nan"), "why": ""}
    if ort.shape != ref.shape:
        d["why"] = f"shape {list(ort.shape)} != torch {list(ref.shape)}"
        return False, d
    if ort.dtype != ref.dtype:
        d["why"] = f"dtype {ort.dtype} != torch {ref.dtype}"
        return False, d
    if ref.dtype.kind not in "fc":
        d["max_abs"] = d["max_rel"] = d["tol"] = 0.0
        if not np.array_equal(ort, ref):
            d["why"] = f"{int(np.sum(ort != ref))} of {ref.size} elements differ"
            return False, d
        return True, d
    if not np.all(np.isfinite(ort)):
        d["why"] = f"{int(np.sum(~np.isfinite(ort)))} non-finite values from ORT"
        return False, d
    if not np.all(np.isfinite(ref)):
        d["why"] = f"{int(np.sum(~np.isfinite(ref)))} non-finite values in the PyTorch reference"
        return False, d
    a = ort.astype(np.float64)
    b = ref.astype(np.float64)
    err = np.abs(a - b)
    big = np.abs(b) >= REL_FLOOR
    d["max_abs"] = float(err.max()) if err.size else 0.0
    d["max_rel"] = float((err[big] / np.abs(b[big])).max()) if big.any() else 0.0
    d["tol"] = float((err / (atol + rtol * np.abs(b))).max()) if err.size else 0.0
    if not np.allclose(ort, ref, rtol=rtol, atol=atol):
        bad = err > atol + rtol * np.abs(b)
        d["why"] = f"{int(bad.sum())} of {ref.size} elements outside rtol {rtol:g} atol {atol:g}"
        return False, d
    return True, d


def check_one(args, export_dir, ort_dir, model, opset):
    """Returns (ok, line, extra lines)."""
    tag = f"{model} opset{opset}"
    folder = os.path.join(export_dir, model, f"opset{opset}")
    meta_path = os.path.join(folder, "meta.json")
    if not os.path.exists(meta_path):
        return False, f"FAIL {tag}: export missing ({meta_path}); see export.py's errors above", []
    with open(meta_path) as f:
        meta = json.load(f)
    out = os.path.join(ort_dir, model, f"opset{opset}")
    shutil.rmtree(out, ignore_errors=True)
    cmd = ["node", RUN_ORT, os.path.join(folder, "model.onnx"), "-q", "--output-dir", out,
           "--opt-level", args.opt_level, "--threads", str(args.threads)]
    for i in meta["inputs"]:
        cmd += ["--input", f"{i['name']}={os.path.join(folder, i['file'])}"]
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    secs = time.time() - t0
    if r.returncode != 0:
        msg = (r.stderr.strip() or r.stdout.strip() or f"exit {r.returncode}").splitlines()
        return False, f"FAIL {tag}: run_ort.js exited {r.returncode}: {msg[-1]}", msg[:-1]
    with open(os.path.join(out, "outputs.json")) as f:
        produced = {o["name"]: o for o in json.load(f)["outputs"]}

    ok = True
    worst = {"max_abs": 0.0, "max_rel": 0.0, "tol": 0.0}
    whys, extra = [], []
    for o in meta["outputs"]:
        if o["name"] not in produced:
            ok = False
            whys.append(f"{o['name']}: not produced by ORT")
            continue
        got = np.load(os.path.join(out, produced[o["name"]]["file"]))
        ref = np.load(os.path.join(folder, o["file"]))
        good, d = compare(got, ref, args.rtol, args.atol)
        ok = ok and good
        for k in worst:
            worst[k] = max(worst[k], d[k]) if not np.isnan(d[k]) else float("nan")
        if not good:
            whys.append(f"{o['name']}: {d['why']}")
        extra.append(f"    {o['name']} {ref.dtype} {d['shape']}: max_abs {d['max_abs']:.3g} "
                     f"max_rel {d['max_rel']:.3g} tol {d['tol']:.3g}")
    names = ", ".join(o["name"] for o in meta["outputs"])
    line = (f"{'PASS' if ok else 'FAIL'} {tag} ({names}): max_abs {worst['max_abs']:.3g} "
            f"max_rel {worst['max_rel']:.3g} tol {worst['tol']:.3g} ({secs:.2f} s)")
    if whys:
        line += " -- " + "; ".join(whys)
    return ok, line, extra


def main(argv):
    args = parse_args(argv)
    t_start = time.time()
    known = model_names()
    models = known if not args.models else [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in known]
    if unknown or not models:
        print(f"error: unknown model(s) {', '.join(unknown) or '(none given)'}; "
              f"known: {', '.join(known)}", file=sys.stderr)
        return 2

    if shutil.which("node") is None:
        print("error: 'node' not found; install Node.js (scripts/setup.sh) and run "
              "test/oracle/install.sh", file=sys.stderr)
        return 2
    if not args.no_install:
        r = subprocess.run([INSTALL, "--quiet"])
        if r.returncode != 0:
            print(f"error: {INSTALL} failed (exit {r.returncode})", file=sys.stderr)
            return 2

    tmp = None
    if args.out:
        base = os.path.abspath(args.out)
        os.makedirs(base, exist_ok=True)
    else:
        tmp = tempfile.mkdtemp(prefix="ort-vs-pytorch-")
        base = tmp
    try:
        export_dir = os.path.join(base, "export")
        ort_dir = os.path.join(base, "ort")
        ver = subprocess.run(["node", "-p", "require('onnxruntime-node').env.versions.node"],
                             capture_output=True, text=True, cwd=HERE)
        node_ver = subprocess.run(["node", "--version"], capture_output=True, text=True)
        print(f"onnxruntime-node {ver.stdout.strip() or '?'} (node {node_ver.stdout.strip()}), "
              f"opt level {args.opt_level}, rtol {args.rtol:g}, atol {args.atol:g}")

        t0 = time.time()
        r = subprocess.run([sys.executable, os.path.join(MODELS_DIR, "export.py"), "--out", export_dir,
                            "--models", ",".join(models), "--opsets", ",".join(map(str, args.opsets)),
                            "-q"], capture_output=True, text=True)
        if r.returncode == 2:
            sys.stderr.write(r.stderr)
            return 2
        if r.returncode != 0:
            sys.stdout.write(r.stdout)
            sys.stdout.write(r.stderr)
        print(f"export: {len(models) * len(args.opsets)} model files in {time.time() - t0:.1f} s "
              f"(exit {r.returncode})")

        jobs = [(m, o) for m in models for o in args.opsets]
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
            results = list(ex.map(lambda j: check_one(args, export_dir, ort_dir, *j), jobs))
        passed = failed = 0
        for ok, line, extra in results:
            print(line)
            if args.verbose or not ok:
                for e in extra:
                    print(e)
            passed += ok
            failed += not ok
        print(f"total time {time.time() - t_start:.1f} s")
        print(f"{passed} passed, {failed} failed")
        return 1 if failed else 0
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
