//===- c-train.c - a training step through the C API ----------------------===//
//
// Usage: c-train MODEL INPUT LABELS OUTPUT_DIR
//
// Compiles MODEL (input `x` of shape [batch, 16], fixed here to [4, 16]) into
// one training step (mean squared error against the labels, SGD with
// learning rate 0.1) on one device, runs one step on the raw f32 bytes of
// INPUT and LABELS, and writes the loss to OUTPUT_DIR/loss.bin and each
// trained weight, whole, to OUTPUT_DIR/<name>.bin (raw bytes).
//
//===----------------------------------------------------------------------===//

#include "distopt-c/DistOpt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, DistOptStatus status) {
  fprintf(stderr, "c-train: %s: %s\n", what,
          distoptStatusGetMessage(status).data);
  distoptStatusDestroy(status);
  return 1;
}

static void *readFile(const char *path, size_t *size) {
  FILE *file = fopen(path, "rb");
  if (!file)
    return NULL;
  char *data = NULL;
  if (fseek(file, 0, SEEK_END) == 0) {
    long length = ftell(file);
    if (length > 0 && fseek(file, 0, SEEK_SET) == 0 &&
        (data = malloc((size_t)length)) &&
        fread(data, 1, (size_t)length, file) == (size_t)length)
      *size = (size_t)length;
    else {
      free(data);
      data = NULL;
    }
  }
  fclose(file);
  return data;
}

/// Writes `tensor`'s bytes to `folder`/`name`.bin.
static int writeTensor(const char *folder, const char *name,
                       DistOptTensor tensor) {
  char path[4096];
  if (snprintf(path, sizeof(path), "%s/%s.bin", folder, name) >=
      (int)sizeof(path))
    return 0;
  FILE *file = fopen(path, "wb");
  int ok = file && fwrite(tensor.data, 1, tensor.byteSize, file) ==
                       tensor.byteSize;
  return (file && fclose(file) == 0) && ok;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: c-train MODEL INPUT LABELS OUTPUT_DIR\n");
    return 2;
  }
  DistOptCompileOptions options = distoptCompileOptionsCreate();
  const int64_t shape[] = {4, 16};
  if (distoptCompileOptionsSetShape(options, "x", shape, 2) ||
      distoptCompileOptionsSetMode(options, "train") ||
      distoptCompileOptionsSetLoss(options, "mse") ||
      distoptCompileOptionsSetOptimizer(options, "sgd") ||
      distoptCompileOptionsSetLearningRate(options, 0.1))
    return 1;
  DistOptStatus status;
  DistOptCompiledModel model;
  if (distoptCompile(argv[1], options, &model, &status))
    return fail("compile", status);
  distoptCompileOptionsDestroy(options);
  DistOptProgram program;
  if (distoptProgramLoadCompiled(model, NULL, &program, &status))
    return fail("load", status);
  distoptCompiledModelDestroy(model);

  // The step's inputs: the model's `x` and the loss's labels.
  size_t numInputs = distoptProgramGetNumInputs(program);
  if (numInputs != 2) {
    fprintf(stderr, "c-train: the step takes %zu inputs, expected 2\n",
            numInputs);
    return 1;
  }
  DistOptTensor inputs[2];
  for (size_t i = 0; i < 2; ++i) {
    distoptProgramGetInput(program, i, &inputs[i]);
    const char *path = strcmp(inputs[i].name, "x") == 0 ? argv[2] : argv[3];
    if (!(inputs[i].data = readFile(path, &inputs[i].byteSize))) {
      fprintf(stderr, "c-train: cannot read %s\n", path);
      return 1;
    }
  }

  DistOptTensorSet outputs;
  if (distoptProgramRun(program, inputs, 2, &outputs, &status))
    return fail("run", status);
  DistOptTensor loss;
  if (distoptTensorSetGet(outputs, 0, &loss) ||
      !writeTensor(argv[4], "loss", loss)) {
    fprintf(stderr, "c-train: cannot write the loss\n");
    return 1;
  }
  distoptTensorSetDestroy(outputs);

  DistOptTensorSet weights;
  if (distoptProgramGetWeights(program, &weights, &status))
    return fail("weights", status);
  for (size_t i = 0; i < distoptTensorSetGetCount(weights); ++i) {
    DistOptTensor weight;
    distoptTensorSetGet(weights, i, &weight);
    if (!writeTensor(argv[4], weight.name, weight)) {
      fprintf(stderr, "c-train: cannot write weight '%s'\n", weight.name);
      return 1;
    }
    printf("weight %s: %zu bytes\n", weight.name, weight.byteSize);
  }
  distoptTensorSetDestroy(weights);
  for (size_t i = 0; i < 2; ++i)
    free((void *)inputs[i].data);
  distoptProgramDestroy(program);
  return 0;
}
