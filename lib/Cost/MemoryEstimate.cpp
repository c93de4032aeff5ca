//===- MemoryEstimate.cpp - Peak memory of a program by liveness ----------===//
//
// One walk to find each value's last reader (through reshape aliases), one
// walk to add and remove live bytes in program order.
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/MemoryEstimate.h"

#include "distopt/Dialect/Dist/DistOps.h"

#include "mlir/IR/Block.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

using namespace mlir;
using namespace distopt;
using namespace distopt::cost;

/// Bytes of `value` as stored (i1 takes one byte per element).
static uint64_t getValueBytes(Value value) {
  auto tensor = dyn_cast<RankedTensorType>(value.getType());
  if (!tensor || !tensor.hasStaticShape())
    return 0;
  uint64_t width =
      std::max<uint64_t>(1, (tensor.getElementTypeBitWidth() + 7) / 8);
  return uint64_t(tensor.getNumElements()) * width;
}

ProgramMemory distopt::cost::estimateProgramMemory(Block &body,
                                                   unsigned alignment) {
  ProgramMemory memory;
  auto align = [&](uint64_t bytes) {
    return alignment > 1 ? (bytes + alignment - 1) / alignment * alignment
                         : bytes;
  };
  for (BlockArgument arg : body.getArguments())
    memory.inputBytes += getValueBytes(arg);

  // The value whose bytes each value uses (itself, or a reshape's source),
  // and the last op index reading those bytes.
  constexpr unsigned kEnd = ~0u;
  llvm::DenseMap<Value, Value> rootOf;
  llvm::DenseMap<Value, unsigned> lastUse;
  llvm::SmallVector<Operation *> ops;
  for (Operation &op : body)
    ops.push_back(&op);
  auto root = [&](Value v) {
    auto it = rootOf.find(v);
    return it == rootOf.end() ? v : it->second;
  };
  for (auto [index, op] : llvm::enumerate(ops)) {
    unsigned i = unsigned(index);
    bool terminator = op->hasTrait<OpTrait::IsTerminator>();
    for (Value operand : op->getOperands())
      lastUse[root(operand)] = terminator ? kEnd : i;
    if (isa<dist::ReshapeOp>(op)) {
      rootOf[op->getResult(0)] = root(op->getOperand(0));
      continue;
    }
    for (Value result : op->getResults())
      lastUse.try_emplace(result, i);
  }

  llvm::SmallVector<llvm::SmallVector<Value, 2>> frees(ops.size());
  for (auto [index, op] : llvm::enumerate(ops)) {
    if (isa<dist::WeightOp, dist::ConstantOp, dist::ReshapeOp>(op))
      continue;
    for (Value result : op->getResults()) {
      unsigned last = lastUse.lookup(result);
      if (last != kEnd)
        frees[std::max<unsigned>(last, index)].push_back(result);
    }
  }

  uint64_t live = 0;
  for (auto [index, op] : llvm::enumerate(ops)) {
    if (isa<dist::WeightOp>(op)) {
      memory.weightBytes += getValueBytes(op->getResult(0));
      continue;
    }
    if (isa<dist::ConstantOp>(op)) {
      memory.constantBytes += getValueBytes(op->getResult(0));
      continue;
    }
    if (!isa<dist::ReshapeOp>(op))
      for (Value result : op->getResults())
        live += align(getValueBytes(result));
    if (live > memory.peakActivationBytes) {
      memory.peakActivationBytes = live;
      memory.peakOpIndex = unsigned(index);
    }
    for (Value dead : frees[index])
      live -= align(getValueBytes(dead));
  }
  return memory;
}
