#!/usr/bin/python3
"""Plans every generated test model for several CPU ranks with no hints,
runs it under MPI, and checks that it computes what 1 rank computes.

    /usr/bin/python3 run_planned_models.py --dist-opt BIN --dist-run BIN \\
        --models DIR [--devices 2,4] [--cluster NAME|FILE] [--plan TEXT] \\
        [--opset 17] [--only NAME,...] [--require-split]

For each model under DIR/<name>/opset<K>/ (model.onnx, meta.json with the
inputs' shapes, input_*.npy): `dist-opt --devices 1` compiles the 1-rank
program, `dist-opt --cluster CLUSTER --devices N --report` the planned one,
and test/Runtime/compare_ranks.py runs both (`mpirun -np N`) and compares
every output within rtol 1e-5. With --require-split, a plan that splits
nothing on some model is a failure (so that a cluster chosen to favour
splitting really exercises the partitioner). Prints the plan's grid and
sharding summary for each run; exits 1 on the first failure.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dist-opt", dest="dist_opt", required=True)
    p.add_argument("--dist-run", dest="dist_run", required=True)
    p.add_argument("--models", required=True)
    p.add_argument("--devices", default="2,4")
    p.add_argument("--cluster", default="cpu")
    p.add_argument("--plan", default="")
    p.add_argument("--opset", default="17")
    p.add_argument("--only", default="")
    p.add_argument("--require-split", action="store_true")
    p.add_argument("--mpirun", default="mpirun --oversubscribe")
    args = p.parse_args()

    names = sorted(os.listdir(args.models))
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    models = []
    for name in names:
        folder = os.path.join(args.models, name, "opset" + args.opset)
        if os.path.exists(os.path.join(folder, "meta.json")):
            models.append((name, folder))
    if not models:
        sys.exit(f"run_planned_models: no models under {args.models}")

    failures = 0
    with tempfile.TemporaryDirectory() as work:
        for name, folder in models:
            meta = json.load(open(os.path.join(folder, "meta.json")))
            shapes, inputs = [], []
            for i in meta["inputs"]:
                shapes += ["--shape", i["name"] + "=" +
                           "x".join(str(d) for d in i["shape"])]
                inputs += ["--input", i["name"] + "=" +
                           os.path.join(folder, i["file"])]
            model = os.path.join(folder, meta["file"])
            one = os.path.join(work, name + ".1.dist")
            subprocess.run([args.dist_opt, model, *shapes, "--devices", "1",
                            "-o", one], check=True)
            for n in [int(d) for d in args.devices.split(",")]:
                many = os.path.join(work, f"{name}.{n}.dist")
                cmd = [args.dist_opt, model, *shapes, "--cluster", args.cluster,
                       "--devices", str(n), "--report", "-o", many]
                if args.plan:
                    cmd += ["--plan", args.plan]
                proc = subprocess.run(cmd, capture_output=True, text=True)
                if proc.returncode != 0:
                    print(f"FAIL {name} on {n} ranks: dist-opt failed\n"
                          f"{proc.stdout}{proc.stderr}")
                    failures += 1
                    continue
                report = proc.stdout
                grid = report.splitlines()[0] if report else "?"
                split = "everything replicated" not in report
                print(f"{name} on {n} ranks: {grid}")
                if args.require_split and not split:
                    print(f"FAIL {name} on {n} ranks: the plan splits nothing")
                    failures += 1
                    continue
                cmp = subprocess.run(
                    [sys.executable, os.path.join(HERE, "compare_ranks.py"),
                     "--dist-run", args.dist_run, "--one", one, "--many", many,
                     "-n", str(n), "--mpirun", args.mpirun, *inputs],
                    capture_output=True, text=True)
                sys.stdout.write(cmp.stdout)
                if cmp.returncode != 0:
                    print(f"FAIL {name} on {n} ranks: outputs differ or the run "
                          f"failed\n{cmp.stderr}\n{report}")
                    failures += 1
    print(f"{len(models)} models, {failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
