//===- Pipeline.h - pipelines of stages -------------------------*- C++ -*-===//
//
// Runs a pipeline artifact (docs/pipeline.md) for inference: every rank
// reads every model input whole, splits it into micro-batches along
// dimension 0, and runs its stage's program on each micro-batch in turn
// (GPipe), receiving its boundary values from the stages that produce them
// and sending its own to the stages that consume them. The model outputs
// are concatenated over the micro-batches and gathered to rank 0.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_RUNTIME_CORE_PIPELINE_H
#define DISTOPT_RUNTIME_CORE_PIPELINE_H

#include "distopt/Artifact/Pipeline.h"
#include "runtime/comm/Communicator.h"
#include "runtime/core/Executor.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace distopt::rt {

class Communicator;

/// The pipeline's model inputs, whole (in the order of `info.inputs`), and
/// the number of micro-batches they hold.
struct PipelineInputs {
  std::vector<HostTensor> tensors;
  int64_t microBatches = 1;
  /// Per input: 0 for an --input (the same tensor each step), else the K
  /// batches of a --data file (step k reads batch k % K).
  std::vector<int64_t> batches;
};

/// Reads every model input of the pipeline named by `specs` (`NAME=FILE`,
/// as --input takes them) and `dataSpecs` (--data: K batches along a
/// leading dimension) on this rank. Each batch must have the element type
/// and the trailing dimensions of its stage argument, and a leading
/// dimension that is a whole number m of the argument's, the same m for
/// every input. Any error stops every rank with a message.
PipelineInputs
readPipelineInputs(Communicator &comm, const PipelineInfo &info,
                   const std::vector<std::string> &specs, uint64_t maxMemory,
                   const std::vector<std::string> &dataSpecs = {});

/// The dtype and shape of one micro-batch of pipeline value `value`, with
/// its name; nothing for a type the runtime cannot run.
std::optional<IOInfo> getMicroBatchInfo(const PipelineValue &value);

/// Micro-batch `j` of step `step` of model input `input` (the index in
/// `inputs.tensors`), as the argument `micro` takes it.
void getMicroBatch(const PipelineInputs &inputs, size_t input, int64_t step,
                   int64_t j, const IOInfo &micro, HostTensor &out);

/// The tag of boundary `index` (in `info.boundaries`) sent to stage
/// `consumer`: one per (boundary, consuming stage), so that two stages of
/// one rank group that read the same boundary each get their own stream.
int boundaryTag(const PipelineInfo &info, int64_t index, int64_t consumer);
/// The first tag after every boundary's (the loss, the model outputs).
int firstFreeTag(const PipelineInfo &info);

/// Receives boundary argument `in` of micro-batch `j` of `stage` into
/// `out`, from the rank of its producing stage's group at this rank's grid
/// position (tag: boundaryTag), possibly this rank itself.
void receiveBoundary(Communicator &comm, const PipelineInfo &info,
                     const IOInfo &in, int64_t stage, int64_t j,
                     HostTensor &out);
/// receiveBoundary's first part: sizes `out` and posts the receive into it
/// (Communicator::startReceive; `out`'s bytes must stay put until
/// Communicator::finishReceive).
Communicator::PendingReceive startBoundaryReceive(Communicator &comm,
                                                  const PipelineInfo &info,
                                                  const IOInfo &in,
                                                  int64_t stage, int64_t j,
                                                  HostTensor &out);

/// Sends boundary result `out` of micro-batch `j` to every other stage that
/// consumes it, at the rank of that stage's group (this rank itself for a
/// stage of its own group), without waiting for the sends to complete.
void sendBoundary(Communicator &comm, const PipelineInfo &info,
                  const IOInfo &out, HostTensor &value, int64_t stage,
                  int64_t j);

/// Microseconds from `from` to `to`, for trace events.
double microsecondsBetween(std::chrono::steady_clock::time_point from,
                           std::chrono::steady_clock::time_point to);

/// The pipeline's model outputs, with the shapes they have over
/// `microBatches` micro-batches; stops every rank when an output of rank 0
/// cannot be concatenated (more than one micro-batch).
std::vector<IOInfo> getPipelineOutputs(Communicator &comm,
                                       const PipelineInfo &info,
                                       int64_t microBatches);

/// Runs this rank's stage (`ex`) over every micro-batch of `inputs` once
/// (GPipe) and returns the stage's model outputs, concatenated over the
/// micro-batches, in the order of ex.outputs()' model outputs. With `trace`,
/// each micro-batch's run ("stage S micro-batch J"), each receive and each
/// kernel is timed from `origin`.
void runPipelineOnce(Communicator &comm, Executor &ex, const PipelineInfo &info,
                     const PipelineInputs &inputs,
                     std::vector<HostTensor> &stageOutputs,
                     std::vector<TraceEvent> *trace,
                     std::chrono::steady_clock::time_point origin);

/// Gathers the model outputs on rank 0, in the order of `outputs`
/// (getPipelineOutputs): each from grid position 0 of the stage that
/// produces it. Other ranks get an empty vector.
std::vector<HostTensor> gatherPipelineOutputs(
    Communicator &comm, const Executor &ex, const PipelineInfo &info,
    const std::vector<IOInfo> &outputs, std::vector<HostTensor> &stageOutputs);

} // namespace distopt::rt

#endif // DISTOPT_RUNTIME_CORE_PIPELINE_H
