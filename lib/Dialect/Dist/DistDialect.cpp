//===- DistDialect.cpp - dist dialect registration ------------------------===//
//
// Registers the dist dialect's ops and attributes, and the set of dialects
// that dist-opt works with.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Dialect/Dist/DistOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/Extensions/ShardingExtensions.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Tensor/Extensions/ShardingExtensions.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace distopt::dist;

#include "distopt/Dialect/Dist/DistDialect.cpp.inc"
#include "distopt/Dialect/Dist/DistEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "distopt/Dialect/Dist/DistAttrs.cpp.inc"

void DistDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "distopt/Dialect/Dist/DistOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "distopt/Dialect/Dist/DistAttrs.cpp.inc"
      >();
}

Operation *DistDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                            Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, type, elements);
}

LogicalResult
DataLocationAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                         DataStorage storage, StringRef path, int64_t offset,
                         int64_t length) {
  if (storage == DataStorage::Zero) {
    if (!path.empty())
      return emitError() << "expects an empty data path for zero storage, "
                            "found '"
                         << path << "'";
    if (offset != 0)
      return emitError() << "expects data offset 0 for zero storage, found "
                         << offset;
  } else if (path.empty()) {
    return emitError() << "expects a non-empty data path";
  }
  if (offset < 0)
    return emitError() << "expects a non-negative data offset, found "
                       << offset;
  if (length < 0)
    return emitError() << "expects a non-negative data length, found "
                       << length;
  return success();
}

void distopt::registerAllDialects(DialectRegistry &registry) {
  registry.insert<DistDialect, func::FuncDialect, arith::ArithDialect,
                  tensor::TensorDialect, shard::ShardDialect>();
  dist::registerShardingInterfaceExternalModels(registry);
  dist::registerGradientInterfaceExternalModels(registry);
  func::registerShardingInterfaceExternalModels(registry);
  tensor::registerShardingInterfaceExternalModels(registry);
}
