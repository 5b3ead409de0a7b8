//===- MapToGpu.cpp - The dlc-map-to-gpu pass ------------------------------===//
//
// Bufferized kernel functions become `gpu.func` kernels. The block-level scf.forall of
// dlc-tile-gpu reads its tile from the block id, the thread-level one from the thread
// id (IREE's way for dynamic shapes: the kernel computes its tile, the host computes
// the grid). A level is only mapped when nothing outside its loop writes memory, since
// every block (or thread) would repeat such writes; otherwise that level runs as plain
// loops on one block (or one thread), which is slow but always correct.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace dlc {
#define GEN_PASS_DEF_DLCMAPTOGPU
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// Static allocations up to this size become per-thread stack memory. The driver
/// reserves a kernel's frame for every thread that can be resident, so this stays
/// small; larger ones use the device heap (malloc), which the runtime enlarges.
constexpr int64_t kMaxAllocaBytes = 16 * 1024;

/// Whether `op` (with its regions) does anything but read memory. Stack allocations
/// are per thread wherever they are, so they do not count.
bool writesMemory(Operation *op) {
  if (isa<memref::AllocaOp>(op))
    return false;
  std::optional<SmallVector<MemoryEffects::EffectInstance>> effects =
      getEffectsRecursively(op);
  if (!effects)
    return true;
  return llvm::any_of(*effects, [](const MemoryEffects::EffectInstance &e) {
    return !isa<MemoryEffects::Read>(e.getEffect());
  });
}

/// Whether `forall` is dlc-tile-gpu's block (`Block`) or thread level.
template <typename MappingAttr>
bool isLevel(scf::ForallOp forall) {
  std::optional<ArrayAttr> mapping = forall.getMapping();
  return mapping && !mapping->empty() &&
         llvm::all_of(*mapping, [](Attribute a) { return isa<MappingAttr>(a); });
}

/// The single scf.forall directly in `block` when every other op there only reads.
scf::ForallOp soleForall(Block &block) {
  scf::ForallOp found;
  for (Operation &op : block) {
    if (auto forall = dyn_cast<scf::ForallOp>(op)) {
      if (found || forall.getNumResults() != 0)
        return {};
      found = forall;
      continue;
    }
    if (op.hasTrait<OpTrait::IsTerminator>())
      continue;
    if (writesMemory(&op))
      return {};
  }
  return found;
}

/// Replaces `forall` by its body run for the iteration `id` (delinearized, last dim
/// fastest), guarded by `id < trip count`.
void mapForall(RewriterBase &rewriter, scf::ForallOp forall, Value id) {
  Location loc = forall.getLoc();
  rewriter.setInsertionPoint(forall);
  SmallVector<Value> lbs = forall.getLowerBound(rewriter);
  SmallVector<Value> ubs = forall.getUpperBound(rewriter);
  SmallVector<Value> steps = forall.getStep(rewriter);
  SmallVector<Value> counts;
  Value total = arith::ConstantIndexOp::create(rewriter, loc, 1);
  for (auto [lb, ub, step] : llvm::zip(lbs, ubs, steps)) {
    Value extent = arith::SubIOp::create(rewriter, loc, ub, lb);
    Value count = arith::CeilDivSIOp::create(rewriter, loc, extent, step);
    counts.push_back(count);
    total = arith::MulIOp::create(rewriter, loc, total, count);
  }
  Value inRange =
      arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ult, id, total);
  auto ifOp = scf::IfOp::create(rewriter, loc, inRange, /*withElseRegion=*/false);
  rewriter.setInsertionPointToStart(ifOp.thenBlock());
  SmallVector<Value> ivs(counts.size());
  Value rest = id;
  for (int64_t i = counts.size() - 1; i >= 0; --i) {
    Value idx = i == 0 ? rest : arith::RemUIOp::create(rewriter, loc, rest, counts[i]);
    if (i != 0)
      rest = arith::DivUIOp::create(rewriter, loc, rest, counts[i]);
    Value scaled = arith::MulIOp::create(rewriter, loc, idx, steps[i]);
    ivs[i] = arith::AddIOp::create(rewriter, loc, lbs[i], scaled);
  }
  rewriter.eraseOp(forall.getTerminator());
  rewriter.inlineBlockBefore(forall.getBody(), ifOp.thenBlock()->getTerminator(), ivs);
  rewriter.eraseOp(forall);
}

/// Emulation: `forall` mapped as on the GPU, for every id of `for (id = lo; id < hi;
/// id += step)`, each iteration in its own alloca scope.
void mapForallInLoop(RewriterBase &rewriter, scf::ForallOp forall, Value lo, Value hi,
                     Value step) {
  Location loc = forall.getLoc();
  rewriter.setInsertionPoint(forall);
  auto loop = scf::ForOp::create(rewriter, loc, lo, hi, step);
  rewriter.setInsertionPointToStart(loop.getBody());
  auto scope = memref::AllocaScopeOp::create(rewriter, loc, TypeRange{});
  Block *scopeBody = rewriter.createBlock(&scope.getBodyRegion());
  rewriter.setInsertionPointToStart(scopeBody);
  auto ret = memref::AllocaScopeReturnOp::create(rewriter, loc, ValueRange{});
  rewriter.moveOpBefore(forall, ret);
  mapForall(rewriter, forall, loop.getInductionVar());
}

/// The number of iterations of `forall` (product of its trip counts), before it.
Value tripCount(RewriterBase &rewriter, scf::ForallOp forall) {
  Location loc = forall.getLoc();
  rewriter.setInsertionPoint(forall);
  Value total = arith::ConstantIndexOp::create(rewriter, loc, 1);
  for (auto [lb, ub, step] : llvm::zip(forall.getLowerBound(rewriter),
                                       forall.getUpperBound(rewriter),
                                       forall.getStep(rewriter))) {
    Value extent = arith::SubIOp::create(rewriter, loc, ub, lb);
    total = arith::MulIOp::create(rewriter, loc, total,
                                  arith::CeilDivSIOp::create(rewriter, loc, extent, step));
  }
  return total;
}

/// Every scf.forall under `root` becomes sequential scf.for loops.
LogicalResult serializeForalls(RewriterBase &rewriter, Operation *root) {
  SmallVector<scf::ForallOp> foralls;
  root->walk([&](scf::ForallOp f) { foralls.push_back(f); }); // Inner ones first.
  for (scf::ForallOp f : foralls) {
    rewriter.setInsertionPoint(f);
    if (failed(scf::forallToForLoop(rewriter, f)))
      return f.emitOpError("cannot be turned into loops"), failure();
  }
  return success();
}

/// Small static allocations become stack memory: every thread has its own anyway.
void allocsToAllocas(RewriterBase &rewriter, Operation *root) {
  SmallVector<memref::AllocOp> allocs;
  root->walk([&](memref::AllocOp a) { allocs.push_back(a); });
  for (memref::AllocOp alloc : allocs) {
    MemRefType type = alloc.getType();
    if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
        type.getNumElements() * std::max<int64_t>(1, type.getElementTypeBitWidth() / 8) >
            kMaxAllocaBytes)
      continue;
    for (Operation *user : llvm::to_vector(alloc->getUsers()))
      if (isa<memref::DeallocOp>(user))
        rewriter.eraseOp(user);
    rewriter.setInsertionPoint(alloc);
    rewriter.replaceOpWithNewOp<memref::AllocaOp>(alloc, type, alloc.getAlignmentAttr());
  }
}

struct DlcMapToGpuPass : impl::DlcMapToGpuBase<DlcMapToGpuPass> {
  using DlcMapToGpuBase::DlcMapToGpuBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> kernels;
    for (auto func : module.getOps<func::FuncOp>())
      if (func->hasAttr("dlc.kernel") && !func.isExternal())
        kernels.push_back(func);
    if (kernels.empty())
      return;
    if (emulate) {
      for (func::FuncOp func : kernels)
        if (failed(emulateOnCpu(func)))
          return signalPassFailure();
      return;
    }
    OpBuilder b(module.getBodyRegion());
    b.setInsertionPointToEnd(module.getBody());
    auto gpuModule = gpu::GPUModuleOp::create(b, module.getLoc(), "dlc_kernels");
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(), b.getUnitAttr());
    for (func::FuncOp func : kernels)
      if (failed(convert(func, gpuModule)))
        return signalPassFailure();
  }

  /// The GPU mapping of `func`, run on the CPU: block ids wg, wg + nwg, ... and every
  /// thread id of a block, in loops.
  LogicalResult emulateOnCpu(func::FuncOp func) {
    IRRewriter rewriter(&getContext());
    Location loc = func.getLoc();
    Block &entry = func.getBody().front();
    unsigned n = func.getNumArguments();
    Value wg = entry.getArgument(n - 2), nwg = entry.getArgument(n - 1);
    return mapLevels(
        rewriter, func,
        [&](scf::ForallOp threads, int64_t blockThreads) {
          rewriter.setInsertionPoint(threads);
          Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
          Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
          Value count = arith::ConstantIndexOp::create(rewriter, loc, blockThreads);
          mapForallInLoop(rewriter, threads, zero, count, one);
        },
        [&](scf::ForallOp blocks) {
          mapForallInLoop(rewriter, blocks, wg, tripCount(rewriter, blocks), nwg);
        });
  }

  /// What both modes share: maps the block loop and, inside it, the thread loop where
  /// nothing outside each writes memory (with the callbacks), turns what is left into
  /// sequential loops and records `dlc.block`.
  LogicalResult mapLevels(RewriterBase &rewriter, func::FuncOp func,
                          function_ref<void(scf::ForallOp, int64_t)> mapThreads,
                          function_ref<void(scf::ForallOp)> mapBlocks) {
    allocsToAllocas(rewriter, func);
    int64_t blockThreads = 1;
    Block &entry = func.getBody().front();
    scf::ForallOp blocks = func->hasAttr("dlc.gpu_grid") ? soleForall(entry) : nullptr;
    if (blocks && !isLevel<gpu::GPUBlockMappingAttr>(blocks))
      blocks = nullptr;
    if (blocks) {
      scf::ForallOp threads = soleForall(*blocks.getBody());
      if (threads && !isLevel<gpu::GPUThreadMappingAttr>(threads))
        threads = nullptr;
      std::optional<SmallVector<int64_t>> counts =
          threads ? getConstantIntValues(threads.getMixedUpperBound()) : std::nullopt;
      if (threads && counts && threads.isNormalized()) {
        blockThreads = 1;
        for (int64_t c : *counts)
          blockThreads *= c;
        mapThreads(threads, blockThreads);
      }
      mapBlocks(blocks);
    } else {
      func->removeAttr("dlc.gpu_grid");
    }
    if (failed(serializeForalls(rewriter, func)))
      return failure();
    func->setAttr("dlc.block", rewriter.getDenseI64ArrayAttr({blockThreads}));
    return success();
  }

  LogicalResult convert(func::FuncOp func, gpu::GPUModuleOp gpuModule) {
    IRRewriter rewriter(&getContext());
    Location loc = func.getLoc();
    Block &entry = func.getBody().front();
    unsigned n = func.getNumArguments();
    if (n < 2)
      return func.emitOpError("is not a kernel function (no workgroup arguments)");
    // The CPU's workgroup arguments: a GPU kernel is one workgroup of one.
    rewriter.setInsertionPointToStart(&entry);
    rewriter.replaceAllUsesWith(entry.getArgument(n - 2),
                                arith::ConstantIndexOp::create(rewriter, loc, 0));
    rewriter.replaceAllUsesWith(entry.getArgument(n - 1),
                                arith::ConstantIndexOp::create(rewriter, loc, 1));

    if (failed(mapLevels(
            rewriter, func,
            [&](scf::ForallOp threads, int64_t) {
              rewriter.setInsertionPoint(threads);
              mapForall(rewriter, threads,
                        gpu::ThreadIdOp::create(rewriter, loc, gpu::Dimension::x));
            },
            [&](scf::ForallOp blocks) {
              rewriter.setInsertionPoint(blocks);
              mapForall(rewriter, blocks,
                        gpu::BlockIdOp::create(rewriter, loc, gpu::Dimension::x));
            })))
      return failure();

    // The gpu.func takes the body over, minus the workgroup arguments.
    rewriter.setInsertionPointToEnd(gpuModule.getBody());
    SmallVector<Type> argTypes(func.getArgumentTypes().drop_back(2));
    auto kernel = gpu::GPUFuncOp::create(rewriter, loc, func.getName(),
                                         rewriter.getFunctionType(argTypes, {}));
    kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), rewriter.getUnitAttr());
    for (StringRef name : {"dlc.nodes", "dlc.gpu_grid", "dlc.block"})
      if (Attribute a = func->getAttr(name))
        kernel->setAttr(name, a);
    kernel.getBody().takeBody(func.getBody());
    kernel.getBody().front().eraseArguments(n - 2, 2);
    SmallVector<func::ReturnOp> returns;
    kernel.walk([&](func::ReturnOp r) { returns.push_back(r); });
    for (func::ReturnOp r : returns) {
      rewriter.setInsertionPoint(r);
      rewriter.replaceOpWithNewOp<gpu::ReturnOp>(r);
    }
    rewriter.eraseOp(func);
    return success();
  }
};

} // namespace
} // namespace dlc
