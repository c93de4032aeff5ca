//===- Partition.cpp - the dist-partition pass ----------------------------===//
//
// A thin pass over dist::partitionModule (lib/Dialect/Dist/Partition.cpp).
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Dialect/Dist/Partition.h"
#include "distopt/Passes/Passes.h"

#include "mlir/Dialect/Shard/IR/ShardDialect.h"

namespace distopt {
#define GEN_PASS_DEF_PARTITIONPASS
#include "distopt/Passes/Passes.h.inc"
} // namespace distopt

namespace {
struct PartitionPass : public distopt::impl::PartitionPassBase<PartitionPass> {
  void runOnOperation() override {
    if (mlir::failed(distopt::dist::partitionModule(getOperation())))
      signalPassFailure();
  }
};
} // namespace
