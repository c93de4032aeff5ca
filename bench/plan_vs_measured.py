#!/usr/bin/python3
"""The planner's predicted step times against measured ones on this machine.

    nice -n -19 /usr/bin/python3 bench/plan_vs_measured.py --build BUILD_DIR
        [--models gpt2,bert,...] [--batch NAME=B,...] [--repeat 30]
        [--rounds 5] [--cluster cpu] [--json FILE] [--keep DIR]
        [--pipeline] [--micro-batches 4]

For small models of models/zoo.py (exported by models/export.py at opset
17, then imported with a larger batch: the batch axis of every zoo model is
dynamic, so `--shape NAME=Bx...` and the example inputs repeated B/2 times
along it give runs of milliseconds rather than microseconds), and for the
candidate plans

    1 rank; 2 ranks dp=2,tp=1 and dp=1,tp=2; 4 ranks dp=4,tp=1, dp=2,tp=2
    and dp=1,tp=4 (inference); with --pipeline also the pipeline plans
    2 ranks pp=2, 4 ranks pp=4, dp=2,pp=2 and tp=2,pp=2, which run the
    batch as --micro-batches M micro-batches (GPipe),

  - predicted: `dist-opt model.onnx --shape ... --cluster CLUSTER --devices
    N --plan P --report-json r.json -o m.dist`, the report's
    `step.stepSeconds` (a plan that the planner refuses is skipped and the
    reason printed);
  - measured: `mpirun --oversubscribe -np N dist-run m.dist --input ...
    --threads 1 --repeat R` prints the median time of a run (every rank one
    kernel thread, as in the calibrated profile lib/Cost/profiles/cpu.yaml);
    the fastest of --rounds such medians, the rounds interleaved over the
    plans so that a busy moment of the machine does not fall on one plan
    only. The first round also checks that the N-rank outputs equal the
    1-rank outputs (rtol 1e-4), so that what is timed computes the model.

A pipeline plan is compiled for one micro-batch (`--shape NAME=(B/M)x...
--batch B --plan P -o m.dist`: the report prices M micro-batches of the
model's batch) and the artifact `-o` writes runs the whole batch.

The artifact that runs is the planned program partitioned per device: it
is compiled with the pass pipeline `--dist-auto-plan="cluster=CLUSTER
devices=N plan=P" --dist-partition` (the planner with the same options as
`-o`), then `--devices N -o`. The bench also compares it with the artifact
that `dist-opt ... -o` wrote and says so when they differ (when this bench
was written, `-o` wrote the annotated but unpartitioned program: every
rank ran the whole model).

Prints per model a table (plan, ranks, predicted ms, measured ms, the
spread of the rounds), the Spearman rank correlation of predicted and
measured times (ties share their average rank), the planner's pick (the
candidate with the lowest predicted time) and its measured time relative
to the fastest measured candidate, and what the planner chooses with no
--plan for 2 and 4 devices; then the Spearman correlations per model and
pooled (ranks taken within each model, and all times together). Nothing is asserted: this is a benchmark (issue 6 asks
for a Spearman correlation of at least 0.8 and a pick within 10% of the
fastest). About 3 minutes on 2 cores.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Batch per model: a 1-rank run of a few to tens of milliseconds.
DEFAULT_BATCH = {"mlp": 16384, "gpt2": 128, "bert": 128, "vit": 128,
                 "t5": 128, "mixer": 128, "resnet": 32}
CANDIDATES = [(1, ""), (2, "dp=2,tp=1"), (2, "dp=1,tp=2"), (4, "dp=4,tp=1"),
              (4, "dp=2,tp=2"), (4, "dp=1,tp=4")]
PIPELINE_CANDIDATES = [(2, "pp=2"), (4, "pp=4"), (4, "dp=2,pp=2"),
                       (4, "tp=2,pp=2")]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1",
           OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def ranks_of(values):
    """Ranks 1..n, equal values sharing their average rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def pearson(x, y):
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    if sxx == 0 or syy == 0:
        return float("nan")
    return sxy / (sxx * syy) ** 0.5


def spearman(x, y):
    return pearson(ranks_of(x), ranks_of(y))


def load_average():
    return os.getloadavg()[0]


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


class Model:
    """One exported zoo model with inputs repeated to `batch` rows."""

    def __init__(self, name, folder, batch, work):
        import numpy as np
        meta = json.load(open(os.path.join(folder, "meta.json")))
        self.name, self.batch = name, batch
        self.onnx = os.path.join(folder, meta["file"])
        self.shapes, self.inputs, self.dims = [], [], []
        for i in meta["inputs"]:
            a = np.load(os.path.join(folder, i["file"]))
            if batch % a.shape[0]:
                sys.exit(f"error: {name}: batch {batch} is not a multiple of "
                         f"the example batch {a.shape[0]}")
            a = np.concatenate([a] * (batch // a.shape[0]), axis=0)
            path = os.path.join(work, f"{name}.{i['name']}.npy")
            np.save(path, a)
            self.shapes.append(f"--shape={i['name']}=" +
                               "x".join(str(d) for d in a.shape))
            self.dims.append((i["name"], a.shape))
            self.inputs.append(f"--input={i['name']}={path}")

    def micro_batch_shapes(self, m):
        """--shape flags of one of m micro-batches of the batch."""
        if self.batch % m:
            sys.exit(f"error: {self.name}: batch {self.batch} is not a "
                     f"multiple of {m} micro-batches")
        return [f"--shape={name}=" + "x".join(
                    str(d) for d in (self.batch // m, *shape[1:]))
                for name, shape in self.dims]


def print_module(dist_opt, artifact):
    return subprocess.run([dist_opt, artifact], check=True, capture_output=True,
                          text=True).stdout


def plan_one(args, model, devices, plan, work, compile=True):
    """Predicts and (with `compile`) compiles one candidate. Returns a dict
    with `predicted` (seconds), `grid`, `shardings`, `artifact`,
    `partitioned_by_o`, or one with `refused` (the planner's message)."""
    tag = f"{model.name}.{devices}.{plan.replace(',', '_') or 'free'}"
    report = os.path.join(work, tag + ".json")
    by_o = os.path.join(work, tag + ".o.dist")
    pipeline = "pp=" in plan
    shapes = (model.micro_batch_shapes(args.micro_batches) if pipeline
              else model.shapes)
    cmd = [args.dist_opt, model.onnx, *shapes, "--cluster", args.cluster,
           "--devices", str(devices), "--report-json", report, "-o", by_o]
    if plan:
        cmd += ["--plan", plan]
    if pipeline:
        cmd += ["--batch", str(model.batch)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        return {"refused": lines[-1] if lines else
                f"dist-opt exited with {proc.returncode}"}
    r = json.load(open(report))
    grid = f"dp={r['grid']['dp']},tp={r['grid']['tp']}"
    if r["grid"].get("pp", 1) > 1:
        grid += f",pp={r['grid']['pp']}"
    result = {"predicted": r["step"]["stepSeconds"], "grid": grid,
              "shardings": r["shardings"]}
    if not compile:
        return result
    # A pipeline runs as -o wrote it (partitioned and cut into stages).
    if devices == 1 or pipeline:
        result["artifact"], result["partitioned_by_o"] = by_o, True
        return result
    # The partitioned program, through the pass pipeline.
    mlir = os.path.join(work, tag + ".mlir")
    artifact = os.path.join(work, tag + ".dist")
    subprocess.run([args.dist_opt, model.onnx, *model.shapes,
                    f"--dist-auto-plan=cluster={args.cluster} devices={devices}"
                    f" plan={plan}", "--dist-partition", "-o", mlir], check=True)
    subprocess.run([args.dist_opt, mlir, "--devices", str(devices), "-o",
                    artifact], check=True)
    result["artifact"] = artifact
    result["partitioned_by_o"] = (print_module(args.dist_opt, artifact) ==
                                  print_module(args.dist_opt, by_o))
    return result


def measure(args, model, devices, artifact, out_dir):
    cmd = ["mpirun", "--oversubscribe", "-np", str(devices), args.dist_run,
           artifact, *model.inputs, "--output-dir", out_dir, "--threads=1",
           f"--repeat={args.repeat}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    if proc.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} failed:\n{proc.stdout}{proc.stderr}")
    m = re.search(r"median run time: ([\d.]+) ms", proc.stdout)
    return float(m.group(1)) * 1e-3


def outputs_agree(one_dir, many_dir):
    import numpy as np
    for f in sorted(os.listdir(one_dir)):
        want = np.load(os.path.join(one_dir, f))
        got = np.load(os.path.join(many_dir, f))
        scale = float(np.abs(want).max()) if want.size else 0.0
        if got.shape != want.shape or not np.allclose(
                got, want, rtol=1e-4, atol=1e-4 * scale):
            return False
    return True


def fmt_ms(seconds):
    return f"{seconds * 1e3:.3f}"


def plan_name(devices, plan):
    return plan if plan else "1 rank"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", required=True, help="build folder")
    p.add_argument("--models", default="mlp,gpt2,bert,vit,t5,mixer,resnet",
                   help="zoo models (default: %(default)s)")
    p.add_argument("--batch", default="",
                   help="NAME=B,... overriding the default batches "
                        + ",".join(f"{k}={v}" for k, v in DEFAULT_BATCH.items()))
    p.add_argument("--repeat", type=int, default=30,
                   help="runs per dist-run call, of which it prints the median")
    p.add_argument("--rounds", type=int, default=5,
                   help="dist-run calls per plan; the fastest median is kept")
    p.add_argument("--cluster", default="cpu",
                   help="preset or cluster file that predicts (default cpu)")
    p.add_argument("--json", help="write every row to this file")
    p.add_argument("--keep", help="work in this folder and keep it")
    p.add_argument("--pipeline", action="store_true",
                   help="also the pipeline plans " +
                        ", ".join(plan for _, plan in PIPELINE_CANDIDATES))
    p.add_argument("--micro-batches", type=int, default=4,
                   help="micro-batches of a pipeline plan (default 4)")
    args = p.parse_args()
    args.dist_opt = os.path.join(args.build, "bin", "dist-opt")
    args.dist_run = os.path.join(args.build, "bin", "dist-run")
    for tool in (args.dist_opt, args.dist_run):
        if not os.path.exists(tool):
            sys.exit(f"error: {tool} does not exist; build the project first")
    batches = dict(DEFAULT_BATCH)
    for item in filter(None, args.batch.split(",")):
        name, _, value = item.partition("=")
        batches[name] = int(value)
    names = args.models.split(",")

    start = time.time()
    load_before = load_average()
    work = args.keep or tempfile.mkdtemp(prefix="plan_vs_measured.")
    os.makedirs(work, exist_ok=True)
    try:
        zoo_dir = os.path.join(work, "zoo")
        subprocess.run([sys.executable, os.path.join(ROOT, "models", "export.py"),
                        "--out", zoo_dir, "--models", ",".join(names),
                        "--opsets", "17", "-q"], check=True,
                       stdout=subprocess.DEVNULL)
        models = [Model(n, os.path.join(zoo_dir, n, "opset17"), batches[n], work)
                  for n in names]

        # Predict and compile every candidate and the free choices.
        rows = {}    # model name -> list of candidate dicts
        free = {}    # model name -> {devices: result}
        for model in models:
            rows[model.name] = []
            for devices, plan in CANDIDATES + (PIPELINE_CANDIDATES
                                               if args.pipeline else []):
                r = plan_one(args, model, devices, plan, work)
                r.update(devices=devices, plan=plan, measured=[])
                rows[model.name].append(r)
            free[model.name] = {n: plan_one(args, model, n, "", work,
                                            compile=False)
                                for n in (2, 4)}

        # Measure, rounds interleaved over the plans.
        for round_ in range(args.rounds):
            for model in models:
                one_dir = os.path.join(work, "out", model.name, "1.")
                for r in rows[model.name]:
                    if "refused" in r:
                        continue
                    out_dir = os.path.join(work, "out", model.name,
                                           f"{r['devices']}.{r['plan']}")
                    r["measured"].append(
                        measure(args, model, r["devices"], r["artifact"],
                                out_dir))
                    if (round_ == 0 and r["devices"] > 1 and
                            os.path.isdir(one_dir)):
                        r["outputs_agree"] = outputs_agree(one_dir, out_dir)
        load_after = load_average()

        # Report.
        all_rows = []
        pooled_ranks_pred, pooled_ranks_meas = [], []
        pooled_pred, pooled_meas = [], []
        picks = []
        unpartitioned = []
        rhos = {}
        print(f"{os.cpu_count()} cores ({cpu_model()}), load average "
              f"{load_before:.2f} at the start; {args.rounds} rounds of "
              f"dist-run --repeat {args.repeat}; spread = slowest / fastest "
              "round - 1")
        for model in models:
            print(f"\n{model.name} (batch {model.batch}), --cluster {args.cluster}")
            print(f"  {'plan':12} {'ranks':>5} {'predicted ms':>13} "
                  f"{'measured ms':>12} {'spread':>7} {'pred/meas':>9}  notes")
            ok = [r for r in rows[model.name] if "refused" not in r]
            for r in rows[model.name]:
                name = plan_name(r["devices"], r["plan"])
                if "refused" in r:
                    print(f"  {name:12} {r['devices']:>5} {'refused':>13} "
                          f"{'-':>12} {'-':>7} {'-':>9}  {r['refused']}")
                    continue
                r["best"] = min(r["measured"])
                notes = []
                if r["devices"] > 1 and r["grid"] != r["plan"]:
                    notes.append(f"grid {r['grid']}")
                if r.get("outputs_agree") is False:
                    notes.append("OUTPUTS DIFFER FROM 1 RANK")
                if not r["partitioned_by_o"]:
                    unpartitioned.append(f"{model.name} {name}")
                spread = max(r["measured"]) / r["best"] - 1
                print(f"  {name:12} {r['devices']:>5} {fmt_ms(r['predicted']):>13} "
                      f"{fmt_ms(r['best']):>12} {spread * 100:>6.1f}% "
                      f"{r['predicted'] / r['best']:>9.2f}  {'; '.join(notes)}")
                all_rows.append({"model": model.name, "batch": model.batch,
                                 "devices": r["devices"], "plan": r["plan"],
                                 "grid": r["grid"],
                                 "predicted_s": r["predicted"],
                                 "measured_s": r["best"],
                                 "measured_rounds_s": r["measured"],
                                 "outputs_agree": r.get("outputs_agree", True),
                                 "partitioned_by_o": r["partitioned_by_o"]})
            pred = [r["predicted"] for r in ok]
            meas = [r["best"] for r in ok]
            if len(ok) < 2:
                print(f"  {len(ok)} plan(s) ran: no correlation, no pick")
                continue
            rho = spearman(pred, meas)
            rhos[model.name] = rho
            pooled_ranks_pred += ranks_of(pred)
            pooled_ranks_meas += ranks_of(meas)
            pooled_pred += pred
            pooled_meas += meas
            pick = min(ok, key=lambda r: r["predicted"])
            fastest = min(ok, key=lambda r: r["best"])
            slower = pick["best"] / fastest["best"] - 1
            picks.append((model.name, slower))
            print(f"  Spearman {rho:.2f} over {len(ok)} plans; pick "
                  f"{plan_name(pick['devices'], pick['plan'])} measured "
                  f"{fmt_ms(pick['best'])} ms, fastest "
                  f"{plan_name(fastest['devices'], fastest['plan'])} "
                  f"{fmt_ms(fastest['best'])} ms: pick {slower * 100:+.1f}% "
                  f"({'within' if slower <= 0.10 else 'NOT within'} 10%)")
            for n, r in free[model.name].items():
                if "refused" in r:
                    print(f"  no --plan, {n} devices: refused: {r['refused']}")
                    continue
                same = [c for c in ok if c["devices"] == n and
                        c["grid"] == r["grid"] and
                        c["shardings"] == r["shardings"]]
                print(f"  no --plan, {n} devices: {r['grid']}, predicted "
                      f"{fmt_ms(r['predicted'])} ms" +
                      (f" (the candidate {same[0]['plan']}, measured "
                       f"{fmt_ms(same[0]['best'])} ms)" if same else ""))

        if not rhos:
            return
        print("\nSpearman per model: " + ", ".join(
            f"{n} {rho:.2f}" for n, rho in rhos.items()) +
              f"; {sum(rho >= 0.8 for rho in rhos.values())} of {len(rhos)} "
              "at 0.8 or more")
        print(f"Spearman pooled, ranks within each model: "
              f"{pearson(pooled_ranks_pred, pooled_ranks_meas):.2f} over "
              f"{len(pooled_pred)} plans")
        print(f"Spearman pooled, all times together: "
              f"{spearman(pooled_pred, pooled_meas):.2f}")
        print("pick vs fastest measured: " + ", ".join(
            f"{n} {s * 100:+.1f}%" for n, s in picks) +
              f"; {sum(s <= 0.10 for _, s in picks)} of {len(picks)} within 10%")
        if unpartitioned:
            print(f"note: for {len(unpartitioned)} plans of more than one "
                  "rank the artifact that `dist-opt ... -o` wrote was not the "
                  "partitioned program; measured the pass pipeline's "
                  "(--dist-auto-plan --dist-partition) instead")
        print(f"load average {load_before:.2f} before, {load_after:.2f} after "
              f"the measurements; {time.time() - start:.0f} s in all")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(all_rows, f, indent=1)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
