#!/usr/bin/python3
"""End-to-end training check of one model against PyTorch (issue 12).

    run_training.py --model gpt --build BUILD --out DIR [--devices N] [--plan dp=2,tp=2]
                    [--micro-batches M] [--schedule gpipe|1f1b]
                    [--steps 20] [--batches K] [--loss ...] [--optimizer ...] [--lr ...]
                    [--betas b1,b2] [--eps ...] [--weight-decay ...] [--momentum ...]
                    [--clip-norm ...] [--ranks-against ONE_RANK_LOSSES]
                    [--reference-from EARLIER_OUT] [--fixed-inputs run|compile] [--dry-run]

Runs, stopping at the first failure (its exit status is returned):

  1. models/training/export.py        DIR/export/model.onnx
  2. models/training/reference.py     DIR/export/reference/ (batches, losses, weights)
  3. dist-opt DIR/export/model.onnx --shape ... --mode train --loss L --optimizer O --lr ...
         --cluster C --devices N [--plan P] -o DIR/train.dist
  4. [mpirun -np N] dist-run DIR/train.dist --steps S --input NAME=F ... (or --data with
         --batches K > 1) --loss-log DIR/losses.csv --save-weights DIR/trained
  5. test/Training/compare_training.py --reference ... --loss-log DIR/losses.csv
         --saved-weights DIR/trained          (rtol 1e-4, weights 1e-4 of their scale)
  6. with --ranks-against LOG: compare_training.py --ranks LOG DIR/losses.csv (rtol 1e-5)

Each model has default settings (loss, optimizer, hyper-parameters) chosen so
that the five kinds together cover cross-entropy and MSE, AdamW and SGD with
momentum, with and without clipping; every flag overrides them, and the same
values go to PyTorch and to dist-opt. --reference-from DIR skips 1 and 2 and
uses DIR's (refused unless DIR's reference was made with the same model,
steps, batches, seed and settings). --dry-run runs 1 and 2 and prints the
other commands without running them. An input that meta.json marks `fixed`
(the same in every batch, e.g. DLRM's bag offsets) goes to dist-run like the
others, or with --fixed-inputs compile to dist-opt as a compile-time value
(--value NAME=REF/input_NAME.npy) instead.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3"

# Per model: loss, optimizer and its settings (None: not passed).
DEFAULTS = {
    "gpt": dict(loss="cross-entropy", optimizer="adamw", lr=1e-3, weight_decay=0.01,
                clip_norm=1.0),
    "gpt_tied": dict(loss="cross-entropy", optimizer="adamw", lr=1e-3, weight_decay=0.01),
    "gpt_vocab": dict(loss="cross-entropy", optimizer="adamw", lr=1e-3, weight_decay=0.01,
                      clip_norm=1.0),
    "bert": dict(loss="cross-entropy", optimizer="adamw", lr=1e-3, weight_decay=0.01,
                 clip_norm=0.5),
    "vit": dict(loss="cross-entropy", optimizer="sgd", lr=0.02, momentum=0.9,
                weight_decay=1e-4, clip_norm=1.0),
    "mixer": dict(loss="mse", optimizer="sgd", lr=0.05, momentum=0.9, weight_decay=0.0,
                  clip_norm=1.0),
    "resnet": dict(loss="cross-entropy", optimizer="sgd", lr=0.05, momentum=0.9,
                   weight_decay=1e-4),
    "activations": dict(loss="cross-entropy", optimizer="adamw", lr=1e-3, weight_decay=0.01),
    "moe": dict(loss="cross-entropy", optimizer="sgd", lr=0.1, momentum=0.9,
                weight_decay=0.0),
    "unet": dict(loss="cross-entropy", optimizer="adamw", lr=1e-3, weight_decay=0.01),
    "audio": dict(loss="cross-entropy", optimizer="sgd", lr=0.05, momentum=0.9,
                  weight_decay=0.0, clip_norm=1.0),
    "lstm": dict(loss="cross-entropy", optimizer="adamw", lr=3e-3, weight_decay=0.01,
                 clip_norm=1.0),
    "gru": dict(loss="cross-entropy", optimizer="sgd", lr=0.1, momentum=0.9,
                weight_decay=0.0),
    "llama": dict(loss="cross-entropy", optimizer="adamw", lr=1e-3, weight_decay=0.01,
                  clip_norm=1.0),
    "mobilenet": dict(loss="cross-entropy", optimizer="sgd", lr=0.05, momentum=0.9,
                      weight_decay=1e-4, clip_norm=1.0),
    "dlrm": dict(loss="cross-entropy", optimizer="adamw", lr=3e-3, weight_decay=0.01),
    "video3d": dict(loss="mse", optimizer="sgd", lr=0.05, momentum=0.9, weight_decay=0.0),
}
COMMON = dict(betas="0.9,0.999", eps=1e-8, momentum=0.0, clip_norm=None)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, choices=sorted(DEFAULTS))
    ap.add_argument("--build", default=os.path.join(ROOT, "build"),
                    help="build directory with bin/dist-opt and bin/dist-run")
    ap.add_argument("--out", required=True)
    ap.add_argument("--devices", type=int, default=1)
    ap.add_argument("--cluster", default="cpu",
                    help="dist-opt --cluster: a preset name or a cluster file")
    ap.add_argument("--plan", help="dist-opt --plan, e.g. dp=2,tp=2,zero=1,recompute=full")
    ap.add_argument("--report-json", dest="report_json",
                    help="dist-opt --report-json: the compiled plan's report")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batches", type=int, default=1,
                    help="K > 1: K batches given with dist-run --data")
    ap.add_argument("--data-seed", type=int, default=0)
    ap.add_argument("--loss", choices=["cross-entropy", "mse"])
    ap.add_argument("--optimizer", choices=["adamw", "sgd"])
    ap.add_argument("--lr", type=float)
    ap.add_argument("--betas")
    ap.add_argument("--eps", type=float)
    ap.add_argument("--weight-decay", type=float)
    ap.add_argument("--momentum", type=float)
    ap.add_argument("--clip-norm", type=float)
    ap.add_argument("--micro-batches", type=int, default=1,
                    help="M > 1: compile the model traced on 1/M of the batch (a pipeline's "
                         "micro-batch); dist-run runs the whole batch as M micro-batches")
    ap.add_argument("--schedule", help="dist-run --schedule (gpipe or 1f1b)")
    ap.add_argument("--ranks-against", help="a 1-rank loss log to compare with (rtol 1e-5)")
    ap.add_argument("--reference-from", metavar="DIR",
                    help="take steps 1 and 2 (the export and PyTorch's reference) from an "
                         "earlier run's --out DIR, made with the same model and settings")
    ap.add_argument("--fixed-inputs", choices=["run", "compile"], default="run",
                    help="give the inputs that meta.json marks fixed to dist-run, or to "
                         "dist-opt as --value")
    ap.add_argument("--mpirun", default="mpirun --oversubscribe")
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args(argv)
    settings = dict(COMMON, **DEFAULTS[args.model])
    for key in ("loss", "optimizer", "lr", "betas", "eps", "weight_decay", "momentum",
                "clip_norm"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    args.settings = settings
    return args


def optimizer_flags(s):
    """The optimizer flags, spelled the same for reference.py and dist-opt."""
    flags = ["--loss", s["loss"], "--optimizer", s["optimizer"], "--lr", repr(s["lr"]),
             "--weight-decay", repr(s["weight_decay"])]
    if s["optimizer"] == "adamw":
        flags += ["--betas", s["betas"], "--eps", repr(s["eps"])]
    elif s["momentum"]:
        flags += ["--momentum", repr(s["momentum"])]
    if s["clip_norm"] is not None:
        flags += ["--clip-norm", repr(s["clip_norm"])]
    return flags


def run(cmd, dry_run=False):
    print("$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    if dry_run:
        return 0
    return subprocess.call(cmd)


def dist_commands(args, export_dir, ref_dir):
    with open(os.path.join(export_dir, "meta.json")) as f:
        meta = json.load(f)
    with open(os.path.join(ref_dir, "config.json")) as f:
        config = json.load(f)
    bin_dir = os.path.join(args.build, "bin")
    artifact = os.path.join(args.out, "train.dist")
    shapes, fixed = [], set()
    for i in meta["inputs"]:
        shapes += ["--shape", f"{i['name']}=" + "x".join(str(d) for d in i["shape"])]
        if i.get("fixed") and args.fixed_inputs == "compile":  # a compile-time value
            fixed.add(i["name"])
            value = os.path.join(ref_dir, f"input_{i['name']}.npy")
            shapes += ["--value", f"{i['name']}={value}"]
    compile_cmd = ([os.path.join(bin_dir, "dist-opt"), os.path.join(export_dir, "model.onnx")]
                   + shapes + ["--mode", "train"] + optimizer_flags(args.settings)
                   + ["--cluster", args.cluster, "--devices", str(args.devices)]
                   + (["--plan", args.plan] if args.plan else [])
                   + (["--report-json", args.report_json] if args.report_json else [])
                   + ["-o", artifact])
    feed = []
    for name in config["inputs"]:
        if name in fixed:
            continue
        if args.batches > 1:
            feed += ["--data", f"{name}={os.path.join(ref_dir, f'data_{name}.npy')}"]
        else:
            feed += ["--input", f"{name}={os.path.join(ref_dir, f'input_{name}.npy')}"]
    losses = os.path.join(args.out, "losses.csv")
    trained = os.path.join(args.out, "trained")
    run_cmd = ([os.path.join(bin_dir, "dist-run"), artifact, "--steps", str(args.steps)]
               + feed + ["--loss-log", losses, "--save-weights", trained]
               + (["--schedule", args.schedule] if args.schedule else []))
    if args.devices > 1:
        run_cmd = shlex.split(args.mpirun) + ["-np", str(args.devices)] + run_cmd
    check_cmd = [PYTHON, os.path.join(HERE, "compare_training.py"), "--reference", ref_dir,
                 "--loss-log", losses, "--saved-weights", trained]
    cmds = [compile_cmd, run_cmd, check_cmd]
    if args.ranks_against:
        cmds.append([PYTHON, os.path.join(HERE, "compare_training.py"), "--ranks",
                     args.ranks_against, losses])
    return cmds


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    training = os.path.join(ROOT, "models", "training")
    # What the reference depends on besides the folders: kept beside it, so
    # that a later run may take it over only when its own would be the same.
    made_with = ["--model", args.model, "--steps", str(args.steps), "--batches",
                 str(args.batches), "--data-seed", str(args.data_seed)] + \
        optimizer_flags(args.settings)
    if args.reference_from:
        export_dir = os.path.join(args.reference_from, "export")
        ref_dir = os.path.join(export_dir, "reference")
        try:
            with open(os.path.join(ref_dir, "made_with.json")) as f:
                theirs = json.load(f)
        except (OSError, ValueError) as e:
            print(f"error: --reference-from {args.reference_from}: {e}", file=sys.stderr)
            return 1
        if theirs != made_with:
            print(f"error: --reference-from {args.reference_from}: its reference was made "
                  f"with {' '.join(theirs)}, this run needs {' '.join(made_with)}",
                  file=sys.stderr)
            return 1
    else:
        export_dir = os.path.join(args.out, "export")
        ref_dir = os.path.join(export_dir, "reference")
        steps = [
            [PYTHON, os.path.join(training, "export.py"), "--model", args.model, "--out",
             export_dir],
            [PYTHON, os.path.join(training, "reference.py")] + made_with[:2] +
            ["--dir", export_dir, "--out", ref_dir] + made_with[2:],
        ]
        for cmd in steps:
            rc = run(cmd)
            if rc != 0:
                return rc
        with open(os.path.join(ref_dir, "made_with.json"), "w") as f:
            json.dump(made_with, f)
    # A pipeline's micro-batch: the model traced on 1/M of the rows, with
    # the same weights; dist-run gets the whole batch as M micro-batches.
    compiled_dir = export_dir
    if args.micro_batches > 1:
        compiled_dir = os.path.join(args.out, "export-micro")
        rc = run([PYTHON, os.path.join(training, "export.py"), "--model", args.model,
                  "--out", compiled_dir, "--micro-batches", str(args.micro_batches)])
        if rc != 0:
            return rc
    for cmd in dist_commands(args, compiled_dir, ref_dir):
        rc = run(cmd, args.dry_run)
        if rc != 0:
            print(f"error: exit status {rc}", file=sys.stderr)
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main())
