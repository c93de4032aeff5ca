//===- DistInterfaces.td - dist op interfaces --------------*- tablegen -*-===//
//
// The sharding-rule interface: the one place where each dist op says how its
// iteration space may be split across devices. The gradient interface: the
// one place where each dist op says how its operands' gradients follow from
// its results' gradients.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_DIALECT_DIST_DISTINTERFACES_TD
#define DISTOPT_DIALECT_DIST_DISTINTERFACES_TD

include "mlir/IR/OpBase.td"

def Dist_ShardingRuleOpInterface : OpInterface<"ShardingRuleOpInterface"> {
  let cppNamespace = "::distopt::dist";
  let description = [{
    An op's sharding rule, in the spirit of Shardy's OpShardingRule: the
    iteration space is a list of *factors*, each with a size and a kind
    (parallel; reduction with a combiner; or whole, meaning the factor must
    not be split), and every operand and result dimension lists the factors it
    is indexed by. A size-1 dimension that broadcasts lists no factor.

    The planner enumerates candidate shardings from this rule alone, and the
    `ShardingInterface` external models for upstream's `shard` dialect are
    derived from it, so that propagation, partitioning and cost all agree.
  }];

  let methods = [
    InterfaceMethod<
      /*desc=*/"Returns the sharding rule of this op for its current types.",
      /*retTy=*/"::distopt::dist::ShardingRule",
      /*methodName=*/"getShardingRule",
      /*args=*/(ins)
    >
  ];
}

def Dist_SplitFormOpInterface : OpInterface<"SplitFormOpInterface"> {
  let cppNamespace = "::distopt::dist";
  let description = [{
    The local form of an op whose sharding rule has `collective` factors:
    when the planner splits one, `dist-partition` gives the op its local
    operand and result types and then asks it for the program each device
    runs instead, which combines per-device statistics with
    `shard.all_reduce`s over the factor's grid axes, exactly the ones the
    rule lists (`ShardingRule::innerAllReduces`, what the planner prices).
    Softmax cross-entropy over a split vocabulary is the example
    (Megatron-LM's vocabulary-parallel cross-entropy): the logits are never
    gathered.
  }];

  let methods = [
    InterfaceMethod<
      /*desc=*/[{
        Builds the local form at `builder`'s insertion point (before the
        op), given the grid axes of every factor of the op's rule
        (`factorAxes`) and the grid's name, and returns the values that
        replace the op's results. The caller replaces the uses and erases
        the op.
      }],
      /*retTy=*/"::mlir::FailureOr<::llvm::SmallVector<::mlir::Value>>",
      /*methodName=*/"buildSplitForm",
      /*args=*/(ins "::mlir::OpBuilder &":$builder,
                    "::llvm::ArrayRef<::llvm::SmallVector<int16_t>>":$factorAxes,
                    "::llvm::StringRef":$grid)
    >
  ];
}

def Dist_GradientOpInterface : OpInterface<"GradientOpInterface"> {
  let cppNamespace = "::distopt::dist";
  let description = [{
    An op's reverse-mode gradient rule, kept next to the op like its
    sharding rule. `dist-autodiff` walks the ops that the loss depends on in
    reverse order and asks each for the gradients of its operands, given the
    gradients of its results. An op on that path without this interface is
    refused by name.

    The rule is built while the types are the whole (unpartitioned) ones, so
    it may use them (for example the element count of a mean). It emits
    ordinary dist ops (and backward ops where no composition of forward ops
    does) at the builder's insertion point, located at the op's location.
  }];

  let methods = [
    InterfaceMethod<
      /*desc=*/[{
        Builds the gradients of this op's operands. `resultGrads` has one
        entry per result: the gradient of the loss with respect to that
        result (same type as the result), or null where no gradient reaches
        it (then it is zero). At least one entry is non-null.
        `operandGrads` is filled with one entry per operand: its gradient
        (same type as the operand), or null where none flows (integer and
        boolean operands, operands the op does not differentiate). Fails,
        with an error at the op, where a rule does not apply to these
        attributes or types.
      }],
      /*retTy=*/"::mlir::LogicalResult",
      /*methodName=*/"buildGradients",
      /*args=*/(ins "::mlir::OpBuilder &":$builder,
                    "::mlir::ArrayRef<::mlir::Value>":$resultGrads,
                    "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)
    >
  ];
}

#endif // DISTOPT_DIALECT_DIST_DISTINTERFACES_TD
