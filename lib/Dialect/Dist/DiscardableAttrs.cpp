//===- DiscardableAttrs.cpp - verifier of the dist.* attributes -----------===//
//
// The one check of the discardable attributes that the dist dialect declares
// (`discardableAttrs` in Dist.td): where each may appear and what its value
// must be. Any other `dist.*` attribute is an error, so that a mistyped name
// is reported instead of silently ignored.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Dialect/Dist/FactorAxes.h"
#include "distopt/Dialect/Dist/PipelinePhase.h"
#include "distopt/Support/Suggest.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace distopt;
using namespace distopt::dist;

/// Names of the attributes that may appear on operations, on function
/// arguments and on function results.
static constexpr StringLiteral kOperationAttrs[] = {
    DistDialect::FactorAxesAttrHelper::getNameStr(),
    DistDialect::ModelDirAttrHelper::getNameStr(),
    DistDialect::ArtifactVersionAttrHelper::getNameStr(),
    DistDialect::OnnxOpsetAttrHelper::getNameStr(),
    DistDialect::OnnxIrVersionAttrHelper::getNameStr(),
    DistDialect::OnnxProducerAttrHelper::getNameStr(),
    DistDialect::TrainAttrHelper::getNameStr(),
    DistDialect::SourceModelAttrHelper::getNameStr(),
    DistDialect::StageAttrHelper::getNameStr(),
    DistDialect::PhaseAttrHelper::getNameStr(),
    DistDialect::AdjointOfAttrHelper::getNameStr(),
    DistDialect::UpdateAttrHelper::getNameStr(),
    DistDialect::StagesAttrHelper::getNameStr(),
    DistDialect::ChunksAttrHelper::getNameStr(),
};
static constexpr StringLiteral kValueAttrs[] = {
    DistDialect::NameAttrHelper::getNameStr(),
    DistDialect::BoundaryAttrHelper::getNameStr(),
    DistDialect::AccumulateAttrHelper::getNameStr(),
};
static constexpr StringLiteral kResultAttrs[] = {
    DistDialect::NameAttrHelper::getNameStr(),
    DistDialect::LossAttrHelper::getNameStr(),
    DistDialect::GradientOfAttrHelper::getNameStr(),
    DistDialect::BoundaryAttrHelper::getNameStr(),
    DistDialect::AccumulateAttrHelper::getNameStr(),
};

/// Checks that `value` of `name` (on `what`) is an i64 of at least 0.
static LogicalResult verifyIndex(Operation *op, StringRef name, StringRef what,
                                 Attribute value) {
  auto integer = dyn_cast<IntegerAttr>(value);
  if (integer && integer.getType().isSignlessInteger(64) &&
      integer.getInt() >= 0)
    return success();
  return op->emitOpError("expects '")
         << name << "' of " << what << " to be an i64 of at least 0, found "
         << value;
}

/// The error for a `dist.*` attribute that is not declared where it was
/// found (`where` is "operation", "argument" or "result" attribute).
static LogicalResult emitUnknownAttr(Operation *op, StringRef name,
                                     StringRef where,
                                     ArrayRef<StringLiteral> declared) {
  SmallVector<StringRef> candidates(declared.begin(), declared.end());
  InFlightDiagnostic diag = op->emitOpError("carries '")
                            << name << "', which is not a dist " << where
                            << " attribute";
  if (std::optional<StringRef> best = getClosestName(
          name, candidates, std::max<unsigned>(2, name.size() / 3)))
    diag << " (did you mean '" << *best << "'?)";
  diag << "; the dist " << where << " attributes are ";
  llvm::interleaveComma(candidates, diag);
  return diag;
}

/// Checks that the module attribute `name` is on a module.
static LogicalResult verifyOnModule(Operation *op, StringRef name) {
  if (isa<ModuleOp>(op))
    return success();
  return op->emitOpError("carries '")
         << name << "', which is a module attribute";
}

/// Checks that `value` of the module attribute `name` is a non-empty string,
/// and an absolute path if `absolutePath`.
static LogicalResult verifyModuleString(Operation *op, StringRef name,
                                        Attribute value, bool absolutePath) {
  if (failed(verifyOnModule(op, name)))
    return failure();
  auto str = dyn_cast<StringAttr>(value);
  if (!str || str.getValue().empty())
    return op->emitOpError("expects '")
           << name << "' to be a non-empty string, found " << value;
  if (absolutePath && !llvm::sys::path::is_absolute(str.getValue()))
    return op->emitOpError("expects '")
           << name << "' to be an absolute folder path, found " << value;
  return success();
}

/// Checks that `value` of the module attribute `name` is a 64-bit integer of
/// at least `min`.
static LogicalResult verifyModuleInteger(Operation *op, StringRef name,
                                         Attribute value, int64_t min) {
  if (failed(verifyOnModule(op, name)))
    return failure();
  auto integer = dyn_cast<IntegerAttr>(value);
  if (!integer || !integer.getType().isSignlessInteger(64) ||
      integer.getInt() < min)
    return op->emitOpError("expects '") << name << "' to be an i64 of at least "
                                        << min << ", found " << value;
  return success();
}

/// Checks `dist.train`: a unit attribute on a function.
static LogicalResult verifyTrainAttr(Operation *op, Attribute value) {
  StringRef name = DistDialect::TrainAttrHelper::getNameStr();
  if (!isa<FunctionOpInterface>(op))
    return op->emitOpError("carries '")
           << name << "', which marks a function as a training step";
  if (!isa<UnitAttr>(value))
    return op->emitOpError("expects '")
           << name << "' to be a unit attribute, found " << value;
  return success();
}

/// Checks `dist.source_model`: a module string that is a relative path with
/// no `..` component (it is resolved against `dist.model_dir`).
static LogicalResult verifySourceModel(Operation *op, StringRef name,
                                       Attribute value) {
  if (failed(verifyModuleString(op, name, value, /*absolutePath=*/false)))
    return failure();
  StringRef path = cast<StringAttr>(value).getValue();
  bool dotDot = llvm::any_of(llvm::make_range(llvm::sys::path::begin(path),
                                              llvm::sys::path::end(path)),
                             [](StringRef part) { return part == ".."; });
  if (llvm::sys::path::is_absolute(path) || dotDot)
    return op->emitOpError("expects '")
           << name << "' to be a path relative to the model folder without "
           << "'..', found " << value;
  return success();
}

StringRef distopt::dist::getPipelinePhaseName(PipelinePhase phase) {
  switch (phase) {
  case PipelinePhase::Forward:
    return "forward";
  case PipelinePhase::Backward:
    return "backward";
  case PipelinePhase::Update:
    return "update";
  }
  return "";
}

std::optional<PipelinePhase> distopt::dist::parsePipelinePhase(StringRef name) {
  for (PipelinePhase p :
       {PipelinePhase::Forward, PipelinePhase::Backward, PipelinePhase::Update})
    if (name == getPipelinePhaseName(p))
      return p;
  return std::nullopt;
}

/// Checks `dist.phase`: "forward", "backward" or "update", on a function.
static LogicalResult verifyPhaseAttr(Operation *op, Attribute value) {
  StringRef name = DistDialect::PhaseAttrHelper::getNameStr();
  if (!isa<FunctionOpInterface>(op))
    return op->emitOpError("carries '")
           << name << "', which marks a stage function of a training pipeline";
  auto str = dyn_cast<StringAttr>(value);
  if (!str || !parsePipelinePhase(str.getValue()))
    return op->emitOpError("expects '")
           << name << "' to be \"forward\", \"backward\" or \"update\", found "
           << value;
  return success();
}

LogicalResult DistDialect::verifyOperationAttribute(Operation *op,
                                                    NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  Attribute value = attribute.getValue();
  if (name == FactorAxesAttrHelper::getNameStr())
    return verifyFactorAxesAttr(op, value);
  if (name == ModelDirAttrHelper::getNameStr())
    return verifyModuleString(op, name, value, /*absolutePath=*/true);
  if (name == ArtifactVersionAttrHelper::getNameStr() ||
      name == ChunksAttrHelper::getNameStr())
    return verifyModuleInteger(op, name, value, /*min=*/1);
  if (name == OnnxOpsetAttrHelper::getNameStr() ||
      name == OnnxIrVersionAttrHelper::getNameStr())
    return verifyModuleInteger(op, name, value, /*min=*/0);
  if (name == OnnxProducerAttrHelper::getNameStr())
    return verifyModuleString(op, name, value, /*absolutePath=*/false);
  if (name == TrainAttrHelper::getNameStr())
    return verifyTrainAttr(op, value);
  if (name == SourceModelAttrHelper::getNameStr())
    return verifySourceModel(op, name, value);
  if (name == StageAttrHelper::getNameStr() ||
      name == AdjointOfAttrHelper::getNameStr())
    return verifyIndex(op, name, "an op", value);
  if (name == PhaseAttrHelper::getNameStr())
    return verifyPhaseAttr(op, value);
  if (name == StagesAttrHelper::getNameStr() &&
      op->getName().getStringRef() != "shard.grid")
    return op->emitOpError("carries '")
           << name << "', which marks the shard.grid of a pipeline's stages";
  if (name == UpdateAttrHelper::getNameStr() ||
      name == StagesAttrHelper::getNameStr()) {
    if (!isa<UnitAttr>(value))
      return op->emitOpError("expects '")
             << name << "' to be a unit attribute, found " << value;
    return success();
  }
  if (name == NameAttrHelper::getNameStr())
    return op->emitOpError("carries '")
           << name
           << "', which names function arguments and results; set it in the "
              "function's argument or result attributes";
  return emitUnknownAttr(op, name, "operation", kOperationAttrs);
}

/// Checks `dist.name` = `value` of argument (or result) #`index` of `op`:
/// a non-empty string that no other argument (result) of `op` has.
static LogicalResult verifyValueName(Operation *op, StringRef what,
                                     unsigned index, Attribute value) {
  StringRef name = DistDialect::NameAttrHelper::getNameStr();
  auto str = dyn_cast<StringAttr>(value);
  if (!str || str.getValue().empty())
    return op->emitOpError("expects '")
           << name << "' of " << what << " #" << index
           << " to be a non-empty string, found " << value;
  // Functions are the only ops whose argument and result attributes MLIR
  // verifies.
  auto function = dyn_cast<FunctionOpInterface>(op);
  if (!function)
    return success();
  bool isArg = what == "argument";
  for (unsigned other = 0; other < index; ++other) {
    Attribute otherName = isArg ? function.getArgAttr(other, name)
                                : function.getResultAttr(other, name);
    if (otherName == str)
      return op->emitOpError()
             << what << " #" << index << " and " << what << " #" << other
             << " are both named " << str << " ('" << name << "')";
  }
  return success();
}

LogicalResult DistDialect::verifyRegionArgAttribute(Operation *op,
                                                    unsigned regionIndex,
                                                    unsigned argIndex,
                                                    NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  if (name == NameAttrHelper::getNameStr())
    return verifyValueName(op, "argument", argIndex, attribute.getValue());
  if (name == BoundaryAttrHelper::getNameStr() ||
      name == AccumulateAttrHelper::getNameStr())
    return verifyIndex(op, name, "argument #" + std::to_string(argIndex),
                       attribute.getValue());
  return emitUnknownAttr(op, name, "argument", kValueAttrs);
}

LogicalResult
DistDialect::verifyRegionResultAttribute(Operation *op, unsigned regionIndex,
                                         unsigned resultIndex,
                                         NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  if (name == NameAttrHelper::getNameStr())
    return verifyValueName(op, "result", resultIndex, attribute.getValue());
  if (name == BoundaryAttrHelper::getNameStr() ||
      name == AccumulateAttrHelper::getNameStr())
    return verifyIndex(op, name, "result #" + std::to_string(resultIndex),
                       attribute.getValue());
  if (name == LossAttrHelper::getNameStr()) {
    if (!isa<UnitAttr>(attribute.getValue()))
      return op->emitOpError("expects '")
             << name << "' to be a unit attribute, found "
             << attribute.getValue();
    return success();
  }
  if (name == GradientOfAttrHelper::getNameStr()) {
    auto str = dyn_cast<StringAttr>(attribute.getValue());
    if (!str || str.getValue().empty())
      return op->emitOpError("expects '")
             << name << "' of result #" << resultIndex
             << " to be a non-empty weight name, found "
             << attribute.getValue();
    return success();
  }
  return emitUnknownAttr(op, name, "result", kResultAttrs);
}
