"""Parallelize a torch.nn.Module with dist-opt.

    import distopt.torch
    fast = distopt.torch.parallelize(model, (x,), devices=2)
    y = fast(x)                              # equals model(x)

parallelize() exports the module to ONNX (torch.onnx.export, opset 17) with
the example inputs' shapes fixed, compiles it with distopt.compile and
returns a callable on torch tensors. Inference only: the module's weights are
copied at export, so later changes to the module are not seen; a training
handle is not there yet (distopt.compile with mode="train" on an exported
file is, docs/training.md).
"""

import io

import distopt

__all__ = ["parallelize", "ParallelModule"]

OPSET = 17


class ParallelModule:
    """The compiled module: call it like the module, with tensors of the
    example inputs' dtypes and shapes; it returns torch tensors (a tuple
    when the module returns several, else one)."""

    def __init__(self, program, input_names, used_inputs, output_names,
                 single_output):
        self.program = program
        self.input_names = input_names
        # The exporter drops an input that the graph does not use.
        self._used_inputs = used_inputs
        self.output_names = output_names
        self._single_output = single_output

    @property
    def report(self):
        """The plan report as a dict (None when nothing was planned)."""
        return self.program.report

    def __call__(self, *inputs):
        import torch
        if len(inputs) != len(self.input_names):
            raise distopt.Error(f"expected {len(self.input_names)} input(s), "
                                f"found {len(inputs)}")
        arrays = {}
        for name, value in zip(self.input_names, inputs):
            if not isinstance(value, torch.Tensor):
                raise distopt.Error(f"input '{name}' is not a torch.Tensor")
            if name in self._used_inputs:
                arrays[name] = value.detach().cpu().contiguous().numpy()
        outputs = self.program.run(arrays)
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
    was_training = module.training
    module.eval()
    try:
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
    finally:
        module.train(was_training)
    model = onnx.load_from_string(buffer.getvalue())
    used_inputs = {value.name for value in model.graph.input}
    program = distopt.compile(model, cluster=cluster, devices=devices,
                              plan=plan, **compile_options)
    return ParallelModule(program, input_names, used_inputs, output_names,
                          single_output)
