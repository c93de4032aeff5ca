#!/usr/bin/python3
"""Writes the ONNX models of indexing.test (Einsum, TopK, GatherElements,
ScatterElements, ScatterND) with their inputs and expected outputs.

    /usr/bin/python3 make_indexing_models.py OUT_DIR

For each valid model NAME: OUT_DIR/NAME.onnx and its inputs NAME.in<i>.npy;
all of them together as one model OUT_DIR/all.onnx with its inputs and
expected outputs (numpy; see save_all). The models refused at import are
OUT_DIR/bad_*.onnx; OUT_DIR/fuzz_*.onnx are Einsum models with random
equations.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(16)
ONNX_TYPE = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64}


def save(out, name, node, inputs, outputs, opset=17, initializers=(), check=True):
    """`inputs`: [(name, array)] fed at run time; `outputs`: [(name, array or
    (shape, dtype))] expected."""
    in_infos = [helper.make_tensor_value_info(n, ONNX_TYPE[a.dtype], a.shape)
                for n, a in inputs]
    out_infos = []
    for j, (n, a) in enumerate(outputs):
        if isinstance(a, np.ndarray):
            out_infos.append(helper.make_tensor_value_info(n, ONNX_TYPE[a.dtype], a.shape))
            if not name.startswith("bad_") and opset >= 10:
                np.save(os.path.join(out, f"{name}.expected{j}.npy"), a)
        else:
            out_infos.append(helper.make_tensor_value_info(n, ONNX_TYPE[np.dtype(a[1])], a[0]))
    if not name.startswith("bad_") and opset >= 10:
        ALL.append((name, node, inputs, in_infos, out_infos, list(initializers), opset))
    graph = helper.make_graph([node], name, in_infos, out_infos, list(initializers))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="dist-opt-tests")
    m.ir_version = 8
    if check:
        onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, f"{name}.onnx"))
    for i, (_, a) in enumerate(inputs):
        np.save(os.path.join(out, f"{name}.in{i}.npy"), a)


# The valid cases, also written as one model (all.onnx) so that dist-run
# runs them in one process.
ALL = []


def save_all(out):
    """all.onnx: every valid case's node with its tensors renamed
    `<case>.<name>`, its inputs all.<case>.<name>.npy and expected outputs
    all.<case>.<name>.expected.npy, at opset 17 (the cases' operators have
    the same form there as in their own opsets, 10 and later)."""
    nodes, in_infos, out_infos, inits = [], [], [], []
    for name, node, inputs, ins, outs, initializers, _ in ALL:
        rename = lambda n: f"{name}.{n}"  # noqa: E731
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        copy.name = name
        copy.input[:] = [rename(n) for n in node.input]
        copy.output[:] = [rename(n) for n in node.output]
        nodes.append(copy)
        for info in ins + outs:
            renamed = onnx.ValueInfoProto()
            renamed.CopyFrom(info)
            renamed.name = rename(info.name)
            (in_infos if info in ins else out_infos).append(renamed)
        for t in initializers:
            renamed = onnx.TensorProto()
            renamed.CopyFrom(t)
            renamed.name = rename(t.name)
            inits.append(renamed)
        for n, a in inputs:
            np.save(os.path.join(out, f"all.{rename(n)}.npy"), a)
        for j, info in enumerate(outs):
            path = os.path.join(out, f"{name}.expected{j}.npy")
            os.replace(path, os.path.join(out, f"all.{rename(info.name)}.expected.npy"))
    graph = helper.make_graph(nodes, "all", in_infos, out_infos, inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                          producer_name="dist-opt-tests")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, "all.onnx"))


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def einsum(out, name, equation, *arrays, node_name=None, check=True):
    inputs = [(f"a{i}", a) for i, a in enumerate(arrays)]
    node = helper.make_node("Einsum", [n for n, _ in inputs], ["y"], equation=equation,
                            name=node_name or name)
    try:
        want = np.einsum(equation, *arrays)
        outputs = [("y", np.asarray(want, dtype=arrays[0].dtype))]
    except ValueError:
        # Symbolic dims, as many as the output's letters: ONNX's shape
        # inference checks no more than that.
        rhs = equation.split("->")[-1]
        outputs = [("y", ([f"d{i}" for i, c in enumerate(rhs) if c.isalpha()],
                          arrays[0].dtype))]
    save(out, name, node, inputs, outputs, opset=12, check=check)


def main(out):
    # The patterns torch.einsum is used for.
    einsum(out, "bmm", "bij,bjk->bik", rand(2, 3, 4), rand(2, 4, 5))
    einsum(out, "attention", "bhqd,bhkd->bhqk", rand(2, 3, 4, 8), rand(2, 3, 5, 8))
    einsum(out, "outer", "i,j->ij", rand(3), rand(4))
    einsum(out, "ellipsis", "...ij,...jk->...ik", rand(2, 3, 4, 5), rand(1, 3, 5, 6))
    einsum(out, "rowsum", "ij->i", rand(3, 4))
    einsum(out, "transpose", "ij->ji", rand(3, 4))
    einsum(out, "implicit", "ij,jk", rand(3, 4), rand(4, 2))
    einsum(out, "spaces", " b i j , b j k -> b k i ", rand(2, 3, 4), rand(2, 4, 5))
    einsum(out, "three", "ij,jk,kl->il", rand(2, 3), rand(3, 4), rand(4, 5))
    einsum(out, "broadcast", "ij,ij->ij", rand(1, 3), rand(2, 3))
    einsum(out, "integers", "ij,jk->ik", RNG.integers(-5, 5, (3, 4)), RNG.integers(-5, 5, (4, 2)))
    # Diagonals: an index repeated within an operand.
    einsum(out, "diagonal", "ii->i", rand(3, 3))
    einsum(out, "trace", "ii", rand(3, 3))
    einsum(out, "batch_diagonal", "...ii->...i", rand(2, 3, 3))
    einsum(out, "diagonal_product", "iji,jk->ik", rand(3, 2, 3), rand(2, 4))
    # Refused: equations that do not fit the operands.
    einsum(out, "bad_diagonal", "ii->i", rand(3, 4), node_name="diag", check=False)
    einsum(out, "bad_repeat_output", "ij->ii", rand(3, 3), node_name="repeat", check=False)
    einsum(out, "bad_terms", "ij,jk->ik", rand(3, 4), node_name="terms", check=False)
    einsum(out, "bad_rank", "ijk->i", rand(3, 4), node_name="rank", check=False)
    einsum(out, "bad_char", "i1->i", rand(3, 4), node_name="char", check=False)
    einsum(out, "bad_dots", "i..j->i", rand(3, 4), node_name="dots", check=False)
    einsum(out, "bad_output", "ij->ik", rand(3, 4), node_name="output", check=False)
    einsum(out, "bad_arrows", "ij->i->j", rand(3, 4), node_name="arrows", check=False)
    einsum(out, "bad_sizes", "ij,jk->ik", rand(3, 4), rand(5, 2), node_name="sizes",
           check=False)
    # ONNX 1.12's shape inference would write out of bounds for it.
    einsum(out, "bad_implicit_upper", "iJ", rand(3, 4), node_name="upper", check=False)

    # TopK: k a constant (opset 11 input, opset 9 attribute).
    x = rand(3, 6)
    x[1, 2] = x[1, 4]  # a tie: the earlier position comes first
    k = numpy_helper.from_array(np.array([2], np.int64), "k")
    order = np.argsort(-x, axis=1, kind="stable")[:, :2]
    save(out, "topk", helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=1, name="topk"),
         [("x", x)], [("v", np.take_along_axis(x, order, 1)), ("i", order)], 11, [k])
    small = np.argsort(x, axis=0, kind="stable")[:2]
    save(out, "topk_smallest",
         helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=-2, largest=0, name="topk_s"),
         [("x", x)], [("v", np.take_along_axis(x, small, 0)), ("i", small)], 11, [k])
    save(out, "topk_attr", helper.make_node("TopK", ["x"], ["v", "i"], k=2, axis=1, name="topk9"),
         [("x", x)], [("v", np.take_along_axis(x, order, 1)), ("i", order)], 9)
    save(out, "bad_topk_k", helper.make_node("TopK", ["x", "k"], ["v", "i"], name="topk_dyn"),
         [("x", x), ("k", np.array([2], np.int64))], [("v", ([3, 2], np.float32)),
                                                      ("i", ([3, 2], np.int64))], 11)
    big = numpy_helper.from_array(np.array([7], np.int64), "k")
    save(out, "bad_topk_big", helper.make_node("TopK", ["x", "k"], ["v", "i"], name="topk_big"),
         [("x", x)], [("v", ([3, 7], np.float32)), ("i", ([3, 7], np.int64))], 11, [big],
         check=False)

    # GatherElements: the indices at run time; a constant index out of
    # range and an axis out of range are refused.
    data = rand(3, 4)
    idx = np.array([[0, 3], [-1, 1], [2, 2]], np.int64)
    save(out, "gather_elements",
         helper.make_node("GatherElements", ["d", "i"], ["y"], axis=1, name="ge"),
         [("d", data), ("i", idx)], [("y", np.take_along_axis(data, idx % 4, 1))], 13)
    bad_idx = numpy_helper.from_array(np.array([[0, 4]], np.int64), "i")
    save(out, "bad_gather_index",
         helper.make_node("GatherElements", ["d", "i"], ["y"], axis=1, name="ge_const"),
         [("d", data)], [("y", ([1, 2], np.float32))], 13, [bad_idx])
    save(out, "bad_gather_axis",
         helper.make_node("GatherElements", ["d", "i"], ["y"], axis=2, name="ge_axis"),
         [("d", data), ("i", idx)], [("y", ([3, 2], np.float32))], 13, check=False)

    # ScatterElements with add (opset 16) and ScatterND with mul.
    upd = rand(3, 2)
    want = data.copy()
    for r in range(3):
        for c in range(2):
            want[r, idx[r, c] % 4] += upd[r, c]
    save(out, "scatter_add",
         helper.make_node("ScatterElements", ["d", "i", "u"], ["y"], axis=1,
                          reduction="add", name="se"),
         [("d", data), ("i", idx), ("u", upd)], [("y", want)], 16)
    nd_idx = np.array([[2], [0], [-1]], np.int64)
    nd_upd = rand(3, 4)
    want = data.copy()
    for r in range(3):
        want[nd_idx[r, 0]] *= nd_upd[r]
    save(out, "scatter_nd_mul",
         helper.make_node("ScatterND", ["d", "i", "u"], ["y"], reduction="mul", name="snd"),
         [("d", data), ("i", nd_idx), ("u", nd_upd)], [("y", want)], 16)


def fuzz(out, count):
    """`count` Einsum models of two [3, 3] operands whose equations are
    random strings over the characters that equations use (and some they
    must not): fuzz_<i>.onnx, unchecked, for the importer to refuse or
    import without crashing."""
    alphabet = list("ijk.,->  1I") + ["...", "->"]
    for i in range(count):
        eq = "".join(RNG.choice(alphabet) for _ in range(RNG.integers(0, 12)))
        node = helper.make_node("Einsum", ["a0", "a1"], ["y"], equation=eq, name=f"fuzz{i}")
        save(out, f"fuzz_{i}", node, [("a0", rand(3, 3)), ("a1", rand(3, 3))],
             [("y", (["d0", "d1"], np.float32))], opset=12, check=False)


if __name__ == "__main__":
    main(sys.argv[1])
    save_all(sys.argv[1])
    fuzz(sys.argv[1], 30)
