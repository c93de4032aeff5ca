#!/usr/bin/python3
"""Models whose ops need a graph input's value at compile time (dist-opt
--value), and the value files for them.

    /usr/bin/python3 make_value_models.py OUT_DIR

Writes reshape.onnx (y = Reshape(x, shape), shape an INT64 graph input of 3
elements), slice.onnx (y = Slice(x, starts, ends, axes), the three INT64
graph inputs), x.npy, shape.npy ([4, -1, 2]), shape.pb (the same as an ONNX
TensorProto), shape_i32.npy, shape_2.npy (two elements), starts.npy,
ends.npy, axes.npy, and the expected outputs reshape.expected.npy and
slice.expected.npy (computed by NumPy).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper


def main(out):
    os.makedirs(out, exist_ok=True)
    x = np.random.default_rng(0).standard_normal((2, 3, 8)).astype(np.float32)
    np.save(os.path.join(out, "x.npy"), x)

    graph = h.make_graph(
        [h.make_node("Reshape", ["x", "shape"], ["y"], name="reshape")], "reshape",
        [h.make_tensor_value_info("x", T.FLOAT, [2, 3, 8]),
         h.make_tensor_value_info("shape", T.INT64, [3])],
        [h.make_tensor_value_info("y", T.FLOAT, [4, 6, 2])])
    onnx.save(h.make_model(graph, opset_imports=[h.make_opsetid("", 17)]),
              os.path.join(out, "reshape.onnx"))
    shape = np.array([4, -1, 2], np.int64)
    np.save(os.path.join(out, "shape.npy"), shape)
    with open(os.path.join(out, "shape.pb"), "wb") as f:
        f.write(numpy_helper.from_array(shape, "shape").SerializeToString())
    np.save(os.path.join(out, "shape_i32.npy"), shape.astype(np.int32))
    np.save(os.path.join(out, "shape_2.npy"), np.array([6, 8], np.int64))
    np.save(os.path.join(out, "reshape.expected.npy"), x.reshape(4, -1, 2))

    graph = h.make_graph(
        [h.make_node("Slice", ["x", "starts", "ends", "axes"], ["y"], name="slice")],
        "slice",
        [h.make_tensor_value_info("x", T.FLOAT, [2, 3, 8]),
         h.make_tensor_value_info("starts", T.INT64, [2]),
         h.make_tensor_value_info("ends", T.INT64, [2]),
         h.make_tensor_value_info("axes", T.INT64, [2])],
        [h.make_tensor_value_info("y", T.FLOAT, [2, 2, 5])])
    onnx.save(h.make_model(graph, opset_imports=[h.make_opsetid("", 17)]),
              os.path.join(out, "slice.onnx"))
    np.save(os.path.join(out, "starts.npy"), np.array([1, 2], np.int64))
    np.save(os.path.join(out, "ends.npy"), np.array([3, -1], np.int64))
    np.save(os.path.join(out, "axes.npy"), np.array([1, 2], np.int64))
    np.save(os.path.join(out, "slice.expected.npy"), x[:, 1:3, 2:-1])


if __name__ == "__main__":
    main(sys.argv[1])
