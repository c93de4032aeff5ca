//===- APITest.cpp - the library's C++ API (distopt/DistOpt.h) ------------===//
//
// Compiles the zoo's MLP (exported by PyTorch at test time into the models
// folder given as the first argument) through distopt::compile, runs it
// through distopt::Program and compares with PyTorch's outputs stored beside
// it; plans it through distopt::planModel; and checks that bad input is an
// error Status with its cause, never a crash. One process: one rank.
//
//===----------------------------------------------------------------------===//

#include "distopt/DistOpt.h"
#include "runtime/core/TensorIO.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

using namespace distopt;

static std::string modelsDir;

namespace {
class APITest : public ::testing::Test {
protected:
  std::string file(const char *name) const {
    llvm::SmallString<256> path(modelsDir);
    llvm::sys::path::append(path, "mlp", "opset17", name);
    return path.str().str();
  }

  TensorData readNpy(const char *name) const {
    rt::HostTensor host;
    std::string error;
    EXPECT_TRUE(rt::readTensorFile(file(name), 1 << 30, host, error)) << error;
    TensorData data;
    data.type = ElementType::F32;
    data.shape = host.shape;
    data.bytes = host.bytes;
    return data;
  }

  CompileOptions mlpOptions() const {
    CompileOptions options;
    options.shapes = {{"x", {2, 64}}};
    return options;
  }
};
} // namespace

/// The largest |a - b| / (atol + rtol |b|) over the elements.
static double getError(const TensorData &a, const TensorData &b) {
  EXPECT_EQ(a.shape, b.shape);
  EXPECT_EQ(a.bytes.size(), b.bytes.size());
  size_t n = std::min(a.bytes.size(), b.bytes.size()) / 4;
  std::vector<float> x(n), y(n);
  std::memcpy(x.data(), a.bytes.data(), n * 4);
  std::memcpy(y.data(), b.bytes.data(), n * 4);
  double worst = 0;
  for (size_t i = 0; i < n; ++i)
    worst = std::max(worst, std::abs(double(x[i]) - y[i]) /
                                (1e-6 + 1e-4 * std::abs(double(y[i]))));
  return worst;
}

TEST_F(APITest, CompiledModelRunsLikePyTorch) {
  CompiledModel model;
  Status status = compile(file("model.onnx"), mlpOptions(), model);
  ASSERT_TRUE(status) << status.getMessage();
  EXPECT_EQ(model.getDeviceCount(), 1u);
  EXPECT_FALSE(model.getArtifact().empty());
  EXPECT_TRUE(model.getReportJson().empty()) << "one device, nothing planned";

  std::unique_ptr<Program> program;
  status = Program::load(model, program);
  ASSERT_TRUE(status) << status.getMessage();
  EXPECT_EQ(program->getRank(), 0);
  EXPECT_EQ(program->getNumRanks(), 1);
  ASSERT_EQ(program->getInputs().size(), 1u);
  EXPECT_EQ(program->getInputs()[0].name, "x");
  EXPECT_EQ(program->getInputs()[0].shape, (std::vector<int64_t>{2, 64}));
  ASSERT_EQ(program->getOutputs().size(), 1u);
  EXPECT_EQ(program->getOutputs()[0].name, "y");

  std::map<std::string, TensorData> outputs;
  status = program->run({{"x", readNpy("input_0_x.npy")}}, outputs);
  ASSERT_TRUE(status) << status.getMessage();
  ASSERT_EQ(outputs.count("y"), 1u);
  EXPECT_LE(getError(outputs["y"], readNpy("output_0_y.npy")), 1.0);

  // Saved and loaded again: the same program.
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("api-test", "dist", path));
  status = model.save(path.str().str());
  ASSERT_TRUE(status) << status.getMessage();
  std::unique_ptr<Program> loaded;
  status = Program::load(path.str().str(), loaded);
  ASSERT_TRUE(status) << status.getMessage();
  std::map<std::string, TensorData> again;
  ASSERT_TRUE(loaded->run({{"x", readNpy("input_0_x.npy")}}, again));
  EXPECT_EQ(again["y"].bytes, outputs["y"].bytes);
  llvm::sys::fs::remove(path);
}

TEST_F(APITest, PlannedModelReportsItsPlan) {
  CompileOptions options = mlpOptions();
  options.devices = 2;
  options.plan = "tp=2";
  CompiledModel model;
  Status status = compile(file("model.onnx"), options, model);
  ASSERT_TRUE(status) << status.getMessage();
  EXPECT_EQ(model.getDeviceCount(), 2u);
  llvm::Expected<llvm::json::Value> report =
      llvm::json::parse(model.getReportJson());
  ASSERT_TRUE(bool(report)) << llvm::toString(report.takeError());
  const llvm::json::Object *grid =
      report->getAsObject() ? report->getAsObject()->getObject("grid")
                            : nullptr;
  ASSERT_TRUE(grid);
  EXPECT_EQ(grid->getInteger("tp"), 2);
  EXPECT_NE(model.getReportText().find("tp"), std::string::npos);

  // One process cannot run a 2-device program: it says how to launch it.
  std::unique_ptr<Program> program;
  status = Program::load(model, program);
  EXPECT_FALSE(status);
  EXPECT_FALSE(program);
  EXPECT_NE(status.getMessage().find("mpirun -np 2"), std::string::npos)
      << status.getMessage();

  std::string json, text;
  options.plan.clear();
  options.devices = 4;
  status = planModel(file("model.onnx"), options, json, &text);
  ASSERT_TRUE(status) << status.getMessage();
  report = llvm::json::parse(json);
  ASSERT_TRUE(bool(report)) << llvm::toString(report.takeError());
  grid = report->getAsObject() ? report->getAsObject()->getObject("grid")
                               : nullptr;
  ASSERT_TRUE(grid);
  std::optional<int64_t> dp = grid->getInteger("dp"),
                         tp = grid->getInteger("tp");
  ASSERT_TRUE(dp && tp);
  EXPECT_LE(*dp * *tp, 4);
  EXPECT_FALSE(text.empty());
}

TEST_F(APITest, PlanningTrainingChoosesTheMicroBatchSize) {
  CompileOptions options = mlpOptions();
  options.mode = "train";
  options.batch = 16;
  options.devices = 2;
  std::string json;
  Status status = planModel(file("model.onnx"), options, json);
  ASSERT_TRUE(status) << status.getMessage();
  llvm::Expected<llvm::json::Value> report = llvm::json::parse(json);
  ASSERT_TRUE(bool(report)) << llvm::toString(report.takeError());
  const llvm::json::Array *sizes =
      report->getAsObject()
          ? report->getAsObject()->getArray("micro_batch_sizes")
          : nullptr;
  ASSERT_TRUE(sizes);
  // The model's batch 2 times 1/4 .. 4 where whole and dividing 16.
  EXPECT_EQ(sizes->size(), 4u);
}

TEST_F(APITest, BadInputIsAnErrorAtItsCause) {
  CompiledModel model;
  Status status = compile(file("missing.onnx"), mlpOptions(), model);
  EXPECT_FALSE(status);
  EXPECT_EQ(status.getFile(), file("missing.onnx"));
  EXPECT_NE(status.getMessage().find("no such file"), std::string::npos);

  CompileOptions options = mlpOptions();
  options.shapes = {{"nope", {2, 64}}};
  status = compile(file("model.onnx"), options, model);
  EXPECT_FALSE(status);
  EXPECT_NE(status.getMessage().find("nope"), std::string::npos)
      << status.getMessage();

  options = mlpOptions();
  options.cluster = "no-such-cluster";
  options.devices = 2;
  status = compile(file("model.onnx"), options, model);
  EXPECT_FALSE(status);
  EXPECT_NE(status.getMessage().find("no-such-cluster"), std::string::npos)
      << status.getMessage();

  options = mlpOptions();
  options.precision = "fp8";
  std::string json;
  status = planModel(file("model.onnx"), options, json);
  EXPECT_FALSE(status);
  EXPECT_NE(status.getMessage().find("fp8"), std::string::npos);

  std::unique_ptr<Program> program;
  status = Program::load(file("model.onnx"), program);
  EXPECT_FALSE(status) << "an ONNX file is not an artifact";
  EXPECT_NE(status.getMessage().find("not a dist-opt artifact"),
            std::string::npos)
      << status.getMessage();

  ASSERT_TRUE(compile(file("model.onnx"), mlpOptions(), model));
  ASSERT_TRUE(Program::load(model, program));
  std::map<std::string, TensorData> outputs;
  TensorData x = readNpy("input_0_x.npy");
  status = program->run({}, outputs);
  EXPECT_FALSE(status);
  EXPECT_NE(status.getMessage().find("missing input 'x'"), std::string::npos);
  status = program->run({{"x", x}, {"z", x}}, outputs);
  EXPECT_FALSE(status);
  EXPECT_NE(status.getMessage().find("unknown input 'z'"), std::string::npos);
  TensorData wrong = x;
  wrong.shape = {4, 32};
  status = program->run({{"x", wrong}}, outputs);
  EXPECT_FALSE(status);
  EXPECT_NE(status.getMessage().find("expected f32[2x64], given f32[4x32]"),
            std::string::npos)
      << status.getMessage();
  wrong = x;
  wrong.bytes.resize(8);
  status = program->run({{"x", wrong}}, outputs);
  EXPECT_FALSE(status);
  EXPECT_NE(status.getMessage().find("holds 512 bytes, given 8"),
            std::string::npos)
      << status.getMessage();
  // The program still runs after the errors.
  ASSERT_TRUE(program->run({{"x", x}}, outputs));
  EXPECT_LE(getError(outputs["y"], readNpy("output_0_y.npy")), 1.0);
}

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s MODELS_DIR\n", argv[0]);
    return 2;
  }
  modelsDir = argv[1];
  return RUN_ALL_TESTS();
}
