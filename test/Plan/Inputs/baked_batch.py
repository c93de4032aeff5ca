"""Writes a model whose batch of 2 is fixed in a Reshape's literal shape
(x: 2x8x16 reshaped to 2x(-1)x32, then a MatMul): at another batch it still
imports, but computes something else (the batch folded into the sequence).

usage: baked_batch.py OUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

w = numpy_helper.from_array(
    np.random.default_rng(0).random((32, 16), dtype=np.float32), "w")
shape = numpy_helper.from_array(np.array([2, -1, 32], dtype=np.int64), "shape")
graph = helper.make_graph(
    [helper.make_node("Reshape", ["x", "shape"], ["r"]),
     helper.make_node("MatMul", ["r", "w"], ["y"])],
    "baked", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8, 16])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4, 16])],
    [w, shape])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
          sys.argv[1])
