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
#include "passes/Bounds.h"
#include "passes/GpuTiling.h"
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ValueBoundsOpInterface.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "dlc-map-to-gpu"

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

/// Whether `op` (with its regions) does anything but read memory. Allocations are per
/// thread wherever they are (each thread runs its own), so they do not count.
bool writesMemory(Operation *op) {
  if (isa<memref::AllocaOp, memref::AllocOp, memref::DeallocOp>(op))
    return false;
  std::optional<SmallVector<MemoryEffects::EffectInstance>> effects = getEffectsRecursively(op);
  if (!effects)
    return true;
  return llvm::any_of(*effects, [](const MemoryEffects::EffectInstance &e) {
    return !isa<MemoryEffects::Read>(e.getEffect());
  });
}

/// Whether `forall` is dlc-tile-gpu's block (`Block`) or thread level.
template <typename MappingAttr> bool isLevel(scf::ForallOp forall) {
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
    if (op.hasTrait<mlir::OpTrait::IsTerminator>())
      continue;
    if (writesMemory(&op))
      return {};
  }
  return found;
}

/// Inlines `forall`'s body before `at` for the linear iteration `id`, delinearized
/// over `counts` (last dim fastest) into lower bound + index * step.
void inlineIteration(RewriterBase &rewriter, scf::ForallOp forall, Operation *at, Value id,
                     ArrayRef<Value> lbs, ArrayRef<Value> steps, ArrayRef<Value> counts) {
  Location loc = forall.getLoc();
  rewriter.setInsertionPoint(at);
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
  rewriter.inlineBlockBefore(forall.getBody(), at, ivs);
  rewriter.eraseOp(forall);
}

/// `forall`'s bounds, steps, per-dim trip counts and total trip count, before it.
struct ForallSpace {
  SmallVector<Value> lbs, steps, counts;
  Value total;
};
ForallSpace forallSpace(RewriterBase &rewriter, scf::ForallOp forall) {
  Location loc = forall.getLoc();
  rewriter.setInsertionPoint(forall);
  ForallSpace s{forall.getLowerBound(rewriter), forall.getStep(rewriter), {}, {}};
  s.total = arith::ConstantIndexOp::create(rewriter, loc, 1);
  for (auto [lb, ub, step] : llvm::zip(s.lbs, forall.getUpperBound(rewriter), s.steps)) {
    Value extent = arith::SubIOp::create(rewriter, loc, ub, lb);
    Value count = arith::CeilDivSIOp::create(rewriter, loc, extent, step);
    s.counts.push_back(count);
    s.total = arith::MulIOp::create(rewriter, loc, s.total, count);
  }
  return s;
}

/// Replaces `forall` by its body run for the iteration `id` (delinearized, last dim
/// fastest), guarded by `id < trip count`.
void mapForall(RewriterBase &rewriter, scf::ForallOp forall, Value id) {
  Location loc = forall.getLoc();
  ForallSpace s = forallSpace(rewriter, forall);
  Value inRange = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ult, id, s.total);
  auto ifOp = scf::IfOp::create(rewriter, loc, inRange, /*withElseRegion=*/false);
  inlineIteration(rewriter, forall, ifOp.thenBlock()->getTerminator(), id, s.lbs, s.steps,
                  s.counts);
}

/// Emulation: `forall` mapped as on the GPU, for every id of `for (id = lo; id < hi;
/// id += step)`, each iteration in its own alloca scope.
void mapForallInLoop(RewriterBase &rewriter, scf::ForallOp forall, Value lo, Value hi, Value step) {
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
  return forallSpace(rewriter, forall).total;
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

/// The static bound of each dim of `alloc` (a dynamic size counts at its constant
/// upper bound), or nothing when a size has none or the layout is not the identity.
std::optional<SmallVector<int64_t>> boundedShape(memref::AllocOp alloc) {
  MemRefType type = alloc.getType();
  if (!type.getLayout().isIdentity())
    return std::nullopt;
  SmallVector<int64_t> bound(type.getShape());
  auto dynamicSizes = alloc.getDynamicSizes();
  size_t next = 0;
  for (int64_t &d : bound) {
    if (!ShapedType::isDynamic(d))
      continue;
    FailureOr<int64_t> ub = constantUpperBound(dynamicSizes[next++]);
    if (failed(ub) || *ub < 0)
      return std::nullopt;
    d = *ub;
  }
  return bound;
}

/// Bytes of a buffer of `shape` with `type`'s element type.
int64_t boundedBytes(MemRefType type, ArrayRef<int64_t> shape) {
  int64_t elements = 1;
  for (int64_t d : shape)
    elements *= d;
  return elements * std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
}

/// Whether every user of `alloc` takes a memref of any layout as it is: structured ops,
/// loads, stores and dims (not a subview or a copy, whose types follow the layout or
/// whose lowering wants an identity one).
bool usersTakeAnyLayout(memref::AllocOp alloc) {
  return llvm::all_of(alloc->getUsers(), [](Operation *user) {
    return isa<linalg::LinalgOp, memref::LoadOp, memref::StoreOp, memref::DimOp, memref::DeallocOp>(
        user);
  });
}

/// Replaces the dynamically sized `alloc` by `flat` (a 1-d buffer of `bound`), seen
/// through a reinterpret_cast with the dynamic sizes. With `boundStrides` (a thread's
/// private buffer) and users that take any layout, the strides are the bound's
/// (static: a thread's private tile at a constant index is a constant offset, which
/// keeps it in registers); otherwise row-major strides of the dynamic sizes, the
/// identity layout the users' types expect.
void replaceWithFlatView(RewriterBase &rewriter, memref::AllocOp alloc, Value flat,
                         ArrayRef<int64_t> bound, bool boundStrides) {
  Location loc = alloc.getLoc();
  MemRefType type = alloc.getType();
  SmallVector<OpFoldResult> sizes = alloc.getMixedSizes();
  SmallVector<OpFoldResult> strides(sizes.size());
  if (boundStrides && usersTakeAnyLayout(alloc)) {
    SmallVector<int64_t> staticStrides(sizes.size());
    int64_t stride = 1;
    for (int64_t i = sizes.size() - 1; i >= 0; --i) {
      staticStrides[i] = stride;
      strides[i] = rewriter.getIndexAttr(stride);
      stride *= bound[i];
    }
    auto strided =
        MemRefType::get(type.getShape(), type.getElementType(),
                        StridedLayoutAttr::get(rewriter.getContext(), /*offset=*/0, staticStrides),
                        type.getMemorySpace());
    Value view = memref::ReinterpretCastOp::create(rewriter, loc, strided, flat,
                                                   rewriter.getIndexAttr(0), sizes, strides);
    rewriter.replaceAllUsesWith(alloc.getResult(), view);
    rewriter.eraseOp(alloc);
    return;
  }
  // Static where the identity layout's are (the trailing static dims), as the
  // verifier wants them.
  OpFoldResult stride = rewriter.getIndexAttr(1);
  for (int64_t i = sizes.size() - 1; i >= 0; --i) {
    strides[i] = stride;
    std::optional<int64_t> a = getConstantIntValue(stride), b = getConstantIntValue(sizes[i]);
    if (a && b) {
      stride = rewriter.getIndexAttr(*a * *b);
      continue;
    }
    stride =
        arith::MulIOp::create(rewriter, loc, getValueOrCreateConstantIndexOp(rewriter, loc, stride),
                              getValueOrCreateConstantIndexOp(rewriter, loc, sizes[i]))
            .getResult();
  }
  rewriter.replaceOpWithNewOp<memref::ReinterpretCastOp>(alloc, type, flat,
                                                         rewriter.getIndexAttr(0), sizes, strides);
}

/// Small allocations become stack memory: every thread has its own anyway. A dynamic
/// size with a constant upper bound (a tile's `affine.min` edge) counts at that bound:
/// the alloca takes the bound and is seen through a reinterpret_cast with the dynamic
/// sizes. Only what stays dynamic goes to the device heap (malloc, slow). An alloca
/// is hoisted out of the sequential loops around it (a block's reduction steps), so
/// that the stack does not grow with each iteration. Those in `keep` (a block's
/// shared memory) stay.
void allocsToAllocas(RewriterBase &rewriter, Operation *root,
                     const SmallPtrSetImpl<Operation *> &keep) {
  SmallVector<memref::AllocOp> allocs;
  root->walk([&](memref::AllocOp a) {
    if (!keep.contains(a))
      allocs.push_back(a);
  });
  for (memref::AllocOp alloc : allocs) {
    MemRefType type = alloc.getType();
    std::optional<SmallVector<int64_t>> bound = boundedShape(alloc);
    if (!bound || boundedBytes(type, *bound) > kMaxAllocaBytes)
      continue;
    for (Operation *user : llvm::to_vector(alloc->getUsers()))
      if (isa<memref::DeallocOp>(user))
        rewriter.eraseOp(user);
    Operation *at = alloc;
    while (isa<scf::ForOp>(at->getParentOp()))
      at = at->getParentOp();
    rewriter.setInsertionPoint(at);
    if (type.hasStaticShape()) {
      auto alloca =
          memref::AllocaOp::create(rewriter, alloc.getLoc(), type, alloc.getAlignmentAttr());
      rewriter.replaceOp(alloc, alloca);
      continue;
    }
    int64_t elements =
        boundedBytes(type, *bound) / std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
    auto flat = memref::AllocaOp::create(rewriter, alloc.getLoc(),
                                         MemRefType::get({elements}, type.getElementType()),
                                         alloc.getAlignmentAttr());
    rewriter.setInsertionPoint(alloc);
    replaceWithFlatView(rewriter, alloc, flat, *bound, /*boundStrides=*/true);
  }
}

/// Replaces `forall` by its iterations id, id + count, ... (delinearized, last dim
/// fastest): a block of `count` threads deals the iterations out cyclically, so that
/// neighbouring threads take neighbouring iterations.
void mapForallCyclic(RewriterBase &rewriter, scf::ForallOp forall, Value id, Value count) {
  ForallSpace s = forallSpace(rewriter, forall);
  auto loop = scf::ForOp::create(rewriter, forall.getLoc(), id, s.total, count);
  inlineIteration(rewriter, forall, loop.getBody()->getTerminator(), loop.getInductionVar(), s.lbs,
                  s.steps, s.counts);
}

/// The allocation a memref value views (through subviews, reshapes and casts), or null.
Operation *rootAllocation(Value v) {
  while (v) {
    Operation *def = v.getDefiningOp();
    if (!def)
      return nullptr;
    if (isa<memref::AllocOp, memref::AllocaOp>(def))
      return def;
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      return nullptr;
    v = view.getViewSource();
  }
  return nullptr;
}

/// The memory `op` (with its regions) writes, as allocations; false when some write
/// is not to a known allocation (an argument, or an op without declared effects).
bool writtenAllocations(Operation *op, SmallPtrSetImpl<Operation *> &out) {
  bool known = true;
  op->walk([&](Operation *nested) {
    if (isa<memref::AllocOp, memref::AllocaOp, memref::DeallocOp>(nested))
      return;
    auto iface = dyn_cast<MemoryEffectOpInterface>(nested);
    if (!iface) {
      if (!nested->hasTrait<mlir::OpTrait::HasRecursiveMemoryEffects>())
        known = false;
      return;
    }
    SmallVector<MemoryEffects::EffectInstance> effects;
    iface.getEffects(effects);
    for (const MemoryEffects::EffectInstance &e : effects) {
      if (!isa<MemoryEffects::Write>(e.getEffect()))
        continue;
      Operation *root = e.getValue() ? rootAllocation(e.getValue()) : nullptr;
      if (root)
        out.insert(root);
      else
        known = false;
    }
  });
  return known;
}

/// Moves the function's allocations that only the block loop `blocks` uses into its
/// body, with their deallocation at its end. CSE hoists a tile's `tensor.empty` out
/// of the block loop when one block tile covers the whole tensor (an identical one is
/// outside); each iteration had its own, so each block gets its own again (and a
/// cooperative block can make it shared memory).
void privatizeIntoBlock(RewriterBase &rewriter, scf::ForallOp blocks) {
  Block &entry = *blocks->getBlock();
  for (Operation &op : llvm::make_early_inc_range(entry)) {
    auto alloc = dyn_cast<memref::AllocOp>(op);
    if (!alloc || !alloc->isBeforeInBlock(blocks))
      continue;
    SmallVector<Operation *> deallocs;
    bool inside = true;
    for (Operation *user : alloc->getUsers()) {
      if (isa<memref::DeallocOp>(user))
        deallocs.push_back(user);
      else if (!blocks->isProperAncestor(user))
        inside = false;
    }
    if (!inside || alloc->use_empty())
      continue;
    rewriter.moveOpBefore(alloc, &blocks.getBody()->front());
    for (Operation *d : deallocs)
      rewriter.eraseOp(d);
    rewriter.setInsertionPoint(blocks.getBody()->getTerminator());
    memref::DeallocOp::create(rewriter, alloc.getLoc(), alloc.getResult());
  }
}

/// Rewrites `merge`, a warp's merge of 32 partials (shuffleMergeExtent), for the 32
/// lanes that run it together: lane l loads partial l, five xor shuffles combine the
/// lanes' values with the merge's payload, and lane 0 combines the result into the
/// output. `tid` is the thread id.
void shuffleMerge(RewriterBase &rewriter, linalg::LinalgOp merge, Value tid) {
  Location loc = merge.getLoc();
  rewriter.setInsertionPoint(merge);
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value lane = arith::RemUIOp::create(rewriter, loc, tid,
                                      arith::ConstantIndexOp::create(rewriter, loc, kWarpSize));
  unsigned reduced = 0;
  for (auto [l, iter] : llvm::enumerate(merge.getIteratorTypesArray()))
    if (iter == utils::IteratorType::reduction)
      reduced = l;
  auto indices = [&](OpOperand *operand) {
    SmallVector<Value> idx;
    for (AffineExpr e : merge.getMatchingIndexingMap(operand).getResults())
      idx.push_back(cast<AffineDimExpr>(e).getPosition() == reduced ? lane : zero);
    return idx;
  };
  Block &payload = merge->getRegion(0).front();
  auto combine = [&](Value in, Value acc) {
    IRMapping map;
    map.map(payload.getArgument(0), in);
    map.map(payload.getArgument(1), acc);
    for (Operation &op : payload.without_terminator())
      rewriter.clone(op, map);
    return map.lookup(payload.getTerminator()->getOperand(0));
  };
  OpOperand *in = merge.getDpsInputOperand(0);
  Value v = memref::LoadOp::create(rewriter, loc, in->get(), indices(in));
  for (int32_t offset = kWarpSize / 2; offset > 0; offset /= 2) {
    auto shuffle =
        gpu::ShuffleOp::create(rewriter, loc, v, offset, kWarpSize, gpu::ShuffleMode::XOR);
    v = combine(shuffle.getShuffleResult(), v);
  }
  Value first = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, lane, zero);
  auto ifOp = scf::IfOp::create(rewriter, loc, first, /*withElseRegion=*/false);
  rewriter.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  OpOperand *out = merge.getDpsInitOperand(0);
  SmallVector<Value> at(cast<MemRefType>(out->get().getType()).getRank(), zero);
  Value acc = memref::LoadOp::create(rewriter, loc, out->get(), at);
  memref::StoreOp::create(rewriter, loc, combine(v, acc), out->get(), at);
  rewriter.eraseOp(merge);
}

/// How a cooperative block (dlc-tile-gpu's `dlc.gpu_block_threads`: rows, or a
/// shared-memory contraction tile) runs: its thread-level foralls, directly in the
/// block or inside sequential loops there (the contraction's reduction steps: the
/// containers), go cyclically over the block's threads; the allocations they write
/// are the block's shared memory; block-level ops that write anything but per-thread
/// memory run on thread 0. Every thread runs the other block-level ops (merges of
/// partial reductions into per-thread memory) itself: they do not depend on the
/// thread id, so all threads compute the same. Barriers separate the phases that
/// touch the same memory (placeBarriers).
struct BlockPlan {
  int64_t threads = 0;
  SmallVector<scf::ForallOp> foralls;
  SmallPtrSet<Operation *, 4> shared;
  SmallPtrSet<Operation *, 4> containers;
  SmallPtrSet<Operation *, 4> guarded;
};

/// Collects the thread-level foralls of `block` and of the loops around them into
/// `plan`; false when one is of another form (nested in another op, or with results).
bool collectThreadLoops(Block &block, BlockPlan &plan) {
  for (Operation &op : block) {
    if (auto f = dyn_cast<scf::ForallOp>(op)) {
      if ((!isLevel<gpu::GPUThreadMappingAttr>(f) && !isLevel<gpu::GPUWarpMappingAttr>(f)) ||
          f.getNumResults() != 0)
        return false;
      plan.foralls.push_back(f);
      continue;
    }
    bool nested = false;
    op.walk([&](scf::ForallOp) { nested = true; });
    if (!nested)
      continue;
    auto loop = dyn_cast<scf::ForOp>(op);
    if (!loop || loop.getNumResults() != 0)
      return false;
    plan.containers.insert(loop);
    if (!collectThreadLoops(*loop.getBody(), plan))
      return false;
  }
  return true;
}

/// Calls `fn` on each block-level op of the plan's block `body` (in the block or in a
/// container's body) that is neither a thread loop, a container, an allocation nor a
/// terminator.
void forEachBlockLevelOp(Block &body, const BlockPlan &plan, function_ref<void(Operation *)> fn) {
  for (Operation &op : body) {
    if (plan.containers.contains(&op)) {
      forEachBlockLevelOp(*cast<scf::ForOp>(op).getBody(), plan, fn);
      continue;
    }
    if (isa<scf::ForallOp, memref::AllocOp, memref::AllocaOp, memref::DeallocOp>(op) ||
        op.hasTrait<mlir::OpTrait::IsTerminator>())
      continue;
    fn(&op);
  }
}

/// The plan for block `blocks` with `threads` threads, or nothing when its body is not
/// of that form or its shared memory would not fit in `maxSharedBytes` (then the block
/// runs on one thread).
std::optional<BlockPlan> planBlock(scf::ForallOp blocks, int64_t threads, int64_t maxSharedBytes) {
  BlockPlan plan;
  plan.threads = threads;
  Block &body = *blocks.getBody();
  if (!collectThreadLoops(body, plan) || plan.foralls.empty())
    return std::nullopt;
  SmallPtrSet<Operation *, 8> threadWrites;
  for (scf::ForallOp f : plan.foralls)
    (void)writtenAllocations(f, threadWrites); // Writes to arguments are fine here.
  int64_t sharedBytes = 0;
  for (Operation *a : threadWrites) {
    if (llvm::any_of(plan.foralls, [&](scf::ForallOp f) { return f->isAncestor(a); }))
      continue; // The thread's own.
    auto alloc = dyn_cast<memref::AllocOp>(a);
    // A buffer from outside the block would be each thread's own copy on the GPU.
    if (!alloc || (alloc->getBlock() != &body && !plan.containers.contains(alloc->getParentOp())))
      return std::nullopt;
    std::optional<SmallVector<int64_t>> bound = boundedShape(alloc);
    if (!bound)
      return std::nullopt;
    sharedBytes += boundedBytes(alloc.getType(), *bound);
    plan.shared.insert(a);
  }
  if (sharedBytes > maxSharedBytes)
    return std::nullopt;
  forEachBlockLevelOp(body, plan, [&](Operation *op) {
    if (!writesMemory(op))
      return;
    SmallPtrSet<Operation *, 4> written;
    bool known = writtenAllocations(op, written);
    // Every allocation but the shared ones is each thread's own on the GPU.
    bool perThread =
        known && llvm::none_of(written, [&](Operation *a) { return plan.shared.contains(a); });
    if (!perThread)
      plan.guarded.insert(op);
  });
  return plan;
}

/// The memory a phase of a cooperative block touches, as far as other threads can
/// see it: shared allocations, and "global" for anything that is not an allocation
/// (arguments, unknown effects). Per-thread allocations do not count.
struct Access {
  SmallPtrSet<Operation *, 4> reads, writes;
  bool readsGlobal = false, writesGlobal = false;

  void merge(const Access &other) {
    reads.insert(other.reads.begin(), other.reads.end());
    writes.insert(other.writes.begin(), other.writes.end());
    readsGlobal |= other.readsGlobal;
    writesGlobal |= other.writesGlobal;
  }
  bool empty() const { return reads.empty() && writes.empty() && !readsGlobal && !writesGlobal; }
  /// Whether `later`, run after this by other threads, needs a barrier in between.
  bool conflicts(const Access &later) const {
    auto meets = [](const SmallPtrSetImpl<Operation *> &a, const SmallPtrSetImpl<Operation *> &b) {
      return llvm::any_of(a, [&](Operation *op) { return b.contains(op); });
    };
    return meets(writes, later.reads) || meets(writes, later.writes) ||
           meets(reads, later.writes) ||
           (writesGlobal && (later.readsGlobal || later.writesGlobal)) ||
           (readsGlobal && later.writesGlobal);
  }
};

Access accessOf(Operation *op, const BlockPlan &plan) {
  Access access;
  op->walk([&](Operation *nested) {
    auto iface = dyn_cast<MemoryEffectOpInterface>(nested);
    if (!iface) {
      if (!nested->hasTrait<mlir::OpTrait::HasRecursiveMemoryEffects>())
        access.readsGlobal = access.writesGlobal = true;
      return;
    }
    SmallVector<MemoryEffects::EffectInstance> effects;
    iface.getEffects(effects);
    for (const MemoryEffects::EffectInstance &e : effects) {
      bool read = isa<MemoryEffects::Read>(e.getEffect());
      bool write = isa<MemoryEffects::Write>(e.getEffect());
      if (!read && !write)
        continue;
      Operation *root = e.getValue() ? rootAllocation(e.getValue()) : nullptr;
      if (root && plan.shared.contains(root)) {
        (read ? access.reads : access.writes).insert(root);
      } else if (!root) {
        (read ? access.readsGlobal : access.writesGlobal) = true;
      }
    }
  });
  return access;
}

/// evaluateLaunchGrid's algebra over index values: the dims of the kernel's buffer
/// arguments at run time (the GPU emulation's grid).
struct IndexGridAlgebra {
  using Value = mlir::Value;
  RewriterBase &rewriter;
  Location loc;
  Block &entry;

  std::optional<int64_t> dim(int64_t, int64_t) { return std::nullopt; }
  Value dynamicDim(int64_t binding, int64_t d) {
    return memref::DimOp::create(rewriter, loc, entry.getArgument(binding), d);
  }
  Value constant(int64_t c) { return arith::ConstantIndexOp::create(rewriter, loc, c); }
  Value mul(Value a, Value b) { return arith::MulIOp::create(rewriter, loc, a, b); }
  Value ceilDiv(Value a, int64_t tile) {
    return arith::CeilDivSIOp::create(rewriter, loc, a, constant(tile));
  }
};

struct DlcMapToGpuPass : impl::DlcMapToGpuBase<DlcMapToGpuPass> {
  using DlcMapToGpuBase::DlcMapToGpuBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> kernels;
    for (auto func : module.getOps<func::FuncOp>())
      if (func->hasAttr(attrs::kKernel) && !func.isExternal())
        kernels.push_back(func);
    if (kernels.empty())
      return;
    if (emulate) {
      for (func::FuncOp func : kernels) {
        if (failed(emulateOnCpu(func)))
          return signalPassFailure();
        hoistStaticAllocas(func);
      }
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

  /// The grid the launch plan computes for `func` (its config's, as the plan encodes
  /// it: evaluateLaunchGrid), before `blocks`; null without a config.
  Value planGrid(RewriterBase &rewriter, func::FuncOp func, scf::ForallOp blocks) {
    auto config = func->getAttrOfType<GpuConfigAttr>(attrs::kGpuConfig);
    if (!config)
      return {};
    Block &entry = func.getBody().front();
    for (GridDimAttr f : config.getGrid().getFactors())
      if (f.getBinding() >= static_cast<int64_t>(entry.getNumArguments()) ||
          !isa<MemRefType>(entry.getArgument(f.getBinding()).getType()))
        return {};
    rewriter.setInsertionPoint(blocks);
    IndexGridAlgebra algebra{rewriter, blocks.getLoc(), entry};
    return evaluateLaunchGrid(config.getGrid(), algebra);
  }

  /// Emulation runs every block and thread of the kernel in loops, on one CPU stack: a
  /// static alloca (a thread's private buffer, a block's shared memory) left in those
  /// loops takes new stack in each iteration once LLVM drops the scopes, and a large
  /// grid overflows it. Each becomes one buffer at the function's entry, which the
  /// sequential blocks and threads reuse (on a GPU their contents are undefined at
  /// start as well).
  static void hoistStaticAllocas(func::FuncOp func) {
    Block &entry = func.getBody().front();
    SmallVector<memref::AllocaOp> allocas;
    func.walk([&](memref::AllocaOp a) {
      if (a->getBlock() != &entry && a.getType().hasStaticShape() && a->getNumOperands() == 0)
        allocas.push_back(a);
    });
    for (memref::AllocaOp a : allocas)
      a->moveBefore(&entry, entry.begin());
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
          // The launch plan's grid, not the loop's trip count: blocks it leaves out are
          // left out here too, as on the GPU.
          Value grid = planGrid(rewriter, func, blocks);
          mapForallInLoop(rewriter, blocks, wg, grid ? grid : tripCount(rewriter, blocks), nwg);
        });
  }

  /// Applies `plan` to block `blocks` (see BlockPlan): on the GPU with thread ids,
  /// guards and barriers; in emulation each thread-level forall becomes a loop over
  /// the thread ids, which runs the phases in the order barriers give them.
  void mapBlock(RewriterBase &rewriter, scf::ForallOp blocks, const BlockPlan &plan) {
    Location loc = blocks.getLoc();
    Block &body = *blocks.getBody();
    rewriter.setInsertionPointToStart(&body);
    Value count = arith::ConstantIndexOp::create(rewriter, loc, plan.threads);
    Value warps =
        arith::ConstantIndexOp::create(rewriter, loc, std::max<int64_t>(1, plan.threads / 32));
    if (emulate) {
      Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
      Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
      for (scf::ForallOp f : plan.foralls) {
        rewriter.setInsertionPoint(f);
        // A warp-level forall (a tensor-core tile) runs once per warp, not per thread.
        Value ids = isLevel<gpu::GPUWarpMappingAttr>(f) ? warps : count;
        auto loop = scf::ForOp::create(rewriter, loc, zero, ids, one);
        rewriter.setInsertionPointToStart(loop.getBody());
        auto scope = memref::AllocaScopeOp::create(rewriter, loc, TypeRange{});
        Block *scopeBody = rewriter.createBlock(&scope.getBodyRegion());
        rewriter.setInsertionPointToStart(scopeBody);
        auto ret = memref::AllocaScopeReturnOp::create(rewriter, loc, ValueRange{});
        rewriter.moveOpBefore(f, ret);
        mapForallCyclic(rewriter, f, loop.getInductionVar(), ids);
      }
      return;
    }
    Value tid = gpu::ThreadIdOp::create(rewriter, loc, gpu::Dimension::x);
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Access pending;
    placeBarriers(rewriter, body, plan, pending);
    for (Operation *op : plan.guarded) {
      rewriter.setInsertionPoint(op);
      Value first = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, tid, zero);
      auto ifOp = scf::IfOp::create(rewriter, loc, first, /*withElseRegion=*/false);
      rewriter.moveOpBefore(op, ifOp.thenBlock()->getTerminator());
    }
    Value warp;
    for (scf::ForallOp f : plan.foralls) {
      if (!isLevel<gpu::GPUWarpMappingAttr>(f)) {
        mapForallCyclic(rewriter, f, tid, count);
        continue;
      }
      // All 32 lanes of a warp run its iterations together (mma.sync and shuffles need
      // the whole warp).
      SmallVector<linalg::LinalgOp> merges;
      f.walk([&](linalg::LinalgOp l) {
        if (shuffleMergeExtent(l) == kWarpSize && l.hasPureBufferSemantics())
          merges.push_back(l);
      });
      for (linalg::LinalgOp m : merges)
        shuffleMerge(rewriter, m, tid);
      if (!warp) {
        rewriter.setInsertionPointAfterValue(tid);
        warp = arith::DivUIOp::create(rewriter, loc, tid,
                                      arith::ConstantIndexOp::create(rewriter, loc, 32));
      }
      rewriter.setInsertionPoint(f);
      mapForallCyclic(rewriter, f, warp, warps);
    }
  }

  /// Puts a barrier before each phase of `block` (a thread loop, or a block-level op
  /// that touches memory) that touches memory a phase since the last barrier wrote, or
  /// writes memory one of them touched (`pending`: what those phases touched). A
  /// container loop's body starts with what came before the loop and, for the
  /// iterations after the first, what the body itself touches (a superset of what
  /// its end touches since its last barrier).
  void placeBarriers(RewriterBase &rewriter, Block &block, const BlockPlan &plan, Access &pending) {
    for (Operation &op : llvm::make_early_inc_range(block)) {
      if (plan.containers.contains(&op)) {
        Access in = pending;
        in.merge(accessOf(&op, plan));
        placeBarriers(rewriter, *cast<scf::ForOp>(op).getBody(), plan, in);
        pending.merge(in); // The loop may run no iteration.
        continue;
      }
      if (isa<memref::AllocOp, memref::AllocaOp, memref::DeallocOp, gpu::BarrierOp>(op) ||
          op.hasTrait<mlir::OpTrait::IsTerminator>() || isMemoryEffectFree(&op))
        continue;
      Access access = accessOf(&op, plan);
      if (access.empty())
        continue;
      if (pending.conflicts(access)) {
        LLVM_DEBUG(llvm::dbgs() << "barrier before " << op.getName() << "\n");
        rewriter.setInsertionPoint(&op);
        gpu::BarrierOp::create(rewriter, op.getLoc());
        pending = Access();
      }
      pending.merge(access);
    }
  }

  /// What both modes share: maps the block loop and, inside it, the thread loop where
  /// nothing outside each writes memory (with the callbacks), or the cooperative block
  /// of a `dlc.gpu_block_threads` kernel; turns what is left into sequential loops and
  /// records `dlc.block`. `shared` gets the allocations that are the block's shared
  /// memory.
  LogicalResult mapLevels(RewriterBase &rewriter, func::FuncOp func,
                          function_ref<void(scf::ForallOp, int64_t)> mapThreads,
                          function_ref<void(scf::ForallOp)> mapBlocks,
                          SmallVectorImpl<memref::AllocOp> *shared = nullptr) {
    int64_t blockThreads = 1;
    Block &entry = func.getBody().front();
    auto config = func->getAttrOfType<GpuConfigAttr>(attrs::kGpuConfig);
    bool planned = config && config.getMapping() != GpuMapping::Serial;
    scf::ForallOp blocks = planned ? soleForall(entry) : nullptr;
    if (blocks && !isLevel<gpu::GPUBlockMappingAttr>(blocks))
      blocks = nullptr;
    std::optional<BlockPlan> coop;
    bool cooperative = planned && (config.getMapping() == GpuMapping::Rows ||
                                   config.getMapping() == GpuMapping::Contraction);
    if (cooperative && blocks) {
      privatizeIntoBlock(rewriter, blocks);
      coop = planBlock(blocks, config.getBlockThreads(), config.getSharedMemory());
      if (!coop && strictBlocks)
        return func.emitOpError("plans a cooperative block of ")
               << config.getBlockThreads()
               << " threads that cannot be mapped; it would run on one thread";
    }
    SmallPtrSet<Operation *, 4> keep;
    if (coop && !emulate)
      keep = coop->shared;
    allocsToAllocas(rewriter, func, keep);
    if (blocks) {
      if (coop) {
        mapBlock(rewriter, blocks, *coop);
        blockThreads = coop->threads;
        // In program order, not the set's (pointer) order: the workgroup buffers'
        // names follow it, and the PTX must not change from one compile to the next.
        if (shared)
          func.walk([&](memref::AllocOp a) {
            if (keep.contains(a))
              shared->push_back(a);
          });
      } else {
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
      }
      mapBlocks(blocks);
      func->setAttr(attrs::kGrid, config.getGrid());
    }
    if (planned && (!blocks || blockThreads != config.getBlockThreads()))
      func.emitRemark("kernel '") << func.getSymName() << "' is planned as "
                                  << config.getBlockThreads() << " threads per block"
                                  << (blocks ? "" : " over a grid of blocks") << " but runs as "
                                  << (blocks ? "" : "one block of ") << blockThreads
                                  << (blockThreads == 1 ? " thread" : " threads")
                                  << ": memory is written outside its block or thread loop";
    LLVM_DEBUG(llvm::dbgs() << func.getSymName() << ": " << blockThreads << " threads per block"
                            << (blocks ? "" : ", one block") << (coop ? ", cooperative" : "")
                            << "\n");
    if (failed(serializeForalls(rewriter, func)))
      return failure();
    func->setAttr(attrs::kBlock, rewriter.getDenseI64ArrayAttr({blockThreads}));
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

    SmallVector<memref::AllocOp> shared;
    if (failed(mapLevels(
            rewriter, func,
            [&](scf::ForallOp threads, int64_t) {
              rewriter.setInsertionPoint(threads);
              mapForall(rewriter, threads,
                        gpu::ThreadIdOp::create(rewriter, loc, gpu::Dimension::x));
            },
            [&](scf::ForallOp blocks) {
              rewriter.setInsertionPoint(blocks);
              mapForall(rewriter, blocks, gpu::BlockIdOp::create(rewriter, loc, gpu::Dimension::x));
            },
            &shared)))
      return failure();

    // The gpu.func takes the body over, minus the workgroup arguments.
    rewriter.setInsertionPointToEnd(gpuModule.getBody());
    SmallVector<Type> argTypes(func.getArgumentTypes().drop_back(2));
    auto kernel = gpu::GPUFuncOp::create(rewriter, loc, func.getName(),
                                         rewriter.getFunctionType(argTypes, {}));
    kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), rewriter.getUnitAttr());
    for (StringRef name : {attrs::kNodes, attrs::kGrid, attrs::kBlock})
      if (Attribute a = func->getAttr(name))
        kernel->setAttr(name, a);
    kernel.getBody().takeBody(func.getBody());
    kernel.getBody().front().eraseArguments(n - 2, 2);
    // The block's shared buffers: workgroup attributions, seen through a cast to the
    // generic address space so that their users keep their types.
    // A dynamically sized one (a tile at the tensor's edge) takes its bound, as a flat
    // buffer seen through a reinterpret_cast with the dynamic sizes.
    for (memref::AllocOp alloc : shared) {
      MemRefType type = alloc.getType();
      std::optional<SmallVector<int64_t>> bound = boundedShape(alloc);
      if (!bound)
        return alloc.emitOpError("has no bound for shared memory");
      auto space = gpu::AddressSpaceAttr::get(rewriter.getContext(), gpu::AddressSpace::Workgroup);
      SmallVector<int64_t> shape(type.getShape());
      if (!type.hasStaticShape())
        shape = {boundedBytes(type, *bound) /
                 std::max<int64_t>(1, type.getElementTypeBitWidth() / 8)};
      BlockArgument buffer = kernel.addWorkgroupAttribution(
          MemRefType::get(shape, type.getElementType(), MemRefLayoutAttrInterface{}, space),
          alloc.getLoc());
      // 16-byte aligned: ldmatrix rows and vector accesses need it.
      kernel.setWorkgroupAttributionAttr(kernel.getNumWorkgroupAttributions() - 1,
                                         LLVM::LLVMDialect::getAlignAttrName(),
                                         rewriter.getI64IntegerAttr(16));
      for (Operation *user : llvm::to_vector(alloc->getUsers()))
        if (isa<memref::DeallocOp>(user))
          rewriter.eraseOp(user);
      rewriter.setInsertionPoint(alloc);
      if (type.hasStaticShape()) {
        rewriter.replaceOpWithNewOp<memref::MemorySpaceCastOp>(alloc, type, buffer);
        continue;
      }
      Value flat = memref::MemorySpaceCastOp::create(
          rewriter, alloc.getLoc(), MemRefType::get(shape, type.getElementType()), buffer);
      replaceWithFlatView(rewriter, alloc, flat, *bound, /*boundStrides=*/false);
    }
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
