//===- HoistBuffers.cpp - The dlc-hoist-buffers pass ----------------------===//
//
// Tiling a fused kernel leaves its temporaries inside the tile loops: a Softmax over
// rows allocates its row of exponentials, its max and its sum once per row, and 16384
// rows made 49152 malloc/free pairs a run (a quarter of the kernel's time). A
// temporary whose whole life is one iteration can be the same buffer in every
// iteration: it moves out of the loops, its deallocation after them, and a small one
// of static size becomes stack memory in the function's entry block (a static frame
// slot, no call at all).
//
// On the GPU every thread has its own stack (local memory, as slow as global memory
// when it misses the cache), and LLVM's SROA promotes to registers only the allocas of
// a function's entry block: a 4-element vector a tf32 Conv staged element by element
// inside its copy loop went through local memory on every K step. In a `gpu.func`
// every static alloca moves to the entry block.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

namespace dlc {
#define GEN_PASS_DEF_DLCHOISTBUFFERS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// A hoisted allocation of static size up to this many bytes becomes stack memory...
constexpr int64_t kMaxStackBytes = 32 * 1024;
/// ...while the kernel's stack memory stays under this (a worker has 8 MiB, but the
/// calling thread of an embedding application may have far less).
constexpr int64_t kMaxFrameBytes = 64 * 1024;

/// Bytes of a static memref type, or -1.
int64_t staticBytes(MemRefType type) {
  if (!type.hasStaticShape() || !type.getElementType().isIntOrFloat())
    return -1;
  return type.getNumElements() * ((type.getElementTypeBitWidth() + 7) / 8);
}

/// The outermost `scf.for` around `op` (inside `func`) out of which `op` may move:
/// every loop between them is an `scf.for` and `op`'s operands are defined above it.
/// Null when `op` is not in a loop or cannot leave the innermost one.
scf::ForOp outermostLoop(Operation *op, func::FuncOp func) {
  scf::ForOp outer;
  for (Operation *parent = op->getParentOp(); parent && parent != func;
       parent = parent->getParentOp()) {
    auto loop = dyn_cast<scf::ForOp>(parent);
    if (!loop)
      break;
    if (llvm::any_of(op->getOperands(),
                     [&](Value v) { return loop->isAncestor(v.getParentBlock()->getParentOp()); }))
      break;
    outer = loop;
  }
  return outer;
}

/// The one deallocation of `alloc`, when it is in the allocation's block (so the
/// buffer, and any view of it, is dead before the iteration ends); else null.
memref::DeallocOp deallocInBlock(memref::AllocOp alloc) {
  memref::DeallocOp found;
  for (Operation *user : alloc->getUsers())
    if (auto dealloc = dyn_cast<memref::DeallocOp>(user)) {
      if (found || dealloc->getBlock() != alloc->getBlock())
        return {};
      found = dealloc;
    }
  return found;
}

/// Whether the static alloca `a` may move to its function's entry block: no operands
/// (the static shape) and not yielded out of a region.
bool movableAlloca(memref::AllocaOp a) {
  return staticBytes(a.getType()) >= 0 && a.getOperands().empty() &&
         llvm::none_of(a->getUsers(),
                       [](Operation *u) { return u->hasTrait<mlir::OpTrait::IsTerminator>(); });
}

/// Every movable alloca of the GPU function `func` outside its entry block moves there,
/// in their order.
void hoistGpuAllocas(gpu::GPUFuncOp func) {
  Block &entry = func.getBody().front();
  SmallVector<memref::AllocaOp> allocas;
  func.walk([&](memref::AllocaOp a) {
    if (a->getBlock() != &entry && movableAlloca(a))
      allocas.push_back(a);
  });
  Operation *at = &entry.front();
  for (memref::AllocaOp a : allocas)
    a->moveBefore(at);
}

struct HoistBuffers : impl::DlcHoistBuffersBase<HoistBuffers> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    getOperation()->walk([](gpu::GPUFuncOp func) {
      if (!func.isExternal())
        hoistGpuAllocas(func);
    });
    getOperation()->walk([&](func::FuncOp func) { hoistKernel(rewriter, func); });
  }

  void hoistKernel(IRRewriter &rewriter, func::FuncOp func) {
    if (!func->hasAttr(attrs::kKernel) || func.isExternal())
      return;
    Block &entry = func.getBody().front();
    int64_t frame = 0;
    // Allocations already on the stack count towards the frame; those in loops
    // go to the entry block (LLVM allocates a stack slot in a loop on every
    // iteration unless it can promote it to registers).
    SmallVector<memref::AllocaOp> allocas;
    func.walk([&](memref::AllocaOp a) { allocas.push_back(a); });
    for (memref::AllocaOp a : allocas) {
      if (!movableAlloca(a) || !a->getParentOfType<scf::ForOp>())
        continue;
      frame += staticBytes(a.getType());
      a->moveBefore(&entry, entry.begin());
    }
    SmallVector<memref::AllocOp> allocs;
    func.walk([&](memref::AllocOp a) { allocs.push_back(a); });
    for (memref::AllocOp alloc : allocs) {
      scf::ForOp loop = outermostLoop(alloc, func);
      memref::DeallocOp dealloc = loop ? deallocInBlock(alloc) : memref::DeallocOp();
      if (!dealloc)
        continue;
      int64_t bytes = staticBytes(alloc.getType());
      if (bytes >= 0 && bytes <= kMaxStackBytes && frame + bytes <= kMaxFrameBytes) {
        frame += bytes;
        rewriter.setInsertionPointToStart(&entry);
        auto alloca = memref::AllocaOp::create(rewriter, alloc.getLoc(), alloc.getType(),
                                               alloc.getAlignmentAttr());
        rewriter.replaceOp(alloc, alloca);
        rewriter.eraseOp(dealloc);
        continue;
      }
      alloc->moveBefore(loop);
      dealloc->moveAfter(loop);
    }
  }
};

} // namespace
} // namespace dlc
