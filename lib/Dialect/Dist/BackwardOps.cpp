//===- BackwardOps.cpp - verifiers of the dist backward ops ---------------===//
//
// The backward ops (gather_grad, conv2d_grad_input, conv2d_grad_filter,
// pool2d_grad) state their result type; each verifier checks it against
// the forward op that it is the adjoint of.
//
//===----------------------------------------------------------------------===//

#include "WindowShape.h"
#include "distopt/Dialect/Dist/DistOps.h"

#include "mlir/IR/Diagnostics.h"

using namespace mlir;
using namespace distopt::dist;
using distopt::dist::detail::checkWindowAttrs;
using distopt::dist::detail::windowOutputSize;

static RankedTensorType ranked(Value v) {
  return cast<RankedTensorType>(v.getType());
}

LogicalResult GatherGradOp::verify() {
  RankedTensorType grad = ranked(getGrad()), result = ranked(getResult());
  int64_t axis = getAxis();
  if (axis < 0 || axis >= result.getRank())
    return emitOpError("expects axis in [0, ")
           << result.getRank() << "), found " << axis;
  if (grad.getElementType() != result.getElementType())
    return emitOpError("expects grad and result of one element type, found ")
           << grad.getElementType() << " and " << result.getElementType();
  SmallVector<int64_t> expected(result.getShape().take_front(axis));
  llvm::append_range(expected, getIndices().getType().getShape());
  llvm::append_range(expected, result.getShape().drop_front(axis + 1));
  if (grad.getShape() != ArrayRef<int64_t>(expected))
    return emitOpError("expects grad of the gather's result type ")
           << grad.clone(expected) << ", found " << grad;
  return detail::verifyRowAxes(*this, getRowAxes());
}

/// Checks that a conv2d of `input` with `filter` (shapes) and `op`'s window
/// attributes gives `grad`'s shape.
template <typename OpT>
static LogicalResult verifyConvShapes(OpT op, RankedTensorType input,
                                      RankedTensorType filter,
                                      RankedTensorType grad) {
  if (failed(checkWindowAttrs(op.getLoc(), op.getStrides(), op.getPads(),
                              op.getDilations())))
    return failure();
  if (input.getElementType() != filter.getElementType() ||
      input.getElementType() != grad.getElementType())
    return op.emitOpError("expects operands and result of one element type");
  int64_t group = op.getGroup(), c = input.getDimSize(1),
          o = filter.getDimSize(0);
  if (group <= 0 || c % group != 0 || o % group != 0 ||
      filter.getDimSize(1) != c / group)
    return op.emitOpError("expects group ")
           << group << " to divide input channels " << c
           << " and output channels " << o << ", with " << c / group
           << " filter input channels, found " << filter.getDimSize(1);
  ArrayRef<int64_t> s = op.getStrides(), p = op.getPads(),
                    d = op.getDilations();
  int64_t oh = windowOutputSize(input.getDimSize(2), filter.getDimSize(2), s[0],
                                p[0], p[2], d[0], false);
  int64_t ow = windowOutputSize(input.getDimSize(3), filter.getDimSize(3), s[1],
                                p[1], p[3], d[1], false);
  SmallVector<int64_t> expected{input.getDimSize(0), o, oh, ow};
  if (grad.getShape() != ArrayRef<int64_t>(expected))
    return op.emitOpError("expects grad of the convolution's result type ")
           << grad.clone(expected) << ", found " << grad;
  return success();
}

LogicalResult Conv2DGradInputOp::verify() {
  return verifyConvShapes(*this, ranked(getResult()), ranked(getFilter()),
                          ranked(getGrad()));
}

LogicalResult Conv2DGradFilterOp::verify() {
  return verifyConvShapes(*this, ranked(getInput()), ranked(getResult()),
                          ranked(getGrad()));
}

LogicalResult Pool2DGradOp::verify() {
  RankedTensorType input = ranked(getInput()), grad = ranked(getGrad());
  ArrayRef<int64_t> kernel = getKernel();
  if (kernel.size() != 2 ||
      llvm::any_of(kernel, [](int64_t k) { return k <= 0; }))
    return emitOpError("expects 2 positive kernel sizes");
  if (failed(
          checkWindowAttrs(getLoc(), getStrides(), getPads(), getDilations())))
    return failure();
  if (input.getElementType() != grad.getElementType())
    return emitOpError("expects grad and input of one element type");
  ArrayRef<int64_t> s = getStrides(), p = getPads(), d = getDilations();
  bool ceil = getCeilMode();
  int64_t oh = windowOutputSize(input.getDimSize(2), kernel[0], s[0], p[0],
                                p[2], d[0], ceil);
  int64_t ow = windowOutputSize(input.getDimSize(3), kernel[1], s[1], p[1],
                                p[3], d[1], ceil);
  SmallVector<int64_t> expected{input.getDimSize(0), input.getDimSize(1), oh,
                                ow};
  if (grad.getShape() != ArrayRef<int64_t>(expected))
    return emitOpError("expects grad of the pooling's result type ")
           << grad.clone(expected) << ", found " << grad;
  return success();
}
