//===- DlcAttrs.h - dlc attributes and the names of marker attributes -*- C++ -*-===//
//
// The typed attributes of dialects/DlcAttrs.td, the names of the dlc dialect's
// discardable attributes (each checked by DlcDialect::verifyOperationAttribute), and
// the one evaluator of a launch grid that the CPU plan, the CUDA launch table and the
// GPU emulation share.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_DIALECTS_DLCATTRS_H
#define DLC_DIALECTS_DLCATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/StringRef.h"

#include <cassert>
#include <optional>

#include "dialects/DlcEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/DlcAttrs.h.inc"

namespace dlc {

/// Names of the dlc dialect's discardable attributes. DlcDialect verifies each where it
/// appears; an unknown `dlc.` attribute is an error.
namespace attrs {
/// Unit, on a kernel function (dlc-outline-kernels): the function is one launch.
inline constexpr llvm::StringLiteral kKernel = "dlc.kernel";
/// Array of strings, on a kernel (op or function): the ONNX nodes it computes, as
/// "Name (OpType)".
inline constexpr llvm::StringLiteral kNodes = "dlc.nodes";
/// LaunchGridAttr, on a kernel function: its launch grid (CPU: dlc-tile-workgroups;
/// CUDA: dlc-map-to-gpu, from the mapped block loop).
inline constexpr llvm::StringLiteral kGrid = "dlc.grid";
/// GpuConfigAttr, on a kernel function: the CUDA tiling dlc-gpu-select-tiling chose.
inline constexpr llvm::StringLiteral kGpuConfig = "dlc.gpu_config";
/// GpuMmaAttr, on a warp-level contraction (dlc-tile-gpu): the tensor-core instruction
/// dlc-gpu-mma lowers it to; in emulation it runs as the loops it is.
inline constexpr llvm::StringLiteral kMma = "dlc.mma";
/// DenseI64ArrayAttr [threads], on a mapped CUDA kernel (dlc-map-to-gpu): the threads
/// per block its launch runs.
inline constexpr llvm::StringLiteral kBlock = "dlc.block";
/// DenseI64ArrayAttr, on a CUDA kernel (dlc-gpu-async-copies): for each of its
/// contraction step loops that copy ahead of their products, the shared buffers per
/// operand (2 or more); for the record (tests, the PTX census).
inline constexpr llvm::StringLiteral kCopyStages = "dlc.copy_stages";
/// IntegerAttr (i64), on a CUDA kernel (dlc-gpu-dynamic-shared): the bytes of dynamic
/// shared memory its launches pass (its workgroup buffers, past the static limit).
inline constexpr llvm::StringLiteral kDynamicShared = "dlc.dynamic_shared";
/// DenseI64ArrayAttr, on a CPU kernel function (dlc-cpu-ukernels): for each of its
/// dlc_uk_transpose calls, the kernel argument the call's output views, or -1 for a
/// temporary. The CPU codegen calls dlc_uk_transpose_nt (non-temporal stores) instead
/// when every one of them is an output it streams.
inline constexpr llvm::StringLiteral kTransposeOutputs = "dlc.transpose_outputs";
/// Arrays of strings, on @main (importer): graph input and output names, in order.
inline constexpr llvm::StringLiteral kInputNames = "dlc.input_names";
inline constexpr llvm::StringLiteral kOutputNames = "dlc.output_names";
/// Array of arrays of strings, on @main: each graph input's ONNX dim_param names ("" for
/// a dim without one).
inline constexpr llvm::StringLiteral kInputDimNames = "dlc.input_dim_names";
/// Integer, on @main: the model's default-domain ONNX opset.
inline constexpr llvm::StringLiteral kOpset = "dlc.opset";
/// Unit, on a dlc op in a kernel (dlc-signless-integers): its integer operands were
/// unsigned before the kernel's types became signless; kUnsignedResult likewise for
/// its result (dlc.cast to an unsigned type).
inline constexpr llvm::StringLiteral kUnsigned = "dlc.unsigned";
inline constexpr llvm::StringLiteral kUnsignedResult = "dlc.unsigned_result";
/// Unit, on an argument of @main: a parameter dlc-autodiff differentiates.
inline constexpr llvm::StringLiteral kTrainable = "dlc.trainable";
/// Unit, on an argument of a kernel function (dlc-outline-kernels): the buffer bound
/// to it is a weight, the same bytes in every run (CPU micro-kernels pack it once).
inline constexpr llvm::StringLiteral kConstant = "dlc.constant";
/// Integer, on a result of @main (dlc-autodiff): the argument it is the gradient of.
inline constexpr llvm::StringLiteral kGradientOf = "dlc.gradient_of";
} // namespace attrs

/// Evaluates `grid` in the algebra `A`, the one place that defines what a grid
/// means. `A` provides `Value`, `dim(binding, d) -> std::optional<int64_t>` (a static
/// extent, or nothing when dynamic), `dynamicDim(binding, d) -> Value`,
/// `constant(int64_t)`, `mul(Value, Value)` and `ceilDiv(Value, int64_t)`. Static
/// factors are folded; a factor's extent is its dynamic dims multiplied in order,
/// then by the static part; a tile of 1 is the extent itself; the result is at least
/// 1 when static.
template <typename A> typename A::Value evaluateLaunchGrid(LaunchGridAttr grid, A &a) {
  std::optional<typename A::Value> total;
  int64_t staticGrid = 1;
  for (GridDimAttr factor : grid.getFactors()) {
    std::optional<typename A::Value> extent;
    int64_t staticExtent = 1;
    for (int64_t d : factor.getDims().asArrayRef()) {
      if (std::optional<int64_t> s = a.dim(factor.getBinding(), d)) {
        staticExtent *= *s;
        continue;
      }
      typename A::Value v = a.dynamicDim(factor.getBinding(), d);
      extent = extent ? a.mul(*extent, v) : v;
    }
    int64_t tile = factor.getTile();
    assert(tile >= 1 && "GridDimAttr::verify requires a positive tile");
    if (!extent) {
      staticGrid *= (staticExtent + tile - 1) / tile;
      continue;
    }
    typename A::Value f = *extent;
    if (staticExtent != 1)
      f = a.mul(f, a.constant(staticExtent));
    if (tile != 1)
      f = a.ceilDiv(f, tile);
    total = total ? a.mul(*total, f) : f;
  }
  if (!total)
    return a.constant(std::max<int64_t>(staticGrid, 1));
  if (staticGrid != 1)
    return a.mul(*total, a.constant(staticGrid));
  return *total;
}

} // namespace dlc

#endif // DLC_DIALECTS_DLCATTRS_H
