//===- MemoryEstimate.h - Peak memory of a program by liveness --*- C++ -*-===//
//
// The memory one device needs to run a function: its weights, constants and
// inputs, which live for the whole run, plus the peak over program order of
// the bytes of the values that kernels produce and that are still live.
// `layoutArena` places those values in one buffer by liveness, first fit;
// the runtime allocates its arena from this layout, so the estimate and the
// runtime agree by construction, and the planner prices a generated
// training step's memory with it (docs/performance.md).
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_COST_MEMORYESTIMATE_H
#define DISTOPT_COST_MEMORYESTIMATE_H

#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"

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
  /// The arena that holds the computed values (`layoutArena`): the peak,
  /// plus the holes that first fit leaves.
  uint64_t arenaBytes = 0;

  /// Everything together, the computed values at the arena's size.
  uint64_t getTotalBytes() const {
    return weightBytes + constantBytes + inputBytes + arenaBytes;
  }
};

/// Where the computed values of a function body live in one arena.
struct ArenaLayout {
  /// The offset of each value that owns arena bytes: results of ops other
  /// than `dist.weight`, `dist.constant` and `dist.reshape` (a reshape's
  /// result uses its source's bytes; see `getArenaRoot`).
  llvm::DenseMap<mlir::Value, uint64_t> offsets;
  /// The arena's size.
  uint64_t size = 0;
  /// The bytes of all placed values, each rounded to the alignment.
  uint64_t valueBytes = 0;
  /// The peak of the bytes live at once, and the op where it occurs.
  uint64_t peakLiveBytes = 0;
  unsigned peakOpIndex = 0;
};

/// The value whose bytes `value` uses: itself, or, through `dist.reshape`s,
/// the value they view.
mlir::Value getArenaRoot(mlir::Value value);

/// Places the computed values of `body` (a function body, one block) in
/// program order, each from the op that produces it until its last reader,
/// rounded up to `alignment`, at the lowest offset where it fits among the
/// values live then (first fit). A value nobody reads dies at its
/// producer; one read by the terminator or by a `dist.assign` (which the
/// runtime runs after every other op) lives to the end. While an op runs,
/// its operands and results are live together. A reshape extends its
/// source's life.
ArenaLayout layoutArena(mlir::Block &body, unsigned alignment = 64);

/// The memory of running `body`: the computed values as `layoutArena`
/// places them; weights, constants and inputs counted apart.
ProgramMemory estimateProgramMemory(mlir::Block &body, unsigned alignment = 64);

} // namespace distopt::cost

#endif // DISTOPT_COST_MEMORYESTIMATE_H
