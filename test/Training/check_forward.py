#!/usr/bin/python3
"""The forward pass of every training model, imported by dist-opt and run by
dist-run on one rank, equals PyTorch's (the function that training
differentiates is the model's); optionally also ONNX Runtime's, and planned
for several ranks equal to the 1-rank run.

    check_forward.py --dist-opt PATH --dist-run PATH --out DIR [--models gpt,bert,...]
                     [--ort] [--ranks 2,4] [--tp-cluster FILE] [--mpirun CMD]
                     [--fixed-inputs run|compile]

Per model: export (models/training/export.py), PyTorch's logits on batch 0 of
data seed 0, `dist-opt model.onnx --devices 1 -o one.dist`, `dist-run one.dist
--input ... --output-dir`, and a comparison (rtol 1e-4, atol 1e-5):

  ok NAME: logits [SHAPE] max abs difference E

With --ort, ONNX Runtime (test/oracle/run_ort.js) runs the same model.onnx on
the same inputs, and the 1-rank logits must equal ORT's too (rtol 1e-4, atol
1e-5):

  ok NAME vs ONNX Runtime: max abs difference E

With --ranks N,..., for each N the model is compiled twice and run under
`mpirun -np N`, and every output must equal the 1-rank run's (rtol 1e-5,
atol 1e-6):

  planner     `dist-opt --cluster cpu --devices N`: the planner's free choice
  tp forced   `dist-opt --cluster TP_CLUSTER --devices N --plan tp=N`, on a
              cluster that favours splitting (test/Runtime/Inputs/
              split-favoring-cpu.yaml), so that work really is split over
              tp: the line says how many weights the plan splits (a CNN's
              plan may split only the batch over tp); a plan that splits
              nothing is a failure

  ok NAME on N ranks (planner, dp=.. tp=.. pp=..): max abs difference E
  ok NAME on N ranks (tp forced, dp=1 tp=N pp=1, K weights split): max abs difference E

An input marked `fixed` in models.py (the same in every batch, e.g. DLRM's
bag offsets) is given to dist-run like the others, or with --fixed-inputs
compile to dist-opt as --value NAME=FILE (a constant of the program) and not
to dist-run; ONNX Runtime always gets it as an input. Each check is one line,
`ok ...` or `FAIL ...` (with the command and its error, or the largest
difference); a check that cannot run because the 1-rank run failed is a
failure too. The last line is `N passed, M failed`; exit 1 on a failure.
"""

import argparse
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "models", "training"))

import export  # noqa: E402
import models  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

RUN_ORT = os.path.join(ROOT, "test", "oracle", "run_ort.js")
TP_CLUSTER = os.path.join(ROOT, "test", "Runtime", "Inputs", "split-favoring-cpu.yaml")


class Failed(Exception):
    """A command failed: the message says which and how."""


def run(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:  # a tool that is missing or not executable
        raise Failed(f"{' '.join(shlex.quote(c) for c in cmd)}: {e}") from e
    if p.returncode != 0:
        err = (p.stderr.strip() or p.stdout.strip())[-1500:]
        raise Failed(f"exit {p.returncode}: {' '.join(shlex.quote(c) for c in cmd)}: {err}")
    return p.stdout


def compare(got, want, rtol, atol):
    """(ok, message) for one output against its expected value."""
    if got.shape != want.shape or got.dtype != want.dtype:
        return False, f"got {got.dtype}{list(got.shape)}, expected {want.dtype}{list(want.shape)}"
    err = float(np.max(np.abs(got.astype(np.float64) - want))) if got.size else 0.0
    ok = bool(np.allclose(got, want, rtol=rtol, atol=atol))
    return ok, f"max abs difference {err:.2e}"


def load_outputs(folder):
    return {f[:-4]: np.load(os.path.join(folder, f))
            for f in sorted(os.listdir(folder)) if f.endswith(".npy")}


class Model:
    """One model's export, inputs and 1-rank run, shared by its checks."""

    def __init__(self, name, tools, out):
        self.name, self.tools = name, tools
        self.dir = d = os.path.join(out, name)
        export.export(name, d)
        self.onnx = os.path.join(d, "model.onnx")
        self.spec = spec = models.TRAINING_MODELS[name]
        module = spec.build()
        batch = spec.make_batch(torch.Generator().manual_seed(0))
        with torch.no_grad():
            self.expected = module(*batch).numpy()
        self.shapes, self.values, self.feed, self.all_inputs = [], [], [], []
        for i, t in zip(spec.inputs, batch):
            path = os.path.join(d, f"{i.name}.npy")
            np.save(path, t.numpy())
            self.shapes += ["--shape", f"{i.name}=" + "x".join(str(n) for n in t.shape)]
            self.all_inputs += ["--input", f"{i.name}={path}"]
            if i.fixed and tools.fixed_inputs == "compile":
                self.values += ["--value", f"{i.name}={path}"]
            else:
                self.feed += ["--input", f"{i.name}={path}"]
        self.one = None  # the 1-rank outputs, once they ran

    def compile(self, artifact, extra):
        return run([self.tools.dist_opt, self.onnx] + self.shapes + self.values + extra
                   + ["-o", artifact])

    def check_pytorch(self):
        artifact = os.path.join(self.dir, "one.dist")
        out = os.path.join(self.dir, "one")
        self.compile(artifact, ["--devices", "1"])
        run([self.tools.dist_run, artifact, "--output-dir", out] + self.feed)
        outputs = load_outputs(out)
        got = outputs.get(self.spec.output)
        if got is None:
            raise Failed(f"dist-run wrote no '{self.spec.output}' output")
        ok, msg = compare(got, self.expected, 1e-4, 1e-5)
        if got.shape != self.expected.shape:
            msg = f"shape {got.shape}, PyTorch {self.expected.shape}"
        else:
            self.one = outputs
        return ok, f"logits {list(got.shape)} {msg}"

    def check_ort(self):
        out = os.path.join(self.dir, "ort")
        run(["node", RUN_ORT, self.onnx, "--threads", "1", "-q", "--output-dir", out]
            + self.all_inputs)
        ort = np.load(os.path.join(out, f"{self.spec.output}.npy"))
        ok, msg = compare(ort, self.expected, 1e-4, 1e-5)
        if not ok:
            return False, f"ONNX Runtime differs from PyTorch: {msg}"
        return compare(self.one[self.spec.output], ort, 1e-4, 1e-5)

    def check_ranks(self, n, how):
        artifact = os.path.join(self.dir, f"{how}-{n}.dist")
        out = os.path.join(self.dir, f"{how}-{n}")
        flags = ["--devices", str(n), "--report"]
        if how == "planner":
            flags += ["--cluster", "cpu"]
        else:
            flags += ["--cluster", self.tools.tp_cluster, "--plan", f"tp={n}"]
        report = self.compile(artifact, flags)
        first = report.splitlines()[0] if report else ""
        grid = first.split("grid ", 1)[1].split(" (")[0] if "grid " in first else "?"
        label = f"{how}, {grid}"
        if how == "tp":
            lines = [line.strip() for line in report.splitlines()]
            split = sum(1 for line in lines
                        if line.startswith(("weight ", "layer: weight ")) and "over tp" in line)
            label = f"tp forced, {grid}, {split} weights split"
            if "everything replicated" in report:
                return False, label, "the plan splits nothing"
        run(shlex.split(self.tools.mpirun) + ["-np", str(n), self.tools.dist_run, artifact,
                                              "--output-dir", out] + self.feed)
        many = load_outputs(out)
        if sorted(many) != sorted(self.one):
            return False, label, f"outputs {sorted(many)}, 1 rank {sorted(self.one)}"
        worst, ok = "", True
        for key, want in self.one.items():
            good, msg = compare(many[key], want, 1e-5, 1e-6)
            ok = ok and good
            worst = msg if len(self.one) == 1 else f"{worst}{key} {msg}; "
        return ok, label, worst.rstrip("; ")


def check_model(name, tools, out):
    """Yields (ok, line) for each check of one model."""
    checks = ["pytorch"] + (["ort"] if tools.ort else []) + \
        [(n, how) for n in tools.ranks for how in ("planner", "tp")]
    try:
        m = Model(name, tools, out)
        ok, msg = m.check_pytorch()
        yield ok, f"{name}: {msg}"
    except Failed as e:
        yield False, f"{name}: {e}"
        m = None
    except Exception as e:  # an export that fails: say so, go on with the next model
        yield False, f"{name}: {type(e).__name__}: {e}"
        m = None
    for check in checks[1:]:
        what = f"{name} vs ONNX Runtime" if check == "ort" else \
            f"{name} on {check[0]} ranks ({'planner' if check[1] == 'planner' else 'tp forced'})"
        if m is None or m.one is None:
            yield False, f"{what}: not run, the 1-rank run failed"
            continue
        try:
            if check == "ort":
                ok, msg = m.check_ort()
                yield ok, f"{what}: {msg}"
            else:
                ok, label, msg = m.check_ranks(*check)
                yield ok, f"{name} on {check[0]} ranks ({label}): {msg}"
        except Failed as e:
            yield False, f"{what}: {e}"
        except (OSError, ValueError) as e:  # e.g. an output file that was not written
            yield False, f"{what}: {type(e).__name__}: {e}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dist-opt", required=True)
    ap.add_argument("--dist-run", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--models", default=",".join(models.TRAINING_MODELS))
    ap.add_argument("--ort", action="store_true",
                    help="also compare with ONNX Runtime (test/oracle/run_ort.js)")
    ap.add_argument("--ranks", default="",
                    help="comma-separated rank counts to plan for (planner, and tp forced)")
    ap.add_argument("--tp-cluster", default=TP_CLUSTER,
                    help="the cluster file of the tp-forced plans")
    ap.add_argument("--mpirun", default="mpirun --oversubscribe")
    ap.add_argument("--fixed-inputs", choices=["run", "compile"], default="run",
                    help="give inputs marked fixed to dist-run, or to dist-opt (--value)")
    args = ap.parse_args(argv)
    args.ranks = [int(n) for n in args.ranks.split(",") if n]
    unknown = [n for n in args.models.split(",") if n not in models.TRAINING_MODELS]
    if unknown:
        ap.error(f"unknown models {','.join(unknown)}; known: {','.join(models.TRAINING_MODELS)}")
    os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    torch.set_num_threads(1)
    passed = failed = 0
    for name in args.models.split(","):
        for ok, line in check_model(name, args, args.out):
            passed += ok
            failed += not ok
            print(f"{'ok' if ok else 'FAIL'} {line}", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
