//===- MemoryEstimate.h - Peak memory of a program by liveness --*- C++ -*-===//
//
// The memory one device needs to run a function: its weights, constants and
// inputs, which live for the whole run, plus the peak over program order of
// the bytes of the values that kernels produce and that are still live.
// This is the cost model's own estimate, from the IR alone; the runtime's
// arena planner is checked against it (docs/performance.md).
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_COST_MEMORYESTIMATE_H
#define DISTOPT_COST_MEMORYESTIMATE_H

#include <cstdint>

namespace mlir {
class Block;
} // namespace mlir

namespace distopt::cost {

/// Bytes one device holds while running a function.
struct ProgramMemory {
  /// `dist.weight` results (local shards after partitioning).
  uint64_t weightBytes = 0;
  /// `dist.constant` results.
  uint64_t constantBytes = 0;
  /// Block arguments (the graph inputs).
  uint64_t inputBytes = 0;
  /// Peak bytes of live computed values (activations).
  uint64_t peakActivationBytes = 0;
  /// Index of the op (in program order) at which the peak occurs.
  unsigned peakOpIndex = 0;

  /// Everything together.
  uint64_t getTotalBytes() const {
    return weightBytes + constantBytes + inputBytes + peakActivationBytes;
  }
};

/// Walks `body` (a function body, one block) in program order. A computed
/// value takes its bytes, rounded up to `alignment`, from the op that
/// produces it until its last reader (a value nobody reads dies at its
/// producer; a returned value lives to the end). While an op runs, its
/// operands and results are live together. `dist.reshape` results share
/// their operand's bytes and extend its life. Weights, constants and inputs
/// are counted apart from the activations.
ProgramMemory estimateProgramMemory(mlir::Block &body, unsigned alignment = 64);

} // namespace distopt::cost

#endif // DISTOPT_COST_MEMORYESTIMATE_H
