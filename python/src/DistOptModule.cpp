//===- DistOptModule.cpp - the _distopt Python extension ------------------===//
//
// Binds the C++ API of include/distopt/DistOpt.h for the `distopt` package
// (python/distopt/__init__.py), which adds the Pythonic layer: keyword
// options, ONNX ModelProto and cluster dictionaries, the report as a dict.
// Here: options from a dict, numpy arrays to and from TensorData, and every
// error Status raised as `distopt.Error` with its file, line and column.
// The library runs without the GIL: compiling, planning and running release
// it, so that other Python threads go on meanwhile.
//
// This file is compiled with exceptions (pybind11 needs them); the library it
// calls is not, and returns errors as Status values instead.
//
//===----------------------------------------------------------------------===//

#include "distopt/DistOpt.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <optional>

namespace py = pybind11;
using namespace distopt;

namespace {

/// Raises a `distopt.Error` with the message, file, line and column of a
/// failed status. The package (distopt/__init__.py, which defines the class
/// before it imports this module) makes the exception.
[[noreturn]] void raiseError(const Status &status) {
  py::module_ package = py::module_::import("distopt");
  py::object error = package.attr("_error")(
      status.getMessage(),
      status.getFile().empty() ? py::object(py::none())
                               : py::str(status.getFile()),
      status.getLine(), status.getColumn());
  PyErr_SetObject(package.attr("Error").ptr(), error.ptr());
  throw py::error_already_set();
}

[[noreturn]] void raiseError(const std::string &message) {
  raiseError(Status::error(message));
}

void check(const Status &status) {
  if (!status)
    raiseError(status);
}

/// The numpy dtype of each element type. bf16 has none in numpy: bf16
/// tensors cross as float32 (converted, see toTensorData/toArray).
py::dtype getDtype(ElementType type) {
  switch (type) {
  case ElementType::F32:
  case ElementType::BF16:
    return py::dtype::of<float>();
  case ElementType::F64:
    return py::dtype::of<double>();
  case ElementType::F16:
    return py::dtype("float16");
  case ElementType::Bool:
    return py::dtype::of<bool>();
  case ElementType::I8:
    return py::dtype::of<int8_t>();
  case ElementType::I16:
    return py::dtype::of<int16_t>();
  case ElementType::I32:
    return py::dtype::of<int32_t>();
  case ElementType::I64:
    return py::dtype::of<int64_t>();
  }
  return py::dtype::of<float>();
}

/// The element type of a numpy dtype, or none for a dtype that no tensor of
/// the runtime has (unsigned, complex, strings, objects).
std::optional<ElementType> getElementType(const py::dtype &dtype) {
  static const std::pair<const char *, ElementType> types[] = {
      {"float32", ElementType::F32}, {"float64", ElementType::F64},
      {"float16", ElementType::F16}, {"bool", ElementType::Bool},
      {"int8", ElementType::I8},     {"int16", ElementType::I16},
      {"int32", ElementType::I32},   {"int64", ElementType::I64}};
  for (const auto &[name, type] : types)
    if (dtype.is(py::dtype(name)))
      return type;
  return std::nullopt;
}

uint16_t floatToBF16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  if ((bits & 0x7fffffffu) > 0x7f800000u) // NaN stays a quiet NaN.
    return static_cast<uint16_t>((bits >> 16) | 0x40);
  // Round to nearest, ties to even.
  bits += 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

float bf16ToFloat(uint16_t value) {
  uint32_t bits = static_cast<uint32_t>(value) << 16;
  float result;
  std::memcpy(&result, &bits, sizeof(result));
  return result;
}

/// The bytes of `array` as a tensor of `declared` type when that is bf16
/// (converted from float32), else of the array's own type. The program
/// checks the type and shape against its input.
TensorData toTensorData(const std::string &name, const py::array &array,
                        std::optional<ElementType> declared) {
  std::optional<ElementType> type = getElementType(array.dtype());
  if (!type)
    raiseError("input '" + name + "' has dtype " +
               py::str(array.dtype()).cast<std::string>() +
               ", which no tensor of the runtime has (float32, float64, "
               "float16, bool, int8, int16, int32, int64)");
  if (!(array.flags() & py::array::c_style))
    raiseError("input '" + name + "' is not a C-contiguous array");
  TensorData tensor;
  tensor.type = *type;
  tensor.shape.assign(array.shape(), array.shape() + array.ndim());
  const auto *data = static_cast<const uint8_t *>(array.data());
  if (declared == ElementType::BF16 && *type == ElementType::F32) {
    tensor.type = ElementType::BF16;
    tensor.bytes.resize(array.size() * 2);
    const auto *values = reinterpret_cast<const float *>(data);
    for (py::ssize_t i = 0; i < array.size(); ++i) {
      uint16_t half = floatToBF16(values[i]);
      std::memcpy(tensor.bytes.data() + 2 * i, &half, 2);
    }
    return tensor;
  }
  tensor.bytes.assign(data, data + array.nbytes());
  return tensor;
}

/// A new numpy array holding a copy of `tensor` (bf16 widened to float32).
py::array toArray(const TensorData &tensor) {
  std::vector<py::ssize_t> shape(tensor.shape.begin(), tensor.shape.end());
  py::array array(getDtype(tensor.type), shape);
  auto *data = static_cast<uint8_t *>(array.mutable_data());
  if (tensor.bytes.size() !=
      size_t(tensor.getNumElements()) * getElementSize(tensor.type))
    raiseError("output of " + std::to_string(tensor.bytes.size()) +
               " bytes does not fill its shape");
  if (tensor.type == ElementType::BF16) {
    auto *values = reinterpret_cast<float *>(data);
    for (int64_t i = 0, e = tensor.getNumElements(); i < e; ++i) {
      uint16_t half;
      std::memcpy(&half, tensor.bytes.data() + 2 * i, 2);
      values[i] = bf16ToFloat(half);
    }
    return array;
  }
  std::memcpy(data, tensor.bytes.data(), tensor.bytes.size());
  return array;
}

/// Reads a value of `options`, a dict the package builds, when it is there.
template <typename T>
void readOption(const py::dict &options, const char *key, T &value) {
  if (!options.contains(key))
    return;
  py::object item = options[key];
  if (item.is_none())
    return;
  try {
    value = item.cast<T>();
  } catch (const py::cast_error &) {
    raiseError(
        std::string("option '") + key + "' has the wrong type (" +
        py::str(py::type::of(item).attr("__name__")).cast<std::string>() + ")");
  }
}

/// CompileOptions from the dict of distopt.compile's keywords; the keys are
/// the Python names of its fields.
CompileOptions toCompileOptions(const py::dict &options) {
  CompileOptions result;
  if (options.contains("shapes") && !options["shapes"].is_none()) {
    py::object shapes = options["shapes"];
    if (!py::isinstance<py::dict>(shapes))
      raiseError("shapes must be a dict of input name to a list of dimensions");
    for (auto [name, dims] : shapes.cast<py::dict>()) {
      if (!py::isinstance<py::str>(name))
        raiseError("a key of shapes is not an input name (a str)");
      std::vector<int64_t> sizes;
      try {
        sizes = dims.cast<std::vector<int64_t>>();
      } catch (const py::cast_error &) {
        raiseError("shapes['" + name.cast<std::string>() +
                   "'] is not a list of integers");
      }
      result.shapes.emplace_back(name.cast<std::string>(), std::move(sizes));
    }
  }
  if (options.contains("values") && !options["values"].is_none()) {
    py::object values = options["values"];
    if (!py::isinstance<py::dict>(values))
      raiseError("values must be a dict of input name to a file path");
    for (auto [name, file] : values.cast<py::dict>()) {
      if (!py::isinstance<py::str>(name))
        raiseError("a key of values is not an input name (a str)");
      py::object path = py::module_::import("os").attr("fspath")(file);
      if (!py::isinstance<py::str>(path))
        raiseError("values['" + name.cast<std::string>() +
                   "'] is not a file path");
      result.values.emplace_back(name.cast<std::string>(),
                                 path.cast<std::string>());
    }
  }
  readOption(options, "cluster", result.cluster);
  readOption(options, "devices", result.devices);
  readOption(options, "plan", result.plan);
  readOption(options, "mode", result.mode);
  readOption(options, "batch", result.batch);
  readOption(options, "precision", result.precision);
  readOption(options, "raise_patterns", result.raisePatterns);
  readOption(options, "loss", result.loss);
  readOption(options, "labels", result.labels);
  readOption(options, "optimizer", result.optimizer);
  readOption(options, "lr", result.lr);
  readOption(options, "beta1", result.beta1);
  readOption(options, "beta2", result.beta2);
  readOption(options, "eps", result.eps);
  readOption(options, "weight_decay", result.weightDecay);
  readOption(options, "momentum", result.momentum);
  readOption(options, "clip_norm", result.clipNorm);
  readOption(options, "trainable", result.trainable);
  readOption(options, "freeze", result.freeze);
  return result;
}

/// (name, dtype, shape) of each tensor, as the package shows them.
py::list describe(const std::vector<TensorInfo> &infos) {
  py::list result;
  for (const TensorInfo &info : infos)
    result.append(py::make_tuple(info.name, getDtype(info.type),
                                 py::tuple(py::cast(info.shape))));
  return result;
}

/// A loaded Program with the element types of its inputs at hand.
class LoadedProgram {
public:
  explicit LoadedProgram(std::unique_ptr<Program> program)
      : program(std::move(program)) {}

  int getRank() const { return program->getRank(); }
  int getNumRanks() const { return program->getNumRanks(); }
  py::list getInputs() const { return describe(program->getInputs()); }
  py::list getOutputs() const { return describe(program->getOutputs()); }

  py::dict run(const py::dict &inputs) {
    std::map<std::string, TensorData> tensors;
    for (auto [key, value] : inputs) {
      if (!py::isinstance<py::str>(key))
        raiseError("an input name is not a str");
      std::string name = key.cast<std::string>();
      if (!py::isinstance<py::array>(value))
        raiseError("input '" + name + "' is not a numpy array");
      std::optional<ElementType> declared;
      for (const TensorInfo &info : program->getInputs())
        if (info.name == name)
          declared = info.type;
      tensors.emplace(name,
                      toTensorData(name, value.cast<py::array>(), declared));
    }
    std::map<std::string, TensorData> outputs;
    Status status;
    {
      py::gil_scoped_release release;
      status = program->run(tensors, outputs);
    }
    check(status);
    py::dict result;
    // In the program's order of outputs, which a dict keeps.
    for (const TensorInfo &info : program->getOutputs()) {
      auto it = outputs.find(info.name);
      if (it != outputs.end())
        result[py::str(info.name)] = toArray(it->second);
    }
    return result;
  }

  py::dict getWeights() {
    std::map<std::string, TensorData> weights;
    Status status;
    {
      py::gil_scoped_release release;
      status = program->getWeights(weights);
    }
    check(status);
    py::dict result;
    for (const auto &[name, tensor] : weights)
      result[py::str(name)] = toArray(tensor);
    return result;
  }

private:
  std::unique_ptr<Program> program;
};

RunOptions toRunOptions(int threads, double collectiveTimeout) {
  RunOptions options;
  options.threads = threads;
  options.collectiveTimeout = collectiveTimeout;
  return options;
}

} // namespace

PYBIND11_MODULE(_distopt, m) {
  m.doc() = "The dist-opt library (include/distopt/DistOpt.h); use the "
            "distopt package, not this module.";
  m.def("version", &getVersion);

  py::class_<CompiledModel>(m, "CompiledModel")
      .def_property_readonly("artifact",
                             [](const CompiledModel &model) {
                               return py::bytes(model.getArtifact());
                             })
      .def_property_readonly("report_json", &CompiledModel::getReportJson)
      .def_property_readonly("report_text", &CompiledModel::getReportText)
      .def_property_readonly("device_count", &CompiledModel::getDeviceCount)
      .def_property_readonly("weights_dir", &CompiledModel::getWeightsDir)
      .def(
          "save",
          [](const CompiledModel &model, const std::string &path,
             const std::string &weightsDir) {
            Status status;
            {
              py::gil_scoped_release release;
              status = model.save(path, weightsDir);
            }
            check(status);
          },
          py::arg("path"), py::arg("weights_dir") = "");

  m.def(
      "compile",
      [](const std::string &modelPath, const py::dict &options) {
        CompileOptions compileOptions = toCompileOptions(options);
        auto model = std::make_unique<CompiledModel>();
        Status status;
        {
          py::gil_scoped_release release;
          status = distopt::compile(modelPath, compileOptions, *model);
        }
        check(status);
        return model;
      },
      py::arg("model_path"), py::arg("options"));

  m.def(
      "plan",
      [](const std::string &modelPath, const py::dict &options) {
        CompileOptions compileOptions = toCompileOptions(options);
        std::string json, text;
        Status status;
        {
          py::gil_scoped_release release;
          status = distopt::planModel(modelPath, compileOptions, json, &text);
        }
        check(status);
        return py::make_tuple(json, text);
      },
      py::arg("model_path"), py::arg("options"));

  py::class_<LoadedProgram>(m, "Program")
      .def_static(
          "load_file",
          [](const std::string &path, int threads, double timeout) {
            std::unique_ptr<Program> program;
            Status status;
            {
              py::gil_scoped_release release;
              status =
                  Program::load(path, program, toRunOptions(threads, timeout));
            }
            check(status);
            return std::make_unique<LoadedProgram>(std::move(program));
          },
          py::arg("path"), py::arg("threads") = 0,
          py::arg("collective_timeout") = 0.0)
      .def_static(
          "load_compiled",
          [](const CompiledModel &model, int threads, double timeout) {
            std::unique_ptr<Program> program;
            Status status;
            {
              py::gil_scoped_release release;
              status =
                  Program::load(model, program, toRunOptions(threads, timeout));
            }
            check(status);
            return std::make_unique<LoadedProgram>(std::move(program));
          },
          py::arg("model"), py::arg("threads") = 0,
          py::arg("collective_timeout") = 0.0)
      .def_property_readonly("rank", &LoadedProgram::getRank)
      .def_property_readonly("world_size", &LoadedProgram::getNumRanks)
      .def_property_readonly("inputs", &LoadedProgram::getInputs)
      .def_property_readonly("outputs", &LoadedProgram::getOutputs)
      .def("run", &LoadedProgram::run, py::arg("inputs"))
      .def("weights", &LoadedProgram::getWeights);
}
