#!/usr/bin/python3
"""Import time of shape-only GPT graphs, side by side with the ONNX library.

    /usr/bin/python3 bench/import_large_gpt.py DIST_OPT [--runs 3] [--configs 1.3b,13b,175b]

For each GPT-3 configuration, builds a shape-only ONNX graph with
models/shape_only_gpt.py (weights as external data that is never written),
then times, on the same file and median of --runs:

  dist-opt   the whole import: protobuf parse, ONNX checker, ONNX shape
             inference, conversion to the dist dialect, folding, pattern
             raising; output discarded;
  onnx       the peer: onnx.load + onnx.checker.check_model + strict
             onnx.shape_inference.infer_shapes, in the ONNX Python package
             (the same C++ library underneath).

Prints one row per configuration with both times and their ratio, and checks
that the imported module has one layer norm per layer norm of the model.
"""
import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "models"))
import onnx  # noqa: E402
import shape_only_gpt  # noqa: E402

# name: (layers, hidden, heads), sequence 2048, vocabulary 50257 (GPT-3).
CONFIGS = {
    "1.3b": (24, 2048, 16),
    "13b": (40, 5120, 40),
    "175b": (96, 12288, 96),
}


def median_time(fn, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dist_opt")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    args = parser.parse_args()

    print(f"{'model':>6} {'layers':>6} {'hidden':>6} {'params':>16} {'nodes':>6} "
          f"{'dist-opt s':>10} {'onnx s':>8} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.configs.split(","):
            layers, hidden, heads = CONFIGS[name]
            path = os.path.join(tmp, f"gpt-{name}.onnx")
            model = shape_only_gpt.build(layers, hidden, heads, 2048, 50257, 1, 4,
                                         "float16", f"gpt-{name}.weights.bin")
            shape_only_gpt.save_atomic(model, path)
            params = sum(math.prod(t.dims) for t in model.graph.initializer)

            def run_dist_opt():
                proc = subprocess.run([args.dist_opt, path, "-o", os.devnull],
                                      capture_output=True, text=True)
                if proc.returncode != 0:
                    sys.exit(f"dist-opt failed on {name}: {proc.stderr.strip()}")

            def run_onnx():
                m = onnx.load(path, load_external_data=False)
                # The checker wants external files to exist; point it at the
                # model file, as dist-opt does (neither reads the weights).
                for t in m.graph.initializer:
                    for e in t.external_data:
                        if e.key == "location":
                            e.value = path
                onnx.checker.check_model(m)
                onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)

            out = subprocess.run([args.dist_opt, path], capture_output=True,
                                 text=True, check=True).stdout
            norms = out.count("dist.layer_norm")
            if norms != 2 * layers + 1:
                sys.exit(f"{name}: expected {2 * layers + 1} layer norms, found {norms}")
            t_dist = median_time(run_dist_opt, args.runs)
            t_onnx = median_time(run_onnx, args.runs)
            print(f"{name:>6} {layers:>6} {hidden:>6} {params:>16,} "
                  f"{len(model.graph.node):>6} {t_dist:>10.3f} {t_onnx:>8.3f} "
                  f"{t_dist / t_onnx:>6.2f}")


if __name__ == "__main__":
    main()
