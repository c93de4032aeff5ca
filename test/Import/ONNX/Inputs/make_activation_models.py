#!/usr/bin/python3
"""Writes the ONNX models of activations.test and trilu.test, their inputs
and the expected outputs.

    /usr/bin/python3 make_activation_models.py OUT_DIR

Every valid model reads x (float32, [2, 3, 4], values in [-4, 4] that
include 0 and the kinks of hard_sigmoid and hard_swish) and writes y; its
expected output is OUT_DIR/<name>.expected.npy, computed here with NumPy from
the formulas of the ONNX operator documentation. OUT_DIR/valid.txt lists the
valid models.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SHAPE = [2, 3, 4]
X = np.concatenate([np.array([0.0, -3.0, 3.0, 2.5, -2.5, 0.5], np.float32),
                    np.linspace(-4, 4, 18, dtype=np.float32)]).reshape(SHAPE)


def softplus(x):
    return np.log1p(np.exp(x))


def hard_sigmoid(x, alpha, beta):
    return np.clip(alpha * x + beta, 0, 1)


# name: (op type, attributes, opset, expected)
ACTIVATIONS = {
    "leaky_relu": ("LeakyRelu", dict(alpha=0.1), 16, lambda x: np.where(x < 0, 0.1 * x, x)),
    "leaky_relu_default": ("LeakyRelu", {}, 16, lambda x: np.where(x < 0, 0.01 * x, x)),
    "elu": ("Elu", dict(alpha=2.0), 17, lambda x: np.where(x < 0, 2.0 * np.expm1(x), x)),
    "selu": ("Selu", dict(alpha=2.0, gamma=3.0), 17,
             lambda x: 3.0 * np.where(x <= 0, 2.0 * np.expm1(x), x)),
    "selu_default": ("Selu", {}, 17,
                     lambda x: 1.05070102214813232421875 * np.where(
                         x <= 0, 1.67326319217681884765625 * np.expm1(x), x)),
    "celu": ("Celu", dict(alpha=2.0), 12,
             lambda x: np.maximum(0, x) + np.minimum(0, 2.0 * np.expm1(x / 2.0))),
    "hard_sigmoid": ("HardSigmoid", dict(alpha=0.3, beta=0.4), 17,
                     lambda x: hard_sigmoid(x, 0.3, 0.4)),
    "hard_sigmoid_default": ("HardSigmoid", {}, 17, lambda x: hard_sigmoid(x, 0.2, 0.5)),
    "hard_swish": ("HardSwish", {}, 14, lambda x: x * hard_sigmoid(x, 1 / 6, 0.5)),
    "thresholded_relu": ("ThresholdedRelu", dict(alpha=0.5), 10,
                         lambda x: np.where(x > 0.5, x, 0)),
    "softplus": ("Softplus", {}, 17, softplus),
    "softsign": ("Softsign", {}, 17, lambda x: x / (1 + np.abs(x))),
    # Opset 6: upgraded to 7 by the ONNX version converter.
    "elu_opset6": ("Elu", dict(alpha=0.5), 6, lambda x: np.where(x < 0, 0.5 * np.expm1(x), x)),
}


def value_info(name, shape, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def save(out, name, nodes, opset, inputs=None, initializers=(), out_shape=None,
         check=True, out_elem=TensorProto.FLOAT):
    graph = helper.make_graph(
        nodes, name, inputs or [value_info("x", SHAPE)],
        [value_info("y", out_shape or SHAPE, out_elem)], list(initializers))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="dist-opt-tests")
    m.ir_version = 7
    if check:
        onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, f"{name}.onnx"))


def write_activations(out, valid):
    for name, (op, attrs, opset, expected) in ACTIVATIONS.items():
        save(out, name, [helper.make_node(op, ["x"], ["y"], name=name, **attrs)], opset)
        np.save(os.path.join(out, f"{name}.expected.npy"),
                expected(X.astype(np.float64)).astype(np.float32))
        valid.append(name)
    # Opset 6 with a weight (32 floats, a reference to the model file's
    # bytes): the upgrade keeps the initializer where it is.
    w = np.linspace(-1, 1, 32, dtype=np.float32).reshape(4, 8)
    save(out, "linear_opset6",
         [helper.make_node("MatMul", ["x", "w"], ["h"], name="mm6"),
          helper.make_node("Elu", ["h"], ["y"], name="elu6")], 6,
         initializers=[numpy_helper.from_array(w, "w")], out_shape=[2, 3, 8])
    h = X.astype(np.float64) @ w.astype(np.float64)
    np.save(os.path.join(out, "linear_opset6.expected.npy"),
            np.where(h < 0, np.expm1(h), h).astype(np.float32))
    valid.append("linear_opset6")
    # The same weight as external data: the upgrade keeps its location.
    ext = numpy_helper.from_array(w, "w")
    ext.ClearField("raw_data")
    ext.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "w6.bin"), ("offset", "0"), ("length", "128")):
        entry = ext.external_data.add()
        entry.key, entry.value = key, value
    w.tofile(os.path.join(out, "w6.bin"))
    save(out, "external_opset6",
         [helper.make_node("MatMul", ["x", "w"], ["h"], name="mm6"),
          helper.make_node("Elu", ["h"], ["y"], name="elu6")], 6,
         initializers=[ext], out_shape=[2, 3, 8], check=False)
    np.save(os.path.join(out, "external_opset6.expected.npy"),
            np.where(h < 0, np.expm1(h), h).astype(np.float32))
    valid.append("external_opset6")
    # PRelu: a per-channel slope [3, 1] broadcast over [2, 3, 4].
    slope = np.array([[0.25], [-0.5], [2.0]], np.float32)
    save(out, "prelu", [helper.make_node("PRelu", ["x", "slope"], ["y"], name="prelu")], 16,
         initializers=[numpy_helper.from_array(slope, "slope")])
    np.save(os.path.join(out, "prelu.expected.npy"), np.where(X < 0, slope * X, X))
    valid.append("prelu")


def write_trilu(out, valid):
    def trilu(name, upper, k=None, shape=(2, 4, 5)):
        inputs = ["x"] if k is None else ["x", "k"]
        inits = [] if k is None else [numpy_helper.from_array(np.array(k, np.int64), "k")]
        x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + 1
        save(out, name, [helper.make_node("Trilu", inputs, ["y"], name=name, upper=upper)], 14,
             inputs=[value_info("x", list(shape))], initializers=inits, out_shape=list(shape))
        np.save(os.path.join(out, f"{name}.x.npy"), x)
        expected = np.triu(x, k or 0) if upper else np.tril(x, k or 0)
        np.save(os.path.join(out, f"{name}.expected.npy"), expected)
        valid.append(name)

    trilu("triu", 1)
    trilu("triu_k1", 1, 1)
    trilu("tril_km1", 0, -1)
    trilu("tril_k_far", 0, -100)
    trilu("triu_k_far", 1, 2**62)
    # A LLaMA-style causal mask: 2048 x 2048, over a batch of heads.
    save(out, "causal", [helper.make_node("Trilu", ["x", "k"], ["y"], name="causal", upper=1)],
         14, inputs=[value_info("x", [4, 2, 2048, 2048])],
         initializers=[numpy_helper.from_array(np.array(1, np.int64), "k")],
         out_shape=[4, 2, 2048, 2048])


def write_errors(out):
    # k is a graph input: not known at compile time.
    save(out, "trilu_k_input",
         [helper.make_node("Trilu", ["x", "k"], ["y"], name="tri_dyn")], 14,
         inputs=[value_info("x", [4, 5]), value_info("k", [], TensorProto.INT64)],
         out_shape=[4, 5])
    # A slope that does not broadcast to the input.
    bad = np.ones([2, 1, 4], np.float32)
    save(out, "prelu_bad_slope",
         [helper.make_node("PRelu", ["x", "slope"], ["y"], name="prelu_bad")], 16,
         inputs=[value_info("x", [3, 4])],
         initializers=[numpy_helper.from_array(bad, "slope")], out_shape=[3, 4])
    save(out, "celu_zero", [helper.make_node("Celu", ["x"], ["y"], name="celu0", alpha=0.0)],
         12)
    # Opset 6 Equal has no adapter to opset 7 in the ONNX version converter.
    save(out, "equal_opset6",
         [helper.make_node("Equal", ["a", "b"], ["y"], name="eq6")], 6,
         inputs=[value_info("a", [4], TensorProto.INT32),
                 value_info("b", [4], TensorProto.INT32)],
         out_shape=[4], out_elem=TensorProto.BOOL, check=False)
    # Opset 4 Reshape (shape attribute): ONNX 1.12's adapter to opset 5
    # writes a shape constant without dims.
    save(out, "reshape_opset4", [helper.make_node("Reshape", ["x"], ["y"], name="rs4",
                                                  shape=[6, 4])], 4, out_shape=[6, 4])
    # Opset 6 with an op that the importer does not convert at any opset.
    save(out, "unknown_opset6", [helper.make_node("MaxRoiPool", ["x", "x"], ["y"], name="roi6",
                                                  pooled_shape=[1, 1])], 7,
         check=False)
    m = onnx.load(os.path.join(out, "unknown_opset6.onnx"))
    m.opset_import[0].version = 6
    onnx.save(m, os.path.join(out, "unknown_opset6.onnx"))


def main(out):
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "x.npy"), X)
    valid = []
    write_activations(out, valid)
    write_trilu(out, valid)
    write_errors(out)
    with open(os.path.join(out, "valid.txt"), "w") as f:
        f.write("\n".join(valid) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
