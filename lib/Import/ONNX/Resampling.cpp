//===- Resampling.cpp - ONNX Resize and Upsample lowered to gathers -------===//
//
// Resize (and the older Upsample) with compile-time scales or sizes is
// separable and linear in its input: along each resized axis, output
// position i is a weighted sum of a few input positions (1 for nearest, 2
// for linear, 4 for cubic), with positions and weights that depend on i
// only. The importer computes them, following the ONNX reference
// (onnx/backend/test/case/node/resize.py: coordinate transformation,
// neighbours of the edge-padded input, nearest modes, cubic coefficients
// with `cubic_coeff_a`, `exclude_outside`, the extrapolation value of
// tf_crop_and_resize), and emits per axis one dist.gather of the input per
// tap, times a constant weight along the axis, summed. Gathers, products and
// sums have sharding rules, costs, kernels and gradient rules, so a resize
// partitions (batch and channels split freely) and trains.
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

enum class Interpolation { Nearest, Linear, Cubic };
enum class Transform {
  HalfPixel,
  PytorchHalfPixel,
  AlignCorners,
  Asymmetric,
  TfHalfPixelForNN,
  TfCropAndResize
};
enum class NearestMode { RoundPreferFloor, RoundPreferCeil, Floor, Ceil };

struct ResizeSpec {
  Interpolation interpolation = Interpolation::Nearest;
  Transform transform = Transform::HalfPixel;
  NearestMode nearest = NearestMode::RoundPreferFloor;
  double cubicA = -0.75;
  bool excludeOutside = false;
  double extrapolation = 0.0;
};

/// The resampling of one axis: per tap, the input position each output
/// position reads and its weight; and the output positions outside the
/// input (tf_crop_and_resize), which take the extrapolation value.
struct AxisTable {
  SmallVector<SmallVector<int64_t>> index;
  SmallVector<SmallVector<double>> weight;
  SmallVector<bool> outside;

  /// Output position i is input position i, whole.
  bool isIdentity() const {
    for (size_t i = 0; i < outside.size(); ++i) {
      if (outside[i])
        return false;
      double self = 0;
      for (size_t t = 0; t < index.size(); ++t) {
        if (index[t][i] == static_cast<int64_t>(i))
          self += weight[t][i];
        else if (weight[t][i] != 0)
          return false;
      }
      if (self != 1)
        return false;
    }
    return true;
  }
};

/// The coefficients of the taps at `ratio` (ONNX reference's
/// nearest_coeffs, linear_coeffs, cubic_coeffs).
SmallVector<double> coefficients(const ResizeSpec &s, double ratio,
                                 bool integral) {
  switch (s.interpolation) {
  case Interpolation::Nearest:
    if (integral)
      return {0, 1};
    switch (s.nearest) {
    case NearestMode::RoundPreferFloor:
      return {ratio <= 0.5 ? 1.0 : 0.0, ratio > 0.5 ? 1.0 : 0.0};
    case NearestMode::RoundPreferCeil:
      return {ratio < 0.5 ? 1.0 : 0.0, ratio >= 0.5 ? 1.0 : 0.0};
    case NearestMode::Floor:
      return {1, 0};
    case NearestMode::Ceil:
      return {0, 1};
    }
    break;
  case Interpolation::Linear:
    return {1 - ratio, ratio};
  case Interpolation::Cubic: {
    double a = s.cubicA, r = ratio, q = 1 - ratio;
    return {((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
            ((a + 2) * r - (a + 3)) * r * r + 1,
            ((a + 2) * q - (a + 3)) * q * q + 1,
            ((a * (q + 1) - 5 * a) * (q + 1) + 8 * a) * (q + 1) - 4 * a};
  }
  }
  llvm_unreachable("unknown interpolation");
}

/// The table of an axis of `in` positions resized to `out` by `scale`
/// (ONNX reference's interpolate_1d_with_x for every output position).
AxisTable axisTable(const ResizeSpec &s, int64_t in, int64_t out, double scale,
                    double roiStart, double roiEnd) {
  // The reference's output width is scale * in, not the rounded size.
  double width = scale * static_cast<double>(in);
  size_t taps = s.interpolation == Interpolation::Cubic ? 4 : 2;
  AxisTable table;
  table.index.assign(taps, SmallVector<int64_t>(out, 0));
  table.weight.assign(taps, SmallVector<double>(out, 0.0));
  table.outside.assign(out, false);
  for (int64_t i = 0; i < out; ++i) {
    double x = static_cast<double>(i), origin = 0;
    switch (s.transform) {
    case Transform::AlignCorners:
      origin = width == 1 ? 0.0 : x * (in - 1) / (width - 1);
      break;
    case Transform::Asymmetric:
      origin = x / scale;
      break;
    case Transform::TfCropAndResize:
      origin = width == 1 ? (roiEnd - roiStart) * (in - 1) / 2
                          : x * (roiEnd - roiStart) * (in - 1) / (width - 1);
      origin += roiStart * (in - 1);
      if (origin < 0 || origin > in - 1) {
        table.outside[i] = true;
        continue;
      }
      break;
    case Transform::PytorchHalfPixel:
      origin = width == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
      break;
    case Transform::HalfPixel:
      origin = (x + 0.5) / scale - 0.5;
      break;
    case Transform::TfHalfPixelForNN:
      origin = (x + 0.5) / scale;
      break;
    }
    // A roi far outside the input (or not a number) reads its edge; the
    // bound keeps the position an integer.
    if (std::isnan(origin))
      origin = 0;
    origin = std::clamp(origin, -1e12, 1e12);
    double floor = std::floor(origin);
    bool integral = origin == floor;
    // At an integral origin the reference's ratio is 1 and the taps end
    // there, so they start one earlier.
    double ratio = integral ? 1.0 : origin - floor;
    int64_t base = static_cast<int64_t>(floor) - (integral ? 1 : 0);
    int64_t first = taps == 4 ? base - 1 : base;
    SmallVector<double> c = coefficients(s, ratio, integral);
    if (s.excludeOutside) {
      double sum = 0;
      for (size_t t = 0; t < taps; ++t) {
        int64_t p = first + static_cast<int64_t>(t);
        if (p < 0 || p >= in)
          c[t] = 0;
        sum += c[t];
      }
      for (double &v : c)
        v = sum != 0 ? v / sum : 0;
    }
    for (size_t t = 0; t < taps; ++t) {
      // Positions outside the input read its edge (the reference pads it
      // with its edge values).
      table.index[t][i] =
          std::clamp<int64_t>(first + static_cast<int64_t>(t), 0, in - 1);
      table.weight[t][i] = c[t];
    }
  }
  return table;
}

/// Resamples `x` to `outShape` with `scales` per axis (`roi` starts then
/// ends, for tf_crop_and_resize).
LogicalResult resample(Composer &c, Value x, const ResizeSpec &spec,
                       ArrayRef<int64_t> outShape, ArrayRef<double> scales,
                       ArrayRef<double> roi) {
  ImportContext &ic = c.ic;
  const Node &node = c.node;
  RankedTensorType type = typeOf(x);
  int64_t rank = type.getRank();
  Type element = type.getElementType();
  if (spec.interpolation != Interpolation::Nearest && !isa<FloatType>(element))
    return ic.emitError(node)
           << "expects float elements for linear and cubic resizing, found "
           << element;
  V y = x;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t in = type.getDimSize(d), out = outShape[d];
    if (in == 0 || out == 0)
      return ic.emitError(node) << "cannot resize axis " << d << " from " << in
                                << " to " << out << " elements";
    if (out > Composer::kMaxIndexRange)
      return ic.emitError(node)
             << "resizes axis " << d << " to " << out << " elements; at most "
             << Composer::kMaxIndexRange << " are supported";
    AxisTable table =
        axisTable(spec, in, out, scales[d], roi[d], roi[rank + d]);
    if (in == out && table.isIdentity())
      continue;
    SmallVector<int64_t> weightShape(rank, 1);
    weightShape[d] = out;
    auto weightType = RankedTensorType::get(weightShape, element);
    auto indexType = RankedTensorType::get({out}, ic.builder.getI64Type());
    V sum = Value();
    for (size_t t = 0; t < table.index.size(); ++t) {
      if (llvm::all_of(table.weight[t], [](double w) { return w == 0; }))
        continue;
      V taken =
          c.gather(y,
                   ic.createConstant(ic.getLoc(node),
                                     DenseElementsAttr::get(
                                         indexType, ArrayRef(table.index[t]))),
                   d);
      V term = taken;
      if (!llvm::all_of(table.weight[t], [](double w) { return w == 1; })) {
        SmallVector<Attribute> weights;
        for (double w : table.weight[t])
          weights.push_back(ic.builder.getFloatAttr(element, w));
        term = c.mul(taken, ic.createConstant(
                                ic.getLoc(node),
                                DenseElementsAttr::get(weightType, weights)));
      }
      sum = *sum ? c.add(sum, term) : term;
      if (failed(sum))
        return failure();
    }
    SmallVector<int64_t> shape(typeOf(*y).getShape());
    shape[d] = out;
    if (!*sum) // Every position outside: the extrapolation value alone.
      sum = c.broadcast(c.scalar(element, 0), shape);
    if (llvm::any_of(table.outside, [](bool b) { return b; })) {
      SmallVector<Attribute> fill;
      for (bool outside : table.outside)
        fill.push_back(ic.builder.getFloatAttr(
            element, outside ? spec.extrapolation : 0.0));
      sum = c.add(sum,
                  ic.createConstant(ic.getLoc(node),
                                    DenseElementsAttr::get(weightType, fill)));
    }
    y = sum;
    if (failed(y))
      return failure();
  }
  return c.bind(0, y);
}

/// A float vector input known at compile time (scales, roi); empty when
/// the node omits it or gives an empty tensor.
FailureOr<SmallVector<double>> floatsInput(ImportContext &ic, const Node &node,
                                           int index, StringRef what) {
  if (ic.numInputs(node) <= index || node.input(index).empty())
    return SmallVector<double>{};
  FailureOr<DenseElementsAttr> value =
      ic.requireConstantInput(node, index, what);
  if (failed(value))
    return failure();
  SmallVector<double> values;
  if (!isa<FloatType>(value->getElementType()))
    return ic.emitError(node)
           << "expects float " << what << ", found " << value->getElementType();
  for (APFloat v : value->getValues<APFloat>())
    values.push_back(v.convertToDouble());
  return values;
}

/// The output shape and per-axis scales from `scales` or `sizes` (one of
/// them given).
LogicalResult outputShape(ImportContext &ic, const Node &node,
                          ArrayRef<int64_t> in, ArrayRef<double> scalesIn,
                          ArrayRef<int64_t> sizes, SmallVector<int64_t> &out,
                          SmallVector<double> &scales) {
  size_t rank = in.size();
  if (scalesIn.empty() == sizes.empty())
    return ic.emitError(node)
           << "expects either scales or sizes, "
           << (scalesIn.empty() ? "found neither" : "found both");
  if (!scalesIn.empty()) {
    if (scalesIn.size() != rank)
      return ic.emitError(node)
             << "expects " << rank << " scales, found " << scalesIn.size();
    for (auto [d, s] : llvm::enumerate(scalesIn)) {
      double size = std::floor(s * static_cast<double>(in[d]));
      if (!(s > 0) || !std::isfinite(s) || size > double(int64_t{1} << 40))
        return ic.emitError(node)
               << "expects positive finite scales, found " << s;
      out.push_back(static_cast<int64_t>(size));
      scales.push_back(s);
    }
    return success();
  }
  if (sizes.size() != rank)
    return ic.emitError(node)
           << "expects " << rank << " sizes, found " << sizes.size();
  for (auto [d, size] : llvm::enumerate(sizes)) {
    if (size <= 0)
      return ic.emitError(node) << "expects positive sizes, found " << size;
    out.push_back(size);
    scales.push_back(static_cast<double>(size) / static_cast<double>(in[d]));
  }
  return success();
}

FailureOr<ResizeSpec> resizeSpec(ImportContext &ic, const Node &node,
                                 bool legacy) {
  ResizeSpec s;
  std::string mode = ic.getStringAttr(node, "mode", "nearest");
  if (mode == "nearest")
    s.interpolation = Interpolation::Nearest;
  else if (mode == "linear" || (legacy && mode == "bilinear"))
    s.interpolation = Interpolation::Linear;
  else if (mode == "cubic" && !legacy)
    s.interpolation = Interpolation::Cubic;
  else
    return ic.emitError(node) << "unknown mode '" << mode << "'";
  if (legacy) {
    // Upsample and Resize-10: x / scale, the floor of it for nearest.
    s.transform = Transform::Asymmetric;
    s.nearest = NearestMode::Floor;
    return s;
  }
  std::string transform =
      ic.getStringAttr(node, "coordinate_transformation_mode", "half_pixel");
  static const std::pair<const char *, Transform> transforms[] = {
      {"half_pixel", Transform::HalfPixel},
      {"pytorch_half_pixel", Transform::PytorchHalfPixel},
      {"align_corners", Transform::AlignCorners},
      {"asymmetric", Transform::Asymmetric},
      {"tf_half_pixel_for_nn", Transform::TfHalfPixelForNN},
      {"tf_crop_and_resize", Transform::TfCropAndResize}};
  auto t =
      llvm::find_if(transforms, [&](auto &p) { return transform == p.first; });
  if (t == std::end(transforms))
    return ic.emitError(node)
           << "unknown coordinate_transformation_mode '" << transform << "'";
  s.transform = t->second;
  std::string nearest =
      ic.getStringAttr(node, "nearest_mode", "round_prefer_floor");
  if (nearest == "round_prefer_floor")
    s.nearest = NearestMode::RoundPreferFloor;
  else if (nearest == "round_prefer_ceil")
    s.nearest = NearestMode::RoundPreferCeil;
  else if (nearest == "floor")
    s.nearest = NearestMode::Floor;
  else if (nearest == "ceil")
    s.nearest = NearestMode::Ceil;
  else
    return ic.emitError(node) << "unknown nearest_mode '" << nearest << "'";
  s.cubicA = ic.getFloatAttr(node, "cubic_coeff_a", -0.75f);
  s.excludeOutside = ic.getIntAttr(node, "exclude_outside", 0) != 0;
  s.extrapolation = ic.getFloatAttr(node, "extrapolation_value", 0.0f);
  return s;
}

/// Resize of opset 11 and later: X, roi, scales, sizes; of opset 10 (and
/// Upsample since 9): X, scales.
ConvertFn resize(bool legacy) {
  return [legacy](ImportContext &ic, const Node &node) -> LogicalResult {
    FailureOr<Value> x = ic.getInput(node, 0);
    if (failed(x))
      return failure();
    RankedTensorType type = typeOf(*x);
    int64_t rank = type.getRank();
    FailureOr<ResizeSpec> spec = resizeSpec(ic, node, legacy);
    if (failed(spec))
      return failure();
    FailureOr<SmallVector<double>> roi = SmallVector<double>{};
    FailureOr<SmallVector<double>> scales =
        floatsInput(ic, node, legacy ? 1 : 2, "the scales");
    if (!legacy)
      roi = floatsInput(ic, node, 1, "the roi");
    if (failed(scales) || failed(roi))
      return failure();
    SmallVector<int64_t> sizes;
    if (!legacy && ic.numInputs(node) > 3 && !node.input(3).empty()) {
      FailureOr<SmallVector<int64_t>> s =
          ic.requireIntsInput(node, 3, "the sizes");
      if (failed(s))
        return failure();
      sizes = *s;
    }
    if (spec->transform != Transform::TfCropAndResize || roi->empty()) {
      roi->assign(rank, 0.0);
      roi->append(rank, 1.0);
    } else if (static_cast<int64_t>(roi->size()) != 2 * rank) {
      return ic.emitError(node)
             << "expects " << 2 * rank
             << " roi values (starts, then ends), found " << roi->size();
    }
    SmallVector<int64_t> out;
    SmallVector<double> perAxis;
    if (failed(outputShape(ic, node, type.getShape(), *scales, sizes, out,
                           perAxis)))
      return failure();
    Composer c(ic, node);
    return resample(c, *x, *spec, out, perAxis, *roi);
  };
}

/// Upsample of opset 7: the scales are an attribute.
LogicalResult convertUpsample7(ImportContext &ic, const Node &node) {
  FailureOr<Value> x = ic.getInput(node, 0);
  if (failed(x))
    return failure();
  FailureOr<ResizeSpec> spec = resizeSpec(ic, node, /*legacy=*/true);
  if (failed(spec))
    return failure();
  const onnx::AttributeProto *attr = ic.findAttr(node, "scales");
  if (!attr)
    return ic.emitError(node) << "expects the 'scales' attribute";
  SmallVector<double> scales(attr->floats().begin(), attr->floats().end());
  RankedTensorType type = typeOf(*x);
  SmallVector<int64_t> out;
  SmallVector<double> perAxis;
  if (failed(outputShape(ic, node, type.getShape(), scales, {}, out, perAxis)))
    return failure();
  SmallVector<double> roi(type.getRank(), 0.0);
  roi.append(type.getRank(), 1.0);
  Composer c(ic, node);
  return resample(c, *x, *spec, out, perAxis, roi);
}

} // namespace

ArrayRef<OpConverter> onnx_import::getResamplingConverters() {
  static const OpConverter converters[] = {
      {"Resize", 10, resize(/*legacy=*/true),
       "scales, sizes or roi not known at compile time; antialias"},
      {"Resize", 11, resize(/*legacy=*/false),
       "scales, sizes or roi not known at compile time; antialias"},
      {"Upsample", 7, convertUpsample7},
      {"Upsample", 9, resize(/*legacy=*/true),
       "scales not known at compile time"},
  };
  return converters;
}
