//===- DistAttrs.td - dist dialect enums and attributes ----*- tablegen -*-===//
//
// Enums that key the op families (unary, binary, compare, reduce, pool) and
// the attribute that records where a weight's bytes live.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_DIALECT_DIST_DISTATTRS_TD
#define DISTOPT_DIALECT_DIST_DISTATTRS_TD

include "distopt/Dialect/Dist/Dist.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Dist_UnaryKind : I32EnumAttr<"UnaryKind", "elementwise unary function", [
    I32EnumAttrCase<"Relu", 0, "relu">,
    I32EnumAttrCase<"GeluErf", 1, "gelu_erf">,
    I32EnumAttrCase<"GeluTanh", 2, "gelu_tanh">,
    I32EnumAttrCase<"Tanh", 3, "tanh">,
    I32EnumAttrCase<"Exp", 4, "exp">,
    I32EnumAttrCase<"Log", 5, "log">,
    I32EnumAttrCase<"Sqrt", 6, "sqrt">,
    I32EnumAttrCase<"Rsqrt", 7, "rsqrt">,
    I32EnumAttrCase<"Erf", 8, "erf">,
    I32EnumAttrCase<"Neg", 9, "neg">,
    I32EnumAttrCase<"Reciprocal", 10, "reciprocal">,
    I32EnumAttrCase<"Sigmoid", 11, "sigmoid">,
    I32EnumAttrCase<"Abs", 12, "abs">,
    I32EnumAttrCase<"Floor", 13, "floor">,
    I32EnumAttrCase<"Ceil", 14, "ceil">,
    I32EnumAttrCase<"Sin", 15, "sin">,
    I32EnumAttrCase<"Cos", 16, "cos">,
    I32EnumAttrCase<"Silu", 17, "silu">,
    I32EnumAttrCase<"Not", 18, "not">,
    I32EnumAttrCase<"LeakyRelu", 19, "leaky_relu">,
    I32EnumAttrCase<"Elu", 20, "elu">,
    I32EnumAttrCase<"Selu", 21, "selu">,
    I32EnumAttrCase<"Celu", 22, "celu">,
    I32EnumAttrCase<"Softplus", 23, "softplus">,
    I32EnumAttrCase<"Softsign", 24, "softsign">,
    I32EnumAttrCase<"HardSigmoid", 25, "hard_sigmoid">,
    I32EnumAttrCase<"HardSwish", 26, "hard_swish">,
    I32EnumAttrCase<"Mish", 27, "mish">,
    I32EnumAttrCase<"ThresholdedRelu", 28, "thresholded_relu">,
    I32EnumAttrCase<"Tan", 29, "tan">,
    I32EnumAttrCase<"Asin", 30, "asin">,
    I32EnumAttrCase<"Acos", 31, "acos">,
    I32EnumAttrCase<"Atan", 32, "atan">,
    I32EnumAttrCase<"Sinh", 33, "sinh">,
    I32EnumAttrCase<"Cosh", 34, "cosh">,
    I32EnumAttrCase<"Asinh", 35, "asinh">,
    I32EnumAttrCase<"Acosh", 36, "acosh">,
    I32EnumAttrCase<"Atanh", 37, "atanh">,
    I32EnumAttrCase<"Round", 38, "round">
  ]> {
  let cppNamespace = "::distopt::dist";
  let genSpecializedAttr = 0;
}
def Dist_UnaryKindAttr : EnumAttr<Dist_Dialect, Dist_UnaryKind, "unary_kind">;

def Dist_BinaryKind : I32EnumAttr<"BinaryKind", "elementwise binary function", [
    I32EnumAttrCase<"Add", 0, "add">,
    I32EnumAttrCase<"Sub", 1, "sub">,
    I32EnumAttrCase<"Mul", 2, "mul">,
    I32EnumAttrCase<"Div", 3, "div">,
    I32EnumAttrCase<"Pow", 4, "pow">,
    I32EnumAttrCase<"Max", 5, "max">,
    I32EnumAttrCase<"Min", 6, "min">,
    I32EnumAttrCase<"And", 7, "and">,
    I32EnumAttrCase<"Or", 8, "or">,
    I32EnumAttrCase<"Xor", 9, "xor">,
    I32EnumAttrCase<"Mod", 10, "mod">,
    I32EnumAttrCase<"FMod", 11, "fmod">
  ]> {
  let cppNamespace = "::distopt::dist";
  let genSpecializedAttr = 0;
}
def Dist_BinaryKindAttr : EnumAttr<Dist_Dialect, Dist_BinaryKind, "binary_kind">;

def Dist_CompareKind : I32EnumAttr<"CompareKind", "elementwise comparison", [
    I32EnumAttrCase<"Eq", 0, "eq">,
    I32EnumAttrCase<"Ne", 1, "ne">,
    I32EnumAttrCase<"Lt", 2, "lt">,
    I32EnumAttrCase<"Le", 3, "le">,
    I32EnumAttrCase<"Gt", 4, "gt">,
    I32EnumAttrCase<"Ge", 5, "ge">
  ]> {
  let cppNamespace = "::distopt::dist";
  let genSpecializedAttr = 0;
}
def Dist_CompareKindAttr : EnumAttr<Dist_Dialect, Dist_CompareKind, "compare_kind">;

def Dist_ReduceKind : I32EnumAttr<"ReduceKind", "reduction function", [
    I32EnumAttrCase<"Sum", 0, "sum">,
    I32EnumAttrCase<"Mean", 1, "mean">,
    I32EnumAttrCase<"Max", 2, "max">,
    I32EnumAttrCase<"Min", 3, "min">,
    I32EnumAttrCase<"Prod", 4, "prod">
  ]> {
  let cppNamespace = "::distopt::dist";
  let genSpecializedAttr = 0;
}
def Dist_ReduceKindAttr : EnumAttr<Dist_Dialect, Dist_ReduceKind, "reduce_kind">;

def Dist_PoolKind : I32EnumAttr<"PoolKind", "pooling function", [
    I32EnumAttrCase<"Max", 0, "max">,
    I32EnumAttrCase<"Avg", 1, "avg">
  ]> {
  let cppNamespace = "::distopt::dist";
  let genSpecializedAttr = 0;
}
def Dist_PoolKindAttr : EnumAttr<Dist_Dialect, Dist_PoolKind, "pool_kind">;

def Dist_ScatterReduction : I32EnumAttr<"ScatterReduction",
    "how a scatter combines an update with the element it lands on", [
    I32EnumAttrCase<"None", 0, "none">,
    I32EnumAttrCase<"Add", 1, "add">,
    I32EnumAttrCase<"Mul", 2, "mul">,
    I32EnumAttrCase<"Max", 3, "max">,
    I32EnumAttrCase<"Min", 4, "min">
  ]> {
  let cppNamespace = "::distopt::dist";
  let genSpecializedAttr = 0;
}
def Dist_ScatterReductionAttr
    : EnumAttr<Dist_Dialect, Dist_ScatterReduction, "scatter_reduction">;

def Dist_DataStorage : I32EnumAttr<"DataStorage", "where weight bytes live", [
    I32EnumAttrCase<"Inline", 0, "inline">,
    I32EnumAttrCase<"External", 1, "external">,
    I32EnumAttrCase<"Zero", 2, "zero">
  ]> {
  let cppNamespace = "::distopt::dist";
  let genSpecializedAttr = 0;
}
def Dist_DataStorageAttr : EnumAttr<Dist_Dialect, Dist_DataStorage, "data_storage">;

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

def Dist_DataLocationAttr : AttrDef<Dist_Dialect, "DataLocation"> {
  let mnemonic = "data";
  let summary = "Location of a weight's bytes (never the bytes themselves)";
  let description = [{
    Records where the bytes of a weight are stored so that the runtime can
    memory-map them and each rank can read only its own slice.

    * `storage = inline`: the bytes are inside the model file `path`, at byte
      `offset`, `length` bytes long.
    * `storage = external`: the bytes are in the external data file `path`
      (relative to the model's folder), at `offset`, `length` bytes long.

    * `storage = zero`: the weight starts as zeros and has no bytes anywhere
      (optimizer state such as AdamW's moments); `path` is empty, `offset`
      is 0 and `length` is the size the zeros take.

    `path` is always relative to the folder of the model file; the importer
    rejects absolute paths, `..` components and symbolic links. Only `zero`
    storage has (and requires) an empty path.

    ```mlir
    #dist.data<storage = external, path = "gpt2.bin", offset = 4096, length = 9437184>
    #dist.data<storage = zero, path = "", offset = 0, length = 4096>
    ```
  }];
  let parameters = (ins
    "DataStorage":$storage,
    StringRefParameter<"path relative to the model's folder">:$path,
    "int64_t":$offset,
    "int64_t":$length
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // DISTOPT_DIALECT_DIST_DISTATTRS_TD
