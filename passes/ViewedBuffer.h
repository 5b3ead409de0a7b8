//===- ViewedBuffer.h - The buffer a memref value views ---------*- C++ -*-===//
//
// Shared by the GPU kernel-code passes (GpuMma.cpp, PipelineSteps.cpp,
// VectorizeThreadTiles.cpp), which tell
// shared memory (a gpu.func's workgroup attribution) from global memory (its
// arguments) by the buffer a memref views.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_PASSES_VIEWEDBUFFER_H
#define DLC_PASSES_VIEWEDBUFFER_H

#include "mlir/Dialect/MemRef/IR/MemRef.h"
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
inline bool viewsKernelArgument(mlir::Value memref) {
  auto arg = llvm::dyn_cast<mlir::BlockArgument>(viewedBuffer(memref));
  if (!arg || !arg.getOwner()->isEntryBlock())
    return false;
  auto func = llvm::dyn_cast<mlir::FunctionOpInterface>(arg.getOwner()->getParentOp());
  return func && arg.getArgNumber() < func.getNumArguments();
}

} // namespace dlc

#endif // DLC_PASSES_VIEWEDBUFFER_H
