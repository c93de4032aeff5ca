#!/usr/bin/python3
"""Writes the small ONNX files that the importer's lit tests read.

    /usr/bin/python3 make_models.py OUT_DIR

Each file exercises one behaviour of the importer: valid models with inline
and external weights, and malformed or unsafe ones that must be refused with
a clear error.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def save(model, path, check=True):
    if check:
        onnx.checker.check_model(model)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


def model(nodes, inputs, outputs, initializers=(), opset=17, domains=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    imports = [helper.make_opsetid("", opset)] + [
        helper.make_opsetid(d, 1) for d in domains]
    m = helper.make_model(graph, opset_imports=imports, producer_name="dist-opt-tests")
    m.ir_version = 8
    return m


def linear(opset=17, batch="batch"):
    """y = x @ w + b, with a dynamic batch."""
    w = numpy_helper.from_array(np.arange(32, dtype=np.float32).reshape(8, 4), "w")
    b = numpy_helper.from_array(np.ones(4, dtype=np.float32), "b")
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"),
             helper.make_node("Add", ["h", "b"], ["y"], name="add")]
    return model(nodes,
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 8])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 4])],
                 [w, b], opset=opset)


def external(location, data_bytes=None, offset=0):
    """A model whose weight w (8x4 f32, 128 bytes) lives at `location`."""
    m = linear(batch=2)
    w = m.graph.initializer[0]
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", str(offset)), ("length", "128")):
        e = w.external_data.add()
        e.key, e.value = k, v
    return m


def main(out):
    os.makedirs(out, exist_ok=True)
    p = lambda name: os.path.join(out, name)

    valid = linear()
    save(valid, p("linear.onnx"))
    save(linear(batch=2), p("linear-static.onnx"))
    raw = valid.SerializeToString()
    with open(p("truncated.onnx"), "wb") as f:
        f.write(raw[: len(raw) * 2 // 3])
    with open(p("not-onnx.onnx"), "w") as f:
        f.write("this is a text file, not a model\n")
    with open(p("garbage.onnx"), "wb") as f:
        f.write(b"\xff\xff\xff\xff\xff\xff\xff\xff")
    open(p("empty.onnx"), "wb").close()

    # A cycle: a = x + y, y = relu(a).
    cyc = model([helper.make_node("Add", ["x", "y"], ["a"], name="add_cycle"),
                 helper.make_node("Relu", ["a"], ["y"], name="relu_cycle")],
                [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    save(cyc, p("cycle.onnx"), check=False)

    # Dims whose product overflows 64 bits.
    big = model([helper.make_node("Relu", ["x"], ["y"], name="relu_big")],
                [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1 << 40, 1 << 40])],
                [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1 << 40, 1 << 40])])
    save(big, p("overflow.onnx"))

    # Two unsupported op types of two domains, one used twice.
    uns = model([helper.make_node("Det", ["x"], ["d1"], name="det_a"),
                 helper.make_node("Det", ["x"], ["d2"], name="det_b"),
                 helper.make_node("FusedGemm", ["x", "x"], ["g"], name="fused",
                                  domain="com.microsoft"),
                 helper.make_node("Add", ["d1", "d2"], ["y"], name="add")],
                [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 3])],
                [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])],
                domains=["com.microsoft"])
    save(uns, p("unsupported.onnx"), check=False)

    # Opsets outside the importer's range, and an op in a form older than
    # its converter (Clip took min and max as attributes before opset 11).
    save(linear(opset=6, batch=2), p("opset6.onnx"), check=False)
    save(linear(opset=19, batch=2), p("opset19.onnx"), check=False)
    clip = model([helper.make_node("Clip", ["x"], ["y"], name="clip9", min=0.0, max=6.0)],
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])], opset=9)
    save(clip, p("clip-opset9.onnx"))

    # External data: valid, escaping the folder, through a link, too short.
    weights = np.arange(32, dtype=np.float32).tobytes()
    with open(p("weights.bin"), "wb") as f:
        f.write(b"\0" * 64 + weights)
    save(external("weights.bin", offset=64), p("external.onnx"), check=False)
    save(external("/etc/passwd"), p("external-absolute.onnx"), check=False)
    save(external("../weights.bin"), p("external-dotdot.onnx"), check=False)
    if os.path.lexists(p("link.bin")):
        os.unlink(p("link.bin"))
    os.symlink("weights.bin", p("link.bin"))
    save(external("link.bin"), p("external-symlink.onnx"), check=False)
    save(external("weights.bin", offset=128), p("external-short.onnx"), check=False)
    save(external("never-written.bin"), p("external-absent.onnx"), check=False)
    # Weights beyond 2 GB: the tensor sits at byte 3 GiB of a sparse file
    # (no disk is used), so offsets must be 64-bit all the way.
    huge_offset = 3 << 30
    with open(p("huge.bin"), "wb") as f:
        f.truncate(huge_offset + 128)
    save(external("huge.bin", offset=huge_offset), p("external-huge.onnx"), check=False)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_models.py OUT_DIR")
    main(sys.argv[1])
