//===- Spectral.cpp - DFT, STFT and MelWeightMatrix while importing -------===//
//
// The signal operators of opset 17 on static lengths: a DFT of length N is
// a matmul with the N x K cosine and sine tables (constants computed here,
// in double precision, with n * k reduced modulo N); STFT gathers the
// frames, weights them by the window and takes their DFTs; MelWeightMatrix
// is a constant computed as the ONNX reference computes it. Their
// sharding, costs, kernels and gradients are those of matmul, gather and
// the elementwise ops.
//
//===----------------------------------------------------------------------===//

#include "Composer.h"

#include <cmath>

using namespace mlir;
using namespace distopt;
using namespace distopt::dist;
using namespace distopt::onnx_import;
using Node = onnx::NodeProto;

namespace {

/// The most entries of a DFT table (N x K) or a frame index table.
constexpr int64_t kMaxTable = int64_t{1} << 24;

/// The N x K table cos(2 pi n k / N) (or sin), k < bins.
Value dftTable(ImportContext &ic, const Node &node, Type element, int64_t n,
               int64_t bins, bool sine) {
  SmallVector<Attribute> values;
  values.reserve(n * bins);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < bins; ++k) {
      // n * k modulo N first: the angle stays exact for long signals.
      double angle = 2 * M_PI *
                     static_cast<double>((static_cast<__int128>(i) * k) % n) /
                     static_cast<double>(n);
      values.push_back(ic.builder.getFloatAttr(
          element, sine ? std::sin(angle) : std::cos(angle)));
    }
  auto type = RankedTensorType::get({n, bins}, element);
  return ic.createConstant(ic.getLoc(node),
                           DenseElementsAttr::get(type, values));
}

/// The DFT of `x` along its dim `axis` (N values; the last dim holds 1 real
/// or 2 real/imaginary parts): `bins` frequencies, as [..., bins at axis,
/// ..., 2]. The inverse transform divides by N.
V dft(Composer &c, V x, int64_t axis, int64_t bins, bool inverse) {
  if (failed(x))
    return failure();
  RankedTensorType type = typeOf(*x);
  int64_t rank = type.getRank(), n = type.getDimSize(axis);
  int64_t parts = type.getDimSize(rank - 1);
  ImportContext &ic = c.ic;
  if (n < 1 || n > kMaxTable / std::max<int64_t>(bins, 1))
    return ic.emitError(c.node)
           << "needs a DFT table of " << n << " x " << bins
           << " values; at most " << kMaxTable << " are supported";
  Type element = type.getElementType();
  // [rest..., parts, N]: the transformed axis last.
  SmallVector<int64_t> perm;
  for (int64_t d = 0; d < rank - 1; ++d)
    if (d != axis)
      perm.push_back(d);
  perm.push_back(rank - 1);
  perm.push_back(axis);
  V moved = c.transpose(x, perm);
  if (failed(moved))
    return failure();
  SmallVector<int64_t> partShape(typeOf(*moved).getShape());
  partShape[rank - 2] = 1;
  SmallVector<int64_t> zeros(rank, 0), second(rank, 0);
  second[rank - 2] = 1;
  V re = c.slice(moved, zeros, partShape);
  V im = parts == 2 ? c.slice(moved, second, partShape) : V(failure());
  Value cosines = dftTable(ic, c.node, element, n, bins, false);
  Value sines = dftTable(ic, c.node, element, n, bins, true);
  auto matmul = [&](V a, Value table) -> V {
    if (failed(a))
      return failure();
    return ic.create<MatMulOp>(c.node, *a, table, Value());
  };
  // (re + i im)(cos -+ i sin): the sign of the sine terms is the
  // direction's.
  V outRe = matmul(re, cosines);
  V outIm = matmul(re, sines);
  outIm = inverse ? outIm : c.sub(c.scalar(element, 0), outIm);
  if (parts == 2) {
    V imSin = matmul(im, sines), imCos = matmul(im, cosines);
    outRe = inverse ? c.sub(outRe, imSin) : c.add(outRe, imSin);
    outIm = c.add(outIm, imCos);
  }
  if (inverse) {
    Value scale = c.scalar(element, 1.0 / static_cast<double>(n));
    outRe = c.mul(outRe, scale);
    outIm = c.mul(outIm, scale);
  }
  V out = c.concat({outRe, outIm}, rank - 2);
  // Back: [rest..., 2, bins] to the input's order.
  SmallVector<int64_t> inverted(rank);
  for (int64_t i = 0; i < rank; ++i)
    inverted[perm[i]] = i;
  return c.transpose(out, inverted);
}

/// `x` along `axis` cut or zero-padded to `length`.
V resize(Composer &c, V x, int64_t axis, int64_t length) {
  if (failed(x))
    return failure();
  SmallVector<int64_t> shape(typeOf(*x).getShape());
  int64_t n = shape[axis];
  if (length == n)
    return x;
  if (length < n) {
    shape[axis] = length;
    return c.slice(x, SmallVector<int64_t>(shape.size(), 0), shape);
  }
  shape[axis] = length - n;
  return c.concat(
      {x, c.broadcast(c.scalar(typeOf(*x).getElementType(), 0), shape)}, axis);
}

/// The signal input of DFT or STFT: [batch, ..., 1 or 2] floats.
FailureOr<Value> signalInput(ImportContext &ic, const Node &node,
                             int rankAtLeast) {
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x) || failed(requireFloat(ic, node, *x, "the signal")))
    return failure();
  RankedTensorType type = typeOf(*x);
  if (type.getRank() < rankAtLeast ||
      (type.getShape().back() != 1 && type.getShape().back() != 2))
    return ic.emitError(node)
           << "expects a signal of rank >= " << rankAtLeast
           << " whose last dim holds 1 (real) or 2 (complex) parts, found "
           << type;
  return x;
}

/// DFT (opset 17): along `axis` (not the batch dim nor the last), of
/// `dft_length` (input 1; default the axis' size) values, cut or
/// zero-padded; `onesided` keeps the first floor(N/2) + 1 frequencies;
/// `inverse` transforms back.
LogicalResult convertDFT(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = signalInput(ic, node, 3);
  if (failed(x))
    return failure();
  int64_t rank = typeOf(*x).getRank();
  int64_t axis = ic.getIntAttr(node, "axis", 1);
  if (axis < 0)
    axis += rank;
  if (axis < 1 || axis > rank - 2)
    return ic.emitError(node) << "expects an axis from 1 to " << rank - 2
                              << " (not the batch or the parts dim), found "
                              << ic.getIntAttr(node, "axis", 1);
  int64_t length = typeOf(*x).getDimSize(axis);
  if (ic.numInputs(node) > 1) {
    FailureOr<int64_t> given = requireScalarInput(ic, node, 1, "dft_length");
    if (failed(given))
      return failure();
    if (*given < 1 || *given > kMaxTable)
      return ic.emitError(node) << "expects a dft_length from 1 to "
                                << kMaxTable << ", found " << *given;
    length = *given;
  }
  bool inverse = ic.getIntAttr(node, "inverse", 0) != 0;
  bool onesided = ic.getIntAttr(node, "onesided", 0) != 0;
  if (onesided && inverse)
    return ic.emitError(node)
           << "onesided inverse transforms are not supported";
  int64_t bins = onesided ? length / 2 + 1 : length;
  Composer c(ic, node);
  return c.bind(0, dft(c, resize(c, *x, axis, length), axis, bins, inverse));
}

/// STFT (opset 17): frames of `frame_length` every `frame_step` samples,
/// weighted by the window, each transformed: [batch, frames, bins, 2].
LogicalResult convertSTFT(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = signalInput(ic, node, 3);
  if (failed(x))
    return failure();
  RankedTensorType type = typeOf(*x);
  if (type.getRank() != 3)
    return ic.emitError(node) << "expects a signal [batch, length, 1 or 2], "
                              << "found " << type;
  int64_t length = type.getDimSize(1);
  FailureOr<int64_t> step = requireScalarInput(ic, node, 1, "frame_step");
  if (failed(step))
    return failure();
  Value window = ic.getOptionalInput(node, 2);
  int64_t frameLength = -1;
  if (ic.numInputs(node) > 3 && !node.input(3).empty()) {
    FailureOr<int64_t> given = requireScalarInput(ic, node, 3, "frame_length");
    if (failed(given))
      return failure();
    frameLength = *given;
  }
  if (window) {
    RankedTensorType w = typeOf(window);
    if (w.getRank() != 1 ||
        (frameLength >= 0 && w.getDimSize(0) != frameLength))
      return ic.emitError(node) << "expects a 1-D window of the frame length, "
                                << "found " << w;
    frameLength = w.getDimSize(0);
  }
  if (frameLength < 1 || frameLength > length || *step < 1 || *step > length)
    return ic.emitError(node)
           << "expects a frame length from 1 to the signal's " << length
           << " samples and a frame step from 1 to it, found " << frameLength
           << " and " << *step;
  int64_t frames = (length - frameLength) / *step + 1;
  if (frames > kMaxTable / frameLength)
    return ic.emitError(node)
           << "needs " << frames << " frames of " << frameLength
           << " samples; at most " << kMaxTable << " values are supported";
  bool onesided = ic.getIntAttr(node, "onesided", 1) != 0;
  int64_t bins = onesided ? frameLength / 2 + 1 : frameLength;
  Composer c(ic, node);
  // The frames as a gather of sample indices [frames, frameLength].
  SmallVector<int64_t> indices;
  indices.reserve(frames * frameLength);
  for (int64_t f = 0; f < frames; ++f)
    for (int64_t i = 0; i < frameLength; ++i)
      indices.push_back(f * *step + i);
  auto indexType =
      RankedTensorType::get({frames, frameLength}, ic.builder.getI64Type());
  Value index = ic.createConstant(
      ic.getLoc(node), DenseElementsAttr::get(indexType, ArrayRef(indices)));
  V framed = c.gather(*x, index, 1); // [batch, frames, frameLength, parts]
  if (window)
    framed = c.mul(framed, c.reshape(c.cast(window, type.getElementType()),
                                     {1, 1, frameLength, 1}));
  return c.bind(0, dft(c, framed, 2, bins, /*inverse=*/false));
}

/// MelWeightMatrix (opset 17): the [floor(dft_length / 2) + 1,
/// num_mel_bins] triangular filters of the ONNX reference (band edges
/// equally spaced in mel, mel(f) = 2595 log10(1 + f / 700), floored to DFT
/// bins).
LogicalResult convertMelWeightMatrix(ImportContext &ic, const Node &node) {
  FailureOr<int64_t> melBins = requireScalarInput(ic, node, 0, "num_mel_bins");
  FailureOr<int64_t> dftLength = requireScalarInput(ic, node, 1, "dft_length");
  FailureOr<int64_t> sampleRate =
      requireScalarInput(ic, node, 2, "sample_rate");
  FailureOr<double> lower =
      requireScalarNumber(ic, node, 3, "lower_edge_hertz");
  FailureOr<double> upper =
      requireScalarNumber(ic, node, 4, "upper_edge_hertz");
  if (failed(melBins) || failed(dftLength) || failed(sampleRate) ||
      failed(lower) || failed(upper))
    return failure();
  if (*melBins < 1 || *dftLength < 1 || *sampleRate < 1 ||
      *dftLength > kMaxTable || (*dftLength / 2 + 1) > kMaxTable / *melBins)
    return ic.emitError(node)
           << "expects positive num_mel_bins, dft_length and sample_rate "
              "whose table has at most "
           << kMaxTable << " values";
  Type element = convertElementType(ic.builder.getContext(),
                                    ic.getIntAttr(node, "output_datatype", 1));
  if (!element || !isa<FloatType>(element))
    return ic.emitError(node) << "supports float output_datatypes only";
  int64_t spectrum = *dftLength / 2 + 1;
  // The band edges as the reference computes them: the mel bounds in single
  // precision (its inputs' type), the rest in double.
  float lowMel =
      2595.0f * std::log10(1.0f + static_cast<float>(*lower) / 700.0f);
  float highMel =
      2595.0f * std::log10(1.0f + static_cast<float>(*upper) / 700.0f);
  float melStep = (highMel - lowMel) / static_cast<float>(*melBins + 2);
  SmallVector<int64_t> edges;
  for (int64_t i = 0; i < *melBins + 2; ++i) {
    double mel = static_cast<double>(i) * melStep + lowMel;
    double hz = 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
    double bin = std::floor(static_cast<double>(*dftLength + 1) * hz /
                            static_cast<double>(*sampleRate));
    if (!(bin >= 0) || bin >= static_cast<double>(spectrum))
      return ic.emitError(node)
             << "puts a band edge at DFT bin " << bin << ", outside the "
             << spectrum << " bins (check lower_edge_hertz, upper_edge_hertz "
             << "and sample_rate)";
    edges.push_back(static_cast<int64_t>(bin));
  }
  SmallVector<double> table(spectrum * *melBins, 0.0);
  for (int64_t i = 0; i < *melBins; ++i) {
    int64_t left = edges[i], center = edges[i + 1], right = edges[i + 2];
    if (center == left) {
      table[center * *melBins + i] = 1;
    } else {
      for (int64_t j = left; j <= center; ++j)
        table[j * *melBins + i] =
            static_cast<double>(j - left) / static_cast<double>(center - left);
    }
    for (int64_t j = center; j < right; ++j)
      table[j * *melBins + i] =
          static_cast<double>(right - j) / static_cast<double>(right - center);
  }
  SmallVector<Attribute> values;
  for (double v : table)
    values.push_back(ic.builder.getFloatAttr(element, v));
  auto type = RankedTensorType::get({spectrum, *melBins}, element);
  ic.setOutput(
      node, 0,
      ic.createConstant(ic.getLoc(node), DenseElementsAttr::get(type, values)));
  return success();
}

} // namespace

llvm::ArrayRef<OpConverter> onnx_import::getSpectralConverters() {
  static const OpConverter converters[] = {
      {"DFT", 17, convertDFT,
       "onesided inverse; dft_length not known at compile time"},
      {"STFT", 17, convertSTFT,
       "frame_step and frame_length not known at compile time"},
      {"MelWeightMatrix", 17, convertMelWeightMatrix,
       "inputs not known at compile time; integer output types"},
  };
  return converters;
}
