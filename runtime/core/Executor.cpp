//===- Executor.cpp - run a compiled dist program on CPU ranks ------------===//
//
// Building the program, once:
//  1. every SSA value gets a slot (dtype, shape, bytes); a reshape's result
//     shares its operand's bytes;
//  2. weights are mapped from their files (a shard reads only its slice),
//     constants are laid out from their attributes;
//  3. the other values get offsets in one arena, as cost::layoutArena
//     places them (first fit, by liveness), the layout the planner prices;
//  4. every op becomes a closure over fixed tensor views.
// Running is then a loop over the closures.
//
//===----------------------------------------------------------------------===//

#include "runtime/core/Executor.h"
#include "runtime/comm/Communicator.h"
#include "runtime/core/KernelKinds.h"

#include "distopt/Artifact/Pipeline.h"
#include "distopt/Cost/MemoryEstimate.h"
#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Support/SafePath.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <array>
#include <chrono>
#include <cstring>
#include <map>
#include <set>

using namespace mlir;
using namespace distopt;
using namespace distopt::rt;

Executor::~Executor() = default;
WeightStore::~WeightStore() = default;

namespace distopt::rt {

/// Builds an Executor from a module; see the file comment.
class ProgramBuilder {
public:
  ProgramBuilder(Executor &ex, Communicator &comm, std::string &error)
      : ex(ex), comm(comm), error(error) {}

  bool build(ModuleOp module, int64_t stage, StringRef phase);

private:
  struct Slot {
    DType dtype;
    std::vector<int64_t> shape;
    size_t bytes = 0;
    int root = -1;          // the slot whose bytes this one uses
    bool arena = false;     // placed in the arena (else owned or mapped)
    void *ptr = nullptr;    // for slots outside the arena
    int64_t offset = -1;    // arena offset
  };

  bool fail(Operation *op, const std::string &message) {
    std::string where;
    if (auto name = dyn_cast<NameLoc>(op->getLoc()))
      where = " at '" + name.getName().str() + "'";
    error = "'" + op->getName().getStringRef().str() + "'" + where + ": " +
            message;
    return false;
  }
  bool slotFor(Value v, Operation *user = nullptr);
  std::vector<int64_t> sliceBegin(dist::WeightOp op, const Slot &slot);
  bool loadWeight(dist::WeightOp op, Slot &slot, bool writable);
  bool loadStateWeight(dist::WeightOp op, Slot &slot, bool assigned);
  bool loadConstant(DenseElementsAttr attr, Slot &slot);
  bool loadAnyWeight(dist::WeightOp op, Slot &slot, bool assignedHere,
                     bool assignedInStage);
  void findStageAssigns(ModuleOp module);
  func::FuncOp selectFunction(ModuleOp module, int64_t stage, StringRef phase);
  bool setGrid(ModuleOp module, int64_t stages);
  bool bindArguments(func::FuncOp func, Block &body);
  void plan(Block &body);
  Tensor view(Value v) {
    Slot &s = slots[slotOf.lookup(v)];
    Slot &r = slots[s.root];
    void *ptr = r.arena ? ex.arena_.data() + r.offset : r.ptr;
    return Tensor{ptr, s.dtype, s.shape};
  }
  bool emit(Operation *op);
  bool emitDataMovement(Operation *op, const std::string &name);
  bool emitElementIndexing(Operation *op, const std::string &name);
  bool emitWindow(Operation *op, const std::string &name);
  bool emitCollective(Operation *op, const std::string &name);
  bool emitBackward(Operation *op, const std::string &name);
  bool emitTraining(Operation *op, const std::string &name);
  bool emitAssigns(ArrayRef<Operation *> ops);
  std::optional<ClassBlock> classBlock(Operation *op, ArrayRef<int16_t> axes,
                                       int64_t width,
                                       StringRef attr = "class_axes");
  std::optional<RowBlock>
  rowBlock(Operation *op, std::optional<ArrayRef<int16_t>> axes, int64_t rows);

  Executor &ex;
  Communicator &comm;
  std::string &error;
  std::string modelDir;
  /// Where weights live: the executor's own buffers, or a WeightStore's.
  std::vector<std::vector<uint8_t>> *weightOwned = nullptr;
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> *weightMappings = nullptr;
  size_t *weightBytes = nullptr;
  std::vector<StateInfo> *state = nullptr;
  std::vector<Slot> slots;
  llvm::DenseMap<Value, int> slotOf;
};

} // namespace distopt::rt

static bool toDType(Type t, DType &out) {
  if (t.isF32()) out = DType::F32;
  else if (t.isF64()) out = DType::F64;
  else if (t.isF16()) out = DType::F16;
  else if (t.isBF16()) out = DType::BF16;
  else if (t.isInteger(1)) out = DType::I1;
  else if (t.isInteger(8)) out = DType::I8;
  else if (t.isInteger(16)) out = DType::I16;
  else if (t.isInteger(32)) out = DType::I32;
  else if (t.isInteger(64)) out = DType::I64;
  else return false;
  return true;
}

bool ProgramBuilder::slotFor(Value v, Operation *user) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  Operation *where = user ? user : v.getDefiningOp();
  if (!type || !type.hasStaticShape())
    return fail(where, "the runtime needs statically shaped tensors");
  Slot s;
  if (!toDType(type.getElementType(), s.dtype))
    return fail(where, "unsupported element type");
  s.shape.assign(type.getShape().begin(), type.getShape().end());
  s.bytes = type.getNumElements() * byteWidth(s.dtype);
  s.root = slots.size();
  slotOf[v] = slots.size();
  slots.push_back(std::move(s));
  return true;
}

/// The slice of the whole weight this rank owns: per dim, the shard index
/// along its grid axes times the local size.
std::vector<int64_t> ProgramBuilder::sliceBegin(dist::WeightOp op,
                                                const Slot &slot) {
  std::vector<int64_t> begin(op.getFullShape().size(), 0);
  if (op.isPartitioned()) {
    ArrayRef<shard::GridAxesAttr> splits = op.getSplitAxesAttr().getAxes();
    for (size_t d = 0; d < splits.size(); ++d) {
      std::vector<int64_t> axes(splits[d].asArrayRef().begin(),
                                splits[d].asArrayRef().end());
      if (!axes.empty())
        begin[d] = comm.linearIndex(axes) * slot.shape[d];
    }
  }
  return begin;
}

bool ProgramBuilder::loadWeight(dist::WeightOp op, Slot &slot, bool writable) {
  dist::DataLocationAttr data = op.getData();
  SmallVector<int64_t> full = op.getFullShape();
  size_t width = byteWidth(slot.dtype);
  std::vector<int64_t> begin = sliceBegin(op, slot);
  // The artifact is untrusted: its weight paths get the same check as the
  // importer's external data (relative, no `..`, no symbolic link).
  auto buffer = readDataFileSlice(modelDir, data.getPath(), data.getOffset(),
                                  data.getLength());
  if (!buffer)
    return fail(op, "weight '" + op.getName().str() + "' at '" +
                        data.getPath().str() + "' " +
                        llvm::toString(buffer.takeError()));
  const uint8_t *src =
      reinterpret_cast<const uint8_t *>((*buffer)->getBufferStart());
  bool whole = !op.isPartitioned();
  if (whole && !writable && reinterpret_cast<uintptr_t>(src) % width == 0) {
    // Use the mapping as it is.
    slot.ptr = const_cast<uint8_t *>(src);
    weightMappings->push_back(std::move(*buffer));
    *weightBytes += slot.bytes;
    return true;
  }
  // A shard (or unaligned bytes, or a weight the program writes): copy this
  // rank's slice, row by row of the innermost dim.
  std::vector<uint8_t> &dst = weightOwned->emplace_back(slot.bytes);
  int64_t rank = full.size();
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < rank; ++d)
    rows *= slot.shape[d];
  int64_t rowElems = rank ? slot.shape[rank - 1] : 1;
  std::vector<int64_t> idx(rank > 0 ? rank - 1 : 0, 0);
  for (int64_t r = 0; r < rows; ++r) {
    int64_t srcOffset = 0;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t i = d + 1 < rank ? idx[d] : 0;
      srcOffset = srcOffset * full[d] + begin[d] + i;
    }
    std::memcpy(dst.data() + r * rowElems * width, src + srcOffset * width,
                rowElems * width);
    for (int64_t d = rank - 2; d >= 0; --d) {
      if (++idx[d] < slot.shape[d])
        break;
      idx[d] = 0;
    }
  }
  slot.ptr = dst.data();
  *weightBytes += slot.bytes;
  return true;
}

/// A persistent weight: a writable buffer of this rank's slice (zeros for
/// zero storage), recorded in the executor's state. Two reads of one weight
/// name share one buffer, so an assign updates what every read sees.
bool ProgramBuilder::loadStateWeight(dist::WeightOp op, Slot &slot,
                                     bool assigned) {
  std::string name = op.getName().str();
  std::vector<int64_t> begin = sliceBegin(op, slot);
  for (StateInfo &s : *state) {
    if (s.name != name)
      continue;
    if (s.shape != slot.shape || s.offsets != begin || s.dtype != slot.dtype)
      return fail(op, "weight '" + name +
                          "' is read as two different slices on this rank; "
                          "a weight the program updates needs one layout");
    s.assigned |= assigned;
    slot.ptr = s.data;
    return true;
  }
  bool zero = op.getData().getStorage() == dist::DataStorage::Zero;
  if (zero) {
    slot.ptr = weightOwned->emplace_back(slot.bytes, 0).data();
    *weightBytes += slot.bytes;
  } else if (!loadWeight(op, slot, /*writable=*/true)) {
    return false;
  }
  SmallVector<int64_t> full = op.getFullShape();
  state->push_back({name, slot.dtype, slot.shape,
                    std::vector<int64_t>(full.begin(), full.end()), begin, zero,
                    assigned, slot.ptr, slot.bytes});
  return true;
}

/// A weight of the program: persistent (assigned by this function, or by
/// another function of the stage sharing a WeightStore, or zero storage),
/// or read-only; with a store, one read-only weight is loaded once for the
/// stage's functions.
bool ProgramBuilder::loadAnyWeight(dist::WeightOp op, Slot &slot,
                                   bool assignedHere, bool assignedInStage) {
  bool isState = assignedHere || assignedInStage ||
                 op.getData().getStorage() == dist::DataStorage::Zero;
  if (isState)
    return loadStateWeight(op, slot, assignedHere);
  if (!ex.store_)
    return loadWeight(op, slot, /*writable=*/false);
  std::string name = op.getName().str();
  std::vector<int64_t> begin = sliceBegin(op, slot);
  for (const StateInfo &w : ex.store_->readOnly)
    if (w.name == name && w.shape == slot.shape && w.offsets == begin &&
        w.dtype == slot.dtype) {
      slot.ptr = w.data;
      return true;
    }
  if (!loadWeight(op, slot, /*writable=*/false))
    return false;
  SmallVector<int64_t> full = op.getFullShape();
  ex.store_->readOnly.push_back({name, slot.dtype, slot.shape,
                                 std::vector<int64_t>(full.begin(), full.end()),
                                 begin, false, false, slot.ptr, slot.bytes});
  return true;
}

/// The weights that the functions of this executor's stage assign, into
/// the store (a training pipeline's functions share them).
void ProgramBuilder::findStageAssigns(ModuleOp module) {
  dist::DistDialect::StageAttrHelper stageAttr(module.getContext());
  for (auto f : module.getOps<func::FuncOp>()) {
    IntegerAttr k = stageAttr.getAttr(f);
    if (!k || k.getInt() != ex.stage_)
      continue;
    f.walk([&](dist::AssignOp assign) {
      if (auto w = assign.getWeight().getDefiningOp<dist::WeightOp>())
        if (!llvm::is_contained(ex.store_->assigned, w.getName()))
          ex.store_->assigned.push_back(w.getName().str());
    });
  }
}

const StateInfo *Executor::findState(const std::string &name) const {
  for (const StateInfo &state : this->state())
    if (state.name == name)
      return &state;
  return nullptr;
}

bool ProgramBuilder::loadConstant(DenseElementsAttr attr, Slot &slot) {
  std::vector<uint8_t> &dst = ex.owned_.emplace_back(slot.bytes);
  size_t width = byteWidth(slot.dtype);
  int64_t i = 0;
  if (isa<FloatType>(attr.getElementType())) {
    for (const APFloat &f : attr.getValues<APFloat>()) {
      if (slot.dtype == DType::F32) {
        float v = f.convertToFloat();
        std::memcpy(&dst[i * 4], &v, 4);
      } else if (slot.dtype == DType::F64) {
        double v = f.convertToDouble();
        std::memcpy(&dst[i * 8], &v, 8);
      } else {
        uint16_t bits = f.bitcastToAPInt().getZExtValue();
        std::memcpy(&dst[i * 2], &bits, 2);
      }
      ++i;
    }
  } else {
    for (const APInt &v : attr.getValues<APInt>()) {
      int64_t x = slot.dtype == DType::I1 ? v.getZExtValue() : v.getSExtValue();
      std::memcpy(&dst[i * width], &x, width); // little-endian low bytes
      ++i;
    }
  }
  slot.ptr = dst.data();
  return true;
}

/// Places the computed values in the arena as the cost model's layout says
/// (cost::layoutArena), so that the planner's memory is the runtime's.
void ProgramBuilder::plan(Block &body) {
  cost::ArenaLayout layout = cost::layoutArena(body, /*alignment=*/64);
  for (auto [value, index] : slotOf) {
    Slot &s = slots[index];
    if (!s.arena || s.root != index)
      continue;
    s.offset = int64_t(layout.offsets.lookup(value));
    ex.arenaValueBytes_ += s.bytes;
  }
  ex.arena_.assign(layout.size, 0);
}

/// The attribute that names function arguments and results.
static constexpr StringLiteral kNameAttr =
    dist::DistDialect::NameAttrHelper::getNameStr();

/// The attribute that marks a pipeline's boundary values.
static constexpr StringLiteral kBoundaryAttr =
    dist::DistDialect::BoundaryAttrHelper::getNameStr();

/// A function argument's or result's description: a model value by its
/// `dist.name`, or a pipeline boundary value by its id, or `fallback`.
static IOInfo ioInfo(StringAttr name, IntegerAttr boundary,
                     IntegerAttr accumulate, std::string fallback, DType dtype,
                     const std::vector<int64_t> &shape) {
  IOInfo info{name ? name.str() : std::move(fallback), dtype, shape};
  if (boundary && !name) {
    info.boundary = boundary.getInt();
    info.name = "boundary " + std::to_string(info.boundary);
  } else if (accumulate && !name) {
    info.accumulate = accumulate.getInt();
    info.name = "accumulated value " + std::to_string(info.accumulate);
  }
  return info;
}

/// The function to run: that of `stage` in a pipeline (kThisRanksStage:
/// this rank's), else `@main` or the module's only function.
func::FuncOp ProgramBuilder::selectFunction(ModuleOp module, int64_t stage,
                                            StringRef phase) {
  dist::DistDialect::StageAttrHelper stageAttr(module.getContext());
  if (ex.numStages_ > 0) {
    if (stage == Executor::kThisRanksStage)
      stage = comm.stage();
    for (auto func : module.getOps<func::FuncOp>()) {
      IntegerAttr k = stageAttr.getAttr(func);
      auto p = func->getAttrOfType<StringAttr>(kPipelinePhaseAttr);
      if (k && k.getInt() == stage &&
          (p ? p.getValue() == phase : phase.empty())) {
        ex.stage_ = stage;
        return func;
      }
    }
    error =
        "the pipeline has no function of stage " + std::to_string(stage) +
        (phase.empty() ? std::string() : " and phase '" + phase.str() + "'");
    return nullptr;
  }
  func::FuncOp func = module.lookupSymbol<func::FuncOp>("main");
  if (!func) {
    auto funcs = llvm::to_vector(module.getOps<func::FuncOp>());
    if (funcs.size() != 1) {
      error = "the program has no function @main";
      return nullptr;
    }
    func = funcs.front();
  }
  return func;
}

/// Tells `comm` the device grid of the program and its number of stages.
bool ProgramBuilder::setGrid(ModuleOp module, int64_t stages) {
  // The grid of a pipeline's stages (dist.stages) is not a device grid.
  SmallVector<shard::GridOp> grids;
  for (shard::GridOp grid : module.getOps<shard::GridOp>())
    if (!dist::DistDialect::StagesAttrHelper(module.getContext())
             .isAttrPresent(grid))
      grids.push_back(grid);
  if (grids.size() > 1) {
    error = "the program uses " + std::to_string(grids.size()) +
            " device grids; the runtime runs programs of one grid";
    return false;
  }
  std::vector<int64_t> gridShape;
  if (!grids.empty())
    gridShape.assign(grids[0].getShape().begin(), grids[0].getShape().end());
  return comm.setGrid(gridShape, error, std::max<int64_t>(1, stages));
}

/// Gives every argument of `func` an input buffer and its IOInfo.
bool ProgramBuilder::bindArguments(func::FuncOp func, Block &body) {
  for (auto [i, arg] : llvm::enumerate(body.getArguments())) {
    if (!slotFor(arg, func))
      return false;
    Slot &s = slots.back();
    s.ptr = ex.owned_.emplace_back(s.bytes).data();
    ex.inputBytes_ += s.bytes;
    ex.inputs_.push_back(
        ioInfo(func.getArgAttrOfType<StringAttr>(i, kNameAttr),
               func.getArgAttrOfType<IntegerAttr>(i, kBoundaryAttr),
               func.getArgAttrOfType<IntegerAttr>(i, kPipelineAccumulateAttr),
               "arg" + std::to_string(i), s.dtype, s.shape));
    ex.inputTensors_.push_back(Tensor{s.ptr, s.dtype, s.shape});
  }
  return true;
}

bool ProgramBuilder::build(ModuleOp module, int64_t stage, StringRef phase) {
  if (StringAttr dir =
          dist::DistDialect::ModelDirAttrHelper(module.getContext())
              .getAttr(module))
    modelDir = dir.str();
  dist::DistDialect::StageAttrHelper stageAttr(module.getContext());
  std::set<int64_t> stages;
  for (func::FuncOp f : module.getOps<func::FuncOp>())
    if (IntegerAttr k = stageAttr.getAttr(f))
      stages.insert(k.getInt());
  ex.numStages_ = stages.size();
  // The grid first: this rank's stage depends on it. The stages run on
  // S / v rank groups (v: the module's dist.chunks, which checkPipeline
  // checks; stage c on group c mod S / v).
  int64_t groups = ex.numStages_;
  if (IntegerAttr chunks =
          dist::DistDialect::ChunksAttrHelper(module.getContext())
              .getAttr(module))
    if (chunks.getInt() >= 1 && groups % chunks.getInt() == 0)
      groups /= chunks.getInt();
  if (!setGrid(module, groups))
    return false;
  func::FuncOp func = selectFunction(module, stage, phase);
  if (!func)
    return false;
  bool shared = ex.store_ != nullptr;
  weightOwned = shared ? &ex.store_->owned : &ex.owned_;
  weightMappings = shared ? &ex.store_->mappings : &ex.mappings_;
  weightBytes = shared ? &ex.store_->weightBytes : &ex.weightBytes_;
  state = shared ? &ex.store_->state : &ex.state_;
  if (shared)
    findStageAssigns(module);
  Block &body = func.getBody().front();
  if (!bindArguments(func, body))
    return false;

  ex.training_ = dist::DistDialect::TrainAttrHelper(module.getContext())
                     .isAttrPresent(func);
  SmallVector<Operation *> ops;
  // Weights that some dist.assign writes, and their names: another read of
  // the same name must see the update too (one buffer per name).
  llvm::SmallPtrSet<Operation *, 16> assigned;
  std::set<std::string> assignedNames;
  for (Operation &op : body) {
    ops.push_back(&op);
    if (auto assign = dyn_cast<dist::AssignOp>(op)) {
      assigned.insert(assign.getWeight().getDefiningOp());
      if (auto w = assign.getWeight().getDefiningOp<dist::WeightOp>())
        assignedNames.insert(w.getName().str());
    }
  }
  for (Operation *op : ops) {
    for (Value operand : op->getOperands())
      if (!slotOf.count(operand))
        return fail(op, "reads a value the runtime did not produce");
    if (isa<func::ReturnOp>(op))
      continue;
    for (Value r : op->getResults())
      if (!slotFor(r))
        return false;
    if (op->getNumResults() == 0)
      continue;
    Slot &s = slots[slotOf.lookup(op->getResult(0))];
    if (auto weight = dyn_cast<dist::WeightOp>(op)) {
      bool inStage = assignedNames.count(weight.getName().str()) ||
                     (ex.store_ && llvm::is_contained(ex.store_->assigned,
                                                      weight.getName()));
      if (!loadAnyWeight(weight, s, assigned.contains(op), inStage))
        return false;
    } else if (auto constant = dyn_cast<dist::ConstantOp>(op)) {
      auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
      if (!dense)
        return fail(op, "only dense constants are supported");
      if (!loadConstant(dense, s))
        return false;
    } else if (isa<dist::ReshapeOp>(op)) {
      s.root = slots[slotOf.lookup(op->getOperand(0))].root;
    } else {
      for (Value r : op->getResults())
        slots[slotOf.lookup(r)].arena = true;
    }
  }
  plan(body);

  for (Operation *op : ops) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
        Tensor t = view(v);
        ex.outputs_.push_back(ioInfo(
            func.getResultAttrOfType<StringAttr>(i, kNameAttr),
            func.getResultAttrOfType<IntegerAttr>(i, kBoundaryAttr),
            func.getResultAttrOfType<IntegerAttr>(i, kPipelineAccumulateAttr),
            "out" + std::to_string(i), t.dtype, t.shape));
        ex.outputTensors_.push_back(t);
      }
      continue;
    }
    if (!emit(op))
      return false;
  }
  return emitAssigns(ops);
}

/// Reads the grid axes attribute of a collective as a vector.
template <typename OpT> static std::vector<int64_t> gridAxes(OpT op) {
  ArrayRef<int16_t> axes = op.getGridAxes();
  return std::vector<int64_t>(axes.begin(), axes.end());
}

static std::vector<int64_t> vec(ArrayRef<int64_t> a) {
  return std::vector<int64_t>(a.begin(), a.end());
}

template <size_t N> static std::array<int64_t, N> arr(ArrayRef<int64_t> a) {
  std::array<int64_t, N> out{};
  std::copy_n(a.begin(), N, out.begin());
  return out;
}

/// The message for the out-of-range index at `position` of `indices`; an
/// error on one rank stops every rank (Communicator::reportDataError), so
/// that none waits in the next collective, or, in the library, is returned
/// by every rank after the run.
static std::string gatherIndexError(const std::string &op,
                                    const Tensor &indices, int64_t position,
                                    int64_t axisSize, int64_t axis) {
  std::string where;
  for (int64_t rest = position, d = indices.rank() - 1; d >= 0; --d) {
    where = std::to_string(rest % indices.shape[d]) +
            (where.empty() ? "" : ", ") + where;
    rest /= indices.shape[d];
  }
  return "'" + op + "': index " + std::to_string(indexAt(indices, position)) +
         " (at [" + where + "] of the indices) is out of range for axis " +
         std::to_string(axis) + " of size " + std::to_string(axisSize) +
         "; indices must be in [-" + std::to_string(axisSize) + ", " +
         std::to_string(axisSize) + ")";
}

bool ProgramBuilder::emit(Operation *op) {
  std::string name = op->getName().getStringRef().str();
  if (auto loc = dyn_cast<NameLoc>(op->getLoc()))
    name += " " + loc.getName().str();
  auto add = [&](std::function<void()> fn, bool isComm = false) {
    ex.steps_.push_back({name, isComm, std::move(fn)});
    return true;
  };
  auto optional = [&](Value v) -> std::optional<Tensor> {
    if (!v)
      return std::nullopt;
    return view(v);
  };
  return llvm::TypeSwitch<Operation *, bool>(op)
      .Case([&](dist::WeightOp) { return true; })
      .Case([&](dist::ConstantOp) { return true; })
      .Case([&](dist::ReshapeOp) { return true; })
      .Case([&](dist::MatMulOp o) {
        Tensor a = view(o.getLhs()), b = view(o.getRhs()), out = view(o.getResult());
        std::optional<Tensor> bias = optional(o.getBias());
        return add([=]() mutable { matmul(a, b, bias ? &*bias : nullptr, out); });
      })
      .Case([&](dist::GemmOp o) {
        Tensor a = view(o.getA()), b = view(o.getB()), out = view(o.getResult());
        std::optional<Tensor> c = optional(o.getC());
        bool ta = o.getTransA(), tb = o.getTransB();
        float alpha = o.getAlpha().convertToFloat(), beta = o.getBeta().convertToFloat();
        return add([=]() mutable {
          gemm(a, b, c ? &*c : nullptr, out, ta, tb, alpha, beta);
        });
      })
      .Case<dist::Conv2DOp, dist::Pool2DOp, dist::GlobalPoolOp>(
          [&](Operation *) { return emitWindow(op, name); })
      .Case([&](dist::UnaryOp o) {
        Tensor in = view(o.getInput()), out = view(o.getResult());
        auto kind = toKernelKind(o.getKind());
        UnaryParams params = toKernelParams(o);
        return add([=]() mutable { unary(kind, in, out, params); });
      })
      .Case([&](dist::BinaryOp o) {
        Tensor a = view(o.getLhs()), b = view(o.getRhs()), out = view(o.getResult());
        auto kind = toKernelKind(o.getKind());
        return add([=]() mutable { binary(kind, a, b, out); });
      })
      .Case([&](dist::CompareOp o) {
        Tensor a = view(o.getLhs()), b = view(o.getRhs()), out = view(o.getResult());
        auto kind = toKernelKind(o.getKind());
        return add([=]() mutable { compare(kind, a, b, out); });
      })
      .Case([&](dist::SelectOp o) {
        Tensor c = view(o.getCondition()), a = view(o.getOnTrue()),
               b = view(o.getOnFalse()), out = view(o.getResult());
        return add([=]() mutable { select(c, a, b, out); });
      })
      .Case([&](dist::CastOp o) {
        Tensor in = view(o.getInput()), out = view(o.getResult());
        return add([=]() mutable { cast(in, out); });
      })
      .Case([&](dist::ReduceOp o) {
        Tensor in = view(o.getInput()), out = view(o.getResult());
        auto kind = toKernelKind(o.getKind());
        auto axes = vec(o.getAxes());
        bool keep = o.getKeepDims();
        return add([=]() mutable { reduce(kind, in, out, axes, keep); });
      })
      .Case([&](dist::SoftmaxOp o) {
        Tensor in = view(o.getInput()), out = view(o.getResult());
        int64_t axis = o.getAxis();
        bool log = o.getLog();
        return add([=]() mutable { softmax(in, out, axis, log); });
      })
      .Case([&](dist::LayerNormOp o) {
        Tensor in = view(o.getInput()), scale = view(o.getScale()),
               out = view(o.getResult());
        std::optional<Tensor> bias = optional(o.getBias());
        int64_t axis = o.getAxis();
        float eps = o.getEpsilon().convertToFloat();
        return add([=]() mutable {
          layerNorm(in, scale, bias ? &*bias : nullptr, out, axis, eps);
        });
      })
      .Case<dist::GatherOp, dist::TransposeOp, dist::SliceOp, dist::ConcatOp,
            dist::SplitOp, dist::BroadcastOp>(
          [&](Operation *) { return emitDataMovement(op, name); })
      .Case<dist::TopKOp, dist::GatherElementsOp, dist::ScatterElementsOp,
            dist::ScatterNDOp>(
          [&](Operation *) { return emitElementIndexing(op, name); })
      .Case<shard::AllReduceOp, shard::AllGatherOp, shard::ReduceScatterOp,
            shard::AllToAllOp, shard::AllSliceOp>(
          [&](Operation *) { return emitCollective(op, name); })
      .Case<dist::GatherGradOp, dist::Conv2DGradInputOp,
            dist::Conv2DGradFilterOp, dist::Pool2DGradOp>(
          [&](Operation *) { return emitBackward(op, name); })
      .Case<dist::CrossEntropyOp, dist::CrossEntropyGradOp,
            dist::CrossEntropyStatsOp, dist::MseOp, dist::AdamWOp, dist::SgdOp>(
          [&](Operation *) { return emitTraining(op, name); })
      // Emitted after every other step (emitAssigns).
      .Case([&](dist::AssignOp) { return true; })
      .Default([&](Operation *) {
        return fail(op, "the CPU runtime has no kernel for this op");
      });
}

/// The steps of the windowed ops: convolution and pooling (`emit`'s helper).
bool ProgramBuilder::emitWindow(Operation *op, const std::string &name) {
  auto add = [&](std::function<void()> fn) {
    ex.steps_.push_back({name, false, std::move(fn)});
    return true;
  };
  auto optional = [&](Value v) -> std::optional<Tensor> {
    if (!v)
      return std::nullopt;
    return view(v);
  };
  return llvm::TypeSwitch<Operation *, bool>(op)
      .Case([&](dist::Conv2DOp o) {
        Tensor in = view(o.getInput()), w = view(o.getFilter()), out = view(o.getResult());
        std::optional<Tensor> bias = optional(o.getBias());
        auto strides = arr<2>(o.getStrides()), dilations = arr<2>(o.getDilations());
        auto pads = arr<4>(o.getPads());
        int64_t group = o.getGroup();
        return add([=]() mutable {
          conv2d(in, w, bias ? &*bias : nullptr, out, strides, pads, dilations, group);
        });
      })
      .Case([&](dist::Pool2DOp o) {
        Tensor in = view(o.getInput()), out = view(o.getResult());
        auto kind = toKernelKind(o.getKind());
        auto kernel = arr<2>(o.getKernel()), strides = arr<2>(o.getStrides()),
             dilations = arr<2>(o.getDilations());
        auto pads = arr<4>(o.getPads());
        bool ceil = o.getCeilMode(), countPad = o.getCountIncludePad();
        return add([=]() mutable {
          pool2d(kind, in, out, kernel, strides, pads, dilations, ceil, countPad);
        });
      })
      .Case([&](dist::GlobalPoolOp o) {
        Tensor in = view(o.getInput()), out = view(o.getResult());
        auto kind = toKernelKind(o.getKind());
        return add([=]() mutable { globalPool(kind, in, out); });
      })
      .Default([](Operation *) { return false; });
}

/// The steps of the data movement ops (`emit`'s helper).
bool ProgramBuilder::emitDataMovement(Operation *op, const std::string &name) {
  auto add = [&](std::function<void()> fn, bool isComm = false) {
    ex.steps_.push_back({name, isComm, std::move(fn)});
    return true;
  };
  return llvm::TypeSwitch<Operation *, bool>(op)
      .Case([&](dist::GatherOp o) {
        Tensor d = view(o.getData()), idx = view(o.getIndices()), out = view(o.getResult());
        int64_t axis = o.getAxis();
        Communicator *c = &comm;
        std::optional<RowBlock> block =
            rowBlock(o, o.getRowAxes(), d.shape[axis]);
        if (!block)
          return false;
        return add([=, block = *block]() mutable {
          int64_t bad = gatherBlock(d, idx, block, out, axis);
          if (bad >= 0)
            c->reportDataError(
                gatherIndexError(name, idx, bad, block.rows, axis));
        });
      })
      .Case([&](dist::TransposeOp o) {
        Tensor in = view(o.getInput()), out = view(o.getResult());
        auto perm = vec(o.getPerm());
        return add([=]() mutable { transpose(in, out, perm); });
      })
      .Case([&](dist::SliceOp o) {
        Tensor in = view(o.getInput()), out = view(o.getResult());
        auto offsets = vec(o.getOffsets()), strides = vec(o.getStrides());
        return add([=]() mutable { slice(in, out, offsets, strides); });
      })
      .Case([&](dist::ConcatOp o) {
        std::vector<Tensor> ins;
        for (Value v : o.getInputs())
          ins.push_back(view(v));
        Tensor out = view(o.getResult());
        int64_t axis = o.getAxis();
        return add([=]() mutable {
          std::vector<const Tensor *> ptrs;
          for (const Tensor &t : ins)
            ptrs.push_back(&t);
          concat(ptrs, out, axis);
        });
      })
      .Case([&](dist::SplitOp o) {
        Tensor in = view(o.getInput());
        std::vector<Tensor> outs;
        for (Value v : o.getResults())
          outs.push_back(view(v));
        int64_t axis = o.getAxis();
        return add([=]() mutable {
          std::vector<Tensor *> ptrs;
          for (Tensor &t : outs)
            ptrs.push_back(&t);
          split(in, ptrs, axis);
        });
      })
      .Case([&](dist::BroadcastOp o) {
        Tensor in = view(o.getInput()), out = view(o.getResult());
        return add([=]() mutable { broadcast(in, out); });
      })
      .Default([](Operation *) { return false; });
}

/// The message for the row of scatter_nd `indices` at `row` that has a
/// coordinate outside `data`'s dims (stops every rank, as a gather index).
static std::string scatterRowError(const std::string &op, const Tensor &indices,
                                   int64_t row, const Tensor &data) {
  int64_t k = indices.shape.back();
  std::string coordinates, dims;
  for (int64_t d = 0; d < k; ++d) {
    coordinates +=
        (d ? ", " : "") + std::to_string(indexAt(indices, row * k + d));
    dims += (d ? ", " : "") + std::to_string(data.shape[d]);
  }
  return "'" + op + "': row " + std::to_string(row) + " of the indices, [" +
         coordinates + "], is out of range for the dims [" + dims +
         "]; each coordinate must be in [-n, n) of its dim";
}

/// The steps of the element indexing ops (`emit`'s helper): top-k and the
/// element gathers and scatters, whose bad indices stop every rank.
bool ProgramBuilder::emitElementIndexing(Operation *op,
                                         const std::string &name) {
  auto add = [&](std::function<void()> fn) {
    ex.steps_.push_back({name, false, std::move(fn)});
    return true;
  };
  Communicator *c = &comm;
  return llvm::TypeSwitch<Operation *, bool>(op)
      .Case([&](dist::TopKOp o) {
        Tensor in = view(o.getInput()), values = view(o.getValues()),
               indices = view(o.getIndices());
        int64_t axis = o.getAxis(), k = o.getK();
        bool smallest = o.getSmallest();
        return add(
            [=]() mutable { topK(in, values, indices, axis, k, smallest); });
      })
      .Case([&](dist::GatherElementsOp o) {
        Tensor d = view(o.getData()), idx = view(o.getIndices()),
               out = view(o.getResult());
        int64_t axis = o.getAxis();
        return add([=]() mutable {
          int64_t bad = gatherElements(d, idx, out, axis);
          if (bad >= 0)
            c->reportDataError(
                gatherIndexError(name, idx, bad, d.shape[axis], axis));
        });
      })
      .Case([&](dist::ScatterElementsOp o) {
        Tensor d = view(o.getData()), idx = view(o.getIndices()),
               u = view(o.getUpdates()), out = view(o.getResult());
        int64_t axis = o.getAxis();
        auto reduction = toKernelKind(o.getReduction());
        return add([=]() mutable {
          int64_t bad = scatterElements(reduction, d, idx, u, out, axis);
          if (bad >= 0)
            c->reportDataError(
                gatherIndexError(name, idx, bad, d.shape[axis], axis));
        });
      })
      .Case([&](dist::ScatterNDOp o) {
        Tensor d = view(o.getData()), idx = view(o.getIndices()),
               u = view(o.getUpdates()), out = view(o.getResult());
        auto reduction = toKernelKind(o.getReduction());
        return add([=]() mutable {
          int64_t bad = scatterND(reduction, d, idx, u, out);
          if (bad >= 0)
            c->reportDataError(scatterRowError(name, idx, bad, d));
        });
      })
      .Default([](Operation *) { return false; });
}

/// The steps of the shard collectives (`emit`'s helper): each prepares its
/// sub-communicator now, in program order on every rank.
bool ProgramBuilder::emitCollective(Operation *op, const std::string &name) {
  auto add = [&](std::function<void()> fn, bool isComm = false) {
    ex.steps_.push_back({name, isComm, std::move(fn)});
    return true;
  };
  return llvm::TypeSwitch<Operation *, bool>(op)
      .Case([&](shard::AllReduceOp o) {
        Tensor in = view(o.getInput()), out = view(o.getResult());
        auto axes = gridAxes(o);
        auto grid = SymbolTable::lookupNearestSymbolFrom<shard::GridOp>(
            o, o.getGridAttr());
        if (grid && dist::DistDialect::StagesAttrHelper(o.getContext())
                        .isAttrPresent(grid))
          axes = {Communicator::kStagesAxis};
        int kind = 0;
        switch (o.getReduction()) {
        case shard::ReductionKind::Sum:
          kind = 0;
          break;
        case shard::ReductionKind::Max:
          kind = 1;
          break;
        case shard::ReductionKind::Min:
          kind = 2;
          break;
        case shard::ReductionKind::Product:
          kind = 3;
          break;
        default:
          return fail(op, "unsupported reduction kind");
        }
        Communicator *c = &comm;
        c->prepareGroup(axes);
        size_t bytes = in.numElements() * byteWidth(in.dtype);
        add(
            [=]() mutable {
              if (out.data != in.data)
                std::memcpy(out.data, in.data, bytes);
              c->allReduce(out, axes, kind, name);
            },
            /*isComm=*/true);
        // A sum over the pipeline's stages: runToStagesSum can stop before
        // it (the stages of one rank under the interleaved schedule).
        if (axes.size() == 1 && axes[0] == Communicator::kStagesAxis) {
          ex.steps_.back().stagesSum = true;
          ex.steps_.back().in = in;
          ex.steps_.back().out = out;
        }
        return true;
      })
      .Case([&](shard::AllGatherOp o) {
        Tensor in = view(o.getInput()), out = view(o.getResult());
        auto axes = gridAxes(o);
        int64_t axis = o.getGatherAxis().getSExtValue();
        Communicator *c = &comm;
        c->prepareGroup(axes);
        return add([=]() mutable { c->allGather(in, out, axes, axis, name); },
                   true);
      })
      .Case([&](shard::ReduceScatterOp o) {
        // dist-partition reduce-scatters sums only (dist::planReshard).
        if (o.getReduction() != shard::ReductionKind::Sum)
          return fail(op, "the CPU runtime's reduce_scatter sums; other "
                          "reduction kinds are all-reduced and sliced");
        Tensor in = view(o.getInput()), out = view(o.getResult());
        auto axes = gridAxes(o);
        int64_t axis = o.getScatterAxis().getSExtValue();
        Communicator *c = &comm;
        c->prepareGroup(axes);
        return add(
            [=]() mutable { c->reduceScatter(in, out, axes, axis, name); },
            true);
      })
      .Case([&](shard::AllToAllOp o) {
        Tensor in = view(o.getInput()), out = view(o.getResult());
        auto axes = gridAxes(o);
        int64_t splitAxis = o.getSplitAxis().getSExtValue();
        int64_t concatAxis = o.getConcatAxis().getSExtValue();
        Communicator *c = &comm;
        c->prepareGroup(axes);
        return add(
            [=]() mutable {
              c->allToAll(in, out, axes, splitAxis, concatAxis, name);
            },
            true);
      })
      .Case([&](shard::AllSliceOp o) {
        // Keep this process's piece: a local slice, no communication.
        Tensor in = view(o.getInput()), out = view(o.getResult());
        auto axes = gridAxes(o);
        int64_t axis = o.getSliceAxis().getSExtValue();
        std::vector<int64_t> offsets(in.shape.size(), 0),
            strides(in.shape.size(), 1);
        offsets[axis] = comm.linearIndex(axes) * out.shape[axis];
        return add([=]() mutable { slice(in, out, offsets, strides); });
      })
      .Default([](Operation *) { return false; });
}

/// The message for the label out of range at `position` of `labels`
/// (stops every rank, like a gather index).
static std::string labelError(const std::string &op, const Tensor &labels,
                              int64_t position, int64_t classes) {
  std::string where;
  for (int64_t rest = position, d = labels.rank() - 1; d >= 0; --d) {
    where = std::to_string(rest % labels.shape[d]) +
            (where.empty() ? "" : ", ") + where;
    rest /= labels.shape[d];
  }
  return "'" + op + "': label " + std::to_string(indexAt(labels, position)) +
         " (at [" + where + "] of the labels) is out of range for " +
         std::to_string(classes) + " classes; labels must be in [0, " +
         std::to_string(classes) + ")";
}

/// This rank's block of `width` classes split over the grid axes `axes` of
/// `op` (distinct axes of the program's grid, checked: the artifact is
/// untrusted).
std::optional<ClassBlock> ProgramBuilder::classBlock(Operation *op,
                                                     ArrayRef<int16_t> axes,
                                                     int64_t width,
                                                     StringRef attr) {
  std::vector<int64_t> list;
  for (int16_t a : axes) {
    if (a < 0 || size_t(a) >= comm.gridShape().size() ||
        llvm::is_contained(list, int64_t(a))) {
      fail(op, attr.str() + " must be distinct axes of the program's grid of " +
                   std::to_string(comm.gridShape().size()) + " axes");
      return std::nullopt;
    }
    list.push_back(a);
  }
  return ClassBlock{comm.linearIndex(list) * width,
                    width * comm.groupSize(list)};
}

/// This rank's block of a table split by rows over the grid axes `axes`
/// (`row_axes` of a gather or its gradient; none: the whole table of
/// `rows` rows), `rows` rows per rank.
std::optional<RowBlock>
ProgramBuilder::rowBlock(Operation *op, std::optional<ArrayRef<int16_t>> axes,
                         int64_t rows) {
  if (!axes)
    return RowBlock{0, rows};
  std::optional<ClassBlock> block = classBlock(op, *axes, rows, "row_axes");
  if (!block)
    return std::nullopt;
  return RowBlock{block->first, block->classes};
}

/// The steps of the loss and optimizer ops (`emit`'s helper).
bool ProgramBuilder::emitTraining(Operation *op, const std::string &name) {
  auto add = [&](std::function<void()> fn) {
    ex.steps_.push_back({name, false, std::move(fn)});
    return true;
  };
  Communicator *c = &comm;
  return llvm::TypeSwitch<Operation *, bool>(op)
      .Case([&](dist::CrossEntropyOp o) {
        Tensor x = view(o.getLogits()), y = view(o.getLabels()),
               out = view(o.getResult());
        return add([=]() mutable {
          int64_t bad = crossEntropy(x, y, out);
          if (bad >= 0)
            c->reportDataError(labelError(name, y, bad, x.shape.back()));
        });
      })
      .Case([&](dist::CrossEntropyStatsOp o) {
        Tensor x = view(o.getLogits()), y = view(o.getLabels()),
               m = view(o.getMax()), sum = view(o.getSumExp()),
               t = view(o.getTarget());
        std::optional<ClassBlock> block =
            classBlock(o, o.getClassAxes(), x.shape.back());
        if (!block)
          return false;
        return add([=, block = *block]() mutable {
          int64_t bad = crossEntropyStats(x, y, m, block, sum, t);
          if (bad >= 0)
            c->reportDataError(labelError(name, y, bad, block.classes));
        });
      })
      .Case([&](dist::CrossEntropyGradOp o) {
        Tensor x = view(o.getLogits()), y = view(o.getLabels()),
               k = view(o.getScale()), out = view(o.getResult());
        if (o.getMax()) {
          Tensor m = view(o.getMax()), sum = view(o.getSumExp());
          std::optional<ClassBlock> block =
              classBlock(o, *o.getClassAxes(), x.shape.back());
          if (!block)
            return false;
          return add([=, block = *block]() mutable {
            int64_t bad =
                crossEntropyGradBlock(x, y, k, m, sum, block, out);
            if (bad >= 0)
              c->reportDataError(labelError(name, y, bad, block.classes));
          });
        }
        return add([=]() mutable {
          int64_t bad = crossEntropyGrad(x, y, k, out);
          if (bad >= 0)
            c->reportDataError(labelError(name, y, bad, x.shape.back()));
        });
      })
      .Case([&](dist::MseOp o) {
        Tensor p = view(o.getPred()), t = view(o.getTarget()),
               out = view(o.getResult());
        return add([=]() mutable { mse(p, t, out); });
      })
      .Case([&](dist::AdamWOp o) {
        Tensor p = view(o.getParam()), g = view(o.getGrad()),
               m = view(o.getM()), v = view(o.getV()), t = view(o.getStep()),
               p1 = view(o.getNewParam()), m1 = view(o.getNewM()),
               v1 = view(o.getNewV());
        AdamWOptions opts{
            o.getLr().convertToDouble(), o.getBeta1().convertToDouble(),
            o.getBeta2().convertToDouble(), o.getEps().convertToDouble(),
            o.getWeightDecay().convertToDouble()};
        return add([=]() mutable { adamw(p, g, m, v, t, p1, m1, v1, opts); });
      })
      .Case([&](dist::SgdOp o) {
        Tensor p = view(o.getParam()), g = view(o.getGrad()),
               p1 = view(o.getNewParam());
        std::optional<Tensor> b, b1;
        if (o.getMomentumBuffer()) {
          b = view(o.getMomentumBuffer());
          b1 = view(o.getNewMomentumBuffer());
        }
        SgdOptions opts{o.getLr().convertToDouble(),
                        o.getMomentum().convertToDouble(),
                        o.getWeightDecay().convertToDouble()};
        return add([=]() mutable {
          sgd(p, g, b ? &*b : nullptr, p1, b1 ? &*b1 : nullptr, opts);
        });
      })
      .Default([](Operation *) { return false; });
}

/// The steps of the dist.assign ops, after every other step so that every
/// read of a weight in the step sees its old value: each copies its value
/// into the weight's persistent buffer.
bool ProgramBuilder::emitAssigns(ArrayRef<Operation *> ops) {
  for (Operation *op : ops) {
    auto assign = dyn_cast<dist::AssignOp>(op);
    if (!assign)
      continue;
    Tensor weight = view(assign.getWeight()), value = view(assign.getValue());
    size_t bytes = weight.numElements() * byteWidth(weight.dtype);
    std::string name = "dist.assign";
    if (auto w = assign.getWeight().getDefiningOp<dist::WeightOp>())
      name += " " + w.getName().str();
    ex.steps_.push_back({name, false, [=]() {
                           if (weight.data != value.data)
                             std::memmove(weight.data, value.data, bytes);
                         }});
  }
  return true;
}

/// The steps of the backward ops (`emit`'s helper).
bool ProgramBuilder::emitBackward(Operation *op, const std::string &name) {
  auto add = [&](std::function<void()> fn) {
    ex.steps_.push_back({name, false, std::move(fn)});
    return true;
  };
  return llvm::TypeSwitch<Operation *, bool>(op)
      .Case([&](dist::GatherGradOp o) {
        Tensor g = view(o.getGrad()), idx = view(o.getIndices()),
               out = view(o.getResult());
        int64_t axis = o.getAxis();
        Communicator *c = &comm;
        std::optional<RowBlock> block =
            rowBlock(o, o.getRowAxes(), out.shape[axis]);
        if (!block)
          return false;
        return add([=, block = *block]() mutable {
          int64_t bad = gatherGradBlock(g, idx, block, out, axis);
          if (bad >= 0)
            c->reportDataError(
                gatherIndexError(name, idx, bad, block.rows, axis));
        });
      })
      .Case([&](dist::Conv2DGradInputOp o) {
        Tensor g = view(o.getGrad()), w = view(o.getFilter()),
               out = view(o.getResult());
        auto strides = arr<2>(o.getStrides()),
             dilations = arr<2>(o.getDilations());
        auto pads = arr<4>(o.getPads());
        int64_t group = o.getGroup();
        return add([=]() mutable {
          conv2dGradInput(g, w, out, strides, pads, dilations, group);
        });
      })
      .Case([&](dist::Conv2DGradFilterOp o) {
        Tensor in = view(o.getInput()), g = view(o.getGrad()),
               out = view(o.getResult());
        auto strides = arr<2>(o.getStrides()),
             dilations = arr<2>(o.getDilations());
        auto pads = arr<4>(o.getPads());
        int64_t group = o.getGroup();
        return add([=]() mutable {
          conv2dGradFilter(in, g, out, strides, pads, dilations, group);
        });
      })
      .Case([&](dist::Pool2DGradOp o) {
        Tensor g = view(o.getGrad()), in = view(o.getInput()),
               out = view(o.getResult());
        auto kind = toKernelKind(o.getKind());
        auto kernel = arr<2>(o.getKernel()), strides = arr<2>(o.getStrides()),
             dilations = arr<2>(o.getDilations());
        auto pads = arr<4>(o.getPads());
        bool countPad = o.getCountIncludePad();
        return add([=]() mutable {
          pool2dGrad(kind, g, in, out, kernel, strides, pads, dilations,
                     countPad);
        });
      })
      .Default([](Operation *) { return false; });
}

std::unique_ptr<Executor> Executor::create(ModuleOp module, Communicator &comm,
                                           std::string &error, int64_t stage,
                                           StringRef phase,
                                           WeightStore *store) {
  std::unique_ptr<Executor> ex(new Executor());
  ex->store_ = store;
  ProgramBuilder builder(*ex, comm, error);
  if (!builder.build(module, stage, phase))
    return nullptr;
  return ex;
}

void Executor::run(const std::vector<HostTensor> &inputs,
                   std::vector<HostTensor> &outputs,
                   std::vector<TraceEvent> *trace,
                   const std::chrono::steady_clock::time_point *from) {
  auto origin = from ? *from : std::chrono::steady_clock::now();
  start(inputs);
  while (runToStagesSum(trace, &origin))
    runStep(trace, &origin);
  finish(outputs);
}

void Executor::start(const std::vector<HostTensor> &inputs) {
  for (size_t i = 0; i < inputs.size(); ++i)
    std::memcpy(inputTensors_[i].data, inputs[i].bytes.data(),
                inputs[i].bytes.size());
  next_ = 0;
}

void Executor::runStep(std::vector<TraceEvent> *trace,
                       const std::chrono::steady_clock::time_point *from) {
  using Clock = std::chrono::steady_clock;
  Step &step = steps_[next_++];
  if (!trace) {
    step.fn();
    return;
  }
  auto origin = from ? *from : Clock::now();
  auto start = Clock::now();
  step.fn();
  auto end = Clock::now();
  trace->push_back(
      {step.name, step.comm ? "comm" : "kernel",
       std::chrono::duration<double, std::micro>(start - origin).count(),
       std::chrono::duration<double, std::micro>(end - start).count()});
}

bool Executor::runToStagesSum(
    std::vector<TraceEvent> *trace,
    const std::chrono::steady_clock::time_point *from) {
  // Without an origin, every step is timed from the start of this call.
  auto origin = std::chrono::steady_clock::now();
  while (next_ < steps_.size()) {
    if (steps_[next_].stagesSum)
      return true;
    runStep(trace, from ? from : &origin);
  }
  return false;
}

void Executor::finish(std::vector<HostTensor> &outputs) {
  outputs.clear();
  for (size_t i = 0; i < outputs_.size(); ++i) {
    HostTensor t;
    t.dtype = outputs_[i].dtype;
    t.shape = outputs_[i].shape;
    const auto *src = static_cast<const uint8_t *>(outputTensors_[i].data);
    t.bytes.assign(src, src + outputTensors_[i].numElements() *
                                   byteWidth(t.dtype));
    outputs.push_back(std::move(t));
  }
}
