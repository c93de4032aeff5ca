#!/usr/bin/python3
"""Export a training model of models/training/models.py to ONNX for dist-opt.

    /usr/bin/python3 models/training/export.py --model gpt --out DIR

writes DIR/model.onnx and DIR/meta.json. The export is the function that is
trained: the model in eval() (no dropout), static shapes (no dynamic axes),
opset 17, do_constant_folding=False (as ONNX Runtime's training docs advise:
every parameter stays an initializer named as in PyTorch, and a tied weight
stays one initializer). meta.json records the inputs, the logits output, the
number of classes and, for every trainable parameter, its ONNX initializer name
and the PyTorch names that share it. Exit 0 on success, 1 on a failed check,
2 on bad arguments.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import models  # noqa: E402  (exits with a clear message when torch is missing)
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnx.numpy_helper  # noqa: E402
import torch  # noqa: E402


def parameter_aliases(module: torch.nn.Module):
    """[(canonical name, [all names], tensor)] for each unique parameter, in
    named_parameters() order; tied parameters are listed once."""
    names_of = {}

    def walk(mod, prefix):  # named_parameters() of torch 1.13 always drops duplicates
        for name, p in mod._parameters.items():
            if p is not None:
                names_of.setdefault(id(p), []).append(prefix + name)
        for name, child in mod._modules.items():
            if child is not None:
                walk(child, prefix + name + ".")

    walk(module, "")
    return [(name, names_of[id(p)], p) for name, p in module.named_parameters()]


def initializer_name_map(module: torch.nn.Module, graph: onnx.GraphProto):
    """Map each unique parameter to the ONNX initializer holding it.

    The exporter names initializers after the parameters; a tied parameter
    appears under one of its names. The values must be bit-identical, and no
    two parameters may share an initializer (the exporter merges initializers
    of equal value, which would silently tie parameters that train apart)."""
    inits = {i.name: i for i in graph.initializer}
    entries, used = [], set()
    for canonical, aliases, p in parameter_aliases(module):
        found = [a for a in aliases if a in inits]
        if len(found) != 1:
            raise ValueError(f"parameter {canonical} (aliases {aliases}) is {len(found)} "
                             f"initializers of the export, expected exactly one")
        onnx_name = found[0]
        value = onnx.numpy_helper.to_array(inits[onnx_name])
        if value.shape != tuple(p.shape) or not np.array_equal(value, p.detach().numpy()):
            raise ValueError(f"initializer {onnx_name} differs from parameter {canonical}")
        if onnx_name in used:
            raise ValueError(f"initializer {onnx_name} holds two parameters")
        used.add(onnx_name)
        entries.append({"onnx": onnx_name, "torch": aliases, "shape": list(p.shape)})
    return entries


def export(name: str, out: str, micro_batches: int = 1) -> dict:
    """Export model `name` into directory `out`; returns the meta data written.
    With micro_batches M > 1 the model is traced on the first 1/M of its
    batch's rows: the same weights, for a pipeline's micro-batch."""
    spec = models.TRAINING_MODELS[name]
    module = spec.build()
    batch = spec.make_batch(torch.Generator().manual_seed(0))
    if micro_batches > 1:
        if any(t.shape[0] % micro_batches for t in batch):
            raise ValueError(f"the batch is not a multiple of {micro_batches} micro-batches")
        batch = tuple(t[: t.shape[0] // micro_batches] for t in batch)
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "model.onnx")
    tmp = path + ".tmp"
    torch.onnx.export(module, batch, tmp, input_names=[i.name for i in spec.inputs],
                      output_names=[spec.output], opset_version=models.OPSET,
                      do_constant_folding=False, training=torch.onnx.TrainingMode.EVAL,
                      export_params=True)
    proto = onnx.load(tmp)
    onnx.checker.check_model(proto)
    onnx.shape_inference.infer_shapes(proto, check_type=True, strict_mode=True)
    params = initializer_name_map(module, proto.graph)
    os.replace(tmp, path)
    meta = {
        "model": name,
        "description": spec.description,
        "opset": models.OPSET,
        "inputs": [{"name": i.name, "shape": [i.shape[0] // micro_batches] + list(i.shape[1:]),
                    "dtype": str(i.dtype).split(".")[-1], "fixed": i.fixed}
                   for i in spec.inputs],
        "micro_batches": micro_batches,
        "output": spec.output,
        "logits_shape": list(spec.logits_shape(module)),
        "classes": spec.classes,
        "parameters": params,
        "num_parameters": models.num_parameters(module),
        "other_initializers": sorted({i.name for i in proto.graph.initializer}
                                     - {p["onnx"] for p in params}),
        "op_types": sorted({n.op_type for n in proto.graph.node}),
        "seed": spec.seed,
        "torch": torch.__version__,
        "onnx": onnx.__version__,
    }
    with open(os.path.join(out, "meta.json.tmp"), "w") as f:
        json.dump(meta, f, indent=1)
    os.replace(os.path.join(out, "meta.json.tmp"), os.path.join(out, "meta.json"))
    return meta


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help=",".join(models.TRAINING_MODELS))
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--micro-batches", type=int, default=1,
                    help="trace on 1/M of the batch's rows (a pipeline's micro-batch)")
    args = ap.parse_args(argv)
    if args.model not in models.TRAINING_MODELS:
        print(f"error: unknown model '{args.model}'; known: {', '.join(models.TRAINING_MODELS)}",
              file=sys.stderr)
        return 2
    try:
        meta = export(args.model, args.out, args.micro_batches)
    except (ValueError, onnx.checker.ValidationError) as e:
        print(f"error: exporting {args.model}: {e}", file=sys.stderr)
        return 1
    print(f"exported {args.model}: {meta['num_parameters']} parameters in "
          f"{len(meta['parameters'])} initializers -> {os.path.join(args.out, 'model.onnx')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
