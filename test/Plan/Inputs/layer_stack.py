#!/usr/bin/python3
"""Writes a stack of identical residual MLP layers as ONNX, with random
weights (initializers) and an input, for the planner's mixed-layer test.

    /usr/bin/python3 layer_stack.py OUT_DIR [--layers 8] [--hidden 64]
        [--batch 8]

OUT_DIR gets model.onnx and x.npy. Layer i: y = x + relu(x @ W1_i) @ W2_i,
W1_i of hidden x 4 hidden, W2_i of 4 hidden x hidden, float32.
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--layers", type=int, default=8)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--batch", type=int, default=8)
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(0)
    h, f = args.hidden, 4 * args.hidden
    nodes, inits = [], []
    x = "x"
    for i in range(args.layers):
        w1 = (rng.standard_normal((h, f)) / np.sqrt(h)).astype(np.float32)
        w2 = (rng.standard_normal((f, h)) / np.sqrt(f)).astype(np.float32)
        inits += [numpy_helper.from_array(w1, f"l{i}.fc"),
                  numpy_helper.from_array(w2, f"l{i}.proj")]
        nodes += [
            helper.make_node("MatMul", [x, f"l{i}.fc"], [f"l{i}.a"],
                             name=f"/l{i}/fc/MatMul"),
            helper.make_node("Relu", [f"l{i}.a"], [f"l{i}.r"],
                             name=f"/l{i}/Relu"),
            helper.make_node("MatMul", [f"l{i}.r", f"l{i}.proj"],
                             [f"l{i}.m"], name=f"/l{i}/proj/MatMul"),
            helper.make_node("Add", [x, f"l{i}.m"], [f"l{i}.y"],
                             name=f"/l{i}/Add"),
        ]
        x = f"l{i}.y"
    nodes.append(helper.make_node("Identity", [x], ["y"], name="/out"))
    graph = helper.make_graph(
        nodes, "layer_stack",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                       [args.batch, h])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                       [args.batch, h])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("",
                                                                         17)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(args.out, "model.onnx"))
    np.save(os.path.join(args.out, "x.npy"),
            rng.standard_normal((args.batch, h)).astype(np.float32))


if __name__ == "__main__":
    main()
