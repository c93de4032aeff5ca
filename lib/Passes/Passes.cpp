//===- Passes.cpp - registration of dist-opt passes and pipelines ---------===//
//
// One function registers every pass and pipeline dist-opt offers, so that
// the command line and the C++ API run the same thing.
//
//===----------------------------------------------------------------------===//

#include "distopt/Passes/Passes.h"

#include "mlir/Dialect/Shard/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace distopt {
#define GEN_PASS_REGISTRATION
#include "distopt/Passes/Passes.h.inc"
} // namespace distopt

void distopt::registerDistOptPassesAndPipelines() {
  registerDistOptPasses();
  mlir::PassPipelineRegistration<>(
      "dist-spmd-partition",
      "Complete sharding annotations and partition every function into the "
      "program of one device (sharding-propagation, shard-partition, "
      "canonicalize, cse)",
      addSpmdPartitionPipeline);
  mlir::shard::registerShardPasses();
  mlir::registerTransformsPasses();
}
