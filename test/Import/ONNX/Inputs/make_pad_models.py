#!/usr/bin/python3
"""Writes the ONNX Pad models of pad.test, and the expected outputs.

    /usr/bin/python3 make_pad_models.py OUT_DIR

Input x is float32 [2, 3] = arange(6) (every model); the expected output of
each valid model is OUT_DIR/<name>.expected.npy (numpy.pad of x).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

X = np.arange(6, dtype=np.float32).reshape(2, 3)


def save(out, name, nodes, initializers, out_shape, opset, extra_inputs=()):
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])]
        + list(extra_inputs),
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)], initializers)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="dist-opt-tests")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, f"{name}.onnx"))


def pads_init(pads):
    return numpy_helper.from_array(np.array(pads, np.int64), "pads")


def value_init(v):
    return numpy_helper.from_array(np.array(v, np.float32), "value")


def main(out):
    np.save(os.path.join(out, "x.npy"), X)
    # PyTorch's AvgPool2d export: all pads zero, the input itself.
    save(out, "zero", [helper.make_node("Pad", ["x", "pads"], ["y"], mode="constant")],
         [pads_init([0, 0, 0, 0])], [2, 3], 17)
    np.save(os.path.join(out, "zero.expected.npy"), X)
    # Both axes, a constant value (opset 13: pads and value are inputs).
    save(out, "both", [helper.make_node("Pad", ["x", "pads", "value"], ["y"], name="pad_both")],
         [pads_init([1, 0, 2, 3]), value_init(1.5)], [5, 6], 13)
    np.save(os.path.join(out, "both.expected.npy"),
            np.pad(X, ((1, 2), (0, 3)), constant_values=1.5))
    # Opset 10: pads and value are attributes.
    save(out, "attr", [helper.make_node("Pad", ["x"], ["y"], pads=[0, 2, 0, 1], value=-1.0)],
         [], [2, 6], 10)
    np.save(os.path.join(out, "attr.expected.npy"),
            np.pad(X, ((0, 0), (2, 1)), constant_values=-1.0))
    # Refused forms.
    save(out, "edge", [helper.make_node("Pad", ["x", "pads"], ["y"], mode="edge", name="pad_edge")],
         [pads_init([0, 1, 0, 1])], [2, 5], 17)
    save(out, "negative", [helper.make_node("Pad", ["x", "pads"], ["y"], name="pad_neg")],
         [pads_init([0, -1, 0, 0])], [2, 2], 17)
    save(out, "length", [helper.make_node("Pad", ["x", "pads"], ["y"], name="pad_len")],
         [pads_init([0, 1])], [2, 4], 17)
    save(out, "dynamic", [helper.make_node("Pad", ["x", "p"], ["y"], name="pad_dyn")],
         [], [2, 4], 17, [helper.make_tensor_value_info("p", TensorProto.INT64, [4])])


if __name__ == "__main__":
    main(sys.argv[1])
