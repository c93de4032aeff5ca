//===- Communicator.h - collectives between ranks over MPI ------*- C++ -*-===//
//
// Maps the ranks of an MPI job onto a device grid (row-major, as upstream's
// shard dialect numbers processes) and runs the collectives of partitioned
// programs on sub-communicators derived from the grid's axes. Without a grid
// (a program for one device) nothing is communicated.
//
// A pipeline of K stages runs on K copies of the grid: rank r is stage
// r / G at grid position r mod G (G the grid's device count); the stage is
// a leading coordinate that no program axis names, so collectives stay
// within a stage. Stages exchange tensors point-to-point between the ranks
// of one grid position, on a communicator of their own: sends are
// non-blocking (their bytes kept until they complete), receives are
// watched as collectives are.
//
// The collective watchdog: with a timeout set, every collective is started
// non-blocking and waited for by polling (MPI_Test: 1 ms without pause,
// then with sleeps growing to 0.2 ms); one that has not completed within
// the timeout (a rank stopped, crashed or runs another program) prints
// which rank waited for which collective, then ends the whole job with
// MPI_Abort. Without a timeout the collectives block as MPI's own calls do.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_RUNTIME_COMM_COMMUNICATOR_H
#define DISTOPT_RUNTIME_COMM_COMMUNICATOR_H

#include "runtime/cpu/Kernels.h"

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <mpi.h>

namespace distopt::rt {

class Communicator {
public:
  /// Initializes MPI (once per process); MPI errors abort every rank. A
  /// process that no MPI launcher started (and that has not initialized
  /// MPI itself) is a job of one rank that never starts MPI: its
  /// collectives are over one process, and the 0.4 s of MPI's singleton
  /// start-up is saved.
  Communicator(int *argc, char ***argv);
  ~Communicator();

  int rank() const { return rank_; }
  int size() const { return size_; }

  /// Sets the collective watchdog's timeout in seconds; 0 (the default)
  /// waits forever.
  void setCollectiveTimeout(double seconds) { timeoutSeconds_ = seconds; }
  double collectiveTimeout() const { return timeoutSeconds_; }

  /// Creates, once, the sub-communicator of the processes along `axes`.
  /// Collective over the whole job (MPI_Comm_split) and not watched: call
  /// it while building a program, in the same order on every rank.
  void prepareGroup(const std::vector<int64_t> &axes) {
    if (mpi_)
      (void)groupFor(axes);
  }

  /// The axis, in a collective's `axes`, of a pipeline's stages: the ranks
  /// at this rank's grid position in every stage (all-reduce only).
  static constexpr int64_t kStagesAxis = -1;

  /// Sets the device grid of the program, and its number of pipeline
  /// `stages` (1: no pipeline), each stage on its own copy of the grid. A
  /// pipeline whose rank groups each run several stages (dist.chunks)
  /// passes its number of rank groups: "stage" below is then the group.
  /// Fails, with a message, when the job's rank count differs from the
  /// stages times the grid's device count. Collective over the job when
  /// `stages` > 1 (it creates the point-to-point communicator).
  bool setGrid(const std::vector<int64_t> &shape, std::string &error,
               int64_t stages = 1);
  const std::vector<int64_t> &gridShape() const { return shape_; }
  /// The pipeline stage of this rank (0 without a pipeline), the number of
  /// stages, and the rank of `stage` at this rank's grid position.
  int64_t stage() const { return stage_; }
  int64_t numStages() const { return stages_; }
  int stageRank(int64_t stage) const;
  /// This rank's coordinates in the grid.
  const std::vector<int64_t> &coords() const { return coords_; }
  /// This rank's linear index over `axes` (first axis major), and the
  /// number of processes along them.
  int64_t linearIndex(const std::vector<int64_t> &axes) const;
  int64_t groupSize(const std::vector<int64_t> &axes) const;

  // Every collective takes `label`, what the watchdog's message names
  // (the op and its location), empty when there is nothing to name.

  /// In-place all-reduce of `t` over the processes that differ only along
  /// `axes`. `kind` is upstream's reduction kind: 0 sum, 1 max, 2 min,
  /// 3 product.
  void allReduce(Tensor &t, const std::vector<int64_t> &axes, int kind,
                 const std::string &label = "");
  /// Gathers `in` from the processes along `axes` into `out`, concatenated
  /// along `axis` in the order of their linear index.
  void allGather(const Tensor &in, Tensor &out,
                 const std::vector<int64_t> &axes, int64_t axis,
                 const std::string &label = "");
  /// Reduces over `axes` (sum) and keeps this process's piece along `axis`.
  void reduceScatter(const Tensor &in, Tensor &out,
                     const std::vector<int64_t> &axes, int64_t axis,
                     const std::string &label = "");

  /// Splits `in` along `splitAxis` into one piece per process along `axes`,
  /// sends piece k to the process of linear index k, and concatenates the
  /// pieces received along `concatAxis` (in the order of the senders'
  /// linear index) into `out`.
  void allToAll(const Tensor &in, Tensor &out, const std::vector<int64_t> &axes,
                int64_t splitAxis, int64_t concatAxis,
                const std::string &label = "");

  // Point-to-point transfers between ranks of a pipeline (setGrid with
  // stages > 1). `tag` tells transfers between the same two ranks apart;
  // transfers of one tag arrive in the order they were sent. `label` is
  // what the watchdog's message names (stage, boundary, micro-batch).

  /// Copies `t` (its shape and dtype the same on every rank) from world
  /// rank `root` to every rank of the job (watched).
  void broadcast(Tensor &t, int root, const std::string &label);

  /// Starts sending `t` to world rank `to`: its bytes are copied, and the
  /// send completes in the background (completeSends waits for it).
  void send(const Tensor &t, int to, int tag, const std::string &label);
  /// Receives `t` (its shape and dtype as the sender's) from world rank
  /// `from` (watched).
  void receive(Tensor &t, int from, int tag, const std::string &label);
  /// receive() in two parts, so that a transfer can arrive while this rank
  /// computes: startReceive posts it into `t` (whose bytes must stay where
  /// they are until it completes), finishReceive waits for it (watched).
  /// Receives of one tag from one rank take the messages in the order the
  /// receives were started.
  struct PendingReceive {
    MPI_Request request = MPI_REQUEST_NULL;
    size_t bytes = 0;
    std::string label;
  };
  PendingReceive startReceive(Tensor &t, int from, int tag,
                              const std::string &label);
  void finishReceive(PendingReceive &pending);
  /// Waits until every send started by send() has completed (watched), and
  /// frees their bytes.
  void completeSends(const std::string &label);

  /// Waits until every rank of the job has called it (watched).
  void barrier(const std::string &label);

  /// Every rank's `record` (of any length), indexed by rank, on every rank
  /// (watched). One round of agreement: no rank decides anything before
  /// all have taken part.
  std::vector<std::string> allGatherRecords(const std::string &record,
                                            const std::string &label);
  /// As allGatherRecords, but only rank 0 receives them (others get an
  /// empty vector).
  std::vector<std::string> gatherRecords(const std::string &record,
                                         const std::string &label);

  /// Waits until every rank of the job has called it, sleeping between
  /// polls, so that a waiting rank leaves its core to the ranks that still
  /// compute (dist-calibrate measures one rank while the others wait).
  void waitForAll();

  /// Stops every rank of the job with `code` after printing `message`.
  [[noreturn]] void abortAll(const std::string &message, int code = 1);

  /// An error in the data a kernel ran on (a gather index or a class label
  /// out of range), which the kernel has stepped over safely: stops the job
  /// (abortAll), or, when data errors are kept (the library, which returns
  /// them after the run), keeps the first one for takeDataError().
  void reportDataError(const std::string &message);
  void setKeepDataErrors(bool keep) { keepDataErrors_ = keep; }
  /// The first data error kept since the last call, or "".
  std::string takeDataError() { return std::exchange(dataError_, {}); }

  /// Ends this rank with `code` after finalizing MPI: for an error every
  /// rank has found (after an agreement), so that none is left waiting.
  [[noreturn]] void exitAll(int code);

private:
  MPI_Comm groupFor(const std::vector<int64_t> &axes);
  /// Makes every group a pipeline's collectives may use, in one order on
  /// every rank (its stages run different programs).
  void makePipelineGroups();
  /// Waits for `request`, watched: `kind` (all-reduce, ...), `label` and
  /// `bytes` are what the timeout's message names.
  void wait(MPI_Request &request, const char *kind, const std::string &label,
            size_t bytes);
  std::vector<std::string> exchangeRecords(const std::string &record,
                                           bool toAll,
                                           const std::string &label);

  /// Frees the sub-communicators and the point-to-point one.
  void freeComms();
  /// `tag` if MPI can carry it, else stops the job.
  int checkTag(int tag);

  /// A send in flight and the bytes it reads.
  struct PendingSend {
    MPI_Request request;
    std::vector<uint8_t> bytes;
    std::string label;
  };

  int rank_ = 0, size_ = 1;
  double timeoutSeconds_ = 0;
  bool ownsMpi_ = false;
  /// False in a one-rank job that no launcher started: MPI is not used.
  bool mpi_ = true;
  bool keepDataErrors_ = false;
  std::string dataError_;
  std::vector<int64_t> shape_, coords_;
  int64_t stage_ = 0, stages_ = 1, position_ = 0, gridDevices_ = 1;
  std::map<std::vector<int64_t>, MPI_Comm> groups_;
  MPI_Comm p2p_ = MPI_COMM_NULL;
  std::vector<PendingSend> pendingSends_;
};

} // namespace distopt::rt

#endif // DISTOPT_RUNTIME_COMM_COMMUNICATOR_H
