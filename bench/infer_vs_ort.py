#!/usr/bin/python3
"""Inference latency on one rank, dist-run side by side with ONNX Runtime.

    /usr/bin/python3 bench/infer_vs_ort.py --build BUILD_DIR [--threads 2] [--runs 20]

Builds two models with models/zoo.py and random weights, exports them to
ONNX (opset 17), and times, on the same input and the same number of
threads, the median of --runs runs (after a warm-up) of:

  dist-run      the artifact compiled by dist-opt for one device;
  onnxruntime   an ONNX Runtime CPU session (npm onnxruntime-node, all graph
                optimizations), reused across runs.

Models: GPT-2 small (12 layers, hidden 768, 12 heads, vocabulary 50257,
sequence 128, batch 1) and a ResNet-style CNN (width 64, 224x224 image,
batch 1). Prints the medians and their ratio dist-run / onnxruntime, and
checks that both produced the same outputs.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "models"))
import torch  # noqa: E402
import zoo  # noqa: E402


def export(model, inputs, names, path):
    model.eval()
    with torch.no_grad():
        torch.onnx.export(model, inputs, path, input_names=names,
                          output_names=["out"], opset_version=17)
        return model(*inputs).numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    dist_opt = os.path.join(args.build, "bin", "dist-opt")
    dist_run = os.path.join(args.build, "bin", "dist-run")
    torch.manual_seed(0)
    cases = [
        ("gpt2-small (12x768, seq 128)",
         zoo.GPT2(vocab=50257, max_pos=1024, dim=768, heads=12, layers=12, dropout=0.0),
         (torch.randint(0, 50257, (1, 128)),), ["input_ids"]),
        ("resnet (width 64, 224x224)", zoo.ResNet(width=64),
         (torch.randn(1, 3, 224, 224),), ["pixel_values"]),
    ]
    print(f"{'model':32} {'dist-run ms':>12} {'onnxruntime ms':>15} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, model, inputs, names in cases:
            folder = os.path.join(tmp, re.sub(r"\W+", "_", name))
            os.makedirs(folder)
            onnx_path = os.path.join(folder, "model.onnx")
            reference = export(model, inputs, names, onnx_path)
            files = []
            for n, t in zip(names, inputs):
                f = os.path.join(folder, n + ".npy")
                np.save(f, t.numpy())
                files.append((n, f))
            shapes = [f"--shape={n}={'x'.join(map(str, t.shape))}"
                      for n, t in zip(names, inputs)]
            artifact = os.path.join(folder, "model.dist")
            subprocess.run([dist_opt, onnx_path, *shapes, "--devices=1", "-o", artifact],
                           check=True)
            out = os.path.join(folder, "out")
            run = subprocess.run(
                [dist_run, artifact, *[f"--input={n}={f}" for n, f in files],
                 "--output-dir", out, f"--threads={args.threads}",
                 f"--repeat={args.runs + 1}"],
                check=True, capture_output=True, text=True)
            dist_ms = float(re.search(r"median run time: ([0-9.]+) ms", run.stdout).group(1))
            got = np.load(os.path.join(out, "out.npy"))
            if not np.allclose(got, reference, rtol=1e-3, atol=1e-4):
                sys.exit(f"{name}: dist-run's output differs from PyTorch's "
                         f"(max {np.abs(got - reference).max():.3g})")
            ort = subprocess.run(
                ["node", os.path.join(HERE, "ort_latency.js"), onnx_path,
                 *[f"{n}={f}" for n, f in files], "--threads", str(args.threads),
                 "--runs", str(args.runs)],
                check=True, capture_output=True, text=True)
            ort_ms = float(ort.stdout.split()[1])
            print(f"{name:32} {dist_ms:>12.2f} {ort_ms:>15.2f} {dist_ms / ort_ms:>6.2f}")


if __name__ == "__main__":
    main()
