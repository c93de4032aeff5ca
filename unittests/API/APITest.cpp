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
#include "llvm/Support/raw_ostream.h"

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

  // An error in a cluster file is at its place there.
  llvm::SmallString<128> clusterPath;
  ASSERT_FALSE(
      llvm::sys::fs::createTemporaryFile("api-test", "yaml", clusterPath));
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(clusterPath, ec);
    os << "name: bad\ndevice_typos: []\n";
  }
  options = mlpOptions();
  options.cluster = clusterPath.str().str();
  options.devices = 2;
  status = compile(file("model.onnx"), options, model);
  EXPECT_FALSE(status);
  EXPECT_EQ(status.getFile(), clusterPath.str().str());
  EXPECT_EQ(status.getLine(), 2u);
  EXPECT_EQ(status.getColumn(), 1u);
  EXPECT_EQ(status.getMessage().find("unknown key 'device_typos'"), 0u)
      << status.getMessage();
  llvm::sys::fs::remove(clusterPath);

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

//===----------------------------------------------------------------------===//
// Under mpirun (ctest api-cpp-ranks): every rank runs the same code, as a
// framework's processes do, and gets the whole outputs.
//===----------------------------------------------------------------------===//

namespace {
class APIRanksTest : public APITest {
protected:
  /// The job's size, as mpirun tells its processes (1 outside mpirun).
  static unsigned getJobSize() {
    const char *size = std::getenv("OMPI_COMM_WORLD_SIZE");
    return size ? unsigned(std::atoi(size)) : 1;
  }

  /// The MLP compiled for the job's ranks with `plan` (on `cluster`), run
  /// on 4 samples (the stored 2 twice): each rank's outputs equal
  /// PyTorch's.
  void checkPlan(const std::string &plan, const std::string &cluster = "") {
    CompileOptions options;
    options.shapes = {{"x", {4, 64}}};
    options.devices = getJobSize();
    options.plan = plan;
    options.cluster = cluster;
    CompiledModel model;
    Status status = compile(file("model.onnx"), options, model);
    ASSERT_TRUE(status) << plan << ": " << status.getMessage();
    ASSERT_EQ(model.getDeviceCount(), getJobSize());
    std::unique_ptr<Program> program;
    status = Program::load(model, program);
    ASSERT_TRUE(status) << plan << ": " << status.getMessage();
    ASSERT_EQ(unsigned(program->getNumRanks()), getJobSize());
    TensorData x = readNpy("input_0_x.npy"), y = readNpy("output_0_y.npy");
    for (TensorData *t : {&x, &y}) {
      t->shape[0] *= 2;
      t->bytes.insert(t->bytes.end(), t->bytes.begin(), t->bytes.end());
    }
    std::map<std::string, TensorData> outputs;
    status = program->run({{"x", x}}, outputs);
    ASSERT_TRUE(status) << plan << ": " << status.getMessage();
    EXPECT_LE(getError(outputs["y"], y), 1.0)
        << plan << " on rank " << program->getRank();
  }
};
} // namespace

TEST_F(APIRanksTest, EveryRankGetsTheWholeOutputs) {
  unsigned n = getJobSize();
  if (n < 2)
    GTEST_SKIP() << "runs under mpirun -np 2 or more";
  checkPlan("dp=" + std::to_string(n));
  // On a cluster where splitting pays, the tensor-parallel program splits
  // the layers and all-reduces.
  checkPlan("tp=" + std::to_string(n),
            DISTOPT_TEST_CLUSTERS "/split-favoring-cpu.yaml");
  // A pipeline: 2 stages, 2 micro-batches of 2 samples.
  checkPlan("pp=2,dp=" + std::to_string(n / 2) + ",microbatch=2");
}

/// Three SGD steps of the MLP's mse training with `plan` on the job's
/// ranks: the losses, and the trained weights.
static void train(const std::string &model, const TensorData &x,
                  const TensorData &labels, unsigned devices,
                  const std::string &plan, const std::string &cluster,
                  std::vector<float> &losses,
                  std::map<std::string, TensorData> &weights,
                  std::string *report = nullptr) {
  CompileOptions options;
  options.shapes = {{"x", x.shape}};
  options.devices = devices;
  options.plan = plan;
  options.cluster = cluster;
  options.mode = "train";
  options.loss = "mse";
  options.optimizer = "sgd";
  options.lr = 0.1;
  CompiledModel compiled;
  Status status = compile(model, options, compiled);
  ASSERT_TRUE(status) << status.getMessage();
  std::unique_ptr<Program> program;
  status = Program::load(compiled, program);
  ASSERT_TRUE(status) << status.getMessage();
  ASSERT_EQ(program->getOutputs().size(), 1u);
  std::string labelsName;
  for (const TensorInfo &in : program->getInputs())
    if (in.name != "x")
      labelsName = in.name;
  ASSERT_FALSE(labelsName.empty());
  for (int step = 0; step < 3; ++step) {
    std::map<std::string, TensorData> outputs;
    status = program->run({{"x", x}, {labelsName, labels}}, outputs);
    ASSERT_TRUE(status) << status.getMessage();
    const TensorData &loss = outputs.begin()->second;
    ASSERT_EQ(loss.bytes.size(), 4u);
    float value;
    std::memcpy(&value, loss.bytes.data(), 4);
    losses.push_back(value);
  }
  status = program->getWeights(weights);
  ASSERT_TRUE(status) << status.getMessage();
  if (report)
    *report = compiled.getReportJson();
}

TEST_F(APIRanksTest, TrainingStepsTrainOnEveryRank) {
  // Labels: PyTorch's outputs plus 1, so the first loss is exactly 1.
  TensorData x = readNpy("input_0_x.npy"), labels = readNpy("output_0_y.npy");
  std::vector<float> values(labels.bytes.size() / 4);
  std::memcpy(values.data(), labels.bytes.data(), labels.bytes.size());
  for (float &v : values)
    v += 1;
  std::memcpy(labels.bytes.data(), values.data(), labels.bytes.size());
  unsigned n = getJobSize();
  std::vector<float> losses;
  std::map<std::string, TensorData> weights;
  train(file("model.onnx"), x, labels, n, "dp=" + std::to_string(n), "", losses,
        weights);
  ASSERT_EQ(losses.size(), 3u);
  EXPECT_NEAR(losses[0], 1.0, 1e-4);
  // Each step updates the weights the next one reads.
  EXPECT_LT(losses[1], losses[0]);
  EXPECT_LT(losses[2], losses[1]);
  // The MLP's three linear layers, whole.
  EXPECT_EQ(weights.size(), 6u);
  int64_t elements = 0;
  for (const auto &[name, weight] : weights)
    elements += weight.getNumElements();
  EXPECT_EQ(elements, 26122) << "the parameters PyTorch counts";
  if (n < 2)
    return;
  // Split over tp (on a cluster where splitting pays), the weights are
  // gathered from their slices: the same training.
  std::vector<float> tpLosses;
  std::map<std::string, TensorData> tpWeights;
  std::string report;
  train(file("model.onnx"), x, labels, n, "tp=" + std::to_string(n),
        DISTOPT_TEST_CLUSTERS "/split-favoring-cpu.yaml", tpLosses, tpWeights,
        &report);
  EXPECT_NE(report.find("weight fc1.weight: rows over tp"), std::string::npos)
      << report;
  ASSERT_EQ(tpLosses.size(), 3u);
  for (int i = 0; i < 3; ++i)
    EXPECT_NEAR(tpLosses[i], losses[i], 1e-5 * std::abs(losses[i]));
  ASSERT_EQ(tpWeights.size(), weights.size());
  for (const auto &[name, weight] : weights)
    EXPECT_LE(getError(tpWeights[name], weight), 1.0) << name;
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
