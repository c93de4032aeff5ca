//===- Passes.td - dist-opt passes -------------------------*- tablegen -*-===//
//
// Passes of dist-opt. Definitions are named FooBarPass, flags dist-foo-bar.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_PASSES_PASSES_TD
#define DISTOPT_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def PrintShardingRulesPass : Pass<"dist-print-sharding-rules"> {
  let summary = "Report the sharding rule of every dist op as a remark";
  let description = [{
    Emits one remark per op that implements the sharding-rule interface,
    listing its factors (size and kind: parallel, reduction with combiner, or
    whole) and the factors that index each operand and result dimension
    (`_` for a size-1 dimension that broadcasts). The rule is also checked
    against the op's types; a mismatch is an error.

    ```
    remark: factors [d0=8 parallel, d1=32 parallel, d2=16 reduction(sum)]
            operands ([d0, d2], [d2, d1]) results ([d0, d1])
    ```
  }];
}

#endif // DISTOPT_PASSES_PASSES_TD
