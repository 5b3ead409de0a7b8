//===- Passes.h - dlc passes ------------------------------------*- C++ -*-===//
#ifndef DLC_PASSES_PASSES_H
#define DLC_PASSES_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace affine {
class AffineDialect;
}
namespace arith {
class ArithDialect;
}
namespace bufferization {
class BufferizationDialect;
}
namespace gpu {
class GPUDialect;
}
namespace linalg {
class LinalgDialect;
class GenericOp;
}
namespace math {
class MathDialect;
}
namespace memref {
class MemRefDialect;
}
namespace cf {
class ControlFlowDialect;
}
namespace scf {
class SCFDialect;
}
namespace tensor {
class TensorDialect;
}
namespace vector {
class VectorDialect;
}
} // namespace mlir

namespace dlc {

class LaunchGridAttr;

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Patterns lowering dlc ops to linalg/tensor/arith/math, one set per op family.
void populateElementwiseToLinalgPatterns(mlir::RewritePatternSet &patterns);
/// `unitConvsAsContractions`: see convert-dlc-to-linalg's option.
void populateContractionToLinalgPatterns(mlir::RewritePatternSet &patterns,
                                         bool unitConvsAsContractions = false,
                                         bool im2colConvs = false);
void populateReductionToLinalgPatterns(mlir::RewritePatternSet &patterns,
                                       bool fullReductionsOverUnitLoop = false,
                                       bool argReductionsInTwoPasses = false);
void populatePoolingToLinalgPatterns(mlir::RewritePatternSet &patterns);
void populateDataMovementToLinalgPatterns(mlir::RewritePatternSet &patterns);
void populateResizeToLinalgPatterns(mlir::RewritePatternSet &patterns);
/// `sequential`: see convert-dlc-to-linalg's option.
void populateScatterToLinalgPatterns(mlir::RewritePatternSet &patterns, bool sequential = false);
void populateGridSampleToLinalgPatterns(mlir::RewritePatternSet &patterns);
void populateSpectralToLinalgPatterns(mlir::RewritePatternSet &patterns);

/// The op a kernel's tiling starts from: the linalg op producing the kernel's single
/// result, when everything feeding it can be fused into its tiles.
struct KernelRoot {
  mlir::Operation *op = nullptr;
  /// For each loop of the root, the result dim it walks, or -1.
  llvm::SmallVector<int64_t> outputDimOfLoop;
  explicit operator bool() const { return op != nullptr; }
};
KernelRoot findKernelRoot(mlir::func::FuncOp kernel);

/// Whether `op` is a linalg op that reads at least two inputs along its reduction loops
/// (MatMul, Gemm, BatchMatMul, Conv) over at least 16 elements (a dynamic reduction
/// counts as 16): a contraction worth a shared-memory tile on the GPU.
bool isContraction(mlir::Operation *op);

/// The contraction of `root`'s kernel that a GPU block computes through shared memory
/// (dlc-tile-gpu): the only reducing op the root depends on, reading at least two
/// inputs along its reduction loops (MatMul, Gemm, BatchMatMul, Conv) without a gather,
/// over at least 16 elements, whose result reaches the root through elementwise ops
/// and transposes only; `outputDimOfResultDim` gets, for each dim of its result, the
/// root's output dim it becomes. Null otherwise.
mlir::Operation *findSharedContraction(mlir::Operation *root,
                                       llvm::SmallVectorImpl<int64_t> *outputDimOfResultDim =
                                           nullptr);

/// The launch grid of tiles `tilePerLoop` over `kernel`'s root `kr` (0: loop not tiled):
/// one factor per tiled loop, over the output dims its root dim covers. The root may
/// write a reshaped view of the output (after sinkResultReshapes): a collapsed root dim
/// spans a group of output dims; an expanded one is its output dim divided by its
/// static siblings (the tile is multiplied by them). Nothing when the view is of
/// another form. (dlc-gpu-select-tiling's blocks; dlc-tile-workgroups' workgroups.)
std::optional<LaunchGridAttr> launchGridOverOutput(mlir::func::FuncOp kernel,
                                                   const KernelRoot &kr,
                                                   llvm::ArrayRef<int64_t> tilePerLoop);

/// Writes each `reshape(x)` result of a kernel as `x` into the inverse view of its
/// output memref, so that the op computing `x` is the one written out (and tiled).
void sinkResultReshapes(mlir::func::FuncOp kernel);

/// Reads each input of the all-parallel generic `op` indexed with constant 0 on unit
/// dims (a per-channel bias [C, 1, 1] broadcast as (c, 0, 0)) through a collapse
/// without those dims (tensor or memref), indexed by its loop dims alone, so that every
/// such map is a projected permutation (dlc-collapse-elementwise-dims; the reshape
/// propagation of convert-dlc-to-linalg{expand-epilogues}).
void dropUnitBroadcasts(mlir::linalg::GenericOp op, mlir::RewriterBase &rewriter);

/// The ONNX nodes an op stands for, as "Name (OpType)": one, or several after a
/// compile-time fold (its location is then fused); the op name when none is known.
llvm::SmallVector<std::string> nodeLabels(mlir::Operation *op);

/// The element type a precision mode (`fp32`, `tf32`, `fp16`, `bf16`) stores weights
/// and rounded activations in: f16 or bf16 below fp32's 16 bits, null for fp32 and
/// tf32; for an unknown name, "PASS: unknown precision 'NAME'" at `op` and failure.
mlir::FailureOr<mlir::Type> halfPrecisionType(mlir::Operation *op, llvm::StringRef pass,
                                              llvm::StringRef precision);

/// The f16 or bf16 tensor that `v` widens elementwise to f32 (an identity linalg.generic
/// whose body is one arith.extf: a lowered widening dlc.cast, of a half-precision weight
/// or activation), or null.
mlir::Value widenedFrom(mlir::Value v);

/// Whether `op` only reinterprets its operand's bytes with a new shape (no kernel).
bool isMetadataOnly(mlir::Operation *op);

} // namespace dlc

#endif // DLC_PASSES_PASSES_H
