//===- MemoryEstimate.cpp - Peak memory of a program by liveness ----------===//
//
// One walk to find each value's last reader (through reshape aliases), one
// walk in program order that places values first fit and frees them after
// their last reader.
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/MemoryEstimate.h"

#include "distopt/Dialect/Dist/DistOps.h"

#include "mlir/IR/Block.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

#include <map>

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

Value distopt::cost::getArenaRoot(Value value) {
  while (auto reshape = value.getDefiningOp<dist::ReshapeOp>())
    value = reshape->getOperand(0);
  return value;
}

/// Whether `op`'s results own arena bytes.
static bool placesResults(Operation *op) {
  return !isa<dist::WeightOp, dist::ConstantOp, dist::ReshapeOp>(op) &&
         !op->hasTrait<OpTrait::IsTerminator>();
}

ArenaLayout distopt::cost::layoutArena(Block &body, unsigned alignment) {
  ArenaLayout layout;
  auto align = [&](uint64_t bytes) {
    return alignment > 1 ? (bytes + alignment - 1) / alignment * alignment
                         : bytes;
  };
  llvm::SmallVector<Operation *> ops;
  for (Operation &op : body)
    ops.push_back(&op);

  // The last op reading each placed value (through reshapes); the end for
  // the terminator's and dist.assign's operands.
  constexpr unsigned kEnd = ~0u;
  llvm::DenseMap<Value, unsigned> lastUse;
  for (auto [index, op] : llvm::enumerate(ops)) {
    unsigned i = unsigned(index);
    bool toEnd =
        op->hasTrait<OpTrait::IsTerminator>() || isa<dist::AssignOp>(op);
    for (Value operand : op->getOperands()) {
      auto it = lastUse.find(getArenaRoot(operand));
      if (it != lastUse.end())
        it->second = std::max(it->second, toEnd ? kEnd : i);
    }
    if (placesResults(op))
      for (Value result : op->getResults())
        lastUse.try_emplace(result, i);
  }
  llvm::SmallVector<llvm::SmallVector<Value, 2>> frees(ops.size());
  for (auto [value, last] : lastUse)
    if (last != kEnd)
      frees[last].push_back(value);

  // Live blocks by offset; each value goes to the lowest gap it fits.
  std::map<uint64_t, uint64_t> live;
  uint64_t liveBytes = 0;
  auto place = [&](Value value) {
    uint64_t size = align(getValueBytes(value));
    uint64_t at = 0;
    for (auto [offset, used] : live) {
      if (offset >= at + size)
        break;
      at = std::max(at, offset + used);
    }
    if (size > 0)
      live[at] = size;
    layout.offsets[value] = at;
    layout.size = std::max(layout.size, at + size);
    layout.valueBytes += size;
    liveBytes += size;
  };
  for (auto [index, op] : llvm::enumerate(ops)) {
    if (placesResults(op))
      for (Value result : op->getResults())
        place(result);
    if (liveBytes > layout.peakLiveBytes) {
      layout.peakLiveBytes = liveBytes;
      layout.peakOpIndex = unsigned(index);
    }
    for (Value dead : frees[index]) {
      uint64_t size = align(getValueBytes(dead));
      if (size > 0)
        live.erase(layout.offsets.lookup(dead));
      liveBytes -= size;
    }
  }
  return layout;
}

ProgramMemory distopt::cost::estimateProgramMemory(Block &body,
                                                   unsigned alignment) {
  ProgramMemory memory;
  for (BlockArgument arg : body.getArguments())
    memory.inputBytes += getValueBytes(arg);
  for (Operation &op : body) {
    if (isa<dist::WeightOp>(op))
      memory.weightBytes += getValueBytes(op.getResult(0));
    else if (isa<dist::ConstantOp>(op))
      memory.constantBytes += getValueBytes(op.getResult(0));
  }
  ArenaLayout layout = layoutArena(body, alignment);
  memory.peakActivationBytes = layout.peakLiveBytes;
  memory.peakOpIndex = layout.peakOpIndex;
  memory.arenaBytes = layout.size;
  return memory;
}
