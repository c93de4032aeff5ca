"""dist-opt from Python: compile an ONNX model for a cluster, plan it, run it.

    import distopt, numpy as np
    program = distopt.compile("model.onnx", shapes={"x": [8, 64]}, devices=2)
    print(program.report["grid"])             # the plan's grid, e.g. dp=2
    y = program.run({"x": np.ones((8, 64), np.float32)})["y"]

Run the same script under `mpirun -np 2 python3 script.py`: every process
compiles the same program, runs its own rank, and gets the whole outputs.
docs/python.md is the guide; distopt.torch parallelizes a torch.nn.Module.
"""

import contextlib
import ctypes
import ctypes.util
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import threading
import weakref

__all__ = ["Error", "Program", "compile", "plan", "load", "version"]


class Error(Exception):
    """An error of dist-opt: a bad model, option, cluster file or input.

    `message` says what is wrong; `file`, `line` and `column` (1-based) say
    where, when the error is at a place in a file (the model, a cluster
    file); otherwise `file` is None and `line` and `column` are 0.
    """

    def __init__(self, message, file=None, line=0, column=0):
        message = message.rstrip()
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column

    def __str__(self):
        if not self.file:
            return self.message
        where = self.file
        if self.line:
            where += f":{self.line}" + (f":{self.column}" if self.column else "")
        return f"{where}: {self.message}"


def _error(message, file, line, column):
    """The Error of a library status (the extension raises what this
    returns)."""
    return Error(message, file, line, column)


def _load_mpi_globally():
    """Makes libmpi's symbols global before the extension loads it.

    Open MPI loads its components with dlopen, and some resolve libmpi's
    symbols from the global namespace; an extension module is loaded with
    RTLD_LOCAL, so without this MPI_Init can fail inside Python (mpi4py
    does the same).
    """
    names = ["libmpi.so.40", ctypes.util.find_library("mpi")]
    for name in names:
        if not name:
            continue
        try:
            ctypes.CDLL(name, mode=ctypes.RTLD_GLOBAL)
            return
        except OSError:
            continue


_load_mpi_globally()

from . import _distopt  # noqa: E402  (after libmpi is loaded globally)


def version():
    """The version of the dist-opt library, e.g. "0.1.0"."""
    return _distopt.version()


# The keywords of compile() and plan() beyond the common ones, as
# CompileOptions names them (docs/python.md lists them).
_TRAINING_OPTIONS = ("precision", "raise_patterns", "loss", "labels",
                     "optimizer", "lr", "beta1", "beta2", "eps",
                     "weight_decay", "momentum", "clip_norm", "trainable",
                     "freeze")


class _ModelFile:
    """The model as a file: the path given, or a ModelProto written to a
    temporary folder that lives as long as this object (the artifact reads
    the weights from the model file by offset).

    The folder is named after the model's bytes, so that every process of
    an mpirun job that compiles the same ModelProto compiles it from the
    same path: the artifact names its model's folder, and the ranks check
    that they loaded the same artifact. The processes of one node share the
    folder; the last one to let go removes it (_SharedFolder).
    """

    def __init__(self, model):
        self.folder = None
        if isinstance(model, (str, os.PathLike)):
            self.path = os.fspath(model)
            return
        if not (hasattr(model, "SerializeToString") and hasattr(model, "graph")):
            raise TypeError("model must be an ONNX file's path or an "
                            f"onnx.ModelProto, not {type(model).__name__}")
        external = _external_data_tensor(model)
        if external:
            raise Error(f"the ModelProto's tensor '{external}' keeps its data "
                        "in an external file, which a ModelProto does not "
                        "locate: pass the model's path instead, or load the "
                        "data first (onnx.load_external_data_for_model)")
        data = model.SerializeToString()
        self.folder = _SharedFolder(self, "distopt-model-", data)
        self.path = self.folder.write("model.onnx", data)

    @property
    def is_temporary(self):
        return self.folder is not None


class _SharedFolder:
    """A folder in the temporary directory named after `content` (and the
    user), that the processes of this machine hold together: each process
    registers itself in it while `owner` lives, and the last one to go
    removes it. An flock on one lock file of the user's orders registering
    and removing (the file stays, empty)."""

    def __init__(self, owner, prefix, content):
        digest = hashlib.sha256(content).hexdigest()[:32]
        temporary = tempfile.gettempdir()
        self.path = os.path.join(temporary,
                                 f"{prefix}{os.getuid()}-{digest}")
        self._lock_path = os.path.join(temporary,
                                       f"distopt-{os.getuid()}.lock")
        self._user = os.path.join(
            self.path, f".user-{os.getpid()}-{id(owner):x}")
        with self._locked():
            os.makedirs(self.path, mode=0o700, exist_ok=True)
            open(self._user, "w").close()
        weakref.finalize(owner, _SharedFolder._release, self._lock_path,
                         self.path, self._user)

    def write(self, name, data):
        """Writes `name` into the folder (through a temporary file renamed
        into place, so that a process never sees another's partial file)
        and returns its path."""
        path = os.path.join(self.path, name)
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "wb") as f:
            f.write(data)
        os.replace(temporary, path)
        return path

    def _locked(self):
        return _FileLock(self._lock_path)

    @staticmethod
    def _release(lock_path, path, user):
        try:
            with _FileLock(lock_path):
                os.remove(user)
                if not any(n.startswith(".user-") for n in os.listdir(path)):
                    shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass


class _FileLock:
    """An exclusive flock on `path` (created if needed) while in `with`."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)


def _temporary_folder(owner, prefix):
    """A new folder, removed with everything in it when `owner` goes (or
    at exit)."""
    folder = tempfile.mkdtemp(prefix=prefix)
    weakref.finalize(owner, shutil.rmtree, folder, ignore_errors=True)
    return folder


def _external_data_tensor(model):
    """The name of a tensor of `model` with external data, or None."""
    EXTERNAL = 1  # onnx.TensorProto.EXTERNAL

    def tensors(graph):
        yield from graph.initializer
        for node in graph.node:
            for attribute in node.attribute:
                if attribute.HasField("t"):
                    yield attribute.t
                yield from attribute.tensors
                if attribute.HasField("g"):
                    yield from tensors(attribute.g)
                for subgraph in attribute.graphs:
                    yield from tensors(subgraph)

    for tensor in tensors(model.graph):
        if tensor.data_location == EXTERNAL:
            return tensor.name or "(unnamed)"
    return None


class _ClusterFile:
    """The cluster option as CompileOptions takes it: a preset name or a
    file's path as given; a dict written as JSON (which is YAML) to a
    temporary file, removed when this object goes."""

    def __init__(self, cluster):
        self.folder = None
        if cluster is None or cluster == "cpu":
            # The default preset; empty lets the library decide whether a
            # one-device compile plans at all, as dist-opt does.
            self.value = ""
        elif isinstance(cluster, (str, os.PathLike)):
            self.value = os.fspath(cluster)
        elif isinstance(cluster, dict):
            self.folder = _temporary_folder(self, "distopt-cluster-")
            self.value = os.path.join(self.folder, "cluster.json")
            try:
                # Indented, so that an error's line and column say where.
                text = json.dumps(cluster, indent=2)
            except (TypeError, ValueError) as e:
                raise Error(f"the cluster dict is not JSON: {e}") from None
            with open(self.value, "w") as f:
                f.write(text)
        else:
            raise TypeError("cluster must be a preset name, a cluster file's "
                            f"path or a dict, not {type(cluster).__name__}")

    @contextlib.contextmanager
    def naming_errors(self):
        """An error in the file written from a cluster dict says so (the
        file goes with this object)."""
        try:
            yield
        except Error as error:
            if self.folder is None or error.file != self.value:
                raise
            raise Error(f"{error.message} (in the cluster dict, written as "
                        "JSON to that file)", error.file, error.line,
                        error.column) from None


def _options(shapes, cluster, devices, plan, mode, batch, training_options,
             values=None):
    unknown = sorted(set(training_options) - set(_TRAINING_OPTIONS))
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(unknown)}; known: "
                        f"{', '.join(_TRAINING_OPTIONS)}")
    if shapes is not None:
        if not isinstance(shapes, dict):
            raise Error("shapes must be a dict of input name to a list of "
                        "dimensions")
        shapes = {name: [_int(d, f"shapes['{name}']") for d in dims]
                  if isinstance(dims, (list, tuple)) else dims
                  for name, dims in shapes.items()}
    if values is not None and not isinstance(values, dict):
        raise Error("values must be a dict of input name to a file path")
    options = dict(training_options)
    options.update(shapes=shapes, values=values, cluster=cluster.value,
                   devices=_int(devices, "devices"), plan=plan or "",
                   mode=mode, batch=_int(batch or 0, "batch"))
    if options["devices"] < 0:
        raise Error(f"devices must be 0 (all of a cluster file's) or "
                    f"positive, found {devices}")
    return options


def _int(value, what):
    # bool is an int in Python; a shape of True is a mistake.
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise Error(f"{what} must be an integer, found {value!r}")
    return value.__index__()


class Program:
    """A compiled model, ready to run on this process's rank.

    From distopt.compile() or distopt.load(). The runtime loads on the first
    run() (that is when MPI starts, under mpirun or not); until then the
    report and the inputs' description need no MPI.
    """

    def __init__(self, compiled=None, artifact_path=None, model_file=None,
                 cluster_file=None, threads=0, collective_timeout=0.0):
        self._compiled = compiled
        self._artifact_path = artifact_path
        # Held for the program's life: the weights live in the model's file.
        self._model_file = model_file
        self._cluster_file = cluster_file
        self._threads = threads
        self._collective_timeout = collective_timeout
        self._program = None
        self._report = None
        # One run at a time: the runtime runs a program on one thread (its
        # kernels use the node's cores), and releases the GIL meanwhile.
        self._lock = threading.Lock()

    def __repr__(self):
        if self._compiled is None:
            return f"<distopt.Program of {self._artifact_path!r}>"
        grid = (self.report or {}).get("grid")
        plan = (f", dp={grid['dp']} tp={grid['tp']} pp={grid['pp']}"
                if grid else "")
        return (f"<distopt.Program for {self._compiled.device_count} "
                f"device(s){plan}>")

    @property
    def report(self):
        """The plan report as a dict (dist-opt --report-json), or None when
        the model was compiled without planning (one device, no cluster, no
        plan) or loaded from an artifact."""
        if self._compiled is None or not self._compiled.report_json:
            return None
        if self._report is None:
            self._report = json.loads(self._compiled.report_json)
        return self._report

    @property
    def report_text(self):
        """The plan report as text (dist-opt --report), or None."""
        if self._compiled is None or not self._compiled.report_text:
            return None
        return self._compiled.report_text

    @property
    def device_count(self):
        """The number of ranks the program runs on (mpirun -np)."""
        if self._compiled is not None:
            return self._compiled.device_count
        return self._loaded().world_size

    def save(self, path):
        """Writes the artifact to `path`, to run later with distopt.load()
        or dist-run. The weights stay in the model's file, which must stay
        where it is. A program compiled from a ModelProto, whose model lives
        in a temporary folder, saves the model beside the artifact, in the
        folder `path + ".weights"`, which the artifact then names."""
        path = os.fspath(path)
        if self._compiled is None:
            shutil.copyfile(self._artifact_path, path)
            return
        if self._model_file is None or not self._model_file.is_temporary:
            self._compiled.save(path)
            return
        weights = path + ".weights"
        os.makedirs(weights, exist_ok=True)
        model = os.path.join(weights, os.path.basename(self._model_file.path))
        temporary = f"{model}.{os.getpid()}.tmp"
        shutil.copyfile(self._model_file.path, temporary)
        os.replace(temporary, model)
        self._compiled.save(path, weights)

    @property
    def inputs(self):
        """[(name, numpy dtype, shape)] of the model's inputs."""
        return self._loaded().inputs

    @property
    def outputs(self):
        """[(name, numpy dtype, shape)] of the model's outputs."""
        return self._loaded().outputs

    @property
    def rank(self):
        """This process's rank (0 outside mpirun). Loads the runtime."""
        return self._loaded().rank

    @property
    def world_size(self):
        """The number of ranks of the job. Loads the runtime."""
        return self._loaded().world_size

    def run(self, inputs):
        """Runs the program once: `inputs` maps each model input's name to a
        numpy array of its dtype and shape (the same on every rank); returns
        a dict of every model output, whole, on every rank.

        An inference pipeline (pp > 1) takes any whole number of
        micro-batches along dimension 0 (`inputs` gives one micro-batch's
        shapes). A training step (mode "train" with a loss) runs one step
        per call: its inputs are the model's and the loss's labels, it
        updates the weights it keeps, and returns the loss."""
        if not isinstance(inputs, dict):
            raise Error("inputs must be a dict of input name to numpy array")
        import numpy as np
        arrays = {}
        for name, value in inputs.items():
            if not isinstance(name, str):
                raise Error(f"input name {name!r} is not a str")
            if not isinstance(value, np.ndarray):
                value = np.asarray(value)
            # np.require keeps 0-d arrays (ascontiguousarray makes them 1-d).
            arrays[name] = np.require(value, requirements="C")
        program = self._loaded()
        with self._lock:
            return program.run(arrays)

    def weights(self):
        """The weights the program keeps from one run to the next (a
        training step's trained weights and optimizer state), by name, each
        whole. Collective: under mpirun every rank calls it."""
        program = self._loaded()
        with self._lock:
            return program.weights()

    def _loaded(self):
        with self._lock:
            return self._load()

    def _load(self):
        if self._program is None:
            if self._compiled is not None:
                self._program = _distopt.Program.load_compiled(
                    self._compiled, self._threads, self._collective_timeout)
            else:
                self._program = _distopt.Program.load_file(
                    self._artifact_path, self._threads,
                    self._collective_timeout)
        return self._program


def compile(model, shapes=None, cluster="cpu", devices=1, plan=None,
            mode="infer", batch=None, threads=0, collective_timeout=0.0,
            values=None, **training_options):
    """Compiles `model` for `devices` devices of `cluster` into a Program.

    model: an ONNX file's path or an onnx.ModelProto (whose tensors hold
        their data: external data needs the model's path).
    shapes: {input name: [dims]} fixing the inputs' dimensions (--shape).
    values: {input name: path of a .npy or ONNX .pb file} giving inputs
        their values at compile time; they become constants (--value).
    cluster: a preset name ("cpu", "dgx-h100", ...), a cluster file's path
        (.yaml or .json), or a dict with a cluster file's content.
    devices: the number of devices (ranks); 0 takes all of a cluster file's.
    plan: fixed parts of the plan, e.g. "dp=2,tp=2".
    mode, batch: "infer" or "train"; the global batch of a training step.
    threads, collective_timeout: how the runtime runs (0: the defaults).
    training_options: precision, raise_patterns, loss, labels, optimizer,
        lr, beta1, beta2, eps, weight_decay, momentum, clip_norm,
        trainable, freeze (as dist-opt's flags; docs/training.md).
    Raises distopt.Error for a bad model, option or cluster.
    """
    model_file = _ModelFile(model)
    cluster_file = _ClusterFile(cluster)
    options = _options(shapes, cluster_file, devices, plan, mode, batch,
                       training_options, values)
    with cluster_file.naming_errors():
        compiled = _distopt.compile(model_file.path, options)
    return Program(compiled=compiled, model_file=model_file,
                   cluster_file=cluster_file, threads=threads,
                   collective_timeout=collective_timeout)


def plan(model, shapes=None, cluster="cpu", devices=1, plan=None,
         mode="infer", batch=None, text=False, values=None, **training_options):
    """Plans `model` without compiling or running it (no MPI), and returns
    the plan report as a dict (dist-opt --report-json), or with text=True
    as the text dist-opt --report prints. Options as compile()'s."""
    model_file = _ModelFile(model)
    cluster_file = _ClusterFile(cluster)
    options = _options(shapes, cluster_file, devices, plan, mode, batch,
                       training_options, values)
    with cluster_file.naming_errors():
        report_json, report_text = _distopt.plan(model_file.path, options)
    return report_text if text else json.loads(report_json)


def load(artifact_path, threads=0, collective_timeout=0.0):
    """The Program of an artifact that Program.save() or dist-opt -o wrote.
    The runtime loads (and checks the file) on the first run."""
    path = os.fspath(artifact_path)
    if not os.path.isfile(path):
        raise Error(f"cannot open artifact '{path}': no such file")
    return Program(artifact_path=path, threads=threads,
                   collective_timeout=collective_timeout)
