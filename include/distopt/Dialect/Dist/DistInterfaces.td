//===- DistInterfaces.td - dist op interfaces --------------*- tablegen -*-===//
//
// The sharding-rule interface: the one place where each dist op says how its
// iteration space may be split across devices.
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

#endif // DISTOPT_DIALECT_DIST_DISTINTERFACES_TD
