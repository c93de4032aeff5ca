//===- Communicator.cpp - collectives between ranks over MPI --------------===//
//
// Sub-communicators: the processes along grid axes A are those whose
// coordinates agree on every other axis and whose pipeline stage is the
// same; MPI_Comm_split with that agreement as color and the linear index over A
// as key orders them as the shard dialect does. Gathers along a tensor axis
// other than the outermost are reordered locally after MPI_Allgather;
// all-to-all packs the pieces it sends contiguously before MPI_Alltoall and
// reorders what it receives the same way.
//
//===----------------------------------------------------------------------===//

#include "runtime/comm/Communicator.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <unistd.h>

using namespace distopt::rt;

/// Whether an MPI launcher (mpirun, mpiexec, srun) started this process:
/// OpenMPI's, PMIx's and PMI's environment.
static bool startedByLauncher() {
  for (const char *name :
       {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(name))
      return true;
  return false;
}

Communicator::Communicator(int *argc, char ***argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized && !startedByLauncher()) {
    mpi_ = false;
    return;
  }
  if (!initialized) {
    MPI_Init(argc, argv);
    ownsMpi_ = true;
  }
  // A failing call on any rank ends the job instead of hanging the others.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

Communicator::~Communicator() {
  freeComms();
  if (ownsMpi_)
    MPI_Finalize();
}

void Communicator::freeComms() {
  for (auto &[axes, comm] : groups_)
    MPI_Comm_free(&comm);
  groups_.clear();
  for (PendingSend &send : pendingSends_)
    MPI_Request_free(&send.request);
  pendingSends_.clear();
  if (p2p_ != MPI_COMM_NULL)
    MPI_Comm_free(&p2p_);
}

bool Communicator::setGrid(const std::vector<int64_t> &shape,
                           std::string &error, int64_t stages) {
  int64_t devices = std::accumulate(shape.begin(), shape.end(), int64_t{1},
                                    std::multiplies<int64_t>());
  int64_t ranks = devices * stages;
  if (ranks != size_) {
    std::string program =
        stages > 1 ? std::to_string(stages) + " pipeline stages of " +
                         std::to_string(devices) + " devices (" +
                         std::to_string(ranks) + " ranks)"
                   : std::to_string(devices) + " devices";
    error = "the program was compiled for " + program + ", but the job has " +
            std::to_string(size_) + " ranks; launch it with mpirun -np " +
            std::to_string(ranks);
    return false;
  }
  shape_ = shape;
  stages_ = stages;
  gridDevices_ = devices;
  stage_ = rank_ / devices;
  position_ = rank_ % devices;
  if (stages > 1 && p2p_ == MPI_COMM_NULL) {
    MPI_Comm_dup(MPI_COMM_WORLD, &p2p_);
    MPI_Comm_set_errhandler(p2p_, MPI_ERRORS_ARE_FATAL);
  }
  coords_.assign(shape.size(), 0);
  int64_t rest = position_;
  for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
    coords_[d] = rest % shape[d];
    rest /= shape[d];
  }
  if (stages > 1)
    makePipelineGroups();
  return true;
}

/// The stages of a pipeline run different programs, whose collectives use
/// different groups; MPI_Comm_split is collective over the job, so every
/// group is made here, before any program runs: each ordered selection of
/// grid axes, then the stages' group.
void Communicator::makePipelineGroups() {
  if (!mpi_ || groups_.count({kStagesAxis}))
    return;
  unsigned n = shape_.size();
  for (unsigned mask = 1; mask < (1u << n); ++mask) {
    std::vector<int64_t> axes;
    for (unsigned d = 0; d < n; ++d)
      if (mask & (1u << d))
        axes.push_back(d);
    do
      (void)groupFor(axes);
    while (std::next_permutation(axes.begin(), axes.end()));
  }
  (void)groupFor({kStagesAxis});
}

int64_t Communicator::linearIndex(const std::vector<int64_t> &axes) const {
  int64_t index = 0;
  for (int64_t a : axes)
    index = index * shape_[a] + coords_[a];
  return index;
}

int64_t Communicator::groupSize(const std::vector<int64_t> &axes) const {
  int64_t n = 1;
  for (int64_t a : axes)
    n *= shape_[a];
  return n;
}

MPI_Comm Communicator::groupFor(const std::vector<int64_t> &axes) {
  auto it = groups_.find(axes);
  if (it != groups_.end())
    return it->second;
  MPI_Comm comm;
  if (axes.size() == 1 && axes[0] == kStagesAxis) {
    MPI_Comm_split(MPI_COMM_WORLD, int(position_), int(stage_), &comm);
    return groups_[axes] = comm;
  }
  // The stage is the leading coordinate, never one of `axes`.
  int64_t color = stage_;
  for (size_t d = 0; d < shape_.size(); ++d)
    if (std::find(axes.begin(), axes.end(), int64_t(d)) == axes.end())
      color = color * shape_[d] + coords_[d];
  MPI_Comm_split(MPI_COMM_WORLD, int(color), int(linearIndex(axes)), &comm);
  groups_[axes] = comm;
  return comm;
}

static MPI_Datatype mpiType(DType dtype) {
  switch (dtype) {
  case DType::F32: return MPI_FLOAT;
  case DType::F64: return MPI_DOUBLE;
  case DType::I8: return MPI_INT8_T;
  case DType::I16: return MPI_INT16_T;
  case DType::I32: return MPI_INT32_T;
  case DType::I64: return MPI_INT64_T;
  case DType::I1: return MPI_UINT8_T;
  default: return MPI_DATATYPE_NULL;
  }
}

void Communicator::wait(MPI_Request &request, const char *kind,
                        const std::string &label, size_t bytes) {
  if (timeoutSeconds_ <= 0) {
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    return;
  }
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  const auto spin = std::chrono::milliseconds(1);
  const auto limit = std::chrono::duration<double>(timeoutSeconds_);
  useconds_t pause = 20;
  for (;;) {
    int done = 0;
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done)
      return;
    Clock::duration waited = Clock::now() - start;
    if (waited < spin)
      continue;
    if (waited > limit) {
      char seconds[32];
      std::snprintf(seconds, sizeof(seconds), "%g", timeoutSeconds_);
      abortAll(std::string(kind) + (label.empty() ? "" : " '" + label + "'") +
               " of " + std::to_string(bytes) +
               " bytes did not complete within " + seconds +
               " s (--collective-timeout): another rank stopped, crashed or "
               "runs another program; stopping the job");
    }
    usleep(pause);
    pause = std::min<useconds_t>(pause * 2, 200);
  }
}

/// `count` as MPI's int count; stops the job when it does not fit.
static int toCount(Communicator &comm, size_t count, const char *kind) {
  if (count > size_t(INT_MAX))
    comm.abortAll(std::string(kind) + " of " + std::to_string(count) +
                  " elements: more than MPI's count limit of " +
                  std::to_string(INT_MAX));
  return int(count);
}

void Communicator::allReduce(Tensor &t, const std::vector<int64_t> &axes,
                             int kind, const std::string &label) {
  MPI_Datatype type = mpiType(t.dtype);
  if (type == MPI_DATATYPE_NULL)
    abortAll(std::string("all-reduce of ") + "16-bit floats is not supported "
             "on CPU ranks yet");
  MPI_Op op = kind == 1 ? MPI_MAX : kind == 2 ? MPI_MIN
                                    : kind == 3 ? MPI_PROD
                                                : MPI_SUM;
  if (!mpi_)
    return;
  int count = toCount(*this, t.numElements(), "all-reduce");
  MPI_Request request;
  MPI_Iallreduce(MPI_IN_PLACE, t.data, count, type, op, groupFor(axes),
                 &request);
  wait(request, "all-reduce", label, t.numElements() * byteWidth(t.dtype));
}

void Communicator::broadcast(Tensor &t, int root, const std::string &label) {
  if (!mpi_)
    return;
  size_t bytes = t.numElements() * byteWidth(t.dtype);
  int count = toCount(*this, bytes, "broadcast");
  MPI_Request request;
  MPI_Ibcast(t.data, count, MPI_BYTE, root, MPI_COMM_WORLD, &request);
  wait(request, "broadcast", label, bytes);
}

/// Copies `pieces` (n equal blocks, each `in`'s shape, contiguous) into
/// `out`, block k at position k along `axis`.
static void interleave(const uint8_t *pieces, int64_t n, const Tensor &in,
                       Tensor &out, int64_t axis) {
  size_t width = byteWidth(in.dtype);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= in.shape[d];
  for (size_t d = axis; d < in.shape.size(); ++d)
    inner *= in.shape[d];
  size_t innerBytes = inner * width;
  auto *dst = static_cast<uint8_t *>(out.data);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < n; ++k)
      std::memcpy(dst + (o * n + k) * innerBytes,
                  pieces + (k * outer + o) * innerBytes, innerBytes);
}

void Communicator::allGather(const Tensor &in, Tensor &out,
                             const std::vector<int64_t> &axes, int64_t axis,
                             const std::string &label) {
  if (!mpi_) {
    interleave(static_cast<const uint8_t *>(in.data), 1, in, out, axis);
    return;
  }
  int64_t n = groupSize(axes);
  size_t bytes = in.numElements() * byteWidth(in.dtype);
  int count = toCount(*this, bytes, "all-gather");
  std::vector<uint8_t> pieces(bytes * n);
  MPI_Request request;
  MPI_Iallgather(in.data, count, MPI_BYTE, pieces.data(), count, MPI_BYTE,
                 groupFor(axes), &request);
  wait(request, "all-gather", label, pieces.size());
  interleave(pieces.data(), n, in, out, axis);
}

void Communicator::reduceScatter(const Tensor &in, Tensor &out,
                                 const std::vector<int64_t> &axes, int64_t axis,
                                 const std::string &label) {
  // Sum everything, then keep this process's piece along `axis`.
  std::vector<uint8_t> sum(in.numElements() * byteWidth(in.dtype));
  std::memcpy(sum.data(), in.data, sum.size());
  Tensor whole{sum.data(), in.dtype, in.shape};
  allReduce(whole, axes, 0, label);
  int64_t n = groupSize(axes), index = linearIndex(axes);
  size_t width = byteWidth(in.dtype);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= in.shape[d];
  for (size_t d = axis + 1; d < in.shape.size(); ++d)
    inner *= in.shape[d];
  int64_t piece = in.shape[axis] / n;
  auto *dst = static_cast<uint8_t *>(out.data);
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(dst + o * piece * inner * width,
                sum.data() + (o * in.shape[axis] + index * piece) * inner * width,
                piece * inner * width);
}

void Communicator::allToAll(const Tensor &in, Tensor &out,
                            const std::vector<int64_t> &axes, int64_t splitAxis,
                            int64_t concatAxis, const std::string &label) {
  int64_t n = groupSize(axes);
  size_t width = byteWidth(in.dtype);
  // Pack: piece k is block k of `in` along `splitAxis`, made contiguous.
  std::vector<int64_t> pieceShape = in.shape;
  pieceShape[splitAxis] /= n;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < splitAxis; ++d)
    outer *= in.shape[d];
  for (size_t d = splitAxis; d < pieceShape.size(); ++d)
    inner *= pieceShape[d];
  size_t rowBytes = inner * width, pieceBytes = outer * rowBytes;
  std::vector<uint8_t> send(n * pieceBytes), recv(n * pieceBytes);
  const auto *src = static_cast<const uint8_t *>(in.data);
  for (int64_t k = 0; k < n; ++k)
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(send.data() + k * pieceBytes + o * rowBytes,
                  src + (o * n + k) * rowBytes, rowBytes);
  if (!mpi_) {
    recv = send;
  } else {
    int count = toCount(*this, pieceBytes, "all-to-all");
    MPI_Request request;
    MPI_Ialltoall(send.data(), count, MPI_BYTE, recv.data(), count, MPI_BYTE,
                  groupFor(axes), &request);
    wait(request, "all-to-all", label, send.size());
  }
  // Unpack: the piece from process k is block k of `out` along
  // `concatAxis`.
  Tensor piece{nullptr, in.dtype, pieceShape};
  interleave(recv.data(), n, piece, out, concatAxis);
}

int Communicator::stageRank(int64_t stage) const {
  return int(stage * gridDevices_ + position_);
}

int Communicator::checkTag(int tag) {
  if (!mpi_)
    abortAll("a point-to-point transfer in a job of one process: launch the "
             "pipeline's ranks with mpirun");
  int *upper = nullptr, found = 0;
  MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &upper, &found);
  if (tag < 0 || (found && tag > *upper))
    abortAll("a point-to-point transfer needs tag " + std::to_string(tag) +
             ", more than MPI's limit of " +
             std::to_string(found ? *upper : 32767) +
             " (too many boundary values or outputs)");
  return tag;
}

void Communicator::send(const Tensor &t, int to, int tag,
                        const std::string &label) {
  size_t bytes = t.numElements() * byteWidth(t.dtype);
  int count = toCount(*this, bytes, "send");
  PendingSend &pending = pendingSends_.emplace_back();
  const auto *src = static_cast<const uint8_t *>(t.data);
  pending.bytes.assign(src, src + bytes);
  pending.label = label;
  // The vector's heap bytes stay where they are when pendingSends_ grows.
  MPI_Isend(pending.bytes.data(), count, MPI_BYTE, to, checkTag(tag), p2p_,
            &pending.request);
}

void Communicator::receive(Tensor &t, int from, int tag,
                           const std::string &label) {
  size_t bytes = t.numElements() * byteWidth(t.dtype);
  int count = toCount(*this, bytes, "receive");
  MPI_Request request;
  MPI_Irecv(t.data, count, MPI_BYTE, from, checkTag(tag), p2p_, &request);
  wait(request, "receive", label, bytes);
}

Communicator::PendingReceive
Communicator::startReceive(Tensor &t, int from, int tag,
                           const std::string &label) {
  PendingReceive pending;
  pending.bytes = t.numElements() * byteWidth(t.dtype);
  pending.label = label;
  int count = toCount(*this, pending.bytes, "receive");
  MPI_Irecv(t.data, count, MPI_BYTE, from, checkTag(tag), p2p_,
            &pending.request);
  return pending;
}

void Communicator::finishReceive(PendingReceive &pending) {
  wait(pending.request, "receive", pending.label, pending.bytes);
}

void Communicator::completeSends(const std::string &label) {
  for (PendingSend &pending : pendingSends_)
    wait(pending.request, "send",
         pending.label + (label.empty() ? "" : ", " + label),
         pending.bytes.size());
  pendingSends_.clear();
}

void Communicator::waitForAll() {
  if (!mpi_)
    return;
  MPI_Request request;
  MPI_Ibarrier(MPI_COMM_WORLD, &request);
  int done = 0;
  while (!done) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (!done)
      usleep(2000);
  }
}

void Communicator::barrier(const std::string &label) {
  if (size_ == 1)
    return;
  MPI_Request request;
  MPI_Ibarrier(MPI_COMM_WORLD, &request);
  wait(request, "barrier", label, 0);
}

std::vector<std::string>
Communicator::exchangeRecords(const std::string &record, bool toAll,
                              const std::string &label) {
  if (size_ == 1)
    return {record};
  bool receives = toAll || rank_ == 0;
  int length = toCount(*this, record.size(), "gather");
  std::vector<int> lengths(size_), displs(size_, 0);
  MPI_Request request;
  if (toAll)
    MPI_Iallgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT,
                   MPI_COMM_WORLD, &request);
  else
    MPI_Igather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0,
                MPI_COMM_WORLD, &request);
  wait(request, "gather", label, sizeof(int) * size_);
  size_t total = 0;
  if (receives) {
    for (int r = 0; r < size_; ++r) {
      displs[r] = toCount(*this, total, "gather");
      total += size_t(lengths[r]);
    }
    toCount(*this, total, "gather");
  }
  std::string all(total, '\0');
  if (toAll)
    MPI_Iallgatherv(record.data(), length, MPI_CHAR, all.data(), lengths.data(),
                    displs.data(), MPI_CHAR, MPI_COMM_WORLD, &request);
  else
    MPI_Igatherv(record.data(), length, MPI_CHAR, all.data(), lengths.data(),
                 displs.data(), MPI_CHAR, 0, MPI_COMM_WORLD, &request);
  wait(request, "gather", label, total ? total : record.size());
  std::vector<std::string> records;
  if (receives)
    for (int r = 0; r < size_; ++r)
      records.push_back(all.substr(displs[r], lengths[r]));
  return records;
}

std::vector<std::string>
Communicator::allGatherRecords(const std::string &record,
                               const std::string &label) {
  return exchangeRecords(record, /*toAll=*/true, label);
}

std::vector<std::string> Communicator::gatherRecords(const std::string &record,
                                                     const std::string &label) {
  return exchangeRecords(record, /*toAll=*/false, label);
}

void Communicator::exitAll(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  freeComms();
  if (ownsMpi_)
    MPI_Finalize();
  std::exit(code);
}

void Communicator::reportDataError(const std::string &message) {
  if (!keepDataErrors_)
    abortAll(message);
  if (dataError_.empty())
    dataError_ = message;
}

void Communicator::abortAll(const std::string &message, int code) {
  std::fprintf(stderr, "dist-run: rank %d: error: %s\n", rank_, message.c_str());
  std::fflush(stderr);
  if (size_ > 1)
    MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}
