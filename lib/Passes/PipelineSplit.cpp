//===- PipelineSplit.cpp - the dist-pipeline-split pass -------------------===//
//
// A thin pass over dist::splitPipelineStages (lib/Dialect/Dist/
// PipelineSplit.cpp), which cuts a staged function into the functions of
// its pipeline stages.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/PipelineSplit.h"
#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Passes/Passes.h"

#include "mlir/Dialect/Shard/IR/ShardDialect.h"

namespace distopt {
#define GEN_PASS_DEF_PIPELINESPLITPASS
#include "distopt/Passes/Passes.h.inc"
} // namespace distopt

namespace {
struct PipelineSplitPass
    : public distopt::impl::PipelineSplitPassBase<PipelineSplitPass> {
  void runOnOperation() override {
    if (mlir::failed(distopt::dist::splitPipelineStages(getOperation())))
      signalPassFailure();
  }
};
} // namespace
