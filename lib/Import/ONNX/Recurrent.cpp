//===- Recurrent.cpp - ONNX RNN, GRU and LSTM unrolled over time ----------===//
//
// The sequence length of a recurrent node is static, so the importer
// unrolls it: the input projection of every time step is one matmul (X
// times W^T, both biases added), then each step is a matmul of the previous
// hidden state with R^T and the gates' elementwise formulas (ONNX's
// equations, gate orders z r h for GRU and i o f c for LSTM, the
// activations, clip, linear_before_reset, input_forget, peepholes, both
// directions, layout 0 and 1). Every step is the same ops, so the planner's
// layer detection sees the steps as repeated layers; matmuls, slices and
// elementwise ops have sharding rules (batch and hidden dims split), costs,
// kernels and gradient rules, so a recurrent model partitions and trains.
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

enum class Cell { Rnn, Gru, Lstm };

/// One activation of ONNX's list, with its parameters.
struct Activation {
  std::string name;
  float alpha = 0, beta = 0;
};

/// The activations of a recurrent node per direction (`perDirection` of
/// them each: 1 for RNN, 2 for GRU, 3 for LSTM), with their defaults and
/// ONNX's default alpha/beta of those that take them.
FailureOr<SmallVector<Activation>>
activations(ImportContext &ic, const Node &node, Cell cell, int directions) {
  SmallVector<std::string> names;
  if (const onnx::AttributeProto *a = ic.findAttr(node, "activations"))
    names.assign(a->strings().begin(), a->strings().end());
  size_t perDirection = cell == Cell::Rnn ? 1 : cell == Cell::Gru ? 2 : 3;
  if (names.empty()) {
    SmallVector<std::string> defaults =
        cell == Cell::Rnn ? SmallVector<std::string>{"Tanh"}
        : cell == Cell::Gru
            ? SmallVector<std::string>{"Sigmoid", "Tanh"}
            : SmallVector<std::string>{"Sigmoid", "Tanh", "Tanh"};
    for (int d = 0; d < directions; ++d)
      llvm::append_range(names, defaults);
  }
  if (names.size() != perDirection * directions)
    return ic.emitError(node) << "expects " << perDirection * directions
                              << " activations, found " << names.size();
  SmallVector<float> alphas, betas;
  if (const onnx::AttributeProto *a = ic.findAttr(node, "activation_alpha"))
    alphas.assign(a->floats().begin(), a->floats().end());
  if (const onnx::AttributeProto *a = ic.findAttr(node, "activation_beta"))
    betas.assign(a->floats().begin(), a->floats().end());
  // Parameters are consumed in order by the activations that take them.
  size_t nextAlpha = 0, nextBeta = 0;
  SmallVector<Activation> result;
  for (std::string &name : names) {
    Activation act;
    act.name = name;
    static const struct {
      const char *name;
      bool alpha, beta;
      float alphaDefault, betaDefault;
    } params[] = {{"Affine", true, true, 1.0f, 0.0f},
                  {"LeakyRelu", true, false, 0.01f, 0.0f},
                  {"ThresholdedRelu", true, false, 1.0f, 0.0f},
                  {"ScaledTanh", true, true, 1.0f, 1.0f},
                  {"HardSigmoid", true, true, 0.2f, 0.5f},
                  {"Elu", true, false, 1.0f, 0.0f}};
    for (const auto &p : params) {
      if (name != p.name)
        continue;
      act.alpha =
          nextAlpha < alphas.size() ? alphas[nextAlpha++] : p.alphaDefault;
      if (p.beta)
        act.beta = nextBeta < betas.size() ? betas[nextBeta++] : p.betaDefault;
    }
    result.push_back(act);
  }
  return result;
}

/// `act` applied to `x`.
V activate(Composer &c, const Activation &act, V x) {
  if (failed(x))
    return failure();
  Type element = typeOf(*x).getElementType();
  Builder &b = c.ic.builder;
  auto withParams = [&](UnaryKind kind, bool beta) -> V {
    return c.ic.create<UnaryOp>(c.node, kind, *x, b.getF32FloatAttr(act.alpha),
                                beta ? b.getF32FloatAttr(act.beta)
                                     : FloatAttr());
  };
  const std::string &n = act.name;
  if (n == "Sigmoid")
    return c.unary(UnaryKind::Sigmoid, x);
  if (n == "Tanh")
    return c.unary(UnaryKind::Tanh, x);
  if (n == "Relu")
    return c.unary(UnaryKind::Relu, x);
  if (n == "Softsign")
    return c.unary(UnaryKind::Softsign, x);
  if (n == "Softplus")
    return c.unary(UnaryKind::Softplus, x);
  if (n == "LeakyRelu")
    return withParams(UnaryKind::LeakyRelu, false);
  if (n == "ThresholdedRelu")
    return withParams(UnaryKind::ThresholdedRelu, false);
  if (n == "Elu")
    return withParams(UnaryKind::Elu, false);
  if (n == "HardSigmoid")
    return withParams(UnaryKind::HardSigmoid, true);
  if (n == "Affine")
    return c.add(c.mul(x, c.scalar(element, act.alpha)),
                 c.scalar(element, act.beta));
  if (n == "ScaledTanh")
    return c.mul(
        c.unary(UnaryKind::Tanh, c.mul(x, c.scalar(element, act.beta))),
        c.scalar(element, act.alpha));
  return c.ic.emitError(c.node) << "unknown activation '" << n << "'";
}

/// Rows [first, first + count) of a 2-D value.
V rows(Composer &c, V x, int64_t first, int64_t count) {
  if (failed(x))
    return failure();
  return c.slice(x, {first, 0}, {count, typeOf(*x).getDimSize(1)});
}

/// Columns [first, first + count) of a 2-D value.
V columns(Composer &c, V x, int64_t first, int64_t count) {
  if (failed(x))
    return failure();
  return c.slice(x, {0, first}, {typeOf(*x).getDimSize(0), count});
}

V matmul(Composer &c, V a, V b) {
  if (failed(a) || failed(b))
    return failure();
  return c.ic.create<MatMulOp>(c.node, *a, *b, Value());
}

/// Direction `d` of a per-direction tensor (dirs x ...), without that dim.
V direction(Composer &c, Value x, int64_t d) {
  ArrayRef<int64_t> shape = typeOf(x).getShape();
  SmallVector<int64_t> offsets(shape.size(), 0), sizes(shape);
  offsets[0] = d;
  sizes[0] = 1;
  return c.reshape(c.slice(x, offsets, sizes), shape.drop_front());
}

ConvertFn recurrent(Cell cell) {
  return [cell](ImportContext &ic, const Node &node) -> LogicalResult {
    FailureOr<Value> x = ic.getInput(node, 0), w = ic.getInput(node, 1),
                     r = ic.getInput(node, 2);
    if (failed(x) || failed(w) || failed(r) ||
        failed(requireFloat(ic, node, *x)))
      return failure();
    int64_t gates = cell == Cell::Rnn ? 1 : cell == Cell::Gru ? 3 : 4;
    int64_t hidden = ic.getIntAttr(node, "hidden_size", 0);
    std::string dirName = ic.getStringAttr(node, "direction", "forward");
    int64_t dirs = dirName == "bidirectional" ? 2 : 1;
    if (dirName != "forward" && dirName != "reverse" &&
        dirName != "bidirectional")
      return ic.emitError(node) << "unknown direction '" << dirName << "'";
    bool batchFirst = ic.getIntAttr(node, "layout", 0) != 0;
    RankedTensorType xType = typeOf(*x);
    if (xType.getRank() != 3)
      return ic.emitError(node) << "expects a 3-D input, found " << xType;
    int64_t seq = xType.getDimSize(batchFirst ? 1 : 0),
            batch = xType.getDimSize(batchFirst ? 0 : 1),
            inputSize = xType.getDimSize(2);
    Type element = xType.getElementType();
    auto expect = [&](Value v, ArrayRef<int64_t> shape,
                      StringRef what) -> LogicalResult {
      if (typeOf(v).getShape() == shape &&
          typeOf(v).getElementType() == element)
        return success();
      return ic.emitError(node) << "expects " << what << " of type "
                                << RankedTensorType::get(shape, element)
                                << ", found " << typeOf(v);
    };
    if (hidden <= 0 || hidden > (int64_t{1} << 31))
      return ic.emitError(node) << "expects a hidden_size from 1 to 2^31";
    // Every step is unrolled into the program.
    if (seq > Composer::kMaxUnrolledSteps)
      return ic.emitError(node)
             << "has a sequence of " << seq << " steps; at most "
             << Composer::kMaxUnrolledSteps << " are unrolled";
    if (seq == 0 || batch == 0)
      return ic.emitError(node) << "expects a non-empty sequence and batch";
    if (failed(expect(*w, {dirs, gates * hidden, inputSize}, "W")) ||
        failed(expect(*r, {dirs, gates * hidden, hidden}, "R")))
      return failure();
    Value bias = ic.getOptionalInput(node, 3);
    Value initialH = ic.getOptionalInput(node, 5);
    Value initialC =
        cell == Cell::Lstm ? ic.getOptionalInput(node, 6) : Value();
    Value peephole =
        cell == Cell::Lstm ? ic.getOptionalInput(node, 7) : Value();
    SmallVector<int64_t> stateShape =
        batchFirst ? SmallVector<int64_t>{batch, dirs, hidden}
                   : SmallVector<int64_t>{dirs, batch, hidden};
    if ((bias && failed(expect(bias, {dirs, 2 * gates * hidden}, "B"))) ||
        (initialH && failed(expect(initialH, stateShape, "initial_h"))) ||
        (initialC && failed(expect(initialC, stateShape, "initial_c"))) ||
        (peephole && failed(expect(peephole, {dirs, 3 * hidden}, "P"))))
      return failure();
    if (ic.numInputs(node) > 4 && !node.input(4).empty()) {
      FailureOr<SmallVector<int64_t>> lens =
          ic.requireIntsInput(node, 4, "the sequence lengths");
      if (failed(lens))
        return failure();
      for (int64_t len : *lens)
        if (len != seq)
          return ic.emitError(node)
                 << "sequence_lens other than the sequence length (" << seq
                 << ") are not supported, found " << len;
    }
    FailureOr<SmallVector<Activation>> acts = activations(ic, node, cell, dirs);
    if (failed(acts))
      return failure();
    std::optional<float> clip;
    if (ic.findAttr(node, "clip"))
      clip = ic.getFloatAttr(node, "clip", 0.0f);
    bool linearBeforeReset = ic.getIntAttr(node, "linear_before_reset", 0) != 0;
    bool inputForget = ic.getIntAttr(node, "input_forget", 0) != 0;

    Composer c(ic, node);
    auto clipped = [&](V v) -> V {
      if (!clip)
        return v;
      V lo = c.binary(BinaryKind::Max, v, c.scalar(element, -*clip));
      return c.binary(BinaryKind::Min, lo, c.scalar(element, *clip));
    };
    // Time-major: T x B x I, states dirs x B x H.
    V input = batchFirst ? c.transpose(*x, {1, 0, 2}) : V(*x);
    auto toDirsFirst = [&](Value v) -> V {
      return batchFirst ? c.transpose(v, {1, 0, 2}) : V(v);
    };
    V h0 = initialH ? toDirsFirst(initialH) : V(Value());
    V c0 = initialC ? toDirsFirst(initialC) : V(Value());
    if (failed(input) || failed(h0) || failed(c0))
      return failure();
    int64_t gh = gates * hidden;
    SmallVector<V> ys(dirs), lastH(dirs), lastC(dirs);
    for (int64_t d = 0; d < dirs; ++d) {
      bool reverse = dirName == "reverse" || d == 1;
      ArrayRef<Activation> act =
          ArrayRef(*acts).slice(d * (acts->size() / dirs), acts->size() / dirs);
      V wT = c.transpose(direction(c, *w, d), {1, 0}); // I x G*H
      V rT = c.transpose(direction(c, *r, d), {1, 0}); // H x G*H
      // Every step's input projection at once: (T*B) x G*H.
      V projected = matmul(c, c.reshape(input, {seq * batch, inputSize}), wT);
      V wb, rb;
      if (bias) {
        V b = direction(c, bias, d);
        wb = c.reshape(c.slice(b, {0}, {gh}), {1, gh});
        rb = c.reshape(c.slice(b, {gh}, {gh}), {1, gh});
        projected = c.add(projected, wb);
      }
      V h = h0.value() ? direction(c, *h0, d)
                       : c.broadcast(c.scalar(element, 0), {batch, hidden});
      V cs = cell == Cell::Lstm
                 ? (c0.value()
                        ? direction(c, *c0, d)
                        : c.broadcast(c.scalar(element, 0), {batch, hidden}))
                 : V(Value());
      V peep = peephole ? direction(c, peephole, d) : V(Value());
      // `pre` plus peephole k times the cell state, when there are
      // peepholes.
      auto withPeephole = [&](V pre, int64_t k, V state) -> V {
        if (!peephole)
          return pre;
        return c.add(pre, c.mul(c.reshape(c.slice(peep, {k * hidden}, {hidden}),
                                          {1, hidden}),
                                state));
      };
      SmallVector<V> outputs(seq);
      for (int64_t step = 0; step < seq; ++step) {
        int64_t t = reverse ? seq - 1 - step : step;
        V xt = rows(c, projected, t * batch, batch); // B x G*H
        auto gate = [&](V all, int64_t k) {
          return columns(c, all, k * hidden, hidden);
        };
        switch (cell) {
        case Cell::Rnn: {
          V pre = c.add(xt, matmul(c, h, rT));
          if (bias)
            pre = c.add(pre, rb);
          h = activate(c, act[0], clipped(pre));
          break;
        }
        case Cell::Gru: {
          // z and r from h R^T; the candidate per linear_before_reset.
          V rzr = columns(c, rT, 0, 2 * hidden),
            rh = columns(c, rT, 2 * hidden, hidden);
          V hr = matmul(c, h, rzr);
          if (bias)
            hr = c.add(hr, columns(c, rb, 0, 2 * hidden));
          V z = activate(c, act[0], clipped(c.add(gate(xt, 0), gate(hr, 0))));
          V rg = activate(c, act[0], clipped(c.add(gate(xt, 1), gate(hr, 1))));
          V rbh = bias ? columns(c, rb, 2 * hidden, hidden) : V(Value());
          V candidate;
          if (linearBeforeReset) {
            V lin = matmul(c, h, rh);
            if (bias)
              lin = c.add(lin, rbh);
            candidate = c.add(gate(xt, 2), c.mul(rg, lin));
          } else {
            V lin = matmul(c, c.mul(rg, h), rh);
            if (bias)
              lin = c.add(lin, rbh);
            candidate = c.add(gate(xt, 2), lin);
          }
          V hc = activate(c, act[1], clipped(candidate));
          // (1 - z) hc + z h = hc + z (h - hc)
          h = c.add(hc, c.mul(z, c.sub(h, hc)));
          break;
        }
        case Cell::Lstm: {
          V pre = c.add(xt, matmul(c, h, rT));
          if (bias)
            pre = c.add(pre, rb);
          V i = activate(c, act[0], clipped(withPeephole(gate(pre, 0), 0, cs)));
          V f = inputForget
                    ? c.sub(c.scalar(element, 1), i)
                    : activate(c, act[0],
                               clipped(withPeephole(gate(pre, 2), 2, cs)));
          V g = activate(c, act[1], clipped(gate(pre, 3)));
          cs = c.add(c.mul(f, cs), c.mul(i, g));
          V o = activate(c, act[0], clipped(withPeephole(gate(pre, 1), 1, cs)));
          h = c.mul(o, activate(c, act[2], cs));
          break;
        }
        }
        if (failed(h) || failed(cs))
          return failure();
        outputs[t] = c.reshape(h, {1, 1, batch, hidden});
      }
      ys[d] = c.concat(outputs, 0); // T x 1 x B x H
      lastH[d] = c.reshape(h, {1, batch, hidden});
      if (cell == Cell::Lstm)
        lastC[d] = c.reshape(cs, {1, batch, hidden});
    }
    auto both = [&](ArrayRef<V> parts, int64_t axis) -> V {
      return parts.size() == 1 ? parts[0] : c.concat(parts, axis);
    };
    V y = both(ys, 1), yh = both(lastH, 0);
    V yc = cell == Cell::Lstm ? both(lastC, 0) : V(Value());
    if (batchFirst) {
      y = c.transpose(y, {2, 0, 1, 3}); // B x T x dirs x H
      yh = c.transpose(yh, {1, 0, 2});
      if (cell == Cell::Lstm)
        yc = c.transpose(yc, {1, 0, 2});
    }
    if (failed(y) || failed(yh) || failed(yc))
      return failure();
    ic.setOutput(node, 0, *y);
    ic.setOutput(node, 1, *yh);
    if (cell == Cell::Lstm)
      ic.setOutput(node, 2, *yc);
    return success();
  };
}

} // namespace

ArrayRef<OpConverter> onnx_import::getRecurrentConverters() {
  static const OpConverter converters[] = {
      {"RNN", 7, recurrent(Cell::Rnn),
       "sequence_lens other than the sequence length"},
      {"GRU", 7, recurrent(Cell::Gru),
       "sequence_lens other than the sequence length"},
      {"LSTM", 7, recurrent(Cell::Lstm),
       "sequence_lens other than the sequence length"},
  };
  return converters;
}
