#!/usr/bin/python3
"""Test helper: write what dist-run --save-weights would write, from reference weights.

    make_saved_model.py --model model.onnx --weights weights.npz --out DIR
                        [--perturb NAME=DELTA] [--drop NAME]

DIR/model.onnx is the source model with the initializers named in weights.npz
replaced (DELTA added to the first element of NAME, and the initializer
--drop NAME left out, when asked), all
initializers stored as external data in DIR/model.onnx.data. It lets the
lit tests check compare_training.py's weight comparison before dist-run can
save weights.
"""

import argparse
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--perturb", help="NAME=DELTA")
    ap.add_argument("--drop", help="NAME")
    args = ap.parse_args(argv)
    model = onnx.load(args.model)
    weights = dict(np.load(args.weights))
    if args.perturb:
        name, delta = args.perturb.rsplit("=", 1)
        w = weights[name].copy()
        w.flat[0] += np.float32(delta)
        weights[name] = w
    for init in model.graph.initializer:
        if init.name in weights:
            init.CopyFrom(onnx.numpy_helper.from_array(weights[init.name], init.name))
    if args.drop:
        kept = [i for i in model.graph.initializer if i.name != args.drop]
        del model.graph.initializer[:]
        model.graph.initializer.extend(kept)
    os.makedirs(args.out, exist_ok=True)
    onnx.save_model(model, os.path.join(args.out, "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="model.onnx.data", size_threshold=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
