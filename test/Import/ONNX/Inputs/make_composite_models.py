#!/usr/bin/python3
"""Models of the ONNX operators that the importer lowers to several dist ops
(lib/Import/ONNX/Composites.cpp) and of the unary and Mod kinds added with
them.

    /usr/bin/python3 make_composite_models.py OUT

Writes OUT/all17.onnx (opset 17) and OUT/all11.onnx (opset 11: Hardmax on
the flattened 2-D view, ArgMax without select_last_index), each one graph
holding every valid case as its own outputs, with its inputs as
OUT/all{17,11}.NAME.npy; and one model per malformed case (OUT/NAME.onnx),
which dist-opt must refuse at the node. The expected values are ONNX
Runtime's (test/oracle/run_ort.js), not computed here.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)
F, I64, I32 = TensorProto.FLOAT, TensorProto.INT64, TensorProto.INT32


class Graph:
    """One graph of many cases: inputs with their data, nodes, outputs."""

    def __init__(self):
        self.inputs, self.nodes, self.outputs, self.inits, self.data = [], [], [], [], {}
        # Output types given here instead of ONNX's inference (where it is
        # wrong: ONNX 1.12 infers STFT as two-sided when onesided is left out).
        self.declared = {}

    def input(self, name, array):
        elem = onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[array.dtype]
        self.inputs.append(helper.make_tensor_value_info(name, elem, array.shape))
        self.data[name] = array
        return name

    def init(self, name, array):
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def node(self, op, inputs, outputs, **attrs):
        self.nodes.append(helper.make_node(op, inputs, outputs, name=outputs[0], **attrs))
        for o in outputs:
            if o:
                self.outputs.append(o)

    def save(self, out, name, opset):
        # The outputs' types are ONNX shape inference's.
        graph = helper.make_graph(self.nodes, name, self.inputs, [], self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
        types = {v.name: v for v in inferred.graph.value_info}
        for output, (elem, shape) in self.declared.items():
            types[output] = helper.make_tensor_value_info(output, elem, shape)
        model.graph.output.extend(types[o] for o in self.outputs)
        onnx.checker.check_model(model)
        onnx.save(model, os.path.join(out, name + ".onnx"))
        for k, v in self.data.items():
            np.save(os.path.join(out, f"{name}.{k}.npy"), v)


def normal(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def opset17(out):
    g = Graph()
    # Losses: targets with the ignored index among them; the weights of the
    # classes as an initializer.
    logp = g.input("logp", normal(3, 5, 4))
    target = g.input("target", rng.integers(0, 5, (3, 4)).astype(np.int64))
    g.data["target"][0, 1] = g.data["target"][2, 3] = -1
    weight = g.init("class_weight", rng.uniform(0.5, 2.0, 5).astype(np.float32))
    g.node("NegativeLogLikelihoodLoss", [logp, target, weight], ["nll_mean_w_ii"],
           ignore_index=-1)
    g.node("NegativeLogLikelihoodLoss", [logp, target, weight], ["nll_sum_w_ii"],
           reduction="sum", ignore_index=-1)
    logp2 = g.input("logp2", normal(6, 7))
    target2 = g.input("target2", rng.integers(0, 7, (6,)).astype(np.int32))
    g.node("NegativeLogLikelihoodLoss", [logp2, target2], ["nll_none"], reduction="none")
    g.node("NegativeLogLikelihoodLoss", [logp2, target2], ["nll_mean"])
    scores = g.input("scores", normal(2, 6, 3, 2))
    labels = g.input("labels", rng.integers(0, 6, (2, 3, 2)).astype(np.int64))
    g.data["labels"][1, 2, 0] = 4
    g.node("SoftmaxCrossEntropyLoss", [scores, labels], ["sce_mean_ii", "sce_log_prob"],
           ignore_index=4)
    g.node("SoftmaxCrossEntropyLoss", [scores, labels, weight + "6"], ["sce_sum_w"],
           reduction="sum")
    g.init(weight + "6", rng.uniform(0.5, 2.0, 6).astype(np.float32))
    g.node("SoftmaxCrossEntropyLoss", [scores, labels], ["sce_none"], reduction="none")

    # Norm-like reductions.
    x = g.input("x", normal(2, 3, 4))
    pos = g.input("pos", rng.uniform(0.1, 2.0, (2, 3, 4)).astype(np.float32))
    for op in ["ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp"]:
        g.node(op, [x], [op.lower() + "_a1"], axes=[1], keepdims=0)
        g.node(op, [x], [op.lower() + "_a02"], axes=[0, -1])
        g.node(op, [x], [op.lower() + "_all"], keepdims=0)
    g.node("ReduceLogSum", [pos], ["reducelogsum_a2"], axes=[2])
    g.node("ReduceLogSum", [pos], ["reducelogsum_all"], keepdims=0)
    big = g.input("big", (normal(2, 5) * 40 + 60).astype(np.float32))
    g.node("ReduceLogSumExp", [big], ["reducelogsumexp_big"], axes=[1])

    # Arg reductions over data with ties.
    ties = g.input("ties", rng.integers(0, 3, (3, 4, 5)).astype(np.float32))
    g.node("ArgMax", [ties], ["argmax_a1"], axis=1, keepdims=0)
    g.node("ArgMax", [ties], ["argmax_last"], axis=-1, select_last_index=1)
    g.node("ArgMin", [ties], ["argmin_a0"], axis=0)
    g.node("ArgMin", [ties], ["argmin_last"], axis=2, keepdims=0, select_last_index=1)
    ities = g.input("ities", rng.integers(-2, 2, (4, 6)).astype(np.int32))
    g.node("ArgMax", [ities], ["argmax_int"], axis=1)
    g.node("Hardmax", [ties], ["hardmax_a1"], axis=1)
    g.node("Hardmax", [x], ["hardmax_last"])

    # One-hot (negative and out-of-range indices), identity matrices.
    idx = g.input("idx", np.array([[0, 3, -1], [7, -6, 2]], np.int64))
    depth = g.init("depth", np.array(5, np.int64))
    values = g.input("values", np.array([-1.5, 3.0], np.float32))
    g.node("OneHot", [idx, depth, values], ["onehot_a1"], axis=1)
    g.node("OneHot", [idx, depth, values], ["onehot_last"])
    rect = g.input("rect", normal(3, 5))
    g.node("EyeLike", [rect], ["eyelike_k1"], k=1)
    g.node("EyeLike", [rect], ["eyelike_int"], k=-2, dtype=I32)

    # Elementwise.
    y = g.input("y", normal(3, 1))
    z = g.input("z", normal(4))
    g.node("Mean", [x, y, z], ["mean3"])
    ia = g.input("ia", np.array([7, -7, 7, -7, 0, 9], np.int32))
    ib = g.input("ib", np.array([3, 3, -3, -3, 5, -4], np.int32))
    g.node("Mod", [ia, ib], ["mod_int"])
    g.node("Mod", [ia, ib], ["fmod_int"], fmod=1)
    fa = g.input("fa", np.array([5.5, -5.5, 5.5, -5.5, 1.25], np.float32))
    fb = g.input("fb", np.array([2.0, 2.0, -2.0, -2.0, 0.5], np.float32))
    g.node("Mod", [fa, fb], ["fmod_float"], fmod=1)
    g.node("CastLike", [x, ia], ["castlike"])
    special = g.input("special", np.array([1.0, -np.inf, np.inf, np.nan, 0.0, -2.5],
                                          np.float32))
    g.node("IsNaN", [special], ["isnan"])
    g.node("IsInf", [special], ["isinf"])
    g.node("IsInf", [special], ["isinf_neg"], detect_positive=0)
    g.node("IsInf", [special], ["isinf_pos"], detect_negative=0)
    g.node("Sign", [x], ["sign"])
    g.node("Sign", [ia], ["sign_int"])
    g.node("Shrink", [x], ["shrink"], lambd=0.3, bias=0.1)
    g.node("Shrink", [x], ["shrink_default"])
    unit = g.input("unit", rng.uniform(-0.9, 0.9, (2, 5)).astype(np.float32))
    above1 = g.input("above1", rng.uniform(1.1, 3.0, (2, 5)).astype(np.float32))
    for op in ["Tan", "Atan", "Sinh", "Cosh", "Asinh"]:
        g.node(op, [x], [op.lower()])
    for op in ["Asin", "Acos", "Atanh"]:
        g.node(op, [unit], [op.lower()])
    g.node("Acosh", [above1], ["acosh"])
    halves = g.input("halves", np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.4, -0.6],
                                        np.float32))
    g.node("Round", [halves], ["round"])

    # Data movement.
    nchw = g.input("nchw", normal(2, 8, 3, 2))
    g.node("DepthToSpace", [nchw], ["d2s_dcr"], blocksize=2)
    g.node("DepthToSpace", [nchw], ["d2s_crd"], blocksize=2, mode="CRD")
    img = g.input("img", normal(2, 3, 4, 6))
    g.node("SpaceToDepth", [img], ["s2d"], blocksize=2)
    reps = g.init("reps", np.array([2, 1, 3], np.int64))
    g.node("Tile", [x, reps], ["tile"])

    # 1-D windows; transposed convolutions (groups, strides, dilations,
    # asymmetric pads, output padding, a bias).
    sig = g.input("sig", normal(2, 4, 11))
    g.node("Conv", [sig, g.init("conv1d_w", normal(6, 2, 3)), g.init("conv1d_b", normal(6))],
           ["conv1d"], group=2, pads=[1, 2], strides=[2], dilations=[2])
    g.node("MaxPool", [sig], ["maxpool1d"], kernel_shape=[3], strides=[2], pads=[1, 1])
    g.node("AveragePool", [sig], ["avgpool1d"], kernel_shape=[2], auto_pad="SAME_UPPER")
    img4 = g.input("img4", normal(2, 4, 5, 4))
    g.node("ConvTranspose", [img4, g.init("convt_w", normal(4, 3, 3, 2)),
                             g.init("convt_b", normal(6))],
           ["convt"], group=2, strides=[2, 3], pads=[1, 0, 0, 1], output_padding=[1, 0],
           dilations=[1, 2])
    g.node("ConvTranspose", [img4, g.init("convt_same_w", normal(4, 2, 3, 3))],
           ["convt_same"], strides=[2, 2], auto_pad="SAME_LOWER")
    g.node("ConvTranspose", [sig, g.init("convt1d_w", normal(4, 2, 4))], ["convt1d"],
           strides=[2], pads=[1, 1])
    # 3-D convolutions (a sum of 2-D ones per filter depth): pads, strides,
    # dilations and groups on every axis, a bias; SAME padding.
    vid = g.input("vid", normal(2, 4, 5, 6, 5))
    g.node("Conv", [vid, g.init("conv3d_w", normal(6, 2, 3, 2, 3)), g.init("conv3d_b", normal(6))],
           ["conv3d"], group=2, pads=[1, 0, 2, 2, 1, 0], strides=[2, 1, 2], dilations=[1, 2, 1])
    g.node("Conv", [vid, g.init("conv3d_same_w", normal(3, 4, 2, 3, 3))], ["conv3d_same"],
           auto_pad="SAME_UPPER", strides=[2, 2, 1])
    g.node("ConvTranspose", [vid, g.init("convt3d_w", normal(4, 3, 3, 2, 3)),
                             g.init("convt3d_b", normal(6))],
           ["convt3d"], group=2, strides=[2, 1, 3], pads=[1, 0, 1, 0, 1, 2],
           output_padding=[1, 0, 2], dilations=[1, 2, 1])
    g.node("ConvTranspose", [vid, g.init("convt3d_shape_w", normal(4, 2, 2, 3, 2))],
           ["convt3d_shape"], strides=[2, 2, 2], output_shape=[10, 11, 9])
    # Lp norms and pools; global pools of 1-D and 3-D inputs.
    g.node("LpNormalization", [img4], ["lpnorm_1"], p=1, axis=1)
    g.node("LpNormalization", [img4], ["lpnorm_2"], p=2, axis=-1)
    g.node("LpPool", [img4], ["lppool_3"], p=3, kernel_shape=[2, 3], strides=[1, 2],
           pads=[1, 0, 0, 1])
    g.node("LpPool", [sig], ["lppool_1d"], p=2, kernel_shape=[3], strides=[2])
    g.node("GlobalLpPool", [img4], ["globallp_2"], p=2)
    g.node("GlobalLpPool", [vid], ["globallp_3d"], p=1)
    g.node("GlobalAveragePool", [vid], ["globalavg_3d"])
    g.node("GlobalMaxPool", [sig], ["globalmax_1d"])
    # Signal operators: DFTs of real and complex signals along an inner
    # axis, zero-padded, cut, one-sided, inverse; an STFT with a window; a
    # mel filter bank.
    spec = g.input("spec", normal(2, 6, 5, 1))
    cplx = g.input("cplx", normal(2, 6, 5, 2))
    g.node("DFT", [spec, g.init("dft_len8", np.array(8, np.int64))], ["dft_real_pad"],
           axis=2, onesided=1)
    g.node("DFT", [cplx, g.init("dft_len4", np.array(4, np.int64))], ["dft_cplx_cut"], axis=1)
    g.node("DFT", [cplx], ["dft_inverse"], axis=-2, inverse=1)
    audio = g.input("audio", normal(2, 40, 1))
    g.node("STFT", [audio, g.init("stft_step", np.array(6, np.int64)),
                    g.init("stft_window", np.hanning(10).astype(np.float32))], ["stft"])
    g.declared["stft"] = (F, [2, 6, 6, 2])
    g.node("MelWeightMatrix", [g.init("mel_bins", np.array(6, np.int64)),
                               g.init("mel_dft", np.array(32, np.int64)),
                               g.init("mel_rate", np.array(16000, np.int64)),
                               g.init("mel_low", np.array(100.0, np.float32)),
                               g.init("mel_high", np.array(7000.0, np.float32))], ["mel"])

    # Resize: linear and nearest by scales, cubic by sizes (downsampling),
    # tf_crop_and_resize with an extrapolation value. Sizes and scales where
    # ONNX Runtime agrees with the ONNX reference (docs/import.md: it skips
    # the roi of an axis whose size stays, and takes align_corners' output
    # length rounded).
    g.node("Resize", [img, "", g.init("rs_lin", np.array([1, 1, 2, 1.5], np.float32))],
           ["resize_linear"], mode="linear")
    g.node("Resize", [img, "", "", g.init("rs_cubic", np.array([2, 3, 3, 5], np.int64))],
           ["resize_cubic"], mode="cubic", exclude_outside=1)
    g.node("Resize", [img, "", g.init("rs_near", np.array([1, 1, 1.5, 0.5], np.float32))],
           ["resize_nearest"], mode="nearest", coordinate_transformation_mode="asymmetric",
           nearest_mode="floor")
    g.node("Resize", [img, g.init("rs_roi", np.array([0, 0, 0.2, -0.1, 1, 1, 0.9, 1.2],
                                                     np.float32)),
                      "", g.init("rs_crop", np.array([2, 3, 3, 5], np.int64))],
           ["resize_crop"], mode="linear", coordinate_transformation_mode="tf_crop_and_resize",
           extrapolation_value=-1.0)
    g.node("Resize", [img, "", g.init("rs_align", np.array([1, 1, 1.75, 0.5], np.float32))],
           ["resize_align"], mode="linear", coordinate_transformation_mode="align_corners")

    # Recurrent cells, unrolled: a bidirectional LSTM with peepholes, clip
    # and initial states; a reverse GRU with linear_before_reset; an RNN
    # with a Relu activation. (Batch-first layouts: the ONNX node tests;
    # ONNX Runtime runs layout 0 only.)
    seqx = g.input("seqx", normal(5, 3, 4))              # T x B x I
    g.node("LSTM", [seqx, g.init("lstm_w", normal(2, 24, 4) * 0.5),
                    g.init("lstm_r", normal(2, 24, 6) * 0.5), g.init("lstm_b", normal(2, 48) * 0.1),
                    "", g.init("lstm_h0", normal(2, 3, 6)), g.init("lstm_c0", normal(2, 3, 6)),
                    g.init("lstm_p", normal(2, 18) * 0.1)],
           ["lstm_y", "lstm_yh", "lstm_yc"], hidden_size=6, direction="bidirectional", clip=2.5)
    g.node("GRU", [seqx, g.init("gru_w", normal(1, 15, 4) * 0.5),
                   g.init("gru_r", normal(1, 15, 5) * 0.5), g.init("gru_b", normal(1, 30) * 0.1)],
           ["gru_y", "gru_yh"], hidden_size=5, direction="reverse", linear_before_reset=1)
    g.node("RNN", [seqx, g.init("rnn_w", normal(1, 7, 4) * 0.5),
                   g.init("rnn_r", normal(1, 7, 7) * 0.3)],
           ["rnn_y", "rnn_yh"], hidden_size=7, activations=["Relu"])

    # Prefix sums, gathers of index tuples (negative coordinates, a batch
    # dim), local response normalization.
    seq7 = g.input("seq7", normal(2, 7, 3))
    g.node("CumSum", [seq7, g.init("cs_axis", np.array(1, np.int64))], ["cumsum"])
    g.node("CumSum", [seq7, g.init("cs_axis2", np.array(-2, np.int32))], ["cumsum_rev_excl"],
           reverse=1, exclusive=1)
    g.node("CumSum", [ia, g.init("cs_axis0", np.array(0, np.int64))], ["cumsum_int"])
    tuples = g.input("tuples", np.array([[[1, -1], [0, 2]], [[-2, 0], [1, 1]]], np.int64))
    g.node("GatherND", [x, tuples], ["gathernd"])
    rows = g.input("rows", np.array([[[2], [-1]], [[0], [1]]], np.int64))
    g.node("GatherND", [x, rows], ["gathernd_batch"], batch_dims=1)
    g.node("LRN", [img], ["lrn"], size=3, alpha=0.01, beta=0.6, bias=2.0)

    # 3-D pooling (as two 2-D poolings): pads, strides, dilations, ceil
    # mode, the padding counted or not; windows of a compile-time size.
    vol = g.input("vol", normal(2, 3, 5, 6, 7))
    g.node("MaxPool", [vol], ["maxpool3d"], kernel_shape=[2, 3, 2], strides=[2, 2, 2],
           pads=[1, 0, 0, 0, 1, 0], ceil_mode=1)
    g.node("MaxPool", [vol], ["maxpool3d_dilated"], kernel_shape=[2, 2, 2],
           dilations=[2, 1, 2])
    g.node("AveragePool", [vol], ["avgpool3d"], kernel_shape=[3, 2, 3], pads=[1, 1, 1, 1, 0, 1])
    g.node("AveragePool", [vol], ["avgpool3d_incl"], kernel_shape=[3, 2, 3],
           pads=[1, 1, 1, 1, 0, 1], count_include_pad=1, strides=[2, 2, 2])
    size = g.init("win_size", np.array(10, np.int64))
    g.node("HannWindow", [size], ["hann"])
    g.node("HammingWindow", [size], ["hamming_symmetric"], periodic=0)
    g.node("BlackmanWindow", [size], ["blackman"], output_datatype=TensorProto.DOUBLE)

    # Normalizations.
    scale = g.init("in_scale", rng.uniform(0.5, 1.5, 3).astype(np.float32))
    bias = g.init("in_bias", normal(3))
    g.node("InstanceNormalization", [img, scale, bias], ["instancenorm"], epsilon=1e-3)
    g.node("MeanVarianceNormalization", [img], ["mvn"])
    g.node("MeanVarianceNormalization", [x], ["mvn_a12"], axes=[1, 2])
    g.save(out, "all17", 17)


def opset11(out):
    g = Graph()
    x = g.input("x", rng.integers(0, 3, (2, 3, 4)).astype(np.float32))
    g.node("Hardmax", [x], ["hardmax_flat"], axis=1)
    g.node("Hardmax", [x], ["hardmax_default"])
    g.node("ArgMax", [x], ["argmax11"], axis=2)
    g.node("DepthToSpace", [g.input("nchw", normal(1, 4, 2, 3))], ["d2s11"], blocksize=2)
    g.save(out, "all11", 11)


def malformed(out):
    def save(name, nodes, inputs, outputs, inits=(), opset=17):
        graph = helper.make_graph(nodes, name, inputs, outputs, list(inits))
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        onnx.save(model, os.path.join(out, name + ".onnx"))

    vi = helper.make_tensor_value_info
    save("nll_reduction",
         [helper.make_node("NegativeLogLikelihoodLoss", ["p", "t"], ["l"], name="nll",
                           reduction="max")],
         [vi("p", F, [4, 3]), vi("t", I64, [4])], [vi("l", F, [])])
    save("nll_target_shape",
         [helper.make_node("NegativeLogLikelihoodLoss", ["p", "t"], ["l"], name="nll")],
         [vi("p", F, [4, 3, 2]), vi("t", I64, [4, 3])], [vi("l", F, [])])
    save("nll_weight",
         [helper.make_node("NegativeLogLikelihoodLoss", ["p", "t", "w"], ["l"], name="nll")],
         [vi("p", F, [4, 3]), vi("t", I64, [4]), vi("w", F, [4])], [vi("l", F, [])])
    save("onehot_depth",
         [helper.make_node("OneHot", ["i", "d", "v"], ["y"], name="onehot")],
         [vi("i", I64, [3]), vi("v", F, [2])], [vi("y", F, ["a", "b"])],
         [numpy_helper.from_array(np.array([0], np.int64), "d")])
    save("onehot_dynamic",
         [helper.make_node("OneHot", ["i", "d", "v"], ["y"], name="onehot")],
         [vi("i", I64, [3]), vi("d", I64, [1]), vi("v", F, [2])], [vi("y", F, ["a", "b"])])
    save("d2s_channels",
         [helper.make_node("DepthToSpace", ["x"], ["y"], name="d2s", blocksize=2)],
         [vi("x", F, [1, 6, 2, 2])], [vi("y", F, ["n", "c", "h", "w"])])
    save("s2d_size",
         [helper.make_node("SpaceToDepth", ["x"], ["y"], name="s2d", blocksize=2)],
         [vi("x", F, [1, 1, 3, 4])], [vi("y", F, ["n", "c", "h", "w"])])
    save("tile_zero",
         [helper.make_node("Tile", ["x", "r"], ["y"], name="tile")],
         [vi("x", F, [2, 3])], [vi("y", F, ["a", "b"])],
         [numpy_helper.from_array(np.array([2, 0], np.int64), "r")])
    # A coordinate outside its dim (1 of [0, 3)): an error when it runs.
    save("gathernd_outside",
         [helper.make_node("GatherND", ["x", "i"], ["y"], name="gnd")],
         [vi("x", F, [2, 3, 4]), vi("i", I64, [2, 2])], [vi("y", F, [2, 4])])
    np.save(os.path.join(out, "gathernd_outside.x.npy"), normal(2, 3, 4))
    np.save(os.path.join(out, "gathernd_outside.i.npy"), np.array([[0, 1], [1, 3]], np.int64))
    # Sizes past what a lowering makes constants of, or unrolls.
    save("convt_stride",
         [helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="convt",
                           strides=[1 << 21, 1])],
         [vi("x", F, [1, 2, 3, 3]), vi("w", F, [2, 1, 2, 2])], [vi("y", F, ["n", "c", "h", "w"])])
    save("argmax_long",
         [helper.make_node("ArgMax", ["x"], ["y"], name="argmax", axis=1)],
         [vi("x", F, [1, 1 << 25])], [vi("y", I64, [1, 1])])
    save("lstm_long",
         [helper.make_node("LSTM", ["x", "w", "r"], ["y"], name="lstm", hidden_size=2)],
         [vi("x", F, [20000, 1, 2]), vi("w", F, [1, 8, 2]), vi("r", F, [1, 8, 2])],
         [vi("y", F, [20000, 1, 1, 2])])
    save("l2_int",
         [helper.make_node("ReduceL2", ["x"], ["y"], name="l2")],
         [vi("x", I32, [2, 3])], [vi("y", I32, [1, 1])])
    save("instancenorm_scale",
         [helper.make_node("InstanceNormalization", ["x", "s", "b"], ["y"], name="inorm")],
         [vi("x", F, [1, 3, 4]), vi("s", F, [2]), vi("b", F, [3])], [vi("y", F, [1, 3, 4])])


def main(out):
    os.makedirs(out, exist_ok=True)
    opset17(out)
    opset11(out)
    malformed(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
