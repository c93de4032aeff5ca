#!/usr/bin/python3
"""Models with ONNX control flow (Loop, If) and nn.EmbeddingBag exports, and
their check against oracles written elsewhere.

    /usr/bin/python3 control_flow_models.py make OUT
    /usr/bin/python3 control_flow_models.py check OUT NAME DIST_OPT DIST_RUN
        [--ranks N --cluster FILE]

`make` writes OUT/NAME.onnx with its inputs OUT/NAME.INPUT.npy and, for the
PyTorch exports, PyTorch's outputs OUT/NAME.torch.OUTPUT.npy:

- loop: a Loop with a trip count from a Constant, a condition computed from
  the iteration number (it stops the loop after 3 of 5 iterations), two
  loop-carried values and two scan outputs;
- scan: a Scan over two inputs along different axes, one read backwards,
  with a state and two scan outputs stacked along different axes, one
  reversed;
- if_then, if_else: an If whose condition is computed from the input's
  shape, taking each branch (outer values used inside);
- bag_*: nn.EmbeddingBag and F.embedding_bag exported by torch.onnx (a Loop
  over the bags): sum with per-sample weights, mean, max, sum with
  include_last_offset; bag_empty holds an empty bag (sum, mean and max);
- the malformed models refused with an error: if_dynamic (a condition from
  a graph input), loop_dynamic (a trip count from a graph input),
  loop_unsupported (an operator dist-opt does not convert in the body).

`check` runs NAME with dist-run on 1 rank and compares every output with
ONNX Runtime's (test/oracle/run_ort.js) and, when there are PyTorch outputs,
with PyTorch's (rtol 1e-5, atol 1e-6): ONNX Runtime is not asked about
bag_empty, where the exported Loop's ReduceMean and ReduceMax of an empty
slice have no value that nn.EmbeddingBag agrees with (it gives zeros).
With --ranks N the model is also planned for N devices of --cluster and
run under MPI, equal to 1 rank. Prints one line per output and
`NAME: checked K outputs, M mismatched`.
"""
import argparse
import os
import shlex
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
RUN_ORT = os.path.join(HERE, "..", "..", "..", "oracle", "run_ort.js")
F, I64, B = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL


def save(out, name, nodes, inputs, data, outputs, inits=(), opset=17):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, name + ".onnx"))
    for k, v in data.items():
        np.save(os.path.join(out, f"{name}.{k}.npy"), v)


def const(name, array):
    return helper.make_node("Constant", [], [name], name=name,
                            value=numpy_helper.from_array(np.asarray(array), name))


def make_loop(out, rng):
    # acc = acc * 0.5 + i; total = total + acc; scans: acc * 2, i; the
    # condition i < 2 ends the loop after iteration 2 (of a trip count 5).
    body = helper.make_graph(
        [const("half", np.float32(0.5)), const("two", np.int64(2)),
         const("twof", np.float32(2.0)),
         helper.make_node("Less", ["i", "two"], ["cond_out"], name="less"),
         helper.make_node("Mul", ["acc_in", "half"], ["halved"], name="halve"),
         helper.make_node("Cast", ["i"], ["i_f"], name="cast", to=F),
         helper.make_node("Add", ["halved", "i_f"], ["acc_out"], name="add"),
         helper.make_node("Add", ["total_in", "acc_out"], ["total_out"], name="sum"),
         helper.make_node("Mul", ["acc_out", "twof"], ["scan_acc"], name="double"),
         helper.make_node("Identity", ["i"], ["scan_i"], name="iteration")],
        "body",
        [helper.make_tensor_value_info("i", I64, []),
         helper.make_tensor_value_info("cond_in", B, []),
         helper.make_tensor_value_info("acc_in", F, None),
         helper.make_tensor_value_info("total_in", F, None)],
        [helper.make_tensor_value_info("cond_out", B, []),
         helper.make_tensor_value_info("acc_out", F, None),
         helper.make_tensor_value_info("total_out", F, None),
         helper.make_tensor_value_info("scan_acc", F, None),
         helper.make_tensor_value_info("scan_i", I64, None)])
    nodes = [const("trips", np.int64(5)), const("go", np.bool_(True)),
             helper.make_node("Loop", ["trips", "go", "x", "x"],
                              ["acc", "total", "accs", "iterations"], name="loop",
                              body=body)]
    x = rng.standard_normal((2, 3)).astype(np.float32)
    save(out, "loop", nodes, [helper.make_tensor_value_info("x", F, [2, 3])], {"x": x},
         [helper.make_tensor_value_info("acc", F, [2, 3]),
          helper.make_tensor_value_info("total", F, [2, 3]),
          helper.make_tensor_value_info("accs", F, [3, 2, 3]),
          helper.make_tensor_value_info("iterations", I64, [3])])


def make_scan(out, rng):
    # A running sum over x's dim 1 read backwards, and y's dim 0 forwards;
    # the sums stacked along dim 1 (reversed), the products along dim 0.
    body = helper.make_graph(
        [helper.make_node("Add", ["sum_in", "x_t"], ["sum_out"], name="add"),
         helper.make_node("Mul", ["sum_out", "y_t"], ["prod"], name="mul"),
         helper.make_node("Identity", ["sum_out"], ["sum_scan"], name="keep")],
        "body",
        [helper.make_tensor_value_info("sum_in", F, [3]),
         helper.make_tensor_value_info("x_t", F, [3]),
         helper.make_tensor_value_info("y_t", F, [3])],
        [helper.make_tensor_value_info("sum_out", F, [3]),
         helper.make_tensor_value_info("sum_scan", F, [3]),
         helper.make_tensor_value_info("prod", F, [3])])
    nodes = [helper.make_node("Scan", ["init", "x", "y"], ["total", "sums", "prods"],
                              name="scan", body=body, num_scan_inputs=2,
                              scan_input_axes=[1, 0], scan_input_directions=[1, 0],
                              scan_output_axes=[-1, 0], scan_output_directions=[1, 0])]
    data = {"init": rng.standard_normal(3).astype(np.float32),
            "x": rng.standard_normal((3, 4)).astype(np.float32),
            "y": rng.standard_normal((4, 3)).astype(np.float32)}
    save(out, "scan", nodes,
         [helper.make_tensor_value_info(k, F, v.shape) for k, v in data.items()], data,
         [helper.make_tensor_value_info("total", F, [3]),
          helper.make_tensor_value_info("sums", F, [3, 4]),
          helper.make_tensor_value_info("prods", F, [4, 3])])


def make_if(out, rng, rows):
    # cond = shape(x)[0] > 2: known once the input's shape is.
    then_branch = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["r"], name="relu"),
         helper.make_node("Add", ["r", "x"], ["y_then"], name="add")],
        "then", [], [helper.make_tensor_value_info("y_then", F, None)])
    else_branch = helper.make_graph(
        [helper.make_node("Neg", ["x"], ["y_else"], name="neg")],
        "else", [], [helper.make_tensor_value_info("y_else", F, None)])
    nodes = [helper.make_node("Shape", ["x"], ["shape"], name="shape"),
             const("zero", np.int64(0)), const("limit", np.int64(2)),
             helper.make_node("Gather", ["shape", "zero"], ["rows"], name="rows"),
             helper.make_node("Greater", ["rows", "limit"], ["cond"], name="greater"),
             helper.make_node("If", ["cond"], ["y"], name="if",
                              then_branch=then_branch, else_branch=else_branch)]
    x = rng.standard_normal((rows, 4)).astype(np.float32)
    name = "if_then" if rows > 2 else "if_else"
    save(out, name, nodes, [helper.make_tensor_value_info("x", F, [rows, 4])], {"x": x},
         [helper.make_tensor_value_info("y", F, [rows, 4])])


def make_malformed(out):
    branch = helper.make_graph([helper.make_node("Neg", ["x"], ["y1"], name="neg")],
                               "branch", [], [helper.make_tensor_value_info("y1", F, None)])
    save(out, "if_dynamic",
         [helper.make_node("If", ["c"], ["y"], name="if", then_branch=branch,
                           else_branch=branch)],
         [helper.make_tensor_value_info("c", B, []),
          helper.make_tensor_value_info("x", F, [2])], {},
         [helper.make_tensor_value_info("y", F, [2])])
    body = helper.make_graph(
        [helper.make_node("Identity", ["c_in"], ["c_out"], name="keep"),
         helper.make_node("Neg", ["v_in"], ["v_out"], name="neg")],
        "body",
        [helper.make_tensor_value_info("i", I64, []),
         helper.make_tensor_value_info("c_in", B, []),
         helper.make_tensor_value_info("v_in", F, None)],
        [helper.make_tensor_value_info("c_out", B, []),
         helper.make_tensor_value_info("v_out", F, None)])
    save(out, "loop_dynamic",
         [helper.make_node("Loop", ["n", "", "x"], ["y"], name="loop", body=body)],
         [helper.make_tensor_value_info("n", I64, []),
          helper.make_tensor_value_info("x", F, [2])], {},
         [helper.make_tensor_value_info("y", F, [2])])
    unsupported = helper.make_graph(
        [helper.make_node("Identity", ["c_in"], ["c_out"], name="keep"),
         helper.make_node("Det", ["v_in"], ["v_out"], name="det")],
        "body",
        [helper.make_tensor_value_info("i", I64, []),
         helper.make_tensor_value_info("c_in", B, []),
         helper.make_tensor_value_info("v_in", F, None)],
        [helper.make_tensor_value_info("c_out", B, []),
         helper.make_tensor_value_info("v_out", F, None)])
    save(out, "loop_unsupported",
         [const("n", np.int64(2)),
          helper.make_node("Loop", ["n", "", "x"], ["y"], name="loop", body=unsupported)],
         [helper.make_tensor_value_info("x", F, [3, 3])], {},
         [helper.make_tensor_value_info("y", F, [])])


def make_bags(out):
    import torch
    import torch.nn.functional as TF

    torch.manual_seed(5)
    table = torch.randn(20, 6)

    class Bags(torch.nn.Module):
        def __init__(self, mode, per_sample, last):
            super().__init__()
            self.bag = torch.nn.EmbeddingBag(20, 6, mode=mode, include_last_offset=last)
            self.bag.weight.data.copy_(table)
            self.per_sample = per_sample

        def forward(self, ids, offsets, weights=None):
            return self.bag(ids, offsets, per_sample_weights=weights)

    class Functional(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.table = torch.nn.Parameter(table.clone())

        def forward(self, ids, offsets):
            return TF.embedding_bag(ids, self.table, offsets, mode="mean") * 2

    ids = torch.tensor([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8], dtype=torch.int64)
    offsets = torch.tensor([0, 2, 3, 7, 8], dtype=torch.int64)
    empty = torch.tensor([0, 4, 4, 9], dtype=torch.int64)       # bag 1 is empty
    weights = torch.rand(12)
    cases = {
        "bag_sum_weights": (Bags("sum", True, False), (ids, offsets, weights)),
        "bag_mean": (Functional(), (ids, offsets)),
        "bag_max": (Bags("max", False, False), (ids, offsets)),
        "bag_last_offset": (Bags("sum", False, True),
                            (ids, torch.cat([offsets, torch.tensor([12])]))),
    }
    for mode in ["sum", "mean", "max"]:
        cases[f"bag_empty_{mode}"] = (Bags(mode, False, False), (ids, empty))
    for name, (module, args) in cases.items():
        module.eval()
        names = ["ids", "offsets", "weights"][:len(args)]
        path = os.path.join(out, name + ".onnx")
        with torch.no_grad():
            expected = module(*args)
            torch.onnx.export(module, args, path, opset_version=13, input_names=names,
                              output_names=["bags"])
        for n, a in zip(names, args):
            np.save(os.path.join(out, f"{name}.{n}.npy"), a.numpy())
        np.save(os.path.join(out, f"{name}.torch.bags.npy"), expected.numpy())
        assert any(n.op_type == "Loop" for n in onnx.load(path).graph.node), name


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"FAILED: {' '.join(cmd)}\n{proc.stderr.strip()}")
    return proc.returncode == 0


def compare(name, got, want):
    if got.shape != want.shape:
        print(f"MISMATCH {name}: shape {list(got.shape)}, expected {list(want.shape)}")
        return False
    ok = np.allclose(got, want, rtol=1e-5, atol=1e-6)
    print(f"{'ok' if ok else 'MISMATCH'} {name}")
    return ok


def check(args):
    path = os.path.join(args.dir, args.name + ".onnx")
    model = onnx.load(path)
    feed = []
    for i in model.graph.input:
        feed += ["--input", f"{i.name}={os.path.join(args.dir, f'{args.name}.{i.name}.npy')}"]
    work = os.path.join(args.dir, args.name + ".work")
    os.makedirs(work, exist_ok=True)
    one = os.path.join(work, "one.dist")
    if not (run([args.dist_opt, path, "--devices=1", "-o", one]) and
            run([args.dist_run, one, *feed, "--output-dir", os.path.join(work, "one")])):
        return 1
    ask_ort = not args.name.startswith("bag_empty")
    if ask_ort and not run(["node", RUN_ORT, path, *feed, "--output-dir",
                            os.path.join(work, "ort")]):
        return 1
    load = lambda sub, o: np.load(os.path.join(work, sub, o + ".npy"))
    outputs = [o.name for o in model.graph.output]
    bad = checked = 0
    for o in outputs:
        got = load("one", o)
        torch_file = os.path.join(args.dir, f"{args.name}.torch.{o}.npy")
        if ask_ort:
            checked += 1
            bad += not compare(f"{o} vs ONNX Runtime", got, load("ort", o))
        if os.path.exists(torch_file):
            checked += 1
            bad += not compare(f"{o} vs PyTorch", got, np.load(torch_file))
    if args.ranks:
        many = os.path.join(work, "many.dist")
        if not (run([args.dist_opt, path, f"--devices={args.ranks}",
                     f"--cluster={args.cluster}", "-o", many]) and
                run([*shlex.split(args.mpirun), "-np", str(args.ranks), args.dist_run, many,
                     *feed, "--output-dir", os.path.join(work, "many")])):
            return 1
        for o in outputs:
            checked += 1
            bad += not compare(f"{o} on {args.ranks} ranks vs 1 rank", load("many", o),
                               load("one", o))
    print(f"{args.name}: checked {checked} outputs, {bad} mismatched")
    return 1 if bad else 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make")
    m.add_argument("dir")
    c = sub.add_parser("check")
    c.add_argument("dir")
    c.add_argument("name")
    c.add_argument("dist_opt")
    c.add_argument("dist_run")
    c.add_argument("--ranks", type=int, default=0)
    c.add_argument("--cluster", default="cpu")
    c.add_argument("--mpirun", default="mpirun --oversubscribe")
    args = p.parse_args()
    if args.command == "check":
        return check(args)
    rng = np.random.default_rng(3)
    os.makedirs(args.dir, exist_ok=True)
    make_loop(args.dir, rng)
    make_scan(args.dir, rng)
    make_if(args.dir, rng, 3)
    make_if(args.dir, rng, 2)
    make_malformed(args.dir)
    make_bags(args.dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
