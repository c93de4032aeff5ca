#!/usr/bin/python3
"""Splits the rows of one table of a generated training step by hand.

    /usr/bin/python3 split_table_rows.py STEP.mlir TABLE OUT.mlir

STEP.mlir is a whole training step (dist-add-loss, dist-autodiff,
dist-optimizer). Writes OUT.mlir: the same step on a grid of 2 devices
(`shard.grid @tp(shape = 2)`) whose `dist.factor_axes` split dim 0 (`d0`)
of the weight TABLE and of its optimizer states, of the gathers from it, of
the table's gradient (dist.gather_grad), of its optimizer update and of the
dist.assigns that write them back; every other op is whole. This is the
vocabulary-parallel embedding (Megatron-LM), for dist-partition.
"""
import re
import sys

SPLIT = "dist.factor_axes = {d0 = array<i16: 0>}"


def annotate_attr_dict(line):
    """Adds SPLIT to the op's attribute dictionary (the first one)."""
    return line.replace("{", "{" + SPLIT + ", ", 1)


def annotate_weight(line):
    """Adds SPLIT to a dist.weight, whose attribute dictionary is last."""
    if line.rstrip().endswith("}"):
        head, _, tail = line.rpartition("{")
        return head + "{" + SPLIT + ", " + tail
    return line.rstrip("\n") + " {" + SPLIT + "}\n"


def main(step, table, out):
    lines = open(step).read().splitlines(keepends=True)
    weights = {}
    for line in lines:
        m = re.match(r'\s*(%\S+) = dist.weight "([^"]+)"', line)
        if m and (m.group(2) == table or m.group(2).startswith(table + ".")):
            weights[m.group(1)] = m.group(2)
    assert weights, f"no weight {table}"
    result = []
    counts = {"gather": 0, "gather_grad": 0, "update": 0, "assign": 0}
    for line in lines:
        weight = re.match(r'\s*(%\S+) = dist.weight ', line)
        gather = re.search(r'= dist.gather (%[^,]+),', line)
        update = re.search(r'= dist.(sgd|adamw) (%[^,]+),', line)
        assign = re.match(r'\s*dist.assign (%[^,]+),', line)
        if weight and weight.group(1) in weights:
            line = annotate_weight(line)
        elif gather and gather.group(1) in weights:
            line, counts["gather"] = annotate_attr_dict(line), counts["gather"] + 1
        elif "= dist.gather_grad " in line:
            line = annotate_attr_dict(line)
            counts["gather_grad"] += 1
        elif update and update.group(2) in weights:
            line, counts["update"] = annotate_attr_dict(line), counts["update"] + 1
        elif assign and assign.group(1) in weights:
            line, counts["assign"] = annotate_attr_dict(line), counts["assign"] + 1
        result.append(line)
        if line.startswith("module"):
            result.append("  shard.grid @tp(shape = 2)\n")
    assert all(counts.values()), f"missing ops to split: {counts}"
    open(out, "w").write("".join(result))
    print("split", ", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main(*sys.argv[1:])
