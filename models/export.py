#!/usr/bin/python3
"""Export the models of zoo.py to ONNX, with inputs and PyTorch reference outputs.

Usage (Debian's interpreter, which has python3-torch / python3-onnx):

    /usr/bin/python3 models/export.py --out DIR [--models mlp,gpt2,...] [--opsets 13,14,17]

For every model M and opset N this writes

    DIR/M/opsetN/model.onnx
    DIR/M/opsetN/input_<i>_<name>.npy    one per ONNX graph input, in graph order
    DIR/M/opsetN/output_<i>_<name>.npy   PyTorch reference output (torch.no_grad)
    DIR/M/opsetN/meta.json               names, shapes, dtypes, dynamic axes, op types

Every file is written under a temporary name in its folder and then renamed,
so a reader never sees a half-written file; meta.json is written last.  Each
model is checked with onnx.checker.check_model and strict shape inference
before it is renamed into place.  Exit status: 0 on success, 1 when an export
or check failed, 2 on bad arguments.
"""

import argparse
import io
import json
import os
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

try:
    import numpy as np  # noqa: E402
    import onnx  # noqa: E402
    import torch  # noqa: E402
except ImportError as e:  # e.g. run with a python3 that is not Debian's
    raise SystemExit(f"error: {e}. These scripts need Debian's python3-torch, python3-onnx and "
                     f"python3-numpy; run them with /usr/bin/python3.") from e

import zoo  # noqa: E402

DEFAULT_OPSETS = (13, 14, 17)
# Opsets at which every model of the zoo exports with PyTorch 1.13 / onnx 1.12
# and passes the checks (verified by running all of them).  At opset 9 gpt2 and
# bert fail ("ONNX export of Slice with dynamic inputs"), below 9 Erf, Range
# and Expand are missing.  17 is the newest opset PyTorch 1.13 and onnx 1.12 know.
SUPPORTED_OPSETS = tuple(range(10, 18))


class ExportError(Exception):
    pass


# --------------------------------------------------------------------------- #
# Atomic writes
# --------------------------------------------------------------------------- #

def _umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old


FILE_MODE = 0o666 & ~_umask()   # what open() would give; mkstemp makes 0600


def temp_file(path: str):
    """(fd, tmp_path) of a new temporary file in the folder of path."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    os.chmod(tmp, FILE_MODE)
    return fd, tmp


def atomic_write(path: str, data: bytes) -> None:
    """Write data to a temporary file next to path, then rename it over path."""
    fd, tmp = temp_file(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


# --------------------------------------------------------------------------- #
# ONNX helpers
# --------------------------------------------------------------------------- #

def onnx_dims(value_info) -> list:
    """Shape of a graph input/output: ints, symbolic names, or None for unknown."""
    t = value_info.type.tensor_type
    if not t.HasField("shape"):
        return None
    dims = []
    for d in t.shape.dim:
        if d.HasField("dim_value"):
            dims.append(d.dim_value)
        elif d.HasField("dim_param"):
            dims.append(d.dim_param)
        else:
            dims.append(None)
    return dims


def onnx_elem_type(value_info) -> str:
    return onnx.TensorProto.DataType.Name(value_info.type.tensor_type.elem_type)


def check_onnx_file(path: str, shown_as: str = None) -> onnx.ModelProto:
    """checker + strict shape inference; raises ExportError with a clear message.

    shown_as: the name to use in messages (the final name of a temporary file).
    """
    shown = shown_as or path
    try:
        onnx.checker.check_model(path)
    except Exception as e:  # onnx.checker.ValidationError and friends
        raise ExportError(f"onnx.checker.check_model failed for {shown}: {e}") from e
    model = onnx.load(path)
    try:
        inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    except Exception as e:  # onnx.shape_inference.InferenceError
        raise ExportError(f"onnx.shape_inference.infer_shapes failed for {shown}: {e}") from e
    return inferred


def op_types(model: onnx.ModelProto) -> list:
    return sorted({n.op_type for n in model.graph.node})


# --------------------------------------------------------------------------- #
# Export
# --------------------------------------------------------------------------- #

def reference(spec: zoo.ModelSpec):
    """(model, inputs, outputs) with outputs computed by PyTorch under no_grad."""
    model = spec.build()
    inputs = spec.example_inputs()
    with torch.no_grad():
        outs = model(*inputs)
    if not isinstance(outs, (tuple, list)):
        outs = (outs,)
    if len(outs) != len(spec.output_names):
        raise ExportError(f"{spec.name}: model returns {len(outs)} outputs, "
                          f"{len(spec.output_names)} output names declared")
    return model, inputs, tuple(outs)



def write_tensors(kind, spec, opset, folder, values, declared, tensors):
    """Writes the array of every graph `kind` ("input" or "output") in `values`
    as <kind>_<i>_<name>.npy and returns their meta.json entries."""
    by_name = dict(zip(declared, tensors))
    entries = []
    for i, vi in enumerate(values):
        if vi.name not in by_name:
            raise ExportError(f"{spec.name} opset {opset}: ONNX graph {kind} {vi.name!r} "
                              f"is not one of the declared {kind}s {declared}")
        a = by_name[vi.name].detach().cpu().numpy()
        fname = f"{kind}_{i}_{vi.name}.npy"
        atomic_write(os.path.join(folder, fname), npy_bytes(a))
        entries.append({"index": i, "name": vi.name, "file": fname,
                        "shape": list(a.shape), "dtype": str(a.dtype),
                        "onnx_shape": onnx_dims(vi), "onnx_elem_type": onnx_elem_type(vi),
                        "all_finite": bool(np.isfinite(a).all())})
    return entries

def export_one(spec: zoo.ModelSpec, opset: int, out_root: str, ref) -> dict:
    model, inputs, outs = ref
    folder = os.path.join(out_root, spec.name, f"opset{opset}")
    os.makedirs(folder, exist_ok=True)
    t0 = time.perf_counter()
    # meta.json marks a complete folder: drop a stale one before re-exporting.
    if os.path.exists(os.path.join(folder, "meta.json")):
        os.unlink(os.path.join(folder, "meta.json"))

    buf = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model, inputs, buf,
                input_names=spec.input_names,
                output_names=spec.output_names,
                dynamic_axes=spec.dynamic_axes or None,
                opset_version=opset,
                do_constant_folding=True,
                training=torch.onnx.TrainingMode.EVAL,
            )
    except Exception as e:
        raise ExportError(f"{spec.name} opset {opset}: torch.onnx.export failed: "
                          f"{type(e).__name__}: {e}") from e

    # Check under a temporary name, rename into place only when valid.
    final = os.path.join(folder, "model.onnx")
    fd, tmp = temp_file(final)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(buf.getvalue())
        inferred = check_onnx_file(tmp, final)
        os.replace(tmp, final)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise

    graph = inferred.graph
    # PyTorch lists initializers as graph inputs only below opset 9; skip them anyway.
    init_names = {t.name for t in graph.initializer}
    graph_inputs = [i for i in graph.input if i.name not in init_names]
    meta_inputs = write_tensors("input", spec, opset, folder, graph_inputs,
                                spec.input_names, inputs)
    unused = [n for n in spec.input_names if n not in {vi.name for vi in graph_inputs}]
    meta_outputs = write_tensors("output", spec, opset, folder, graph.output,
                                 spec.output_names, outs)

    seconds = time.perf_counter() - t0
    meta = {
        "model": spec.name,
        "description": spec.description,
        "opset": opset,
        "file": "model.onnx",
        "inputs": meta_inputs,
        "outputs": meta_outputs,
        "unused_inputs": unused,
        "dynamic_axes": {k: {str(ax): n for ax, n in v.items()} for k, v in spec.dynamic_axes.items()},
        "op_types": op_types(inferred),
        "num_nodes": len(graph.node),
        "num_initializers": len(graph.initializer),
        "num_parameters_torch": zoo.num_parameters(model),
        "weight_seed": spec.seed,
        "input_seed": zoo.INPUT_SEED,
        "torch_version": torch.__version__,
        "onnx_version": onnx.__version__,
    }
    atomic_write(os.path.join(folder, "meta.json"),
                 (json.dumps(meta, indent=2) + "\n").encode())
    meta = dict(meta)
    meta["export_seconds"] = seconds  # printed, not stored: meta.json stays reproducible
    return meta


def parse_list(text: str, what: str) -> list:
    items = [x.strip() for x in text.split(",")]
    if not text.strip() or any(not x for x in items):
        raise ValueError(f"empty entry in --{what} {text!r}")
    return items


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Export the dist-opt test models (models/zoo.py) to ONNX with reference data.")
    p.add_argument("--out", required=True, help="output folder (created if missing)")
    p.add_argument("--models", default=",".join(zoo.MODELS),
                   help=f"comma-separated subset of: {','.join(zoo.MODELS)} (default: all), "
                        f"or of the opt-in models {','.join(zoo.OPT_IN_MODELS)}")
    p.add_argument("--opsets", default=",".join(map(str, DEFAULT_OPSETS)),
                   help=f"comma-separated ONNX opsets, each in {SUPPORTED_OPSETS[0]}.."
                        f"{SUPPORTED_OPSETS[-1]} (default: {','.join(map(str, DEFAULT_OPSETS))})")
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors and the summary")
    args = p.parse_args(argv)

    try:
        models = parse_list(args.models, "models")
        opset_txt = parse_list(args.opsets, "opsets")
    except ValueError as e:
        p.error(str(e))
    known = {**zoo.MODELS, **zoo.OPT_IN_MODELS}
    unknown = [m for m in models if m not in known]
    if unknown:
        p.error(f"unknown model(s): {', '.join(unknown)}; known: {', '.join(known)}")
    opsets = []
    for o in opset_txt:
        try:
            v = int(o)
        except ValueError:
            p.error(f"opset {o!r} is not an integer")
        if v not in SUPPORTED_OPSETS:
            p.error(f"unsupported opset {v}; supported: {SUPPORTED_OPSETS[0]}..{SUPPORTED_OPSETS[-1]} "
                    f"(PyTorch {torch.__version__}, onnx {onnx.__version__})")
        opsets.append(v)
    args.model_list = list(dict.fromkeys(models))
    args.opset_list = list(dict.fromkeys(opsets))
    return args


def export_all(out: str, models, opsets, quiet=False):
    """Export; returns (metas, errors)."""
    os.makedirs(out, exist_ok=True)
    metas, errors = [], []
    for name in models:
        spec = zoo.MODELS.get(name) or zoo.OPT_IN_MODELS[name]
        try:
            ref = reference(spec)
        except Exception as e:
            errors.append(f"{name}: building/running the PyTorch model failed: {type(e).__name__}: {e}")
            print(f"ERROR {errors[-1]}", file=sys.stderr)
            continue
        for opset in opsets:
            try:
                meta = export_one(spec, opset, out, ref)
            except ExportError as e:
                errors.append(str(e))
                print(f"ERROR {e}", file=sys.stderr)
                folder = os.path.join(out, name, f"opset{opset}")
                if os.path.isdir(folder) and not os.listdir(folder):
                    os.rmdir(folder)
                continue
            metas.append(meta)
            if not quiet:
                print(f"{name:7s} opset{opset}: {meta['num_nodes']:4d} nodes, "
                      f"{meta['num_parameters_torch']} params, {meta['export_seconds']:.2f} s "
                      f"-> {os.path.join(out, name, f'opset{opset}')}")
    return metas, errors


def main(argv=None) -> int:
    t0 = time.perf_counter()
    args = parse_args(sys.argv[1:] if argv is None else argv)
    metas, errors = export_all(args.out, args.model_list, args.opset_list, args.quiet)
    total = time.perf_counter() - t0
    print(f"exported {len(metas)} model(s) in {total:.1f} s, {len(errors)} error(s)")
    if errors:
        print("export FAILED:", file=sys.stderr)
        for e in errors:
            print(f"  {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
