//===- Communicator.h - collectives between ranks over MPI ------*- C++ -*-===//
//
// Maps the ranks of an MPI job onto a device grid (row-major, as upstream's
// shard dialect numbers processes) and runs the collectives of partitioned
// programs on sub-communicators derived from the grid's axes. Without a grid
// (a program for one device) nothing is communicated.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_RUNTIME_COMM_COMMUNICATOR_H
#define DISTOPT_RUNTIME_COMM_COMMUNICATOR_H

#include "runtime/cpu/Kernels.h"

#include <map>
#include <string>
#include <vector>

#include <mpi.h>

namespace distopt::rt {

class Communicator {
public:
  /// Initializes MPI (once per process); MPI errors abort every rank.
  Communicator(int *argc, char ***argv);
  ~Communicator();

  int rank() const { return rank_; }
  int size() const { return size_; }

  /// Sets the device grid of the program. Fails, with a message, when the
  /// job's rank count differs from the grid's device count.
  bool setGrid(const std::vector<int64_t> &shape, std::string &error);
  const std::vector<int64_t> &gridShape() const { return shape_; }
  /// This rank's coordinates in the grid.
  const std::vector<int64_t> &coords() const { return coords_; }
  /// This rank's linear index over `axes` (first axis major), and the
  /// number of processes along them.
  int64_t linearIndex(const std::vector<int64_t> &axes) const;
  int64_t groupSize(const std::vector<int64_t> &axes) const;

  /// In-place all-reduce of `t` over the processes that differ only along
  /// `axes`. `kind` is upstream's reduction kind: 0 sum, 1 max, 2 min,
  /// 3 product.
  void allReduce(Tensor &t, const std::vector<int64_t> &axes, int kind);
  /// Gathers `in` from the processes along `axes` into `out`, concatenated
  /// along `axis` in the order of their linear index.
  void allGather(const Tensor &in, Tensor &out,
                 const std::vector<int64_t> &axes, int64_t axis);
  /// Reduces over `axes` (sum) and keeps this process's piece along `axis`.
  void reduceScatter(const Tensor &in, Tensor &out,
                     const std::vector<int64_t> &axes, int64_t axis);

  /// Splits `in` along `splitAxis` into one piece per process along `axes`,
  /// sends piece k to the process of linear index k, and concatenates the
  /// pieces received along `concatAxis` (in the order of the senders'
  /// linear index) into `out`.
  void allToAll(const Tensor &in, Tensor &out,
                const std::vector<int64_t> &axes, int64_t splitAxis,
                int64_t concatAxis);

  /// Waits until every rank of the job has called it, sleeping between
  /// polls, so that a waiting rank leaves its core to the ranks that still
  /// compute (dist-calibrate measures one rank while the others wait).
  void waitForAll();

  /// Stops every rank of the job with `code` after printing `message`.
  [[noreturn]] void abortAll(const std::string &message, int code = 1);

private:
  MPI_Comm groupFor(const std::vector<int64_t> &axes);

  int rank_ = 0, size_ = 1;
  bool ownsMpi_ = false;
  std::vector<int64_t> shape_, coords_;
  std::map<std::vector<int64_t>, MPI_Comm> groups_;
};

} // namespace distopt::rt

#endif // DISTOPT_RUNTIME_COMM_COMMUNICATOR_H
