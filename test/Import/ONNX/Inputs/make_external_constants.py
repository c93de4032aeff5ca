#!/usr/bin/python3
"""Writes ONNX models whose Constant and ConstantOfShape values keep their
bytes in external data, at safe and unsafe locations.

    /usr/bin/python3 make_external_constants.py OUT_DIR

OUT_DIR/model/ holds the models and their data; OUT_DIR/secret.bin lies
outside the model's folder and must never be read.
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper


def external_tensor(name, values, location, offset=0):
    """A float tensor whose bytes are at `location`, `offset`."""
    t = TensorProto(name=name, data_type=TensorProto.FLOAT,
                    dims=list(values.shape))
    t.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", str(offset)),
                       ("length", str(values.nbytes))):
        e = t.external_data.add()
        e.key, e.value = key, value
    return t


def save(graph, path):
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                          producer_name="dist-opt-tests")
    m.ir_version = 8
    with open(path, "wb") as f:
        f.write(m.SerializeToString())


def constant_model(location, offset=0, n=4):
    """y = x + c, c a Constant node's `n` floats."""
    c = external_tensor("c", np.zeros(n, np.float32), location, offset)
    nodes = [helper.make_node("Constant", [], ["c"], name="const", value=c),
             helper.make_node("Add", ["x", "c"], ["y"], name="add")]
    return helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n])])


def constant_of_shape_model(location):
    """y = x + ConstantOfShape([2, 2]) filled with an external value."""
    shape = numpy_helper.from_array(np.array([2, 2], np.int64), "shape")
    value = external_tensor("value", np.zeros(1, np.float32), location)
    nodes = [helper.make_node("ConstantOfShape", ["shape"], ["c"], name="fill",
                              value=value),
             helper.make_node("Add", ["x", "c"], ["y"], name="add")]
    return helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 2])],
        [shape])


def main(out):
    model = os.path.join(out, "model")
    os.makedirs(model, exist_ok=True)
    p = lambda name: os.path.join(model, name)
    # 1.5, 2.5, 3.5, 4.5 inside the folder; 7.0 (x4) outside it.
    np.array([1.5, 2.5, 3.5, 4.5], np.float32).tofile(p("c.bin"))
    np.full(4, 7.0, np.float32).tofile(os.path.join(out, "secret.bin"))
    os.symlink(os.path.join(out, "secret.bin"), p("link.bin"))

    save(constant_model("c.bin"), p("constant-inside.onnx"))
    save(constant_model("../secret.bin"), p("constant-dotdot.onnx"))
    save(constant_model("../../../../../../../../etc/passwd"),
         p("constant-passwd.onnx"))
    save(constant_model(os.path.join(out, "secret.bin")),
         p("constant-absolute.onnx"))
    save(constant_model("link.bin"), p("constant-symlink.onnx"))
    save(constant_model("c.bin", offset="x"), p("constant-bad-offset.onnx"))
    # 1024 floats (4096 bytes) in a model file of a few hundred bytes.
    np.ones(1024, np.float32).tofile(p("big.bin"))
    save(constant_model("big.bin", n=1024), p("constant-big.onnx"))
    save(constant_of_shape_model("c.bin"), p("fill-inside.onnx"))
    save(constant_of_shape_model("../secret.bin"), p("fill-dotdot.onnx"))
    save(constant_of_shape_model("link.bin"), p("fill-symlink.onnx"))


if __name__ == "__main__":
    main(sys.argv[1])
