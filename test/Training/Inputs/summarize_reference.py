#!/usr/bin/python3
"""Summarize a reference run of models/training/reference.py for FileCheck.

    summarize_reference.py EXPORT_DIR

prints whether the losses decrease, the shapes of the batch files, and the
trained weights (count, whether each differs from the exported initial value,
the tied ones).
"""

import csv
import json
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper


def main(export_dir):
    ref = os.path.join(export_dir, "reference")
    with open(os.path.join(ref, "losses.csv")) as f:
        losses = [float(r["loss"]) for r in csv.DictReader(f)]
    trend = "decreasing" if all(a > b for a, b in zip(losses, losses[1:])) else "NOT decreasing"
    print(f"losses: {len(losses)} steps, {trend}")
    with open(os.path.join(ref, "config.json")) as f:
        config = json.load(f)
    for name in config["inputs"]:
        one = np.load(os.path.join(ref, f"input_{name}.npy"))
        stacked = np.load(os.path.join(ref, f"data_{name}.npy"))
        same = "" if np.array_equal(stacked[0], one) else " (batch 0 differs!)"
        print(f"{name} {list(one.shape)} {one.dtype}, stacked {list(stacked.shape)}{same}")
    initial = {i.name: onnx.numpy_helper.to_array(i)
               for i in onnx.load(os.path.join(export_dir, "model.onnx")).graph.initializer}
    trained = dict(np.load(os.path.join(ref, "weights.npz")))
    unchanged = [n for n, w in trained.items() if np.array_equal(w, initial[n])]
    state = "all changed by training" if not unchanged else f"unchanged: {unchanged}"
    print(f"weights: {len(trained)} tensors, {state}")
    for name in sorted(trained):
        print(f"weight {name} {list(trained[name].shape)}")


if __name__ == "__main__":
    main(sys.argv[1])
