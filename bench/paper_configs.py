#!/usr/bin/python3
"""Published Megatron-LM configurations against the planner's free choice.

    /usr/bin/python3 bench/paper_configs.py --dist-opt build/bin/dist-opt

For each row of Megatron-LM's SC'21 Table 1 (full recompute) and of
Korthikanti et al. 2022 (selective recompute with sequence parallelism;
figures in ../shared/ANCHORS.md), builds the shape-only GPT with
models/shape_only_gpt.py (sequence 2048, vocabulary 51200, fp16, the paper's
micro-batch as the model's batch) and plans it twice on `dgx-a100-80g` with
the paper's GPU count and global batch:

  paper  --plan fixing the paper's dp, tp, pp, recompute, ZeRO-0 and
         schedule (interleaved with 3 chunks where the paper used it);
  free   --plan fixing nothing: the planner chooses the grid, recompute,
         ZeRO stage, schedule and chunks.

It prints the predicted step time and hardware TFLOP/s per GPU of both, the
paper's measured figure beside them, and fails (exit 1) when the free choice
is predicted slower than the paper's configuration under the same cost
model. `--rows NAME,...` runs some rows only (names in ROWS).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# name, layers, hidden, heads, GPUs, global batch, micro-batch, tp, pp,
# recompute, chunks, paper figure (text)
ROWS = [
    ("sc21-1.7b", 24, 2304, 24, 32, 512, 1, 1, 1, "full", 1,
     "137 TFLOP/s per GPU"),
    ("sc21-18.4b", 40, 6144, 48, 256, 1024, 1, 8, 1, "full", 1,
     "135 TFLOP/s per GPU"),
    ("sc21-145.6b", 80, 12288, 96, 1536, 2304, 1, 8, 8, "full", 1,
     "148 TFLOP/s per GPU"),
    ("sc21-1008b", 128, 25600, 160, 3072, 3072, 1, 8, 64, "full", 1,
     "163 TFLOP/s per GPU"),
    ("k22-22b", 48, 6144, 64, 8, 4, 4, 8, 1, "selective", 1,
     "1.10 s/iter, MFU 41.5%"),
    ("k22-175b", 96, 12288, 96, 64, 64, 1, 8, 8, "selective", 3,
     "13.75 s/iter, MFU 51.4%"),
    ("k22-530b", 105, 20480, 128, 280, 280, 1, 8, 35, "selective", 3,
     "37.83 s/iter, MFU 56.0%"),
    ("k22-1t", 128, 25600, 160, 512, 512, 1, 8, 64, "selective", 1,
     "71.49 s/iter, MFU 56.3%"),
]


def plan(dist_opt, model, gpus, batch, spec, out):
    args = [dist_opt, model, "--cluster", "dgx-a100-80g", "--devices",
            str(gpus), "--mode", "train", "--batch", str(batch),
            "--report-json", out]
    if spec:
        args += ["--plan", spec]
    start = time.perf_counter()
    run = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if run.returncode != 0:
        sys.exit(f"{' '.join(args)}\n{run.stderr}")
    return json.load(open(out)), wall


def describe(report):
    step, grid = report["step"], report["grid"]
    p = step["plan"]
    schedule = p["schedule"] + (f"x{p['chunks']}" if p["chunks"] > 1 else "")
    return (f"dp={grid['dp']} tp={grid['tp']} pp={grid['pp']} "
            f"{p['recompute']} ZeRO-{p['zero']} {schedule}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dist-opt", dest="dist_opt", required=True)
    parser.add_argument("--rows", default="",
                        help="comma-separated row names (default: all)")
    args = parser.parse_args()
    wanted = set(args.rows.split(",")) if args.rows else None
    slower = []
    print(f"{'row':12} {'config':44} {'step s':>9} {'TFLOP/s':>8} "
          f"{'MFU':>6} {'plan s':>7}  paper")
    with tempfile.TemporaryDirectory() as work:
        for (name, layers, hidden, heads, gpus, batch, micro, tp, pp,
             recompute, chunks, paper) in ROWS:
            if wanted and name not in wanted:
                continue
            model = os.path.join(work, name + ".onnx")
            subprocess.run(
                [sys.executable, os.path.join(HERE, "..", "models",
                                              "shape_only_gpt.py"),
                 "--layers", str(layers), "--hidden", str(hidden), "--heads",
                 str(heads), "--seq", "2048", "--vocab", "51200", "--batch",
                 str(micro), "--dtype", "float16", "--out", model],
                check=True, capture_output=True)
            dp = gpus // (tp * pp)
            spec = (f"dp={dp},tp={tp},pp={pp},recompute={recompute},zero=0,"
                    + (f"chunks={chunks}" if chunks > 1 else "schedule=1f1b"))
            times = {}
            for kind, fixed in (("paper", spec), ("free", "")):
                report, wall = plan(args.dist_opt, model, gpus, batch, fixed,
                                    os.path.join(work, f"{name}-{kind}.json"))
                step = report["step"]
                times[kind] = step["stepSeconds"]
                flops = step["flops"]
                print(f"{name if kind == 'paper' else '':12} "
                      f"{kind + ' ' + describe(report):44} "
                      f"{step['stepSeconds']:9.3f} "
                      f"{flops['hardwareFlopsPerSecond'] / 1e12:8.1f} "
                      f"{100 * flops['modelFlopsUtilization']:5.1f}% "
                      f"{report['planning_seconds']:7.2f}  "
                      f"{paper if kind == 'paper' else ''}", flush=True)
            if times["free"] > times["paper"] * (1 + 1e-9):
                slower.append(name)
    if slower:
        sys.exit("the free choice is predicted slower than the paper's "
                 "configuration on: " + ", ".join(slower))
    print("free choice never slower than the paper's configuration")


if __name__ == "__main__":
    main()
