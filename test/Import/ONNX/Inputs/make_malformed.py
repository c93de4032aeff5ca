#!/usr/bin/python3
"""Writes malformed ONNX models, one per class of defect that untrusted
models showed (a mutation campaign over the test models):

    /usr/bin/python3 make_malformed.py OUT_DIR

shapes that do not fit together where only the importer sees them, tensors
whose bytes disagree with their dims, dims that overflow, inputs that crash
ONNX's own shape inference, huge constants, constant indices out of range,
duplicate opset imports and declared outputs that contradict the graph.
"""
import os
import sys

import numpy as np
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

vi = h.make_tensor_value_info


def model(nodes, inputs, outputs, initializers=(), opset=17):
    graph = h.make_graph(nodes, "g", inputs, outputs, list(initializers))
    m = h.make_model(graph, opset_imports=[h.make_opsetid("", opset)],
                     producer_name="dist-opt-tests")
    m.ir_version = 8
    return m


def tensor(array, name):
    return nh.from_array(np.asarray(array), name)


def cast_reshape(x, shape, out, name="reshape"):
    """Reshape(x, Cast(float shape)): ONNX shape inference does not follow
    the Cast, so only the importer knows the result's shape."""
    return ([h.make_node("Cast", [out + "_sf"], [out + "_s"], to=T.INT64, name="cast_" + out),
             h.make_node("Reshape", [x, out + "_s"], [out], name=name)],
            [tensor(np.array(shape, np.float32), out + "_sf")])


def shapes_that_do_not_fit():
    """Each op's result type cannot be inferred from its operands."""
    out = {}
    # A 2-D Conv bias (ONNX does not check the bias's shape).
    out["conv-bias-2d"] = model(
        [h.make_node("Conv", ["x", "w", "b"], ["y"], name="conv")],
        [vi("x", T.FLOAT, [1, 3, 8, 8])], [vi("y", T.FLOAT, [1, 4, 6, 6])],
        [tensor(np.ones((4, 3, 3, 3), np.float32), "w"),
         tensor(np.ones((4, 1), np.float32), "b")])
    # Gemm whose K dims disagree (3 and 4).
    out["gemm-k"] = model(
        [h.make_node("Gemm", ["a", "w"], ["y"], name="gemm")],
        [vi("a", T.FLOAT, [2, 3])], [vi("y", T.FLOAT, [2, 5])],
        [tensor(np.ones((4, 5), np.float32), "w")])
    # Add, MatMul and Where on operands whose shapes only the importer knows.
    nodes, inits = cast_reshape("x", [3, 4], "r")
    out["add-broadcast"] = model(
        nodes + [h.make_node("Add", ["r", "b"], ["y"], name="add")],
        [vi("x", T.FLOAT, [2, 6])], [vi("y", T.FLOAT, ["N", "M"])],
        inits + [tensor(np.ones((2, 5), np.float32), "b")])
    out["matmul-k"] = model(
        nodes + [h.make_node("MatMul", ["r", "w"], ["y"], name="mm")],
        [vi("x", T.FLOAT, [2, 6])], [vi("y", T.FLOAT, ["N", "M"])],
        inits + [tensor(np.ones((5, 2), np.float32), "w")])
    out["where-broadcast"] = model(
        nodes + [h.make_node("Where", ["c", "r", "z"], ["y"], name="where")],
        [vi("x", T.FLOAT, [2, 6]), vi("c", T.BOOL, [3, 4])],
        [vi("y", T.FLOAT, ["N", "M"])],
        inits + [tensor(np.ones((2,), np.float32), "z")])
    return out


def bad_tensors():
    """Tensors whose bytes or values disagree with their dims and type."""
    out = {}
    shape = tensor(np.array([2, 2], np.int64), "shape")
    shape.raw_data = shape.raw_data[:1]
    out["raw-short"] = model(
        [h.make_node("ConstantOfShape", ["shape"], ["y"], name="fill")],
        [], [vi("y", T.FLOAT, [2, 2])], [shape])
    w = tensor(np.ones((2, 2), np.float32), "w")
    w.raw_data = w.raw_data + b"\0" * 4
    out["raw-long"] = model(
        [h.make_node("Add", ["x", "w"], ["y"], name="add")],
        [vi("x", T.FLOAT, [2, 2])], [vi("y", T.FLOAT, [2, 2])], [w])
    typed = h.make_tensor("w", T.FLOAT, [2, 2], [1.0, 2.0, 3.0, 4.0])
    del typed.float_data[-1]
    out["typed-count"] = model(
        [h.make_node("Add", ["x", "w"], ["y"], name="add")],
        [vi("x", T.FLOAT, [2, 2])], [vi("y", T.FLOAT, [2, 2])], [typed])
    huge = h.make_tensor("w", T.FLOAT, [1], [1.0])
    huge.dims[:] = [1 << 62, 4]
    out["dims-overflow"] = model(
        [h.make_node("Add", ["x", "w"], ["y"], name="add")],
        [vi("x", T.FLOAT, [2, 2])], [vi("y", T.FLOAT, [2, 2])], [huge])
    negative = h.make_tensor("w", T.FLOAT, [1], [1.0])
    negative.dims[:] = [-2, 2]
    out["dims-negative"] = model(
        [h.make_node("Add", ["x", "w"], ["y"], name="add")],
        [vi("x", T.FLOAT, [2, 2])], [vi("y", T.FLOAT, [2, 2])], [negative])
    value = tensor(np.ones(4, np.float32), "value")
    value.raw_data = value.raw_data[:6]
    out["constant-short"] = model(
        [h.make_node("Constant", [], ["c"], value=value, name="const"),
         h.make_node("Add", ["x", "c"], ["y"], name="add")],
        [vi("x", T.FLOAT, [4])], [vi("y", T.FLOAT, [4])])
    return out


def inference():
    """ONNX shape inference: a Conv whose input and weight ranks differ
    (ONNX 1.12 reads past its vectors), and two failing nodes (only the
    first is reported, and nothing after it is inferred)."""
    out = {}
    out["conv-ranks"] = model(
        [h.make_node("Conv", ["x", "w"], ["y"], name="conv")],
        [vi("x", T.FLOAT, [2, 8])], [vi("y", T.FLOAT, ["N", "M"])],
        [tensor(np.ones((8, 4, 2), np.float32), "w")])
    out["two-failures"] = model(
        [h.make_node("MatMul", ["a", "w"], ["m"], name="first"),
         h.make_node("Add", ["m", "b"], ["y"], name="second")],
        [vi("a", T.FLOAT, [2, 3])], [vi("y", T.FLOAT, ["N", "M"])],
        [tensor(np.ones((4, 5), np.float32), "w"),
         tensor(np.ones((7,), np.float32), "b")])
    return out


def huge_constants():
    """Constants whose size comes from the model."""
    out = {}
    out["range-huge"] = model(
        [h.make_node("Range", ["s", "l", "d"], ["y"], name="range")],
        [], [vi("y", T.INT64, ["N"])],
        [tensor(np.array(0, np.int64), "s"),
         tensor(np.array(1 << 31, np.int64), "l"),
         tensor(np.array(1, np.int64), "d")])
    out["range-small"] = model(
        [h.make_node("Range", ["s", "l", "d"], ["y"], name="range")],
        [], [vi("y", T.INT64, [5])],
        [tensor(np.array(0, np.int64), "s"),
         tensor(np.array(10, np.int64), "l"),
         tensor(np.array(2, np.int64), "d")])
    out["input-bytes-overflow"] = model(
        [h.make_node("Relu", ["x"], ["y"], name="relu")],
        [vi("x", T.FLOAT, [1 << 61, 2])], [vi("y", T.FLOAT, [1 << 61, 2])])
    out["fill-overflow"] = model(
        [h.make_node("ConstantOfShape", ["shape"], ["y"], name="fill")],
        [], [vi("y", T.FLOAT, ["N", "M"])],
        [tensor(np.array([1 << 62, 4], np.int64), "shape")])
    return out


def indices_out_of_range():
    out = {}
    out["gather-oob"] = model(
        [h.make_node("Gather", ["x", "i"], ["y"], name="gather")],
        [vi("x", T.FLOAT, [5, 2])], [vi("y", T.FLOAT, [2, 2])],
        [tensor(np.array([1, 7], np.int64), "i")])
    out["gather-oob-negative"] = model(
        [h.make_node("Gather", ["d", "i"], ["y"], name="gather", axis=0)],
        [], [vi("y", T.FLOAT, [1])],
        [tensor(np.arange(6, dtype=np.float32), "d"),
         tensor(np.array([-7], np.int64), "i")])
    out["gather-in-range"] = model(
        [h.make_node("Gather", ["d", "i"], ["y"], name="gather", axis=0)],
        [], [vi("y", T.FLOAT, [2])],
        [tensor(np.arange(6, dtype=np.float32), "d"),
         tensor(np.array([-6, 5], np.int64), "i")])
    return out


def declarations():
    """Opset imports and declared output shapes."""
    out = {}
    dup = model([h.make_node("Relu", ["x"], ["y"], name="relu")],
                [vi("x", T.FLOAT, [2])], [vi("y", T.FLOAT, [2])])
    dup.opset_import.append(h.make_opsetid("ai.onnx", 13))
    out["opset-twice"] = dup
    # A graph output that nothing defines, at an opset the version converter
    # upgrades (the ONNX library's IR dereferenced a null value) and at 17.
    for opset in (1, 17):
        out[f"output-undefined-{opset}"] = model(
            [h.make_node("Not", ["x"], ["not"], name="not")],
            [vi("x", T.BOOL, [3])], [vi("n/t", T.BOOL, [3])], opset=opset)
    for name, declared in (("output-contradicts", ["N", 3]),
                           ("output-symbolic", ["N", 4]),
                           ("output-rank", [12])):
        nodes, inits = cast_reshape("x", [3, 4], "y")
        out[name] = model(nodes, [vi("x", T.FLOAT, [2, 6])],
                          [vi("y", T.FLOAT, declared)], inits)
    return out


def external_data():
    """A Constant's value in a data file that does not exist."""
    value = tensor(np.ones(4, np.float32), "value")
    value.ClearField("raw_data")
    value.data_location = T.EXTERNAL
    for key, v in (("location", "absent.bin"), ("offset", "0"), ("length", "16")):
        entry = value.external_data.add()
        entry.key, entry.value = key, v
    return {"constant-absent-data": model(
        [h.make_node("Constant", [], ["c"], value=value, name="const"),
         h.make_node("Add", ["x", "c"], ["y"], name="add")],
        [vi("x", T.FLOAT, [4])], [vi("y", T.FLOAT, [4])])}


def main(out):
    os.makedirs(out, exist_ok=True)
    for group in (shapes_that_do_not_fit, bad_tensors, inference,
                  huge_constants, indices_out_of_range, declarations,
                  external_data):
        for name, m in group().items():
            with open(os.path.join(out, name + ".onnx"), "wb") as f:
                f.write(m.SerializeToString())


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_malformed.py OUT_DIR")
    main(sys.argv[1])
