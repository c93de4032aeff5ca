//===- cpp-consumer.cpp - the C++ API as an installed package's user ------===//
//
// Usage: cpp-consumer MODEL INPUT OUTPUT ARTIFACT
//
// Compiles MODEL (one f32 input `x` of shape [batch, 16], fixed here to
// [4, 16], and one f32 output) for one device, saves the
// artifact to ARTIFACT, runs it on the raw f32 bytes of INPUT and writes the
// output's raw bytes to OUTPUT. Then checks that a missing model and an input
// of the wrong shape are errors with a message; prints each message.
//
//===----------------------------------------------------------------------===//

#include "distopt/DistOpt.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>

static int fail(const std::string &what, const distopt::Status &status) {
  std::cerr << "cpp-consumer: " << what << ": " << status.getMessage() << "\n";
  return 1;
}

/// Checks that `status` is an error with a message, and prints it.
static bool isReportedError(const char *what, const distopt::Status &status) {
  if (status || status.getMessage().empty()) {
    std::cerr << "cpp-consumer: " << what << " did not give an error message\n";
    return false;
  }
  std::cout << what << ": " << status.getMessage() << "\n";
  return true;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    std::cerr << "usage: cpp-consumer MODEL INPUT OUTPUT ARTIFACT\n";
    return 2;
  }
  std::cout << "dist-opt " << distopt::getVersion() << "\n";

  distopt::CompileOptions options;
  options.shapes = {{"x", {4, 16}}};
  distopt::CompiledModel model;
  if (distopt::Status s = distopt::compile(argv[1], options, model); !s)
    return fail("compile", s);
  if (distopt::Status s = model.save(argv[4]); !s)
    return fail("save", s);

  std::unique_ptr<distopt::Program> program;
  if (distopt::Status s = distopt::Program::load(model, program); !s)
    return fail("load", s);
  if (program->getInputs().size() != 1 || program->getOutputs().size() != 1) {
    std::cerr << "cpp-consumer: the model must have one input and one output\n";
    return 1;
  }
  const distopt::TensorInfo &inputInfo = program->getInputs().front();
  distopt::TensorData input;
  input.type = inputInfo.type;
  input.shape = inputInfo.shape;
  std::ifstream inputFile(argv[2], std::ios::binary);
  input.bytes.assign(std::istreambuf_iterator<char>(inputFile), {});
  if (input.bytes.size() !=
      size_t(input.getNumElements()) * distopt::getElementSize(input.type)) {
    std::cerr << "cpp-consumer: " << argv[2] << " does not hold input '"
              << inputInfo.name << "'\n";
    return 1;
  }

  std::map<std::string, distopt::TensorData> outputs;
  if (distopt::Status s = program->run({{inputInfo.name, input}}, outputs); !s)
    return fail("run", s);
  const distopt::TensorData &output =
      outputs.at(program->getOutputs().front().name);
  std::ofstream outputFile(argv[3], std::ios::binary);
  outputFile.write(reinterpret_cast<const char *>(output.bytes.data()),
                   output.bytes.size());
  if (!outputFile.flush()) {
    std::cerr << "cpp-consumer: cannot write " << argv[3] << "\n";
    return 1;
  }

  // Errors are values with messages, not crashes.
  distopt::CompiledModel missing;
  bool ok = isReportedError(
      "missing model", distopt::compile(std::string(argv[1]) + ".missing.onnx",
                                        options, missing));
  distopt::TensorData wrongShape = input;
  wrongShape.shape.push_back(1);
  std::map<std::string, distopt::TensorData> unused;
  ok &= isReportedError("wrong input shape",
                        program->run({{inputInfo.name, wrongShape}}, unused));
  return ok ? 0 : 1;
}
