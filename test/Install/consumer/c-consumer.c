//===- c-consumer.c - the C API as an installed package's user ------------===//
//
// Usage: c-consumer MODEL INPUT OUTPUT [DEVICES [CLUSTER]]
//
// Compiles MODEL (one f32 input `x` of shape [batch, 16], fixed here to
// [4, 16], and one f32 output) for DEVICES devices (default 1) of CLUSTER
// (default: the `cpu` preset). With one device, saves the artifact beside
// MODEL (MODEL.c.dist) and loads the program from that file; with more,
// loads the compiled model, and also plans the model alone and prints the
// size of both plan reports. Runs the program on the raw f32 bytes of INPUT,
// once into library-owned outputs and once into a buffer of its own, checks
// that both agree, and writes the output's raw bytes to OUTPUT (rank 0
// only). Then checks that null arguments, a missing model or artifact and an
// input of the wrong shape are errors with a message; prints each one.
// Under `mpirun -np DEVICES` every rank runs it.
//
//===----------------------------------------------------------------------===//

#include "distopt-c/DistOpt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, DistOptStatus status) {
  fprintf(stderr, "c-consumer: %s: %s\n", what,
          distoptStatusGetMessage(status).data);
  distoptStatusDestroy(status);
  return 1;
}

/// Checks that a call gave `expected` with a message in `status`, prints the
/// message and destroys `status`.
static int isReportedError(const char *what, DistOptStatusCode code,
                           DistOptStatusCode expected, DistOptStatus status) {
  DistOptStringRef message = distoptStatusGetMessage(status);
  int ok = code == expected && distoptStatusGetCode(status) == expected &&
           message.length != 0;
  if (ok)
    printf("%s: %s\n", what, message.data);
  else
    fprintf(stderr, "c-consumer: %s gave code %d, expected %d\n", what,
            (int)code, (int)expected);
  distoptStatusDestroy(status);
  return ok;
}

static void *readFile(const char *path, size_t *size) {
  FILE *file = fopen(path, "rb");
  if (!file)
    return NULL;
  char *data = NULL;
  if (fseek(file, 0, SEEK_END) == 0) {
    long length = ftell(file);
    if (length >= 0 && fseek(file, 0, SEEK_SET) == 0 &&
        (data = malloc(length ? (size_t)length : 1)) &&
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

/// `path` followed by `suffix`, in memory the caller frees.
static char *withSuffix(const char *path, const char *suffix) {
  size_t length = strlen(path), suffixLength = strlen(suffix);
  char *result = malloc(length + suffixLength + 1);
  if (result) {
    memcpy(result, path, length);
    memcpy(result + length, suffix, suffixLength + 1);
  }
  return result;
}

/// The null-argument, missing-file and wrong-shape checks.
static int checkErrors(const char *modelPath, DistOptProgram program,
                       DistOptTensor input) {
  DistOptStatus status;
  DistOptCompiledModel model;
  DistOptTensorSet outputs;
  int ok = isReportedError(
      "null model path",
      distoptCompile(NULL, (DistOptCompileOptions){NULL}, &model, &status),
      DistOptStatusInvalidArgument, status);
  ok &= model.ptr == NULL;
  ok &= isReportedError(
      "null program",
      distoptProgramRun((DistOptProgram){NULL}, &input, 1, &outputs, &status),
      DistOptStatusInvalidArgument, status);
  ok &= distoptCompileOptionsSetMode((DistOptCompileOptions){NULL}, "train") ==
        DistOptStatusInvalidArgument;

  // A value for an input the model does not have is refused by the import.
  DistOptCompileOptions valued = distoptCompileOptionsCreate();
  ok &= distoptCompileOptionsSetValue(valued, NULL, "v.npy") ==
        DistOptStatusInvalidArgument;
  ok &= distoptCompileOptionsSetValue(valued, "not_an_input", "v.npy") ==
        DistOptStatusOk;
  ok &= isReportedError("value of no input",
                        distoptCompile(modelPath, valued, &model, &status),
                        DistOptStatusError, status);
  distoptCompileOptionsDestroy(valued);

  char *missing = withSuffix(modelPath, ".missing.onnx");
  ok &= isReportedError(
      "missing model",
      distoptCompile(missing, (DistOptCompileOptions){NULL}, &model, &status),
      DistOptStatusError, status);
  free(missing);
  DistOptProgram loaded;
  missing = withSuffix(modelPath, ".missing.dist");
  ok &= isReportedError("missing artifact",
                        distoptProgramLoad(missing, NULL, &loaded, &status),
                        DistOptStatusError, status);
  free(missing);
  ok &= loaded.ptr == NULL;

  int64_t wrongShape[8];
  DistOptTensor wrong = input;
  memcpy(wrongShape, input.shape, input.rank * sizeof(int64_t));
  wrongShape[input.rank] = 1;
  wrong.shape = wrongShape;
  wrong.rank = input.rank + 1;
  ok &=
      isReportedError("wrong input shape",
                      distoptProgramRun(program, &wrong, 1, &outputs, &status),
                      DistOptStatusError, status);
  ok &= outputs.ptr == NULL;

  float small[1];
  DistOptTensor info;
  distoptProgramGetOutput(program, 0, &info);
  DistOptOutputBuffer buffer = {info.name, small, sizeof(small)};
  ok &= isReportedError(
      "small output buffer",
      distoptProgramRunInto(program, &input, 1, &buffer, 1, &status),
      DistOptStatusInvalidArgument, status);
  return ok;
}

int main(int argc, char **argv) {
  if (argc < 4 || argc > 6) {
    fprintf(stderr, "usage: c-consumer MODEL INPUT OUTPUT [DEVICES "
                    "[CLUSTER]]\n");
    return 2;
  }
  DistOptCompileOptions options = distoptCompileOptionsCreate();
  const int64_t shape[] = {4, 16};
  unsigned devices = argc > 4 ? (unsigned)atoi(argv[4]) : 1;
  if (distoptCompileOptionsSetShape(options, "x", shape, 2) ||
      distoptCompileOptionsSetDevices(options, devices) ||
      (argc > 5 && distoptCompileOptionsSetCluster(options, argv[5])))
    return 1;
  DistOptStatus status;
  DistOptCompiledModel model;
  if (distoptCompile(argv[1], options, &model, &status))
    return fail("compile", status);
  if (devices > 1) {
    DistOptPlanReport report;
    if (distoptPlan(argv[1], options, &report, &status))
      return fail("plan", status);
    printf("plan report: %zu bytes of JSON, %zu of text; compiled model's "
           "report: %zu bytes of JSON\n",
           distoptPlanReportGetJson(report).length,
           distoptPlanReportGetText(report).length,
           distoptCompiledModelGetReportJson(model).length);
    distoptPlanReportDestroy(report);
  }
  distoptCompileOptionsDestroy(options);

  DistOptProgram program;
  if (devices == 1) {
    char *artifact = withSuffix(argv[1], ".c.dist");
    if (distoptCompiledModelSave(model, artifact, &status))
      return fail("save", status);
    if (distoptProgramLoad(artifact, NULL, &program, &status))
      return fail("load", status);
    free(artifact);
  } else if (distoptProgramLoadCompiled(model, NULL, &program, &status)) {
    return fail("load", status);
  }
  int rank = distoptProgramGetRank(program);
  if (rank == 0)
    printf("dist-opt %s, %u devices, %d ranks\n", distoptGetVersion(),
           distoptCompiledModelGetDeviceCount(model),
           distoptProgramGetNumRanks(program));
  distoptCompiledModelDestroy(model);
  if (distoptProgramGetNumInputs(program) != 1 ||
      distoptProgramGetNumOutputs(program) != 1) {
    fprintf(stderr, "c-consumer: the model must have one input and one "
                    "output\n");
    return 1;
  }

  DistOptTensor input;
  distoptProgramGetInput(program, 0, &input);
  input.data = readFile(argv[2], &input.byteSize);
  if (!input.data || input.rank >= 8) {
    fprintf(stderr, "c-consumer: cannot read %s\n", argv[2]);
    return 1;
  }

  DistOptTensorSet outputs;
  if (distoptProgramRun(program, &input, 1, &outputs, &status))
    return fail("run", status);
  DistOptTensor output;
  distoptTensorSetGet(outputs, 0, &output);
  void *copy = malloc(output.byteSize);
  DistOptOutputBuffer buffer = {output.name, copy, output.byteSize};
  if (distoptProgramRunInto(program, &input, 1, &buffer, 1, &status))
    return fail("run into a buffer", status);
  if (memcmp(copy, output.data, output.byteSize) != 0) {
    fprintf(stderr, "c-consumer: the two runs' outputs differ\n");
    return 1;
  }
  if (rank == 0) {
    FILE *file = fopen(argv[3], "wb");
    if (!file ||
        fwrite(output.data, 1, output.byteSize, file) != output.byteSize ||
        fclose(file) != 0) {
      fprintf(stderr, "c-consumer: cannot write %s\n", argv[3]);
      return 1;
    }
  }
  free(copy);
  distoptTensorSetDestroy(outputs);

  // Every rank gathers the weights (collective); rank 0 prints their size.
  DistOptTensorSet weights;
  if (distoptProgramGetWeights(program, &weights, &status))
    return fail("weights", status);
  size_t weightBytes = 0;
  for (size_t i = 0; i < distoptTensorSetGetCount(weights); ++i) {
    DistOptTensor weight;
    distoptTensorSetGet(weights, i, &weight);
    weightBytes += weight.byteSize;
  }
  if (rank == 0)
    printf("weights: %zu tensors, %zu bytes\n",
           distoptTensorSetGetCount(weights), weightBytes);
  distoptTensorSetDestroy(weights);

  int ok = checkErrors(argv[1], program, input);
  free((void *)input.data);
  distoptProgramDestroy(program);
  return ok ? 0 : 1;
}
