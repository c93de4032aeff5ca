//===- OpCostTest.cpp - unit tests of op work, roofline and memory --------===//
//
// FLOPs and bytes of dist ops computed by hand, sharded work from sharding
// rules, the roofline regimes of getComputeTime, and the liveness walk of
// estimateProgramMemory.
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/OpCost.h"
#include "distopt/Cost/MemoryEstimate.h"
#include "distopt/Dialect/Dist/DistDialect.h"
#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Dialect/Dist/ShardingRule.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace distopt;
using namespace distopt::cost;

namespace {

class OpCostTest : public ::testing::Test {
protected:
  OpCostTest() : context(makeRegistry()) { context.loadAllAvailableDialects(); }

  static DialectRegistry makeRegistry() {
    DialectRegistry registry;
    registerAllDialects(registry);
    return registry;
  }

  /// Parses `body` as the body of `func.func @main(args)` and returns its
  /// first op.
  Operation *parseOp(llvm::StringRef args, llvm::StringRef body) {
    std::string text =
        ("func.func @main(" + args + ") {\n" + body + "\n  return\n}\n").str();
    module = parseSourceString<ModuleOp>(text, &context);
    EXPECT_TRUE(module) << text;
    if (!module)
      return nullptr;
    auto func = *module->getOps<func::FuncOp>().begin();
    return &func.getBody().front().front();
  }

  /// Parses a whole module and returns the body of its first function.
  Block *parseFunc(llvm::StringRef text) {
    module = parseSourceString<ModuleOp>(text, &context);
    EXPECT_TRUE(module) << text.str();
    if (!module)
      return nullptr;
    return &(*module->getOps<func::FuncOp>().begin()).getBody().front();
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
};

TEST_F(OpCostTest, MatMulWithBiasAndBatch) {
  Operation *op = parseOp(
      "%x: tensor<4x128x64xf32>, %w: tensor<64x256xf32>, %b: tensor<256xf32>",
      "  %y = dist.matmul %x, %w, %b : (tensor<4x128x64xf32>, "
      "tensor<64x256xf32>, tensor<256xf32>) -> tensor<4x128x256xf32>");
  ASSERT_TRUE(op);
  OpWork work = getOpWork(op);
  EXPECT_EQ(work.opClass, OpClass::Gemm);
  // 4*128*256 outputs, each a 64-long dot product (2 FLOPs per term), plus
  // one bias add.
  EXPECT_DOUBLE_EQ(work.flops, 2.0 * 4 * 128 * 256 * 64 + 4 * 128 * 256);
  EXPECT_DOUBLE_EQ(work.bytes,
                   4.0 * (4 * 128 * 64 + 64 * 256 + 256 + 4 * 128 * 256));
}

TEST_F(OpCostTest, GemmWithTransposeAndBias) {
  Operation *op =
      parseOp("%a: tensor<8x64xf32>, %b: tensor<32x64xf32>, %c: tensor<32xf32>",
              "  %y = dist.gemm %a, %b, %c {trans_b} : (tensor<8x64xf32>, "
              "tensor<32x64xf32>, tensor<32xf32>) -> tensor<8x32xf32>");
  ASSERT_TRUE(op);
  OpWork work = getOpWork(op);
  EXPECT_EQ(work.opClass, OpClass::Gemm);
  // M=8, N=32, K=64; alpha * ab + beta * c: 2 FLOPs per output.
  EXPECT_DOUBLE_EQ(work.flops, 2.0 * 8 * 32 * 64 + 2.0 * 8 * 32);
  EXPECT_DOUBLE_EQ(work.bytes, 4.0 * (8 * 64 + 32 * 64 + 32 + 8 * 32));
}

TEST_F(OpCostTest, Conv2DWithStrideAndBias) {
  Operation *op = parseOp(
      "%x: tensor<1x3x32x32xf32>, %w: tensor<16x3x3x3xf32>, "
      "%b: tensor<16xf32>",
      "  %y = dist.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = "
      "array<i64: 1, 1, 1, 1>} : (tensor<1x3x32x32xf32>, "
      "tensor<16x3x3x3xf32>, tensor<16xf32>) -> tensor<1x16x16x16xf32>");
  ASSERT_TRUE(op);
  OpWork work = getOpWork(op);
  EXPECT_EQ(work.opClass, OpClass::Gemm);
  // 16*16*16 outputs, each a 3x3x3 window.
  EXPECT_DOUBLE_EQ(work.flops, 2.0 * 4096 * 27 + 4096);
  EXPECT_DOUBLE_EQ(work.bytes, 4.0 * (3072 + 432 + 16 + 4096));
}

TEST_F(OpCostTest, SoftmaxAndLayerNormAreMemoryClass) {
  Operation *softmax = parseOp(
      "%s: tensor<2x4x16x16xf32>",
      "  %p = dist.softmax %s {axis = 3 : i64} : tensor<2x4x16x16xf32>");
  ASSERT_TRUE(softmax);
  OpWork work = getOpWork(softmax);
  EXPECT_EQ(work.opClass, OpClass::Memory);
  // An exp (15 units) and max, subtract, sum, divide (23) per element.
  EXPECT_DOUBLE_EQ(work.flops, 2048.0 * (15 + 23));
  EXPECT_DOUBLE_EQ(work.bytes, 2.0 * 2048 * 4);

  Operation *norm = parseOp(
      "%x: tensor<2x16x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>",
      "  %y = dist.layer_norm %x, %g, %b {axis = 2 : i64, epsilon = 1.0e-05 "
      ": f32} : (tensor<2x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> "
      "tensor<2x16x64xf32>");
  ASSERT_TRUE(norm);
  work = getOpWork(norm);
  EXPECT_EQ(work.opClass, OpClass::Memory);
  EXPECT_DOUBLE_EQ(work.flops, 2048.0 * 8);
  EXPECT_DOUBLE_EQ(work.bytes, 4.0 * (2048 + 64 + 64 + 2048));
}

TEST_F(OpCostTest, ElementwiseCountsBytesOfBroadcastOperands) {
  Operation *add = parseOp(
      "%x: tensor<8x128xf16>, %b: tensor<128xf16>",
      "  %y = dist.binary add %x, %b : (tensor<8x128xf16>, tensor<128xf16>) "
      "-> tensor<8x128xf16>");
  ASSERT_TRUE(add);
  OpWork work = getOpWork(add);
  EXPECT_EQ(work.opClass, OpClass::Memory);
  EXPECT_DOUBLE_EQ(work.flops, 1024);
  EXPECT_DOUBLE_EQ(work.bytes, 2.0 * (1024 + 128 + 1024));
  // A transcendental costs more than a compare-and-select.
  Operation *relu = parseOp("%x: tensor<1024xf32>",
                            "  %y = dist.unary relu %x : tensor<1024xf32>");
  double reluFlops = getOpWork(relu).flops;
  Operation *tanh = parseOp("%x: tensor<1024xf32>",
                            "  %y = dist.unary tanh %x : tensor<1024xf32>");
  EXPECT_DOUBLE_EQ(reluFlops, 1024);
  EXPECT_GT(getOpWork(tanh).flops, 10 * reluFlops);
}

TEST_F(OpCostTest, GatherAndSliceReadOnlyWhatTheyTake) {
  // An embedding lookup reads 2x16 rows of the table, not the whole table.
  Operation *gather = parseOp(
      "%t: tensor<50257x64xf32>, %ids: tensor<2x16xi64>",
      "  %e = dist.gather %t, %ids {axis = 0 : i64} : (tensor<50257x64xf32>, "
      "tensor<2x16xi64>) -> tensor<2x16x64xf32>");
  ASSERT_TRUE(gather);
  OpWork work = getOpWork(gather);
  EXPECT_EQ(work.opClass, OpClass::Memory);
  EXPECT_DOUBLE_EQ(work.bytes, 2 * 16 * 8 + 2.0 * (2 * 16 * 64 * 4));
  // Split along the indices' first dim: half of everything.
  dist::ShardingRule rule =
      cast<dist::ShardingRuleOpInterface>(gather).getShardingRule();
  SmallVector<int64_t> splits(rule.factors.size(), 1);
  for (auto [i, factor] : llvm::enumerate(rule.factors))
    if (factor.size == 2)
      splits[i] = 2;
  EXPECT_DOUBLE_EQ(getShardedOpWork(gather, rule, splits).bytes,
                   work.bytes / 2);

  Operation *slice = parseOp(
      "%x: tensor<2x16x96xf32>",
      "  %q = dist.slice %x {offsets = array<i64: 0, 0, 0>, strides = "
      "array<i64: 1, 1, 1>} : tensor<2x16x96xf32> to tensor<2x16x32xf32>");
  ASSERT_TRUE(slice);
  EXPECT_DOUBLE_EQ(getOpWork(slice).bytes, 2.0 * (2 * 16 * 32 * 4));
}

TEST_F(OpCostTest, SourcesAndViewsAreFree) {
  Operation *reshape =
      parseOp("%x: tensor<2x16xf32>",
              "  %y = dist.reshape %x : tensor<2x16xf32> to tensor<32xf32>");
  ASSERT_TRUE(reshape);
  OpWork work = getOpWork(reshape);
  EXPECT_EQ(work.opClass, OpClass::Free);
  EXPECT_EQ(work.flops, 0);
  DeviceType device{"d", 1e12, 1 << 30, 1e11};
  EXPECT_EQ(getComputeTime(device, work), 0);
  EXPECT_EQ(stringifyOpClass(OpClass::Free), "free");
}

TEST_F(OpCostTest, ShardedMatMulTakesLocalSizesFromTheRule) {
  Operation *op = parseOp("%x: tensor<6x16xf32>, %w: tensor<16x32xf32>",
                          "  %y = dist.matmul %x, %w : (tensor<6x16xf32>, "
                          "tensor<16x32xf32>) -> tensor<6x32xf32>");
  ASSERT_TRUE(op);
  auto ruleOp = cast<dist::ShardingRuleOpInterface>(op);
  dist::ShardingRule rule = ruleOp.getShardingRule();
  // Factors in the rule's order: m = 6, n = 32, k = 16.
  ASSERT_EQ(rule.factors.size(), 3u);
  ASSERT_EQ(rule.factors[0].size, 6);
  ASSERT_EQ(rule.factors[2].kind, dist::FactorKind::Reduction);
  // Whole: the op's own work.
  OpWork whole = getShardedOpWork(op, rule, {1, 1, 1});
  EXPECT_DOUBLE_EQ(whole.flops, getOpWork(op).flops);
  EXPECT_DOUBLE_EQ(whole.bytes, getOpWork(op).bytes);
  // m split 4 ways (6 rows: the largest piece has 2), k split 2 ways.
  OpWork work = getShardedOpWork(op, rule, {4, 1, 2});
  EXPECT_DOUBLE_EQ(work.flops, 2.0 * 6 * 32 * 16 / 8);
  // lhs 2x8, rhs 8x32, result 2x32.
  EXPECT_DOUBLE_EQ(work.bytes, 4.0 * (2 * 8 + 8 * 32 + 2 * 32));
  EXPECT_EQ(work.opClass, OpClass::Gemm);
}

TEST_F(OpCostTest, BackwardIsTwiceTheForward) {
  OpWork forward{OpClass::Gemm, 1e9, 1e6};
  OpWork backward = getBackwardWork(forward);
  EXPECT_EQ(backward.opClass, OpClass::Gemm);
  EXPECT_DOUBLE_EQ(backward.flops, 2e9);
  EXPECT_DOUBLE_EQ(backward.bytes, 2e6);
}

TEST(OpCostRooflineTest, RegimesOfTheRoofline) {
  DeviceType device{"d", /*peakFlops=*/100e12, 1ull << 34,
                    /*memoryBandwidth=*/1e12};
  ComputeEfficiency &eff = device.efficiency;
  eff.gemmEfficiency = 0.5;
  eff.gemmHalfFlops = 1e9;
  eff.memoryEfficiency = 0.8;
  eff.vectorFlops = 0;
  eff.opOverhead = 2e-6;

  // A large GEMM is compute-bound near gemmEfficiency * peak.
  OpWork big{OpClass::Gemm, 1e12, 1e6};
  double rate = 50e12 * 1e12 / (1e12 + 1e9);
  EXPECT_DOUBLE_EQ(getGemmRate(device, 1e12, Precision::BF16), rate);
  EXPECT_DOUBLE_EQ(getComputeTime(device, big), 2e-6 + 1e12 / rate);
  // A GEMM of gemmHalfFlops runs at half of that.
  EXPECT_DOUBLE_EQ(getGemmRate(device, 1e9, Precision::BF16), 25e12);
  // A GEMM that moves much and computes little is memory-bound.
  OpWork skinny{OpClass::Gemm, 1e6, 8e9};
  EXPECT_DOUBLE_EQ(getComputeTime(device, skinny), 2e-6 + 8e9 / 0.8e12);

  // Elementwise work is memory-bound without a vector rate...
  OpWork elementwise{OpClass::Memory, 2e10, 8e6};
  EXPECT_DOUBLE_EQ(getComputeTime(device, elementwise), 2e-6 + 8e6 / 0.8e12);
  // ...and arithmetic-bound when the vector rate is low enough.
  eff.vectorFlops = 1e12;
  EXPECT_DOUBLE_EQ(getComputeTime(device, elementwise), 2e-6 + 2e10 / 1e12);
  // Free work takes no time, not even the overhead.
  EXPECT_EQ(getComputeTime(device, OpWork{}), 0);
}

TEST_F(OpCostTest, GemmRunsAtThePeakOfItsElementType) {
  // The A100 preset: 312 TFLOP/s bf16/fp16, 19.5 fp32, GEMM efficiency 0.7
  // with half rate at 1 GFLOP, 5 us per kernel, 2039 GB/s at 0.8.
  auto cluster = getClusterPreset("dgx-a100-80g", 1);
  ASSERT_TRUE(bool(cluster)) << llvm::toString(cluster.takeError());
  const DeviceType &a100 = cluster->getDeviceType(0);
  ASSERT_EQ(a100.getPeakFlops(Precision::FP32), 19.5e12);
  ASSERT_EQ(a100.getPeakFlops(Precision::BF16), 312e12);

  // One 4096 x 4096 x 4096 product, whose bytes take far less time than its
  // FLOPs at either peak.
  auto gemm = [&](llvm::StringRef type) {
    std::string t = ("tensor<4096x4096x" + type + ">").str();
    return parseOp("%a: " + t + ", %b: " + t, "  %c = dist.matmul %a, %b : (" +
                                                  t + ", " + t + ") -> " + t);
  };
  double flops = 2.0 * 4096 * 4096 * 4096;
  double halfRate = flops / (flops + 1e9);
  Operation *f32 = gemm("f32");
  ASSERT_TRUE(f32);
  OpWork f32Work = getOpWork(f32);
  EXPECT_EQ(f32Work.precision, Precision::FP32);
  EXPECT_DOUBLE_EQ(getComputeTime(a100, f32Work),
                   5e-6 + flops / (19.5e12 * 0.7 * halfRate));
  Operation *bf16 = gemm("bf16");
  ASSERT_TRUE(bf16);
  OpWork bf16Work = getOpWork(bf16);
  EXPECT_EQ(bf16Work.precision, Precision::BF16);
  EXPECT_DOUBLE_EQ(getComputeTime(a100, bf16Work),
                   5e-6 + flops / (312e12 * 0.7 * halfRate));
  Operation *f16 = gemm("f16");
  ASSERT_TRUE(f16);
  EXPECT_EQ(getOpWork(f16).precision, Precision::FP16);
  EXPECT_DOUBLE_EQ(getComputeTime(a100, getOpWork(f16)),
                   getComputeTime(a100, bf16Work));
  // The backward pass keeps the precision of its forward.
  EXPECT_EQ(getBackwardWork(f32Work).precision, Precision::FP32);
  // A device without an fp32 peak (a CPU) runs fp32 at its one peak.
  DeviceType cpu = a100;
  cpu.peakFlopsFp32.reset();
  EXPECT_DOUBLE_EQ(getComputeTime(cpu, f32Work), getComputeTime(cpu, bf16Work));
}

TEST(OpCostRooflineTest, BandwidthCurveIsInterpolatedInLogBytes) {
  DeviceType device{"d", 1e12, 1ull << 34, /*memoryBandwidth=*/5e9};
  device.efficiency.bandwidthCurve = {{1e3, 100e9}, {1e6, 10e9}};
  EXPECT_DOUBLE_EQ(getMemoryRate(device, 10), 100e9);
  EXPECT_DOUBLE_EQ(getMemoryRate(device, 1e3), 100e9);
  // Halfway in log(bytes): halfway in bandwidth.
  EXPECT_NEAR(getMemoryRate(device, std::sqrt(1e3 * 1e6)), 55e9, 1e3);
  EXPECT_DOUBLE_EQ(getMemoryRate(device, 1e9), 10e9);
  device.efficiency.bandwidthCurve.clear();
  device.efficiency.memoryEfficiency = 0.5;
  EXPECT_DOUBLE_EQ(getMemoryRate(device, 1e9), 2.5e9);
}

//===----------------------------------------------------------------------===//
// estimateProgramMemory
//===----------------------------------------------------------------------===//

constexpr const char *kChain = R"mlir(
func.func @main(%x: tensor<4x8xf32>) -> tensor<32xf32> {
  %w = dist.weight "w" : tensor<8x8xf32>
      at #dist.data<storage = external, path = "w.bin", offset = 0, length = 256>
  %c = dist.constant dense<1.0> : tensor<32xf32>
  %unread = dist.unary neg %x : tensor<4x8xf32>
  %a = dist.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %b = dist.unary relu %a : tensor<4x8xf32>
  %r = dist.reshape %b : tensor<4x8xf32> to tensor<32xf32>
  %e = dist.unary exp %r : tensor<32xf32>
  %d = dist.binary add %e, %c : (tensor<32xf32>, tensor<32xf32>) -> tensor<32xf32>
  return %d : tensor<32xf32>
}
)mlir";

TEST_F(OpCostTest, MemoryPeakOfLiveValues) {
  Block *body = parseFunc(kChain);
  ASSERT_TRUE(body);
  ProgramMemory memory = estimateProgramMemory(*body, /*alignment=*/1);
  EXPECT_EQ(memory.weightBytes, 256u);
  EXPECT_EQ(memory.constantBytes, 128u);
  EXPECT_EQ(memory.inputBytes, 128u);
  // Every computed value is 128 bytes. %unread dies at once; %a lives
  // until relu; %b (through the reshape) until exp; %e until add; %d to the
  // end. At most two are live at once.
  EXPECT_EQ(memory.peakActivationBytes, 256u);
  // The first op where two are live: relu (index 4) reads %a.
  EXPECT_EQ(memory.peakOpIndex, 4u);
  EXPECT_EQ(memory.getTotalBytes(), 256u + 128 + 128 + 256);
}

TEST_F(OpCostTest, MemoryRoundsEachValueToTheAlignment) {
  Block *body = parseFunc(kChain);
  ASSERT_TRUE(body);
  ProgramMemory memory = estimateProgramMemory(*body, /*alignment=*/512);
  EXPECT_EQ(memory.peakActivationBytes, 1024u);
  EXPECT_EQ(memory.weightBytes, 256u);
}

TEST_F(OpCostTest, MemoryKeepsReshapedValuesAliveThroughTheirViews) {
  // %a is read only through the reshape %v, by the last op: it stays live
  // while %b and %c are produced.
  Block *body = parseFunc(R"mlir(
func.func @main(%x: tensor<16xf32>) -> tensor<16xf32> {
  %a = dist.unary exp %x : tensor<16xf32>
  %v = dist.reshape %a : tensor<16xf32> to tensor<4x4xf32>
  %b = dist.unary neg %x : tensor<16xf32>
  %c = dist.unary abs %b : tensor<16xf32>
  %w = dist.reshape %v : tensor<4x4xf32> to tensor<16xf32>
  %d = dist.binary add %w, %c : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  return %d : tensor<16xf32>
}
)mlir");
  ASSERT_TRUE(body);
  ProgramMemory memory = estimateProgramMemory(*body, /*alignment=*/1);
  // At abs: %a, %b and %c (64 bytes each); at add: %a, %c and %d.
  EXPECT_EQ(memory.peakActivationBytes, 192u);
}

/// The arena offset of the result of op #`op` of `body`.
static uint64_t resultOffset(Block &body, const ArenaLayout &layout,
                             unsigned op) {
  return layout.offsets.lookup(std::next(body.begin(), op)->getResult(0));
}

TEST_F(OpCostTest, ArenaLeavesTheHolesOfFirstFit) {
  // %a (64 B) at 0 and %b at 64 are live while %c is produced at 128; %a
  // dies there, leaving a 64-byte hole that %d (128 B) does not fit: %d goes
  // to 192. Three values are live at once (256 B), the arena is 320 B.
  Block *body = parseFunc(R"mlir(
func.func @main(%x: tensor<16xf32>) -> tensor<32xf32> {
  %a = dist.unary neg %x : tensor<16xf32>
  %b = dist.unary abs %x : tensor<16xf32>
  %c = dist.unary exp %a : tensor<16xf32>
  %d = dist.concat %b, %c {axis = 0 : i64} : (tensor<16xf32>, tensor<16xf32>) -> tensor<32xf32>
  return %d : tensor<32xf32>
}
)mlir");
  ASSERT_TRUE(body);
  ArenaLayout layout = layoutArena(*body, /*alignment=*/1);
  auto offsetOf = [&](unsigned op) { return resultOffset(*body, layout, op); };
  EXPECT_EQ(offsetOf(0), 0u);
  EXPECT_EQ(offsetOf(1), 64u);
  EXPECT_EQ(offsetOf(2), 128u);
  EXPECT_EQ(offsetOf(3), 192u);
  EXPECT_EQ(layout.size, 320u);
  EXPECT_EQ(layout.peakLiveBytes, 256u);
  ProgramMemory memory = estimateProgramMemory(*body, /*alignment=*/1);
  EXPECT_EQ(memory.arenaBytes, 320u);
  EXPECT_EQ(memory.getTotalBytes(), 64u + 320u);
}

TEST_F(OpCostTest, ArenaKeepsWhatAnAssignReadsToTheEnd) {
  // The runtime runs dist.assign after every other op: %t, which the assign
  // reads first in program order, stays live while %u and %v are produced,
  // so %v cannot reuse its bytes.
  Block *body = parseFunc(R"mlir(
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %s = dist.weight "s" : tensor<4xf32> at #dist.data<storage = zero, path = "", offset = 0, length = 16>
  %t = dist.binary add %s, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  dist.assign %s, %t : tensor<4xf32>
  %u = dist.unary neg %t : tensor<4xf32>
  %v = dist.unary exp %u : tensor<4xf32>
  return %v : tensor<4xf32>
}
)mlir");
  ASSERT_TRUE(body);
  ArenaLayout layout = layoutArena(*body, /*alignment=*/1);
  auto offsetOf = [&](unsigned op) { return resultOffset(*body, layout, op); };
  // Without the assign, %v would take %t's bytes at 0.
  EXPECT_EQ(offsetOf(1), 0u);
  EXPECT_EQ(offsetOf(3), 16u);
  EXPECT_EQ(offsetOf(4), 32u);
  EXPECT_EQ(layout.size, 48u);
}

//===----------------------------------------------------------------------===//
// Training ops
//===----------------------------------------------------------------------===//

TEST_F(OpCostTest, ConvGradientsCostTheForwardConvolution) {
  // The convolution of Conv2DWithStrideAndBias: 4096 outputs of a 27-long
  // window, so each gradient is 2 * 4096 * 27 FLOPs of gemm class.
  Operation *dx = parseOp(
      "%dy: tensor<1x16x16x16xf32>, %w: tensor<16x3x3x3xf32>",
      "  %dx = dist.conv2d_grad_input %dy, %w {strides = array<i64: 2, 2>, "
      "pads = array<i64: 1, 1, 1, 1>} : (tensor<1x16x16x16xf32>, "
      "tensor<16x3x3x3xf32>) -> tensor<1x3x32x32xf32>");
  ASSERT_TRUE(dx);
  OpWork work = getOpWork(dx);
  EXPECT_EQ(work.opClass, OpClass::Gemm);
  EXPECT_DOUBLE_EQ(work.flops, 2.0 * 4096 * 27);
  EXPECT_DOUBLE_EQ(work.bytes, 4.0 * (4096 + 432 + 3072));

  Operation *dw = parseOp(
      "%x: tensor<1x3x32x32xf32>, %dy: tensor<1x16x16x16xf32>",
      "  %dw = dist.conv2d_grad_filter %x, %dy {strides = array<i64: 2, 2>, "
      "pads = array<i64: 1, 1, 1, 1>} : (tensor<1x3x32x32xf32>, "
      "tensor<1x16x16x16xf32>) -> tensor<16x3x3x3xf32>");
  ASSERT_TRUE(dw);
  work = getOpWork(dw);
  EXPECT_EQ(work.opClass, OpClass::Gemm);
  EXPECT_DOUBLE_EQ(work.flops, 2.0 * 4096 * 27);
  EXPECT_DOUBLE_EQ(work.bytes, 4.0 * (3072 + 4096 + 432));
}

TEST_F(OpCostTest, GatherGradAndPoolGradCountTheirGradient) {
  Operation *gather =
      parseOp("%g: tensor<2x3x8xf32>, %ids: tensor<2x3xi64>",
              "  %t = dist.gather_grad %g, %ids {axis = 0 : i64} : "
              "(tensor<2x3x8xf32>, tensor<2x3xi64>) -> tensor<10x8xf32>");
  ASSERT_TRUE(gather);
  OpWork work = getOpWork(gather);
  EXPECT_EQ(work.opClass, OpClass::Memory);
  EXPECT_DOUBLE_EQ(work.flops, 48);
  // Zero the table (320 bytes), read the gradient (192) and the indices
  // (48), read and write one table row per gradient row (2 * 192).
  EXPECT_DOUBLE_EQ(work.bytes, 320 + 192 + 48 + 2 * 192);

  Operation *pool = parseOp(
      "%dy: tensor<1x2x4x4xf32>, %x: tensor<1x2x6x6xf32>",
      "  %dx = dist.pool2d_grad avg %dy, %x {ceil_mode, count_include_pad, "
      "kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = "
      "array<i64: 2, 2>} : (tensor<1x2x4x4xf32>, tensor<1x2x6x6xf32>) -> "
      "tensor<1x2x6x6xf32>");
  ASSERT_TRUE(pool);
  work = getOpWork(pool);
  EXPECT_EQ(work.opClass, OpClass::Memory);
  EXPECT_DOUBLE_EQ(work.flops, 32.0 * 9);
  EXPECT_DOUBLE_EQ(work.bytes, 4.0 * (32 + 72 + 72));
}

TEST_F(OpCostTest, LossesCountAnExpPerLogit) {
  Operation *ce = parseOp("%l: tensor<8x10xf32>, %y: tensor<8xi64>",
                          "  %loss = dist.cross_entropy %l, %y : "
                          "(tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>");
  ASSERT_TRUE(ce);
  OpWork work = getOpWork(ce);
  EXPECT_EQ(work.opClass, OpClass::Memory);
  // Max, subtract, exp (15), sum per logit; log, pick, subtract per row.
  EXPECT_DOUBLE_EQ(work.flops, 80.0 * 18 + 8.0 * 17);
  EXPECT_DOUBLE_EQ(work.bytes, 320 + 64 + 4);

  Operation *grad =
      parseOp("%l: tensor<8x10xf32>, %y: tensor<8xi64>, %s: tensor<f32>",
              "  %g = dist.cross_entropy_grad %l, %y, %s : (tensor<8x10xf32>, "
              "tensor<8xi64>, tensor<f32>) -> tensor<8x10xf32>");
  ASSERT_TRUE(grad);
  work = getOpWork(grad);
  // The row's logsumexp (18), then exp (15), one-hot, scale per logit.
  EXPECT_DOUBLE_EQ(work.flops, 80.0 * (18 + 15 + 4));
  EXPECT_DOUBLE_EQ(work.bytes, 320 + 64 + 4 + 320);

  Operation *mse = parseOp("%p: tensor<8x4xf32>, %t: tensor<8x4xf32>",
                           "  %loss = dist.mse %p, %t : (tensor<8x4xf32>, "
                           "tensor<8x4xf32>) -> tensor<f32>");
  ASSERT_TRUE(mse);
  work = getOpWork(mse);
  EXPECT_DOUBLE_EQ(work.flops, 3.0 * 32 + 1);
  EXPECT_DOUBLE_EQ(work.bytes, 128 + 128 + 4);
}

TEST_F(OpCostTest, OptimizerUpdatesAreElementwise) {
  Operation *adam = parseOp(
      "%p: tensor<4x8xf32>, %g: tensor<4x8xf32>, %m: tensor<4x8xf32>, "
      "%v: tensor<4x8xf32>, %t: tensor<f32>",
      "  %p1, %m1, %v1 = dist.adamw %p, %g, %m, %v, %t {lr = 1.0e-03, "
      "beta1 = 0.9, beta2 = 0.999, eps = 1.0e-08, weight_decay = 1.0e-02} : "
      "(tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, "
      "tensor<f32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>)");
  ASSERT_TRUE(adam);
  OpWork work = getOpWork(adam);
  EXPECT_EQ(work.opClass, OpClass::Memory);
  EXPECT_DOUBLE_EQ(work.flops, 23.0 * 32);
  // Four tensors and the step read, three written.
  EXPECT_DOUBLE_EQ(work.bytes, 7 * 128 + 4);

  Operation *momentum =
      parseOp("%p: tensor<4x8xf32>, %g: tensor<4x8xf32>, %b: tensor<4x8xf32>",
              "  %p1, %b1 = dist.sgd %p, %g, %b {lr = 1.0e-01, momentum = 0.9, "
              "weight_decay = 0.01} : (tensor<4x8xf32>, tensor<4x8xf32>, "
              "tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>)");
  ASSERT_TRUE(momentum);
  EXPECT_DOUBLE_EQ(getOpWork(momentum).flops, 6.0 * 32);
  EXPECT_DOUBLE_EQ(getOpWork(momentum).bytes, 5 * 128);

  Operation *plain =
      parseOp("%p: tensor<4x8xf32>, %g: tensor<4x8xf32>",
              "  %p1 = dist.sgd %p, %g {lr = 1.0e-01} : (tensor<4x8xf32>, "
              "tensor<4x8xf32>) -> tensor<4x8xf32>");
  ASSERT_TRUE(plain);
  EXPECT_DOUBLE_EQ(getOpWork(plain).flops, 2.0 * 32);
}

TEST_F(OpCostTest, AssignIsACopyAndShardsWithItsWeight) {
  Block *body = parseFunc(R"mlir(
func.func @main(%x: tensor<4x8xf32>) {
  %w = dist.weight "w" : tensor<4x8xf32> at #dist.data<storage = zero, path = "", offset = 0, length = 128>
  dist.assign %w, %x : tensor<4x8xf32>
  return
}
)mlir");
  ASSERT_TRUE(body);
  Operation *assign = &*std::next(body->begin());
  ASSERT_TRUE(isa<dist::AssignOp>(assign));
  OpWork work = getOpWork(assign);
  EXPECT_EQ(work.opClass, OpClass::Memory);
  EXPECT_DOUBLE_EQ(work.flops, 0);
  // Read the value, write the weight's buffer.
  EXPECT_DOUBLE_EQ(work.bytes, 2 * 128);
  dist::ShardingRule rule =
      cast<dist::ShardingRuleOpInterface>(assign).getShardingRule();
  SmallVector<int64_t> splits(rule.factors.size(), 1);
  splits[0] = 2;
  EXPECT_DOUBLE_EQ(getShardedOpWork(assign, rule, splits).bytes, 128);
}

} // namespace
