#!/usr/bin/python3
"""The cost model's predictions side by side with measurements on this machine.

    /usr/bin/python3 bench/cost_vs_measured.py --build BUILD_DIR [--ranks 4]
        [--cluster cpu] [--skip-compute] [--skip-memory]

(a) Single ops on one rank: `dist-calibrate --compare` times the runtime's
    kernels (runtime/cpu/Kernels.h, one kernel thread, the fastest of three
    rounds of medians) on GEMMs, elementwise ops, softmax and layer norm of
    shapes that are not in the calibration set, next to getComputeTime of
    getOpWork of the same op.
(b) MPI all-reduce, all-gather and reduce-scatter of 2 KiB .. 32 MiB (sizes
    between the calibration's) on 2 and --ranks ranks, next to
    getCollectiveTime on the `cpu` preset with that many ranks.
(c) Peak memory of whole programs: the test models of models/zoo.py and
    GPT-2 small and a ResNet (width 64) compiled by dist-opt for one device;
    dist-run --repeat 2 prints the arena it planned and the weights it
    mapped; `dist-calibrate --estimate-memory` prints estimateProgramMemory
    (lib/Cost/MemoryEstimate.cpp) of the same artifact.

Prints each table and the median absolute relative error
|predicted - measured| / measured. The figures are predictions of the
profile the `cpu` preset uses (lib/Cost/profiles/cpu.yaml, or
$DISTOPT_CPU_PROFILE). Nothing is asserted: this is a benchmark.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def relative_error(predicted, measured):
    return abs(predicted - measured) / measured


def fmt_time(seconds):
    return f"{seconds * 1e6:.1f} us" if seconds < 1e-3 else f"{seconds * 1e3:.3f} ms"


def compare_compute(args, calibrate):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "rows.json")
        cmd = ["mpirun", "--oversubscribe", "-np", str(args.ranks), calibrate,
               "--compare", args.cluster, "--json", out]
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
        rows = json.load(open(out))

    ops = [r for r in rows if r["group"] == "op"]
    print("(a) single ops, one rank, one kernel thread")
    print(f"{'op':28} {'class':7} {'predicted':>12} {'measured':>12} {'error':>7}")
    by_kind = {}
    for r in ops:
        e = relative_error(r["predicted_s"], r["measured_s"])
        by_kind.setdefault(r["name"].split()[0], []).append(e)
        print(f"{r['name']:28} {r['class']:7} {fmt_time(r['predicted_s']):>12} "
              f"{fmt_time(r['measured_s']):>12} {e * 100:6.1f}%")
    errors = [e for v in by_kind.values() for e in v]
    print("median |relative error| by op: " + ", ".join(
        f"{k} {statistics.median(v) * 100:.1f}%" for k, v in by_kind.items()))
    print(f"ops: median |relative error| {statistics.median(errors) * 100:.1f}% "
          f"over {len(errors)} ops\n")

    coll = [r for r in rows if r["group"] == "collective"]
    print(f"(b) MPI collectives on 2 and {args.ranks} ranks")
    print(f"{'collective':15} {'ranks':>5} {'bytes':>10} {'predicted':>12} "
          f"{'measured':>12} {'error':>7}")
    by_kind = {}
    for r in coll:
        e = relative_error(r["predicted_s"], r["measured_s"])
        by_kind.setdefault((r["name"], r["ranks"]), []).append(e)
        print(f"{r['name']:15} {r['ranks']:>5} {int(r['bytes']):>10} "
              f"{fmt_time(r['predicted_s']):>12} {fmt_time(r['measured_s']):>12} "
              f"{e * 100:6.1f}%")
    errors = [e for v in by_kind.values() for e in v]
    print("median |relative error| by collective: " + ", ".join(
        f"{k[0]} x{k[1]} {statistics.median(v) * 100:.1f}%"
        for k, v in by_kind.items()))
    print(f"collectives: median |relative error| "
          f"{statistics.median(errors) * 100:.1f}% over {len(errors)} "
          "measurements\n")


def export_large(folder):
    """GPT-2 small (seq 128) and ResNet width 64 (224x224), as in
    bench/infer_vs_ort.py; returns [(name, onnx, [(input, npy, shape)])]."""
    sys.path.insert(0, os.path.join(ROOT, "models"))
    import numpy as np
    import torch
    import zoo
    torch.manual_seed(0)
    cases = [
        ("gpt2-small seq128",
         zoo.GPT2(vocab=50257, max_pos=1024, dim=768, heads=12, layers=12,
                  dropout=0.0),
         (torch.randint(0, 50257, (1, 128)),), ["input_ids"]),
        ("resnet width64 224", zoo.ResNet(width=64),
         (torch.randn(1, 3, 224, 224),), ["pixel_values"]),
    ]
    models = []
    for name, model, inputs, names in cases:
        sub = os.path.join(folder, re.sub(r"\W+", "_", name))
        os.makedirs(sub)
        path = os.path.join(sub, "model.onnx")
        model.eval()
        with torch.no_grad():
            torch.onnx.export(model, inputs, path, input_names=names,
                              output_names=["out"], opset_version=17)
        files = []
        for n, t in zip(names, inputs):
            f = os.path.join(sub, n + ".npy")
            np.save(f, t.numpy())
            files.append((n, f, list(t.shape)))
        models.append((name, path, files))
    return models


def export_zoo(folder):
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "models", "export.py"),
                    "--out", folder, "--opsets", "17", "-q"], check=True,
                   stdout=subprocess.DEVNULL)
    models = []
    for name in sorted(os.listdir(folder)):
        sub = os.path.join(folder, name, "opset17")
        meta = json.load(open(os.path.join(sub, "meta.json")))
        files = [(i["name"], os.path.join(sub, i["file"]), i["shape"])
                 for i in meta["inputs"]]
        models.append((f"{name} (models/zoo.py)", os.path.join(sub, "model.onnx"),
                       files))
    return models


def compare_memory(args, calibrate):
    dist_opt = os.path.join(args.build, "bin", "dist-opt")
    dist_run = os.path.join(args.build, "bin", "dist-run")
    print("(c) peak memory of a run, one rank: activations (dist-run's arena) "
          "and activations + weights")
    print(f"{'model':26} {'predicted act':>14} {'arena':>12} {'error':>7} "
          f"{'predicted total':>16} {'measured total':>15} {'error':>7}")
    errors, act_errors = [], []
    with tempfile.TemporaryDirectory() as tmp:
        models = export_zoo(os.path.join(tmp, "zoo"))
        models += export_large(os.path.join(tmp, "large"))
        for name, onnx_path, files in models:
            artifact = onnx_path[:-len(".onnx")] + ".dist"
            shapes = [f"--shape={n}={'x'.join(map(str, s))}" for n, _, s in files]
            subprocess.run([dist_opt, onnx_path, *shapes, "--devices=1", "-o",
                            artifact], check=True)
            run = subprocess.run(
                [dist_run, artifact, *[f"--input={n}={f}" for n, f, _ in files],
                 "--output-dir", os.path.join(tmp, "out"), "--repeat=2",
                 "--threads=1"],
                check=True, capture_output=True, text=True)
            m = re.search(r"memory: arena (\d+) bytes for (\d+) bytes of values; "
                          r"weights (\d+) bytes", run.stdout)
            arena, weights = int(m.group(1)), int(m.group(3))
            est = subprocess.run([calibrate, "--estimate-memory", artifact],
                                 check=True, capture_output=True, text=True)
            p = re.search(r"activations (\d+) bytes .*weights (\d+) bytes",
                          est.stdout)
            p_act, p_weights = int(p.group(1)), int(p.group(2))
            e_act = relative_error(p_act, arena)
            e = relative_error(p_act + p_weights, arena + weights)
            act_errors.append(e_act)
            errors.append(e)
            print(f"{name:26} {p_act:>14} {arena:>12} {e_act * 100:6.1f}% "
                  f"{p_act + p_weights:>16} {arena + weights:>15} {e * 100:6.1f}%")
    print(f"memory: median |relative error| {statistics.median(errors) * 100:.1f}% "
          f"(largest {max(errors) * 100:.1f}%) on activations + weights; "
          f"{statistics.median(act_errors) * 100:.1f}% "
          f"(largest {max(act_errors) * 100:.1f}%) on activations alone")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, help="build folder")
    parser.add_argument("--ranks", type=int, default=4,
                        help="largest MPI job for the collectives (default 4)")
    parser.add_argument("--cluster", default="cpu",
                        help="preset or cluster file that predicts (default cpu)")
    parser.add_argument("--skip-compute", action="store_true",
                        help="skip (a) and (b)")
    parser.add_argument("--skip-memory", action="store_true", help="skip (c)")
    args = parser.parse_args()
    calibrate = os.path.join(args.build, "bin", "dist-calibrate")
    if not os.path.exists(calibrate):
        sys.exit(f"error: {calibrate} does not exist; build the project first")
    if not args.skip_compute:
        compare_compute(args, calibrate)
    if not args.skip_memory:
        compare_memory(args, calibrate)


if __name__ == "__main__":
    main()
