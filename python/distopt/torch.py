"""Parallelize a torch.nn.Module with dist-opt.

    import distopt.torch
    fast = distopt.torch.parallelize(model, (x,), devices=2)
    y = fast(x)                              # equals model(x)

parallelize() exports the module to ONNX (torch.onnx.export, opset 17) with
the example inputs' shapes fixed, compiles it with distopt.compile and
returns a callable on torch tensors. The module's weights are copied at
export, so later changes to the module are not seen.

    step = distopt.torch.train_step(model, (x,), y, loss="cross-entropy",
                                    optimizer="adamw", lr=1e-3, devices=2)
    for x, y in batches:
        loss = step(x, labels=y)             # one optimizer step; a float
    step.copy_to(model)                      # the trained weights

train_step() exports the module the same way with its parameters as ONNX
initializers named as in PyTorch, generates the training step (loss and
optimizer as dist-opt --mode train names them, docs/training.md) and
compiles it: each call is one step of the optimizer on every rank.
"""

import contextlib
import io

import distopt

__all__ = ["parallelize", "ParallelModule", "train_step", "TrainStep"]

OPSET = 17


@contextlib.contextmanager
def _evaluating(module):
    """`module` in eval mode (no dropout) while in `with`; its mode after."""
    was_training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was_training)


class _CompiledModule:
    """A compiled export of a module, called on torch tensors: the program,
    the names of the module's inputs in order, and those the export kept
    (the exporter drops an input that the graph does not use)."""

    def __init__(self, program, input_names, used_inputs):
        self.program = program
        self.input_names = input_names
        self._used_inputs = used_inputs

    @property
    def report(self):
        """The plan report as a dict (None when nothing was planned)."""
        return self.program.report

    def _run(self, inputs, extra=()):
        """Runs the program on `inputs` (in the order of input_names) and
        the (name, tensor) pairs of `extra`; returns its outputs."""
        import torch
        if len(inputs) != len(self.input_names):
            raise distopt.Error(f"expected {len(self.input_names)} input(s), "
                                f"found {len(inputs)}")
        named = [(name, value) for name, value in zip(self.input_names, inputs)
                 if name in self._used_inputs]
        arrays = {}
        for name, value in named + list(extra):
            if not isinstance(value, torch.Tensor):
                raise distopt.Error(f"input '{name}' is not a torch.Tensor")
            arrays[name] = value.detach().cpu().contiguous().numpy()
        return self.program.run(arrays)


class ParallelModule(_CompiledModule):
    """The compiled module: call it like the module, with tensors of the
    example inputs' dtypes and shapes; it returns torch tensors (a tuple
    when the module returns several, else one)."""

    def __init__(self, program, input_names, used_inputs, output_names,
                 single_output):
        super().__init__(program, input_names, used_inputs)
        self.output_names = output_names
        self._single_output = single_output

    def __call__(self, *inputs):
        import torch
        outputs = self._run(inputs)
        tensors = tuple(torch.from_numpy(outputs[name])
                        for name in self.output_names)
        return tensors[0] if self._single_output else tensors


def parallelize(module, example_inputs, cluster="cpu", devices=1, plan=None,
                input_names=None, output_names=None, **compile_options):
    """Exports `module` on `example_inputs` (a tensor or a tuple of tensors)
    and compiles it for `devices` devices of `cluster` (as distopt.compile;
    other keywords go to it). Returns a ParallelModule whose call equals
    module(*example_inputs) on inputs of the same shapes.
    """
    import torch
    import onnx

    if isinstance(example_inputs, torch.Tensor):
        example_inputs = (example_inputs,)
    example_inputs = tuple(example_inputs)
    if not all(isinstance(x, torch.Tensor) for x in example_inputs):
        raise distopt.Error("example_inputs must be tensors (a tensor or a "
                            "tuple of tensors)")
    buffer = io.BytesIO()
    with _evaluating(module):
        with torch.no_grad():
            result = module(*example_inputs)
        if not isinstance(result, torch.Tensor) and not (
                isinstance(result, tuple) and
                all(isinstance(r, torch.Tensor) for r in result)):
            raise distopt.Error("the module must return a tensor or a tuple "
                                f"of tensors, not {type(result).__name__}")
        single_output = isinstance(result, torch.Tensor)
        num_outputs = 1 if single_output else len(result)
        input_names = list(input_names or
                           [f"input_{i}" for i in range(len(example_inputs))])
        output_names = list(output_names or
                            [f"output_{i}" for i in range(num_outputs)])
        # No dynamic axes: the shapes of the example inputs are fixed.
        torch.onnx.export(module, example_inputs, buffer, opset_version=OPSET,
                          input_names=input_names, output_names=output_names,
                          do_constant_folding=True)
    model = onnx.load_from_string(buffer.getvalue())
    used_inputs = {value.name for value in model.graph.input}
    program = distopt.compile(model, cluster=cluster, devices=devices,
                              plan=plan, **compile_options)
    return ParallelModule(program, input_names, used_inputs, output_names,
                          single_output)


class TrainStep(_CompiledModule):
    """A compiled training step: call it with the module's inputs and the
    loss's labels (tensors of the example's dtypes and shapes) to run one
    optimizer step on every rank; it returns the loss as a float."""

    def __init__(self, program, input_names, used_inputs, labels_name,
                 parameters):
        super().__init__(program, input_names, used_inputs)
        self.labels_name = labels_name
        # ONNX initializer name -> the module's names of that parameter.
        self._parameters = parameters

    def __call__(self, *inputs, labels):
        (loss,) = self._run(inputs, [(self.labels_name, labels)]).values()
        return float(loss)

    def state_dict(self):
        """The trained parameters, by the module's names (a tied parameter
        under each of its names), as torch tensors. Collective: under
        mpirun every rank calls it."""
        import torch
        weights = self.program.weights()
        state = {}
        for onnx_name, torch_names in self._parameters.items():
            if onnx_name not in weights:
                continue  # frozen: the step does not update it
            value = torch.from_numpy(weights[onnx_name])
            for name in torch_names:
                state[name] = value
        return state

    def copy_to(self, module):
        """Copies the trained parameters into `module` (the one trained, or
        one of its architecture). Collective, as state_dict()."""
        import torch
        state = self.state_dict()
        with torch.no_grad():
            for name, parameter in module.named_parameters():
                if name in state:
                    parameter.copy_(state[name])


def _parameter_names(module):
    """{id of a parameter: every name the module gives it} (a tied
    parameter has several)."""
    names = {}

    def walk(mod, prefix):
        for name, parameter in mod._parameters.items():
            if parameter is not None:
                names.setdefault(id(parameter), []).append(prefix + name)
        for name, child in mod._modules.items():
            if child is not None:
                walk(child, prefix + name + ".")

    walk(module, "")
    return names


def train_step(module, example_inputs, example_labels, loss="cross-entropy",
               optimizer="adamw", lr=1e-3, cluster="cpu", devices=1,
               plan=None, input_names=None, **compile_options):
    """Exports `module` on `example_inputs` (a tensor or a tuple of tensors;
    it must return one tensor, the loss's input) and compiles its training
    step with `loss` ("cross-entropy": int64 class labels of the output's
    shape without its last dimension, or "mse": float labels of the
    output's shape; `example_labels` gives them), `optimizer` ("adamw" or
    "sgd") and `lr`, for `devices` devices of `cluster`. Other keywords go
    to distopt.compile (beta1, beta2, eps, weight_decay, momentum,
    clip_norm, trainable, freeze, ...). The export runs the module in eval
    mode (dropout off, the function trained is the deterministic one).
    Returns a TrainStep; its losses equal the module's under torch.optim's
    AdamW or SGD from the same weights.
    """
    import torch
    import onnx
    import onnx.numpy_helper

    if isinstance(example_inputs, torch.Tensor):
        example_inputs = (example_inputs,)
    example_inputs = tuple(example_inputs)
    if not all(isinstance(x, torch.Tensor) for x in example_inputs) or \
            not isinstance(example_labels, torch.Tensor):
        raise distopt.Error("example_inputs and example_labels must be "
                            "tensors")
    input_names = list(input_names or
                       [f"input_{i}" for i in range(len(example_inputs))])
    labels_name = "labels"
    if labels_name in input_names:
        raise distopt.Error("an input is named 'labels', the loss's labels")
    buffer = io.BytesIO()
    with _evaluating(module):
        with torch.no_grad():
            result = module(*example_inputs)
        if not isinstance(result, torch.Tensor):
            raise distopt.Error("train_step needs a module that returns one "
                                "tensor (the loss's input), not "
                                f"{type(result).__name__}")
        # Parameters stay initializers named as in PyTorch (no constant
        # folding), so that the trained weights map back to the module. An
        # export of a module in eval mode merges parameters of equal value
        # (two fresh LayerNorms' weights) into one initializer, which would
        # tie them in training: the top module says it trains (the exporter
        # then merges only a parameter used twice), its submodules run in
        # eval mode (no dropout).
        module.training = True
        torch.onnx.export(module, example_inputs, buffer, opset_version=OPSET,
                          input_names=input_names, output_names=["output"],
                          do_constant_folding=False,
                          training=torch.onnx.TrainingMode.PRESERVE,
                          export_params=True)
    model = onnx.load_from_string(buffer.getvalue())
    initializers = {init.name: init for init in model.graph.initializer}
    named = dict(module.named_parameters())
    parameters = {}
    for names in _parameter_names(module).values():
        found = [name for name in names if name in initializers]
        if len(found) != 1:
            raise distopt.Error(f"parameter {names[0]} is {len(found)} "
                                "initializers of the export, not one")
        value = onnx.numpy_helper.to_array(initializers[found[0]])
        if value.shape != tuple(named[names[0]].shape) or \
                found[0] in parameters:
            raise distopt.Error(f"the export's initializer {found[0]} is not "
                                f"parameter {names[0]} alone")
        parameters[found[0]] = names
    used_inputs = {value.name for value in model.graph.input}
    shapes = {name: list(x.shape) for name, x in zip(input_names,
                                                     example_inputs)
              if name in used_inputs}
    program = distopt.compile(model, shapes=shapes, cluster=cluster,
                              devices=devices, plan=plan, mode="train",
                              loss=f"{loss}:output", labels=labels_name,
                              optimizer=optimizer, lr=lr, **compile_options)
    return TrainStep(program, input_names, used_inputs, labels_name,
                     parameters)
