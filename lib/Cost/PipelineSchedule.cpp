//===- PipelineSchedule.cpp - The order and timeline of a pipeline --------===//

#include "distopt/Cost/PipelineSchedule.h"
#include "distopt/Cost/StepModel.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <cstdint>

using namespace distopt;
using namespace distopt::cost;

/// GPipe (`warmup` = m) or 1F1B on one stage per pipeline position.
static std::vector<PipelineTask>
makeOneStageSchedule(unsigned stage, unsigned warmup, unsigned m) {
  std::vector<PipelineTask> tasks;
  auto forward = [&](unsigned j) { tasks.push_back({stage, false, j}); };
  auto backward = [&](unsigned j) { tasks.push_back({stage, true, j}); };
  for (unsigned j = 0; j < warmup; ++j)
    forward(j);
  // 1F1B's steady state: one forward, one backward.
  unsigned done = 0;
  for (unsigned j = warmup; j < m; ++j) {
    forward(j);
    backward(done++);
  }
  while (done < m)
    backward(done++);
  return tasks;
}

/// Megatron-LM's interleaved 1F1B (forward_backward_pipelining_with_
/// interleaving) for position `position` of `positions`, `chunks` stages
/// each: m x chunks virtual micro-batches, taken `positions` micro-batches
/// of one chunk at a time; a warm-up of forwards, then one forward and one
/// backward, then the remaining backwards.
static std::vector<PipelineTask> makeInterleavedSchedule(unsigned positions,
                                                         unsigned chunks,
                                                         unsigned position,
                                                         unsigned m) {
  int64_t p = positions, v = chunks, total = int64_t(m) * chunks;
  auto task = [&](int64_t k, bool backward) {
    int64_t chunk = (k % (p * v)) / p;
    if (backward)
      chunk = v - 1 - chunk;
    int64_t j = (k / (p * v)) * p + k % p;
    return PipelineTask{unsigned(chunk * p + position), backward, unsigned(j)};
  };
  int64_t warmup = m == positions
                       ? total
                       : std::min((p - position - 1) * 2 + (v - 1) * p, total);
  std::vector<PipelineTask> tasks;
  for (int64_t k = 0; k < warmup; ++k)
    tasks.push_back(task(k, false));
  for (int64_t k = 0; k < total - warmup; ++k) {
    tasks.push_back(task(k + warmup, false));
    tasks.push_back(task(k, true));
  }
  for (int64_t k = total - warmup; k < total; ++k)
    tasks.push_back(task(k, true));
  return tasks;
}

std::vector<PipelineTask>
distopt::cost::makePipelineSchedule(PipelineScheduleKind kind,
                                    unsigned positions, unsigned chunks,
                                    unsigned position, unsigned microBatches) {
  switch (kind) {
  case PipelineScheduleKind::GPipe:
    return makeOneStageSchedule(position, microBatches, microBatches);
  case PipelineScheduleKind::OneFOneB:
    return makeOneStageSchedule(
        position, std::min(positions - 1 - position, microBatches),
        microBatches);
  case PipelineScheduleKind::Interleaved1F1B:
    break;
  }
  return makeInterleavedSchedule(positions, chunks, position, microBatches);
}

namespace {
/// The end times of the tasks placed so far, per stage and micro-batch
/// (negative: not placed yet).
struct TaskEnds {
  TaskEnds(unsigned stages, unsigned microBatches)
      : forward(stages, std::vector<double>(microBatches, -1)),
        backward(stages, std::vector<double>(microBatches, -1)) {}
  std::vector<std::vector<double>> forward, backward;

  /// When the input of `task` is there (negative: not yet), in a pipeline
  /// of `stages` stages.
  double getReadyTime(const PipelineTask &task, unsigned stages) const {
    unsigned s = task.stage, j = task.microBatch;
    if (!task.backward)
      return s == 0 ? 0 : forward[s - 1][j];
    return s + 1 == stages ? forward[s][j] : backward[s + 1][j];
  }
};
} // namespace

llvm::Expected<std::vector<TimedPipelineTask>>
distopt::cost::timePipelineSchedule(PipelineScheduleKind kind,
                                    unsigned positions, unsigned chunks,
                                    unsigned microBatches,
                                    llvm::ArrayRef<double> forwardSeconds,
                                    llvm::ArrayRef<double> backwardSeconds) {
  unsigned stages = positions * chunks;
  bool training = !backwardSeconds.empty();
  if (positions == 0 || chunks == 0 || forwardSeconds.size() != stages ||
      (training && backwardSeconds.size() != stages))
    return llvm::createStringError(
        "a pipeline timeline needs one forward (and, in training, one "
        "backward) duration per stage: %u positions x %u chunks, got %zu "
        "and %zu",
        positions, chunks, forwardSeconds.size(), backwardSeconds.size());
  std::vector<std::vector<PipelineTask>> orders;
  for (unsigned position = 0; position < positions; ++position) {
    std::vector<PipelineTask> order =
        makePipelineSchedule(kind, positions, chunks, position, microBatches);
    if (!training)
      llvm::erase_if(order, [](const PipelineTask &t) { return t.backward; });
    orders.push_back(std::move(order));
  }
  TaskEnds ends(stages, microBatches);
  std::vector<TimedPipelineTask> timeline;
  std::vector<size_t> next(positions, 0);
  std::vector<double> freeAt(positions, 0);
  // Each round places, on every position, the tasks whose input is there;
  // a valid order places at least one task per round.
  for (bool progress = true; progress;) {
    progress = false;
    for (unsigned position = 0; position < positions; ++position) {
      for (; next[position] < orders[position].size(); ++next[position]) {
        const PipelineTask &task = orders[position][next[position]];
        double ready = ends.getReadyTime(task, stages);
        if (ready < 0)
          break;
        double start = std::max(ready, freeAt[position]);
        double end = start + (task.backward ? backwardSeconds[task.stage]
                                            : forwardSeconds[task.stage]);
        (task.backward ? ends.backward
                       : ends.forward)[task.stage][task.microBatch] = end;
        timeline.push_back({task, position, start, end});
        freeAt[position] = end;
        progress = true;
      }
    }
  }
  if (timeline.size() != stages * microBatches * (training ? 2 : 1))
    return llvm::createStringError(
        "the %s schedule of %u positions x %u chunks and %u micro-batches "
        "waits for itself",
        stringifyPipelineScheduleKind(kind).data(), positions, chunks,
        microBatches);
  return timeline;
}
