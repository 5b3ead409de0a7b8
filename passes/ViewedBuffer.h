//===- ViewedBuffer.h - The buffer a memref value views ---------*- C++ -*-===//
//
// Shared by the GPU kernel-code passes (GpuMma.cpp, PipelineSteps.cpp,
// VectorizeThreadTiles.cpp), which tell
// shared memory (a gpu.func's workgroup attribution) from global memory (its
// arguments) by the buffer a memref views; the byte address of an element, which
// the alignment checks of VectorizeThreadTiles.cpp and SimtKernels.cpp test; and an
// element's index in its buffer flattened, which ldmatrix (GpuMma.cpp) and cp.async
// (GpuAsyncCopies.cpp) address shared memory with.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_PASSES_VIEWEDBUFFER_H
#define DLC_PASSES_VIEWEDBUFFER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace dlc {

/// The buffer `v` views, through subviews, reshapes and casts (memory space casts
/// included).
inline mlir::Value viewedBuffer(mlir::Value v) {
  while (mlir::Operation *def = v.getDefiningOp()) {
    if (auto cast = llvm::dyn_cast<mlir::memref::MemorySpaceCastOp>(def))
      v = cast.getSource();
    else if (auto cast = llvm::dyn_cast<mlir::memref::CastOp>(def))
      v = cast.getSource();
    else if (auto view = llvm::dyn_cast<mlir::ViewLikeOpInterface>(def))
      v = view.getViewSource();
    else
      break;
  }
  return v;
}

/// Whether `memref` views an argument of the function it is in (a kernel's global
/// memory; not a workgroup attribution, which follows the arguments, nor an
/// allocation).
/// Where the memref is among the operands of a load or store (vector or memref):
/// memref.load and vector.load take (memref, indices...), the stores (value, memref,
/// indices...); the memref and the indices.
inline unsigned memrefPosition(mlir::Operation *op) {
  return llvm::isa<mlir::vector::StoreOp, mlir::memref::StoreOp>(op) ? 1 : 0;
}
inline mlir::Value baseOf(mlir::Operation *op) { return op->getOperand(memrefPosition(op)); }
inline mlir::ValueRange indicesOf(mlir::Operation *op) {
  return op->getOperands().drop_front(memrefPosition(op) + 1);
}

inline bool viewsKernelArgument(mlir::Value memref) {
  auto arg = llvm::dyn_cast<mlir::BlockArgument>(viewedBuffer(memref));
  if (!arg || !arg.getOwner()->isEntryBlock())
    return false;
  auto func = llvm::dyn_cast<mlir::FunctionOpInterface>(arg.getOwner()->getParentOp());
  return func && arg.getArgNumber() < func.getNumArguments();
}

/// The element index of element `indices` of `memref` from its buffer's aligned base:
/// its offset plus indices . strides.
inline mlir::Value linearIndex(mlir::OpBuilder &b, mlir::Location loc, mlir::Value memref,
                               mlir::ValueRange indices) {
  using namespace mlir;
  auto meta = memref::ExtractStridedMetadataOp::create(b, loc, memref);
  Value linear = meta.getOffset();
  for (auto [i, stride] : llvm::zip(indices, meta.getStrides()))
    linear = arith::AddIOp::create(b, loc, linear, arith::MulIOp::create(b, loc, i, stride));
  return linear;
}

/// The byte address (an index) of element `indices` of `memref`: its aligned pointer
/// plus linearIndex elements.
inline mlir::Value elementAddress(mlir::OpBuilder &b, mlir::Location loc, mlir::Value memref,
                                  mlir::ValueRange indices) {
  using namespace mlir;
  auto type = llvm::cast<MemRefType>(memref.getType());
  Value bytes = arith::MulIOp::create(
      b, loc, linearIndex(b, loc, memref, indices),
      arith::ConstantIndexOp::create(b, loc, type.getElementTypeBitWidth() / 8));
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
  return arith::AddIOp::create(b, loc, base, bytes);
}

/// The bytes a static buffer of type `type` takes (whole bytes per element).
inline int64_t staticBytes(mlir::MemRefType type) {
  return type.getNumElements() * llvm::divideCeil(type.getElementTypeBitWidth(), 8);
}

/// `buffer` (identity layout: a workgroup attribution) as one dimension, which
/// linearIndex indexes.
inline mlir::Value flatBuffer(mlir::OpBuilder &b, mlir::Location loc, mlir::Value buffer) {
  using namespace mlir;
  int64_t rank = llvm::cast<MemRefType>(buffer.getType()).getRank();
  if (rank <= 1)
    return buffer;
  SmallVector<ReassociationIndices> all(1);
  for (int64_t d = 0; d < rank; ++d)
    all[0].push_back(d);
  return memref::CollapseShapeOp::create(b, loc, buffer, all);
}

} // namespace dlc

#endif // DLC_PASSES_VIEWEDBUFFER_H
