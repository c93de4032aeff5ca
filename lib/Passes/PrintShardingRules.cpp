//===- PrintShardingRules.cpp - report each op's sharding rule ------------===//
//
// Emits the sharding rule of every dist op as a remark, so that rules can be
// inspected by a person and checked by lit tests.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Passes/Passes.h"

#include "llvm/Support/raw_ostream.h"

namespace distopt {
#define GEN_PASS_DEF_PRINTSHARDINGRULESPASS
#include "distopt/Passes/Passes.h.inc"
} // namespace distopt

using namespace mlir;
using namespace distopt;

namespace {
struct PrintShardingRulesPass
    : public distopt::impl::PrintShardingRulesPassBase<PrintShardingRulesPass> {
  void runOnOperation() override {
    WalkResult result = getOperation()->walk([](Operation *op) {
      auto ruleOp = dyn_cast<dist::ShardingRuleOpInterface>(op);
      if (!ruleOp)
        return WalkResult::advance();
      dist::ShardingRule rule = ruleOp.getShardingRule();
      if (failed(rule.verify(op)))
        return WalkResult::interrupt();
      std::string text;
      llvm::raw_string_ostream os(text);
      os << rule;
      op->emitRemark(text);
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
