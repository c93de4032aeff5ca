//===- ONNXImportTest.cpp - unit tests of the ONNX importer's C++ API -----===//
//
// Builds ONNX models in memory with the ONNX protobuf classes, writes them to
// a temporary folder and imports them through distopt::importOnnxFile, the
// entry point that frameworks call.
//
//===----------------------------------------------------------------------===//

#include "distopt/Dialect/Dist/DistOps.h"
#include "distopt/Import/ONNX.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <fstream>

using namespace mlir;
using namespace distopt;

namespace {

class ONNXImportTest : public ::testing::Test {
protected:
  ONNXImportTest() : context(makeRegistry()) {
    context.loadAllAvailableDialects();
    llvm::SmallString<128> dir;
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("distopt-import", dir));
    folder = std::string(dir);
  }
  ~ONNXImportTest() override { llvm::sys::fs::remove_directories(folder); }

  static DialectRegistry makeRegistry() {
    DialectRegistry registry;
    registerAllDialects(registry);
    return registry;
  }

  /// y = relu(x @ w) with x of shape [batch, 8] (batch dynamic) and w an
  /// 8x3 f32 initializer (24 elements: large enough to be a weight, not a
  /// constant).
  static onnx::ModelProto makeModel() {
    onnx::ModelProto model;
    model.set_ir_version(8);
    model.add_opset_import()->set_version(17);
    onnx::GraphProto *g = model.mutable_graph();
    g->set_name("g");
    auto addValue = [](google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> *list,
                       const char *name, std::vector<std::string> dims) {
      onnx::ValueInfoProto *v = list->Add();
      v->set_name(name);
      auto *t = v->mutable_type()->mutable_tensor_type();
      t->set_elem_type(onnx::TensorProto::FLOAT);
      for (const std::string &d : dims) {
        auto *dim = t->mutable_shape()->add_dim();
        if (std::isdigit(d[0]))
          dim->set_dim_value(std::stoll(d));
        else
          dim->set_dim_param(d);
      }
    };
    addValue(g->mutable_input(), "x", {"batch", "8"});
    addValue(g->mutable_output(), "y", {"batch", "3"});
    onnx::TensorProto *w = g->add_initializer();
    w->set_name("w");
    w->set_data_type(onnx::TensorProto::FLOAT);
    w->add_dims(8);
    w->add_dims(3);
    std::vector<float> values(24);
    for (int i = 0; i < 24; ++i)
      values[i] = i;
    w->set_raw_data(values.data(), values.size() * sizeof(float));
    onnx::NodeProto *mm = g->add_node();
    mm->set_op_type("MatMul");
    mm->set_name("mm");
    mm->add_input("x");
    mm->add_input("w");
    mm->add_output("h");
    onnx::NodeProto *relu = g->add_node();
    relu->set_op_type("Relu");
    relu->set_name("relu");
    relu->add_input("h");
    relu->add_output("y");
    return model;
  }

  std::string write(const onnx::ModelProto &model, const std::string &name) {
    std::string path = folder + "/" + name;
    std::ofstream out(path, std::ios::binary);
    model.SerializeToOstream(&out);
    return path;
  }

  /// Imports `path`, collecting the error messages.
  OwningOpRef<ModuleOp> import(const std::string &path,
                               const OnnxImportOptions &options) {
    errors.clear();
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
      errors.push_back(d.str());
      return success();
    });
    return importOnnxFile(path, &context, options);
  }

  MLIRContext context;
  std::string folder;
  std::vector<std::string> errors;
};

TEST_F(ONNXImportTest, ImportsWithFixedShape) {
  std::string path = write(makeModel(), "relu.onnx");
  OnnxImportOptions options;
  std::string error;
  ASSERT_TRUE(succeeded(parseInputShape("x=5x8", options, error))) << error;
  OwningOpRef<ModuleOp> module = import(path, options);
  ASSERT_TRUE(module) << (errors.empty() ? "" : errors.front());

  auto main = module->lookupSymbol<func::FuncOp>("main");
  ASSERT_TRUE(main);
  EXPECT_EQ(main.getFunctionType().getInput(0),
            RankedTensorType::get({5, 8}, Float32Type::get(&context)));
  EXPECT_EQ(main.getFunctionType().getResult(0),
            RankedTensorType::get({5, 3}, Float32Type::get(&context)));

  // The weight is a reference into the model file, 96 bytes long, at an
  // offset that holds its values.
  dist::WeightOp weight;
  module->walk([&](dist::WeightOp op) { weight = op; });
  ASSERT_TRUE(weight);
  EXPECT_EQ(weight.getName(), "w");
  EXPECT_EQ(weight.getData().getStorage(), dist::DataStorage::Inline);
  EXPECT_EQ(weight.getData().getPath(), "relu.onnx");
  EXPECT_EQ(weight.getData().getLength(), 96);
  std::ifstream in(path, std::ios::binary);
  in.seekg(weight.getData().getOffset());
  std::vector<float> bytes(24);
  in.read(reinterpret_cast<char *>(bytes.data()), 96);
  for (int i = 0; i < 24; ++i)
    EXPECT_EQ(bytes[i], static_cast<float>(i));

  int relus = 0;
  module->walk([&](dist::UnaryOp op) {
    relus += op.getKind() == dist::UnaryKind::Relu;
  });
  EXPECT_EQ(relus, 1);
}

TEST_F(ONNXImportTest, DynamicDimWithoutShapeIsAnError) {
  std::string path = write(makeModel(), "relu.onnx");
  EXPECT_FALSE(import(path, {}));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "input 'x' dim 0 ('batch') is dynamic; fix it with --shape x=Nx8");
}

TEST_F(ONNXImportTest, UnsupportedOperatorsAreListedTogether) {
  onnx::ModelProto model = makeModel();
  model.mutable_graph()->mutable_node(1)->set_op_type("Det");
  model.mutable_graph()->mutable_node(1)->set_name("act");
  std::string path = write(model, "det.onnx");
  OnnxImportOptions options;
  std::string error;
  ASSERT_TRUE(succeeded(parseInputShape("x=2x8", options, error)));
  EXPECT_FALSE(import(path, options));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(
      errors[0],
      "unsupported ONNX operator: Det (ai.onnx, opset 17) [a determinant, "
      "an LU factorization per matrix: not converted yet] in node 'act'");
}

TEST_F(ONNXImportTest, RawDataShorterThanItsDimsIsAnError) {
  // 10 bytes for 8x3 floats: refused before the ONNX library copies them.
  onnx::ModelProto model = makeModel();
  onnx::TensorProto *w = model.mutable_graph()->mutable_initializer(0);
  w->set_raw_data(w->raw_data().substr(0, 10));
  std::string path = write(model, "short.onnx");
  OnnxImportOptions options;
  std::string error;
  ASSERT_TRUE(succeeded(parseInputShape("x=2x8", options, error)));
  EXPECT_FALSE(import(path, options));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "initializer 'w' holds 10 bytes of raw data, but its "
                       "dims and type FLOAT need 96");
}

TEST_F(ONNXImportTest, ShapeInferenceStopsAtTheFirstFailingNode) {
  // w is 7x3 for an 8-wide x: MatMul fails, and Relu after it is not
  // inferred from the type MatMul never finished.
  onnx::ModelProto model = makeModel();
  onnx::TensorProto *w = model.mutable_graph()->mutable_initializer(0);
  w->set_dims(0, 7);
  w->set_raw_data(std::string(7 * 3 * 4, '\0'));
  std::string path = write(model, "k.onnx");
  OnnxImportOptions options;
  std::string error;
  ASSERT_TRUE(succeeded(parseInputShape("x=2x8", options, error)));
  EXPECT_FALSE(import(path, options));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(
      errors[0].rfind("fails ONNX shape inference at node 'mm' (MatMul)", 0),
      0u)
      << errors[0];
}

TEST_F(ONNXImportTest, SmallFloatInitializersAreWeightsForTraining) {
  // y = relu(x @ w + b) with a bias of 3 floats, and an int64 shape of 2
  // elements that Reshape needs at compile time.
  onnx::ModelProto model = makeModel();
  onnx::GraphProto *g = model.mutable_graph();
  onnx::TensorProto *b = g->add_initializer();
  b->set_name("b");
  b->set_data_type(onnx::TensorProto::FLOAT);
  b->add_dims(3);
  const float bias[3] = {0.5f, -1.0f, 2.0f};
  b->set_raw_data(bias, sizeof(bias));
  onnx::TensorProto *shape = g->add_initializer();
  shape->set_name("shape");
  shape->set_data_type(onnx::TensorProto::INT64);
  shape->add_dims(2);
  const int64_t dims[2] = {-1, 3};
  shape->set_raw_data(dims, sizeof(dims));
  // mm -> h; add: hb = h + b; reshape: hr = reshape(hb, shape); relu -> y.
  g->mutable_node(1)->set_input(0, "hr");
  onnx::NodeProto add;
  add.set_op_type("Add");
  add.set_name("add");
  add.add_input("h");
  add.add_input("b");
  add.add_output("hb");
  onnx::NodeProto reshape;
  reshape.set_op_type("Reshape");
  reshape.set_name("reshape");
  reshape.add_input("hb");
  reshape.add_input("shape");
  reshape.add_output("hr");
  onnx::NodeProto relu = g->node(1);
  g->mutable_node(1)->CopyFrom(add);
  *g->add_node() = reshape;
  *g->add_node() = relu;
  std::string path = write(model, "bias.onnx");

  auto weightNames = [](ModuleOp module) {
    std::vector<std::string> names;
    module.walk(
        [&](dist::WeightOp op) { names.push_back(op.getName().str()); });
    return names;
  };
  OnnxImportOptions options;
  std::string error;
  ASSERT_TRUE(succeeded(parseInputShape("x=2x8", options, error)));
  // Inference: the bias is a constant that folding may use.
  OwningOpRef<ModuleOp> inference = import(path, options);
  ASSERT_TRUE(inference) << (errors.empty() ? "" : errors.front());
  EXPECT_EQ(weightNames(*inference), std::vector<std::string>{"w"});
  // Training: the bias is a weight (a parameter); the int64 shape is still
  // read at compile time (Reshape needs it then), not made a weight.
  options.floatInitializersAsWeights = true;
  OwningOpRef<ModuleOp> training = import(path, options);
  ASSERT_TRUE(training) << (errors.empty() ? "" : errors.front());
  std::vector<std::string> names = weightNames(*training);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"b", "w"}));
}

TEST_F(ONNXImportTest, ParseInputShape) {
  OnnxImportOptions options;
  std::string error;
  EXPECT_TRUE(succeeded(parseInputShape("ids=8x1024", options, error)));
  EXPECT_EQ(options.inputShapes.lookup("ids"),
            (llvm::SmallVector<int64_t>{8, 1024}));
  EXPECT_TRUE(succeeded(parseInputShape("t=scalar", options, error)));
  EXPECT_TRUE(options.inputShapes.lookup("t").empty());
  // A name may itself contain '='; the last one separates the shape.
  EXPECT_TRUE(succeeded(parseInputShape("a=b=2x3", options, error)));
  EXPECT_EQ(options.inputShapes.lookup("a=b"), (llvm::SmallVector<int64_t>{2, 3}));

  EXPECT_TRUE(failed(parseInputShape("ids=8x0", options, error)));
  EXPECT_EQ(error, "dimension '0' of --shape ids=8x0 is not a positive integer");
  EXPECT_TRUE(failed(parseInputShape("noshape", options, error)));
  EXPECT_TRUE(failed(parseInputShape("ids=4", options, error)));
  EXPECT_EQ(error, "--shape gives input 'ids' twice");
}

} // namespace
