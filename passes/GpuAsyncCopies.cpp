//===- GpuAsyncCopies.cpp - The dlc-gpu-async-copies pass -----------------===//
//
// A shared-memory contraction tile walks its reduction in steps: barrier, every thread
// copies its elements of the step's operand slices from global into shared memory,
// barrier, the products from shared memory. dlc-pipeline-steps hides the global
// latency by loading step i + 1 into registers during step i; here, on sm_80 and
// later, the copies go straight from global to shared memory with cp.async
// (`nvgpu.device_async_copy`) into one of `stages` buffers per operand, `stages - 1`
// steps ahead of the products, as CUTLASS's multi-stage main loop does:
//
//   copies of steps 0 .. S-2 into buffers 0 .. S-2, each group committed
//   for step i:  wait until at most S-2 groups are pending (step i's copies are in)
//                barrier (everyone's are; everyone is done with step i-1's buffer)
//                copies of step i+S-1 (if any) into buffer (i+S-1) mod S, committed
//                products of step i from buffer i mod S
//
// (Inside another loop, a barrier before the first copies: the threads may still be
// reading the buffers from the loop's previous run.) One barrier per step instead of two, no
// registers for data in flight, and S-1 steps of copies in flight. The loop is unrolled by S so
// that each step's buffers are fixed (no dynamic indexing of shared memory); the steps past the
// last multiple of S follow the loop. A group is committed every step, empty once the copies run
// out, so that "at most S-2 pending" always means "step i's have landed". A loop whose
// trip count is known only at run time (a tensor-core tile's reduction over a symbolic
// length, its steps copied with guarded reads) runs its whole groups of S steps the
// same way; the first steps' copies and each of the S-1 steps after the last whole
// group are guarded by the step existing (a condition every thread of the block
// shares, so its barriers are reached by all threads or none).
//
// The step buffers are workgroup attributions; the S-1 extra ones are new attributions
// of the same type, and whatever the loop reads of a buffer through views computed
// before it (LICM hoisted them) is recomputed from the extra buffer for the steps
// that use it.
//
// A copy that converts on the way (f32 activations rounded to f16 for the tensor
// cores) cannot be a cp.async: it is staged through registers instead, loaded where
// the cp.async copies are issued and converted and stored after the step's products
// (into the buffer of a step that no thread reads before the next barrier), so that
// its latency hides behind the products too. A loop with staged copies only needs two
// buffers; before sm_80 every copy is staged. Either way each step has one barrier.
//
// A loop qualifies when its body is [address arithmetic] barrier [copies] barrier
// [products], each of its copies is a load of a kernel argument whose only use is a
// store into a workgroup buffer (directly: a cp.async of 4, 8 or 16 aligned bytes; or
// through pure ops, all at the top level of the loop, a chain or a DAG whose values
// end in the one stored (tf32's rounding reads the loaded bits twice): staged), the
// products write no step buffer, and the step buffers are touched nowhere else.
// Before the analysis, a copy phase's small loop that gathers a vector's lanes into a
// private buffer (an implicit-GEMM Conv's window) is unrolled and its lanes forwarded
// into the vector, so that its loads are top-level copies (a small loop that copies a
// thread's elements into a step buffer one by one, sm_90a's tf32 tiles in wgmma's
// layout, is unrolled too); so is a private buffer that
// a loop copies lane by lane into shared memory (a converted tile, as bufferization
// leaves it): its vector, or its lanes, become one vector store there. Both also
// inside a guard on the threads (a step with fewer elements than the block has
// threads), whose loads are then split off into a guarded load of every lane. Others
// (zero-filled partial steps, converting copies inside loops) keep their
// register-staged copies of dlc-pipeline-steps.
//
// Warpgroup products (sm_90a, dlc-gpu-mma's wgmma tiles) read the buffers through the
// async proxy: the copy phase ends with fence.proxy.async, which each step then runs
// after its wait for its copies and before its barrier (the copies, cp.async or
// staged stores, reach the proxy), and the products end with wgmma.wait_group 0, so
// that the next step's copies overwrite only buffers no wgmma still reads.
//
//===----------------------------------------------------------------------===//
#include "passes/Bounds.h"
#include "passes/GpuTarget.h"
#include "passes/Passes.h"
#include "passes/ViewedBuffer.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <limits>

namespace dlc {
#define GEN_PASS_DEF_DLCGPUASYNCCOPIES
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// One global-to-shared element copy of a step: a load of a kernel argument whose only
/// use is a store of the value into a workgroup buffer (`chain` empty), or, staged
/// through registers, of a value computed from it by `chain` (a conversion: f32 to f16,
/// say), each op the only use of the one before.
struct ElementCopy {
  /// The load, or the scf.if that yields it (splitGuardedCopies) as result `result`.
  Operation *load;
  unsigned result;
  SmallVector<Operation *> chain;
  Operation *store;
  bool async; // cp.async (a plain copy); else loaded early, stored late
  /// A cp.async of a guarded copy (`select(guard, load, 0)` stored: a tensor-core
  /// step's copy zero past the step's end): the select, whose guard picks the bytes
  /// the copy reads, all or none (cp.async's src-size: the rest is zero-filled).
  arith::SelectOp zeroFill;
};

/// A reduction-step loop that qualifies, cut into its phases.
struct StepLoop {
  scf::ForOp loop;
  /// The bounds; with `dynamicTrips` (a reduction of a length known at run time: an
  /// attention's P V over a symbolic sequence) `ub` and `trips` are unknown (0) and
  /// the loop's upper bound value holds the end.
  int64_t lb = 0, ub = 0, step = 0, trips = 0;
  bool dynamicTrips = false;
  /// The body's top-level ops before the first barrier, between the two, after the
  /// second (the terminator not included).
  SmallVector<Operation *> pre, copy, compute;
  SmallVector<ElementCopy> copies;
  bool anyAsync = false, anyStaged = false;
  /// The workgroup attributions the copies write.
  SmallVector<BlockArgument> buffers;
  /// Warpgroup products (wgmma reads the buffers through the async proxy): the copy
  /// phase's closing fence.proxy.async, taken out of `copy`; every step runs it after
  /// its wait for the copies and before its barrier.
  Operation *proxyFence = nullptr;
};

/// The workgroup attribution of `func` that `memref` views, or null.
BlockArgument workgroupBuffer(gpu::GPUFuncOp func, Value memref) {
  auto arg = dyn_cast<BlockArgument>(viewedBuffer(memref));
  if (!arg || !llvm::is_contained(func.getWorkgroupAttributions(), arg))
    return {};
  return arg;
}

/// The bytes `load` -> `store` copies when they form a copy cp.async can make (4, 8 or
/// 16 bytes, aligned to that, contiguous), else 0.
int64_t copyBytes(Operation *load, Operation *store) {
  Type type = load->getResult(0).getType();
  int64_t bytes = 0;
  if (auto vt = dyn_cast<VectorType>(type)) {
    if (vt.getRank() != 1 || vt.isScalable())
      return 0;
    bytes = vt.getNumElements() * vt.getElementTypeBitWidth() / 8;
    auto l = cast<vector::LoadOp>(load);
    auto s = dyn_cast<vector::StoreOp>(store);
    if (!s || l.getAlignment().value_or(0) < uint64_t(bytes) ||
        s.getAlignment().value_or(0) < uint64_t(bytes))
      return 0;
  } else if (type.isIntOrFloat() && isa<memref::StoreOp>(store)) {
    bytes = type.getIntOrFloatBitWidth() / 8; // scalars are naturally aligned
  }
  // cp.async copies along the innermost dimension: both sides contiguous there.
  for (Value m : {baseOf(load), baseOf(store)}) {
    auto mt = cast<MemRefType>(m.getType());
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(mt.getStridesAndOffset(strides, offset)) || strides.empty() || strides.back() != 1)
      return 0;
  }
  return bytes == 4 || bytes == 8 || bytes == 16 ? bytes : 0;
}

/// The extra stage buffers made for a step buffer, and the block of the loop they
/// were made for (the rewrite replaces the loop, in the same block).
struct StageBuffers {
  Block *block = nullptr;
  SmallVector<BlockArgument> extra;
};

/// Whether what runs in `a` never runs with `b`: they lie in different regions of one
/// scf.if (the two versions of a step loop that dlc-vectorize-thread-tiles makes).
bool exclusive(Block *a, Operation *b) {
  for (Region *ra = a->getParent(); ra && ra->getParentOp(); ra = ra->getParentRegion()) {
    auto branch = dyn_cast<scf::IfOp>(ra->getParentOp());
    if (!branch || !branch->isProperAncestor(b))
      continue;
    Region *rb = b->getParentRegion();
    while (rb->getParentOp() != branch)
      rb = rb->getParentOp()->getParentRegion();
    return ra != rb;
  }
  return false;
}

/// The stage buffers a loop can take over from an earlier one without new shared
/// memory: those of a loop that never runs with it.
ArrayRef<BlockArgument> reusable(const llvm::DenseMap<BlockArgument, StageBuffers> &made,
                                 BlockArgument buffer, Operation *loop) {
  auto it = made.find(buffer);
  if (it == made.end() || !exclusive(it->second.block, loop))
    return {};
  return it->second.extra;
}

/// Whether `v` is computed from `op`'s results in `op`'s block.
bool dependsOn(Value v, Operation *op) {
  SmallVector<Value> work{v};
  llvm::SmallPtrSet<Operation *, 16> seen;
  while (!work.empty()) {
    Operation *def = work.pop_back_val().getDefiningOp();
    if (!def || def->getBlock() != op->getBlock() || !seen.insert(def).second)
      continue;
    if (def == op)
      return true;
    llvm::append_range(work, def->getOperands());
  }
  return false;
}

/// The select of `load`'s value against zero that is its only use (a guarded read:
/// zero past a contraction step's end or in a Conv's padding, on a condition not
/// computed from the value), in its block, stored as it is: a cp.async that reads all
/// of its bytes or none (src-size 0: the copy is zero-filled). Null otherwise.
arith::SelectOp zeroFillOf(Operation *load) {
  Value v = load->getResult(0);
  if (!v.hasOneUse())
    return {};
  auto select = dyn_cast<arith::SelectOp>(*v.user_begin());
  if (!select || select->getBlock() != load->getBlock() || select.getTrueValue() != v ||
      isa<VectorType>(select.getCondition().getType()) || !isZeroBits(select.getFalseValue()) ||
      !select->hasOneUse() || dependsOn(select.getCondition(), load))
    return {};
  Operation *store = *select->user_begin();
  if (!isa<vector::StoreOp, memref::StoreOp>(store) || store->getOperand(0) != select.getResult())
    return {};
  return select;
}

/// Cuts `loop`'s body (the terminator aside) at its top-level barriers into the ops
/// before the first, between the two and after the second; false when it has not
/// exactly two.
bool splitPhases(scf::ForOp loop, SmallVectorImpl<Operation *> &pre,
                 SmallVectorImpl<Operation *> &copy, SmallVectorImpl<Operation *> &compute) {
  int barriers = 0;
  for (Operation &op : loop.getBody()->without_terminator()) {
    if (isa<gpu::BarrierOp>(op))
      ++barriers;
    else
      (barriers == 0 ? pre : barriers == 1 ? copy : compute).push_back(&op);
  }
  return barriers == 2;
}

/// Whether `op` (or an op nested in it) reads a region argument of `loop` that is
/// loop-carried (an accumulator): copies must not depend on the products.
bool usesCarried(Operation *op, scf::ForOp loop) {
  bool uses = false;
  op->walk([&](Operation *nested) {
    for (Value v : nested->getOperands())
      if (llvm::is_contained(loop.getRegionIterArgs(), v))
        uses = true;
  });
  return uses;
}

/// The memref values `op`'s write effects name; false when one names none (unknown
/// memory) or the op declares no effects and is not known to touch registers only.
bool writtenMemrefs(Operation *op, SmallVectorImpl<Value> &written) {
  if (isa<NVVM::MmaOp>(op)) // registers only, declaring no effects
    return true;
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects)
    return op->hasTrait<mlir::OpTrait::HasRecursiveMemoryEffects>() || isMemoryEffectFree(op);
  SmallVector<MemoryEffects::EffectInstance> list;
  effects.getEffects(list);
  for (const MemoryEffects::EffectInstance &e : list) {
    if (!isa<MemoryEffects::Write>(e.getEffect()))
      continue;
    Value v = e.getValue();
    if (!v || !isa<BaseMemRefType>(v.getType()))
      return false;
    written.push_back(v);
  }
  return true;
}

class Analysis {
public:
  Analysis(gpu::GPUFuncOp func, scf::ForOp loop, bool asyncAllowed)
      : func(func), loop(loop), asyncAllowed(asyncAllowed) {}

  std::optional<StepLoop> run() {
    StepLoop s;
    s.loop = loop;
    std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound());
    std::optional<int64_t> ub = getConstantIntValue(loop.getUpperBound());
    std::optional<int64_t> step = getConstantIntValue(loop.getStep());
    if (!lb || !step || *step <= 0)
      return std::nullopt;
    s.lb = *lb;
    s.step = *step;
    if (ub) {
      s.ub = *ub;
      s.trips = llvm::divideCeil(*ub - *lb, *step);
      if (s.trips < 2)
        return std::nullopt;
    } else {
      s.dynamicTrips = true;
    }

    if (!splitPhases(loop, s.pre, s.copy, s.compute))
      return std::nullopt;
    bool other = false;
    loop.getBody()->walk([&](Operation *op) {
      // Barriers inside the phases, copies that are asynchronous already.
      if ((isa<gpu::BarrierOp>(op) && op->getParentOp() != loop) ||
          isa<nvgpu::DeviceAsyncCopyOp, NVVM::CpAsyncWaitGroupOp>(op))
        other = true;
    });
    if (other || !warpgroupProducts(s))
      return std::nullopt;

    for (Operation *op : s.pre)
      if (!isMemoryEffectFree(op) || usesCarried(op, loop))
        return std::nullopt;
    if (!copyPhase(s) || !computePhase(s) || !buffersOnlyHere(s) || !remappable(s))
      return std::nullopt;
    return s;
  }

private:
  /// Products on wgmma (dlc-gpu-mma's warpgroup tiles) read the step buffers through
  /// the async proxy until their wgmma.wait_group: a step's may overwrite a buffer
  /// only once every earlier step's products were waited for (wait_group 0 after the
  /// last wgmma of the compute phase, each step's barrier after it), and the copies
  /// reach that proxy through the fence.proxy.async that closes the copy phase
  /// (taken out of it: the rewrite runs it after each step's wait). True also when the
  /// products are no wgmma.
  bool warpgroupProducts(StepLoop &s) {
    Operation *lastWgmma = nullptr, *lastWait = nullptr;
    for (Operation *top : s.compute)
      top->walk([&](Operation *op) {
        if (isa<NVVM::WgmmaMmaAsyncOp>(op))
          lastWgmma = top;
        if (auto wait = dyn_cast<NVVM::WgmmaWaitGroupSyncOp>(op); wait && wait.getGroup() == 0)
          lastWait = top;
      });
    auto fence = s.copy.empty() ? nullptr : dyn_cast<NVVM::FenceProxyOp>(s.copy.back());
    bool asyncShared = fence && fence.getKind() == NVVM::ProxyKind::async_shared;
    if (!lastWgmma)
      return !asyncShared; // a proxy fence without wgmma: not a loop made here
    if (!asyncShared || !lastWait || lastWait->getBlock() != loop.getBody() ||
        lastWgmma->getBlock() != loop.getBody() || !lastWgmma->isBeforeInBlock(lastWait))
      return false;
    s.proxyFence = fence;
    s.copy.pop_back();
    return true;
  }

  bool copyPhase(StepLoop &s) {
    llvm::SmallPtrSet<Operation *, 8> claimed; // the copies' loads, chains and stores
    bool ok = true;
    for (Operation *top : s.copy) {
      if (usesCarried(top, loop))
        return false;
      top->walk<WalkOrder::PreOrder>([&](Operation *op) {
        if (ok && isa<vector::LoadOp, memref::LoadOp>(op) && viewsKernelArgument(baseOf(op)))
          ok = classify(op, s, claimed);
      });
      if (!ok)
        return false;
      WalkResult r = top->walk([&](Operation *op) {
        if (claimed.contains(op) || isa<scf::ForOp, scf::IfOp, scf::YieldOp>(op) ||
            isMemoryEffectFree(op))
          return WalkResult::advance();
        return WalkResult::interrupt(); // a fill, a read of shared memory, another effect
      });
      if (r.wasInterrupted())
        return false;
    }
    // What the address arithmetic of the copy phase takes from it is recomputed with
    // the stores and the products: it may read only values recomputed alike.
    for (Operation *top : s.copy) {
      if (!isMemoryEffectFree(top) || top->getNumRegions())
        continue;
      for (Value v : top->getOperands())
        if (Operation *def = v.getDefiningOp(); def && def->getBlock() == loop.getBody() &&
                                                llvm::is_contained(s.copy, def) &&
                                                !isMemoryEffectFree(def) && !claimed.contains(def))
          return false;
    }
    return !s.copies.empty();
  }

  /// Whether `block` is the loop's body or the then-block of an scf.if at its top
  /// level without results or else-block (a guarded copy's).
  bool topOrGuarded(Block *block) {
    if (block == loop.getBody())
      return true;
    auto guard = dyn_cast<scf::IfOp>(block->getParentOp());
    return guard && guard->getBlock() == loop.getBody() && !guard.getNumResults() &&
           guard.getElseRegion().empty() && block == guard.thenBlock();
  }

  /// Whether the uses of `from` are pure, region-free, single-result ops in `block`
  /// (`ops`, in block order), all of whose results are used by each other but one,
  /// `sink`, whose only use is what follows the DAG (a store).
  static bool pureDag(Value from, Block *block, SmallVectorImpl<Operation *> &ops, Value &sink) {
    llvm::SmallPtrSet<Operation *, 8> inside;
    SmallVector<Value> work{from};
    while (!work.empty()) {
      Value x = work.pop_back_val();
      for (Operation *user : x.getUsers()) {
        if (inside.contains(user) || isa<vector::StoreOp, memref::StoreOp>(user))
          continue;
        if (user->getBlock() != block || !isMemoryEffectFree(user) || user->getNumRegions() ||
            user->getNumResults() != 1 || inside.size() >= 64)
          return false;
        inside.insert(user);
        work.push_back(user->getResult(0));
      }
    }
    // One value leaves the DAG, to one user outside it; every other stays inside.
    Value out;
    SmallVector<Value> values{from};
    for (Operation *op : inside)
      values.push_back(op->getResult(0));
    for (Value x : values) {
      bool leaves = llvm::any_of(x.getUsers(), [&](Operation *u) { return !inside.contains(u); });
      if (!leaves)
        continue;
      if (out || !x.hasOneUse())
        return false;
      out = x;
    }
    if (!out)
      return false;
    ops.assign(inside.begin(), inside.end());
    llvm::sort(ops, [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
    sink = out;
    return true;
  }

  /// Classifies the load `op` of a kernel argument as a copy's, false when it is none
  /// that can go ahead of the products: a load whose only use is a store (a cp.async
  /// where it can be, anywhere in the copy phase), else a load at the top level, or
  /// yielded by a top-level scf.if (splitGuardedCopies), whose value goes through a
  /// chain of pure ops to a store, at the top level or in a top-level guard (staged).
  bool classify(Operation *op, StepLoop &s, llvm::SmallPtrSetImpl<Operation *> &claimed) {
    Operation *load = op;
    Value v = op->getResult(0);
    unsigned result = 0;
    if (v.hasOneUse() && isa<scf::YieldOp>(*v.user_begin())) {
      auto guarded = dyn_cast<scf::IfOp>(op->getParentOp());
      OpOperand &yielded = *v.use_begin();
      if (!guarded || guarded->getBlock() != loop.getBody() ||
          yielded.getOwner() != guarded.thenYield().getOperation())
        return false;
      result = yielded.getOperandNumber();
      op = guarded;
      v = guarded.getResult(result);
    }
    ElementCopy c{op, result, {}, nullptr, false};
    bool top = op->getBlock() == loop.getBody();
    Operation *first = v.hasOneUse() ? *v.user_begin() : nullptr;
    if (!first)
      return false;
    Block *block = first->getBlock();
    // Through pure ops in one block, at the top level or in a guard (staged copies
    // only): a chain, or a DAG whose values all end in one stored value (tf32's
    // rounding reads the loaded bits twice; a guarded read selects it).
    SmallVector<Operation *> chain;
    arith::SelectOp zeroFill = op == load ? zeroFillOf(load) : arith::SelectOp();
    if (zeroFill) {
      // Anywhere in the copy phase when it is a cp.async (below), else staged.
      chain.push_back(zeroFill);
      v = zeroFill.getResult();
    } else if (!v.hasOneUse() || !isa<vector::StoreOp, memref::StoreOp>(first)) {
      if (!top || !topOrGuarded(block) || !pureDag(v, block, chain, v))
        return false;
    }
    if (!v.hasOneUse())
      return false;
    Operation *store = *v.user_begin();
    if (!isa<vector::StoreOp, memref::StoreOp>(store) || store->getOperand(0) != v ||
        store->getBlock() != (chain.empty() ? first->getBlock() : block))
      return false;
    BlockArgument buffer = workgroupBuffer(func, baseOf(store));
    if (!buffer || !cast<MemRefType>(buffer.getType()).getLayout().isIdentity())
      return false;
    // A guarded read selected against zero is a cp.async that reads all or none of
    // its bytes.
    c.async = asyncAllowed && op == load && (chain.empty() || zeroFill) &&
              store->getBlock() == op->getBlock() && copyBytes(op, store);
    if (c.async)
      c.zeroFill = zeroFill;
    if (!c.async) {
      if (!top || !topOrGuarded(store->getBlock()))
        return false; // inside a loop of the copy phase: no registers to stage it in
      if (store->getBlock() == loop.getBody()) {
        c.chain = chain;
        c.store = store;
      } else {
        c.store = store->getParentOp(); // the guard, stored whole
      }
    } else {
      c.store = store;
    }
    s.anyAsync |= c.async;
    s.anyStaged |= !c.async;
    claimed.insert(load);
    claimed.insert(op);
    claimed.insert(chain.begin(), chain.end());
    claimed.insert(store);
    claimed.insert(c.store);
    s.copies.push_back(std::move(c));
    if (!llvm::is_contained(s.buffers, buffer))
      s.buffers.push_back(buffer);
    return true;
  }

  bool computePhase(const StepLoop &s) {
    llvm::SmallPtrSet<Operation *, 16> copyOps(s.copy.begin(), s.copy.end());
    for (Operation *top : s.compute) {
      WalkResult r = top->walk([&](Operation *op) {
        // The warpgroup products write registers only (warpgroupProducts).
        if (isa<NVVM::WgmmaFenceAlignedOp, NVVM::WgmmaMmaAsyncOp, NVVM::WgmmaGroupSyncAlignedOp,
                NVVM::WgmmaWaitGroupSyncOp>(op))
          return WalkResult::advance();
        SmallVector<Value> written;
        if (!writtenMemrefs(op, written))
          return WalkResult::interrupt();
        for (Value w : written)
          if (llvm::is_contained(s.buffers, workgroupBuffer(func, w)))
            return WalkResult::interrupt();
        // What the products take from the copy phase is recomputed with them: address
        // arithmetic only.
        for (Value v : op->getOperands())
          if (Operation *def = v.getDefiningOp();
              def && copyOps.contains(def) && (!isMemoryEffectFree(def) || def->getNumRegions()))
            return WalkResult::interrupt();
        return WalkResult::advance();
      });
      if (r.wasInterrupted())
        return false;
    }
    return true;
  }

  /// Whether no op outside the loop touches a step buffer (a later phase reading what
  /// the last step left in "its" buffer would find another stage's).
  bool buffersOnlyHere(const StepLoop &s) {
    WalkResult r = func.walk([&](Operation *op) {
      // (The other version of the loop never runs with it.)
      if (loop->isAncestor(op) || exclusive(loop->getBlock(), op))
        return WalkResult::advance();
      auto effects = dyn_cast<MemoryEffectOpInterface>(op);
      if (!effects) {
        for (Value v : op->getOperands())
          if (isa<BaseMemRefType>(v.getType()) && !isMemoryEffectFree(op) &&
              !op->hasTrait<mlir::OpTrait::HasRecursiveMemoryEffects>() &&
              llvm::is_contained(s.buffers, workgroupBuffer(func, v)))
            return WalkResult::interrupt();
        return WalkResult::advance();
      }
      SmallVector<MemoryEffects::EffectInstance> list;
      effects.getEffects(list);
      for (const MemoryEffects::EffectInstance &e : list) {
        Value v = e.getValue();
        if (v && isa<BaseMemRefType>(v.getType()) &&
            llvm::is_contained(s.buffers, workgroupBuffer(func, v)))
          return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    return !r.wasInterrupted();
  }

  /// Whether every value the loop takes from outside that derives from a step buffer
  /// is computed without side effects (so that it can be recomputed from another).
  bool remappable(const StepLoop &s) {
    loop.getBody()->walk([&](Operation *op) {
      for (Value v : op->getOperands())
        if (!loop->isAncestor(v.getParentBlock()->getParentOp()))
          derives(v, s);
    });
    return !failed;
  }

  /// Whether `v` derives from a step buffer; sets `failed` where one derives through
  /// an op with effects or regions.
  bool derives(Value v, const StepLoop &s) {
    if (auto it = memo.find(v); it != memo.end())
      return it->second;
    bool result = false;
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      result = llvm::is_contained(s.buffers, arg);
    } else {
      Operation *def = v.getDefiningOp();
      for (Value o : def->getOperands())
        result |= derives(o, s);
      if (result && (!isMemoryEffectFree(def) || def->getNumRegions()))
        failed = true;
    }
    memo[v] = result;
    return result;
  }

  gpu::GPUFuncOp func;
  scf::ForOp loop;
  bool asyncAllowed;
  DenseMap<Value, bool> memo;
  bool failed = false;
};

/// The ops of `loop`'s body between its two top-level barriers (its copy phase), or
/// nothing when it has not two.
SmallVector<Operation *> copyPhaseOps(scf::ForOp loop) {
  SmallVector<Operation *> pre, copy, compute;
  if (!splitPhases(loop, pre, copy, compute))
    return {};
  return copy;
}

/// The copy phase's top-level ops and those of the then-blocks of its top-level guards
/// (scf.if without results or else-block: an edge tile's, or the threads that copy
/// when a step has fewer elements than the block has threads).
SmallVector<Operation *> copyPhaseAndGuardOps(scf::ForOp loop) {
  SmallVector<Operation *> ops;
  for (Operation *op : copyPhaseOps(loop)) {
    ops.push_back(op);
    auto guard = dyn_cast<scf::IfOp>(op);
    if (!guard || guard.getNumResults() || !guard.getElseRegion().empty())
      continue;
    for (Operation &inner : guard.thenBlock()->without_terminator())
      ops.push_back(&inner);
  }
  return ops;
}

/// The most iterations of a gather loop unrolled (unrollGathers).
constexpr int64_t kMaxGatherLanes = 8;

/// Unrolls each loop at the top level of `loop`'s copy phase (or of a guard there) that
/// gathers a vector's lanes into a private buffer (an implicit-GEMM Conv's window
/// elements, loaded at guarded indices one lane at a time) or copies a thread's few
/// elements into a step buffer one by one (sm_90a's tf32 tiles, rounded into wgmma's
/// layout): a static trip count of at most kMaxGatherLanes, no iteration values, loads
/// and pure ops, stores into memref.alloca or workgroup buffers only. Unrolled, each
/// lane's load is a top-level load whose value can be staged ahead of the products
/// (forwardLanes).
void unrollGathers(scf::ForOp loop) {
  auto func = loop->getParentOfType<gpu::GPUFuncOp>();
  SmallVector<scf::ForOp> gathers;
  for (Operation *op : copyPhaseAndGuardOps(loop)) {
    auto inner = dyn_cast<scf::ForOp>(op);
    if (!inner || inner.getNumRegionIterArgs())
      continue;
    std::optional<int64_t> lb = getConstantIntValue(inner.getLowerBound());
    std::optional<int64_t> ub = getConstantIntValue(inner.getUpperBound());
    std::optional<int64_t> step = getConstantIntValue(inner.getStep());
    if (!lb || !ub || !step || *step <= 0 || *ub <= *lb ||
        llvm::divideCeil(*ub - *lb, *step) > kMaxGatherLanes)
      continue;
    // Stores into private buffers, or into step buffers of what it loads from kernel
    // arguments (a private buffer copied into shared memory lane by lane is
    // forwardPrivateCopies').
    bool ok = true, privateStores = false, sharedStores = false, globalLoads = true;
    inner.getBody()->walk([&](Operation *op) {
      if (isa<scf::YieldOp>(op) || isMemoryEffectFree(op))
        return;
      if (isa<memref::LoadOp, vector::LoadOp>(op) && !op->getNumRegions()) {
        auto arg = dyn_cast<BlockArgument>(viewedBuffer(baseOf(op)));
        globalLoads &= func && arg && arg.getOwner() == &func.getBody().front() &&
                       arg.getArgNumber() < func.getNumArguments();
        return;
      }
      bool toPrivate = isa<memref::StoreOp>(op) &&
                       viewedBuffer(baseOf(op)).getDefiningOp<memref::AllocaOp>() != nullptr;
      bool toShared = isa<memref::StoreOp>(op) && func && workgroupBuffer(func, baseOf(op));
      privateStores |= toPrivate;
      sharedStores |= toShared;
      ok &= toPrivate || toShared;
    });
    ok &= !sharedStores || (!privateStores && globalLoads);
    if (ok)
      gathers.push_back(inner);
  }
  for (scf::ForOp inner : gathers)
    (void)loopUnrollFull(inner);
}

/// `v` when sums and products of constants make it one (what a full unroll leaves for
/// its iterations' induction values), else nothing.
std::optional<int64_t> foldedIndex(Value v, int depth = 0) {
  if (std::optional<int64_t> c = getConstantIntValue(v))
    return c;
  Operation *def = v.getDefiningOp();
  if (!def || depth > 8 || !isa<arith::AddIOp, arith::MulIOp, arith::SubIOp>(def))
    return std::nullopt;
  std::optional<int64_t> l = foldedIndex(def->getOperand(0), depth + 1);
  std::optional<int64_t> r = foldedIndex(def->getOperand(1), depth + 1);
  if (!l || !r)
    return std::nullopt;
  return isa<arith::AddIOp>(def) ? *l + *r : isa<arith::MulIOp>(def) ? *l * *r : *l - *r;
}

/// Forwards, in `loop`'s copy phase (or a guard there), the lanes stored one by one
/// into a private buffer (memref.alloca, wherever it is) to the vector load of them
/// that follows: the
/// scalars stored at constant indices along its last dim, in the block of the load,
/// become the load's vector (vector.from_elements), when the buffer has no other use.
void forwardLanes(scf::ForOp loop) {
  SmallVector<vector::LoadOp> loads;
  for (Operation *op : copyPhaseAndGuardOps(loop))
    if (auto l = dyn_cast<vector::LoadOp>(op); l && l.getBase().getDefiningOp<memref::AllocaOp>())
      loads.push_back(l);
  for (vector::LoadOp load : loads) {
    auto alloca = load.getBase().getDefiningOp<memref::AllocaOp>();
    VectorType vt = load.getVectorType();
    if (vt.getRank() != 1 || vt.isScalable() || !alloca.getType().hasStaticShape())
      continue;
    SmallVector<int64_t> at;
    for (Value i : load.getIndices()) {
      std::optional<int64_t> c = foldedIndex(i);
      if (!c)
        break;
      at.push_back(*c);
    }
    if (at.size() != load.getIndices().size())
      continue;
    int64_t lanes = vt.getNumElements();
    SmallVector<Operation *> stores(lanes, nullptr);
    bool ok = true;
    for (Operation *user : alloca->getUsers()) {
      if (user == load.getOperation())
        continue;
      auto store = dyn_cast<memref::StoreOp>(user);
      if (!store || store.getMemRef() != alloca.getResult() ||
          store->getBlock() != load->getBlock() || !store->isBeforeInBlock(load)) {
        ok = false;
        break;
      }
      SmallVector<int64_t> idx;
      for (Value i : store.getIndices())
        if (std::optional<int64_t> c = foldedIndex(i))
          idx.push_back(*c);
      if (idx.size() != at.size() || !std::equal(idx.begin(), idx.end() - 1, at.begin()) ||
          idx.back() < at.back() || idx.back() >= at.back() + lanes ||
          stores[idx.back() - at.back()]) {
        ok = false;
        break;
      }
      stores[idx.back() - at.back()] = store;
    }
    if (!ok || llvm::is_contained(stores, nullptr))
      continue;
    IRRewriter rw(load);
    SmallVector<Value> values =
        llvm::map_to_vector(stores, [](Operation *st) { return st->getOperand(0); });
    rw.replaceOpWithNewOp<vector::FromElementsOp>(load, vt, values);
    for (Operation *st : stores)
      rw.eraseOp(st);
    if (alloca->use_empty())
      rw.eraseOp(alloca);
  }
}

/// Forwards, in `loop`'s copy phase (or a guard there), the lanes of a private buffer
/// (memref.alloca of shape [1, ..., 1, N]) that a loop then copies element by element
/// into another buffer (what bufferization leaves of a tile converted on its way into
/// shared memory: `for i < N: dst[..., i] = private[0, ..., i]`) straight into it: the
/// vector stored whole into the private buffer, or the N scalars stored into its lanes
/// at constant indices (an unrolled gather) as a vector, become one vector.store into
/// `dst` in the loop's place. The copy is then a load whose value, converted, is stored
/// into shared memory, which can go ahead of the products.
void forwardPrivateCopies(scf::ForOp loop) {
  SmallVector<scf::ForOp> copyLoops;
  for (Operation *op : copyPhaseAndGuardOps(loop))
    if (auto inner = dyn_cast<scf::ForOp>(op); inner && !inner.getNumRegionIterArgs())
      copyLoops.push_back(inner);
  IRRewriter rw(loop.getContext());
  for (scf::ForOp copy : copyLoops) {
    std::optional<int64_t> lb = getConstantIntValue(copy.getLowerBound());
    std::optional<int64_t> ub = getConstantIntValue(copy.getUpperBound());
    std::optional<int64_t> step = getConstantIntValue(copy.getStep());
    Block *body = copy.getBody();
    if (lb != 0 || step != 1 || !ub || *ub < 1 || *ub > kMaxGatherLanes ||
        body->getOperations().size() != 3)
      continue;
    auto load = dyn_cast<memref::LoadOp>(body->front());
    auto store = dyn_cast<memref::StoreOp>(*std::next(body->begin()));
    if (!load || !store || store.getValueToStore() != load.getResult() ||
        !load.getResult().hasOneUse() || load.getIndices().empty() ||
        load.getIndices().back() != copy.getInductionVar() ||
        store.getIndices().back() != copy.getInductionVar())
      continue;
    auto alloca = load.getMemRef().getDefiningOp<memref::AllocaOp>();
    auto dstType = cast<MemRefType>(store.getMemRef().getType());
    SmallVector<int64_t> dstStrides;
    int64_t dstOffset;
    if (!alloca || !alloca.getType().hasStaticShape() ||
        alloca.getType().getShape().back() != *ub || alloca.getType().getNumElements() != *ub ||
        failed(dstType.getStridesAndOffset(dstStrides, dstOffset)) || dstStrides.back() != 1 ||
        llvm::any_of(load.getIndices().drop_back(),
                     [](Value i) { return getConstantIntValue(i) != 0; }) ||
        llvm::any_of(store.getIndices().drop_back(),
                     [&](Value i) { return copy->isAncestor(i.getParentBlock()->getParentOp()); }))
      continue;
    // The private buffer's other users: one whole vector store, or a scalar store per
    // lane, all in the copy loop's block before it.
    Value vector;
    SmallVector<Value> lanes(*ub);
    SmallVector<Operation *> writes;
    bool ok = true;
    for (Operation *user : alloca->getUsers()) {
      if (user == load.getOperation())
        continue;
      ok &= user->getBlock() == copy->getBlock() && user->isBeforeInBlock(copy) &&
            isa<vector::StoreOp, memref::StoreOp>(user) && baseOf(user) == alloca.getResult();
      if (!ok)
        break;
      writes.push_back(user);
      SmallVector<std::optional<int64_t>> at =
          llvm::map_to_vector(indicesOf(user), [](Value i) { return foldedIndex(i); });
      ok &=
          llvm::all_of(at, [](std::optional<int64_t> i) { return i.has_value(); }) &&
          llvm::all_of(ArrayRef(at).drop_back(), [](std::optional<int64_t> i) { return *i == 0; });
      if (!ok)
        break;
      if (auto vs = dyn_cast<vector::StoreOp>(user)) {
        ok &= vs.getVectorType().getRank() == 1 && vs.getVectorType().getNumElements() == *ub &&
              *at.back() == 0 && !vector;
        vector = vs.getValueToStore();
      } else {
        int64_t k = *at.back();
        ok &= k >= 0 && k < *ub && !lanes[k];
        if (ok)
          lanes[k] = user->getOperand(0);
      }
    }
    bool allLanes = llvm::all_of(lanes, [](Value v) { return v != nullptr; });
    if (!ok || (vector ? llvm::any_of(lanes, [](Value v) { return v != nullptr; }) : !allLanes))
      continue;
    rw.setInsertionPoint(copy);
    Location loc = copy.getLoc();
    if (!vector)
      vector = vector::FromElementsOp::create(
          rw, loc, VectorType::get({*ub}, alloca.getType().getElementType()), lanes);
    SmallVector<Value> at(store.getIndices().drop_back());
    at.push_back(arith::ConstantIndexOp::create(rw, loc, 0));
    vector::StoreOp::create(rw, loc, vector, store.getMemRef(), at);
    rw.eraseOp(copy);
    for (Operation *w : writes)
      rw.eraseOp(w);
    if (alloca->use_empty())
      rw.eraseOp(alloca);
  }
}

/// Forwards, in `loop`'s copy phase, the value stored into a private buffer
/// (memref.alloca) to the loads of it that follow in the same block at the same
/// indices with the same type: a value's round trip through memory that bufferization
/// left (a Conv window element selected against its padding, a half-precision weight
/// widened to f32 and rounded back). LLVM's SROA would remove it, but here the copy
/// around it would not be recognized. Then truncf(extf(x)) of one type is x (exact).
void forwardPrivateValues(scf::ForOp loop) {
  SmallVector<memref::AllocaOp> allocas;
  SmallVector<Operation *> phase = copyPhaseOps(loop);
  for (Operation *op : phase)
    op->walk([&](memref::AllocaOp a) { allocas.push_back(a); });
  for (memref::AllocaOp alloca : allocas) {
    if (!alloca.getType().hasStaticShape())
      continue;
    Operation *store = nullptr;
    SmallVector<Operation *> loads;
    bool ok = true;
    for (Operation *user : alloca->getUsers()) {
      if (isa<memref::StoreOp, vector::StoreOp>(user) && baseOf(user) == alloca.getResult() &&
          user->getOperand(0) != alloca.getResult() && !store)
        store = user;
      else if (isa<memref::LoadOp, vector::LoadOp>(user))
        loads.push_back(user);
      else
        ok = false;
    }
    if (!ok || !store)
      continue;
    Value stored = store->getOperand(0);
    for (Operation *load : loads) {
      ok &= load->getBlock() == store->getBlock() && store->isBeforeInBlock(load) &&
            load->getResult(0).getType() == stored.getType();
      for (auto [l, s] : llvm::zip_equal(indicesOf(load), indicesOf(store))) {
        std::optional<int64_t> li = getConstantIntValue(l), si = getConstantIntValue(s);
        ok &= l == s || (li && si && *li == *si);
      }
    }
    if (!ok)
      continue;
    for (Operation *load : loads) {
      load->getResult(0).replaceAllUsesWith(stored);
      load->erase();
    }
    store->erase();
    alloca.erase();
  }
  // The erasures above may have removed ops of `phase` (a top-level alloca).
  SmallVector<arith::TruncFOp> truncs;
  for (Operation *op : copyPhaseOps(loop))
    op->walk([&](arith::TruncFOp trunc) { truncs.push_back(trunc); });
  for (arith::TruncFOp trunc : truncs) {
    auto ext = trunc.getIn().getDefiningOp<arith::ExtFOp>();
    if (!ext || ext.getIn().getType() != trunc.getType() || trunc.getRoundingmodeAttr())
      continue;
    trunc.getResult().replaceAllUsesWith(ext.getIn());
    trunc.erase();
    if (ext->use_empty())
      ext.erase();
  }
}

/// Splits each scf.if at the top level of `loop`'s copy phase (between its two top-level
/// barriers) that guards copies of which one or more cannot be a cp.async
/// (dlc-unroll-thread-loops' guarded iterations of an edge tile's copies; the threads
/// that copy a step's lanes when it has fewer than the block has threads) into a
/// guarded load of each that yields the values (zero where the guard fails) and the
/// guarded rest, so that the loads can be issued ahead of the products and the rest
/// stored after them.
void splitGuardedCopies(scf::ForOp loop, bool asyncAllowed) {
  SmallVector<scf::IfOp> guards;
  for (Operation *op : copyPhaseOps(loop))
    if (auto guard = dyn_cast<scf::IfOp>(op))
      guards.push_back(guard);
  IRRewriter rw(loop.getContext());
  for (scf::IfOp guard : guards) {
    if (guard.getNumResults() || !guard.getElseRegion().empty())
      continue;
    SmallVector<Operation *> loads;
    bool ok = true, allAsync = true;
    for (Operation &op : guard.thenBlock()->without_terminator()) {
      if (isa<vector::LoadOp, memref::LoadOp>(op) && viewsKernelArgument(baseOf(&op))) {
        loads.push_back(&op);
        Value value = op.getResult(0);
        ok &= value.hasOneUse();
        if (!ok)
          break;
        Operation *user = *value.user_begin();
        if (arith::SelectOp zeroFill = zeroFillOf(&op)) {
          value = zeroFill.getResult();
          user = *value.user_begin();
        }
        allAsync &= asyncAllowed && isa<vector::StoreOp, memref::StoreOp>(user) &&
                    user->getOperand(0) == value && copyBytes(&op, user);
      } else if (!isa<vector::StoreOp, memref::StoreOp>(op) &&
                 (!isMemoryEffectFree(&op) || op.getNumRegions())) {
        ok = false;
      }
    }
    if (!ok || loads.empty() || allAsync)
      continue; // cp.async copies are guarded as they are
    Location loc = guard.getLoc();
    rw.setInsertionPoint(guard);
    SmallVector<Type> types =
        llvm::map_to_vector(loads, [](Operation *l) { return l->getResult(0).getType(); });
    auto loaded = scf::IfOp::create(rw, loc, types, guard.getCondition(),
                                    /*withElseRegion=*/true);
    rw.setInsertionPointToStart(loaded.thenBlock());
    // The loads and the address arithmetic they read (not what reads their values).
    llvm::SmallPtrSet<Operation *, 32> needed(loads.begin(), loads.end());
    for (Operation &op : llvm::reverse(guard.thenBlock()->without_terminator()))
      if (needed.contains(&op))
        for (Value v : op.getOperands())
          if (Operation *def = v.getDefiningOp(); def && def->getBlock() == guard.thenBlock())
            needed.insert(def);
    IRMapping map;
    for (Operation &op : guard.thenBlock()->without_terminator())
      if (needed.contains(&op))
        rw.clone(op, map);
    scf::YieldOp::create(rw, loc, llvm::map_to_vector(loads, [&](Operation *l) {
                           return map.lookup(l->getResult(0));
                         }));
    rw.setInsertionPointToStart(loaded.elseBlock());
    SmallVector<Value> zeros;
    for (Type t : types)
      zeros.push_back(arith::ConstantOp::create(rw, loc, cast<TypedAttr>(rw.getZeroAttr(t))));
    scf::YieldOp::create(rw, loc, zeros);
    for (auto [k, load] : llvm::enumerate(loads)) {
      rw.replaceAllUsesWith(load->getResult(0), loaded.getResult(k));
      rw.eraseOp(load);
    }
  }
}

class Rewriter {
public:
  Rewriter(gpu::GPUFuncOp func, StepLoop &s, int64_t stages,
           llvm::DenseMap<BlockArgument, StageBuffers> &made)
      : func(func), s(s), stages(stages), made(made), rw(func.getContext()), loc(s.loop.getLoc()) {
    for (const ElementCopy &c : s.copies) {
      chainOps.insert(c.chain.begin(), c.chain.end());
      if (c.zeroFill)
        zeroFills.insert(c.zeroFill);
    }
  }

  void run() {
    scf::ForOp loop = s.loop;
    // The extra buffers, and each stage's view of what the loop reads from outside.
    maps.resize(stages);
    for (BlockArgument buffer : s.buffers) {
      unsigned index = buffer.getArgNumber() - func.getNumArguments();
      Attribute align = func.getWorkgroupAttributionAttr(index, "llvm.align");
      // The other version of this loop (never run with it) lends its buffers.
      SmallVector<BlockArgument> extras(reusable(made, buffer, loop));
      for (int64_t stage = 1; stage < stages; ++stage) {
        if (int64_t(extras.size()) < stage) {
          extras.push_back(func.addWorkgroupAttribution(buffer.getType(), buffer.getLoc()));
          if (align)
            func.setWorkgroupAttributionAttr(func.getNumWorkgroupAttributions() - 1, "llvm.align",
                                             align);
        }
        maps[stage].map(buffer, extras[stage - 1]);
      }
      StageBuffers &entry = made[buffer];
      if (entry.extra.size() <= extras.size())
        entry = {loop->getBlock(), extras};
    }
    for (int64_t stage = 1; stage < stages; ++stage)
      loop.getBody()->walk([&](Operation *op) {
        for (Value v : op->getOperands())
          if (!loop->isAncestor(v.getParentBlock()->getParentOp()))
            remap(v, maps[stage]);
      });

    rw.setInsertionPoint(loop);
    // Inside another loop the threads may still read the buffers of the last run of
    // this one (its first barrier kept them out before): the first copies wait for
    // them.
    if (loop->getParentOfType<LoopLikeOpInterface>())
      gpu::BarrierOp::create(rw, loc);
    // (A loop of a length known at run time issues each first step's copies if the
    // step exists, and commits the group either way.)
    for (int64_t stage = 0; stage + 1 < stages; ++stage) {
      Value iv = constant(s.lb + stage * s.step);
      if (s.dynamicTrips) {
        auto guard = scf::IfOp::create(rw, loc, before(iv), /*withElseRegion=*/false);
        OpBuilder::InsertionGuard g(rw);
        rw.setInsertionPoint(guard.thenBlock()->getTerminator());
        SmallVector<Value> loaded = issue(iv, stage);
        land(iv, stage, loaded);
      } else {
        SmallVector<Value> loaded = issue(iv, stage);
        land(iv, stage, loaded);
      }
      commit();
    }
    int64_t groups = s.trips / stages, rest = s.trips % stages;
    Value mainEnd = constant(s.lb + groups * stages * s.step);
    if (s.dynamicTrips) {
      // lb + (trips / stages) * stages * step, trips = max(ceil((ub - lb) / step), 0).
      Value span = arith::SubIOp::create(rw, loc, s.loop.getUpperBound(), constant(s.lb));
      Value trips = arith::MaxSIOp::create(
          rw, loc, arith::CeilDivSIOp::create(rw, loc, span, constant(s.step)), constant(0));
      Value whole =
          arith::MulIOp::create(rw, loc, arith::DivSIOp::create(rw, loc, trips, constant(stages)),
                                constant(stages * s.step));
      mainEnd = arith::AddIOp::create(rw, loc, whole, constant(s.lb));
      rest = stages - 1; // each guarded
    }
    auto main = scf::ForOp::create(
        rw, loc, constant(s.lb), mainEnd, constant(stages * s.step), loop.getInitArgs(),
        [&](OpBuilder &b, Location, Value iv, ValueRange args) {
          OpBuilder::InsertionGuard guard(rw);
          rw.setInsertionPoint(b.getInsertionBlock(), b.getInsertionPoint());
          SmallVector<Value> values(args);
          for (int64_t j = 0; j < stages; ++j) {
            Value i = j ? arith::AddIOp::create(rw, loc, iv, constant(j * s.step)).getResult() : iv;
            values = stepAt(i, j, values);
          }
          scf::YieldOp::create(rw, loc, values);
        });
    rw.setInsertionPointAfter(main);
    SmallVector<Value> values(main.getResults());
    for (int64_t j = 0; j < rest; ++j) {
      if (!s.dynamicTrips) {
        values = stepAt(constant(s.lb + (groups * stages + j) * s.step), j, values);
        continue;
      }
      // The steps past the last whole group, each if it exists (the condition is
      // the same in every thread: their barriers are reached by all or none).
      Value iv = arith::AddIOp::create(rw, loc, mainEnd, constant(j * s.step));
      auto guard = scf::IfOp::create(rw, loc, TypeRange(ValueRange(values)), before(iv),
                                     /*withElseRegion=*/true);
      {
        OpBuilder::InsertionGuard g(rw);
        auto at = [&](Block *block) {
          if (block->mightHaveTerminator())
            rw.setInsertionPoint(block->getTerminator());
          else
            rw.setInsertionPointToEnd(block);
        };
        at(guard.thenBlock());
        SmallVector<Value> stepped = stepAt(iv, j, values);
        if (!values.empty())
          scf::YieldOp::create(rw, loc, stepped);
        at(guard.elseBlock());
        if (!values.empty())
          scf::YieldOp::create(rw, loc, values);
      }
      values = SmallVector<Value>(guard.getResults());
    }
    if (s.anyAsync)
      NVVM::CpAsyncWaitGroupOp::create(rw, loc, rw.getI32IntegerAttr(0));
    rw.replaceOp(loop, values);
  }

private:
  Value constant(int64_t v) { return arith::ConstantIndexOp::create(rw, loc, v); }

  /// Whether step `iv` exists: iv < the loop's end.
  Value before(Value iv) {
    return arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::slt, iv,
                                 s.dynamicTrips ? s.loop.getUpperBound() : constant(s.ub));
  }

  void commit() {
    if (s.anyAsync)
      NVVM::CpAsyncCommitGroupOp::create(rw, loc);
  }

  /// `v` as stage `map` sees it: recomputed from the stage's buffers when it derives
  /// from a step buffer (the analysis checked that this takes no side effects).
  Value remap(Value v, IRMapping &map) {
    if (Value r = map.lookupOrNull(v))
      return r;
    Operation *def = v.getDefiningOp();
    if (!def) {
      map.map(v, v);
      return v;
    }
    bool changed = false;
    for (Value o : def->getOperands())
      changed |= remap(o, map) != o;
    if (!changed) {
      map.map(def->getResults(), def->getResults());
      return v;
    }
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointAfter(def);
    rw.clone(*def, map); // maps the results
    return map.lookup(v);
  }

  /// Issues step `iv`'s copies into stage `stage`'s buffers: the plain ones with
  /// cp.async, the loads of the staged ones; returns the values the staged ones loaded.
  SmallVector<Value> issue(Value iv, int64_t stage) {
    IRMapping map = maps[stage];
    map.map(s.loop.getInductionVar(), iv);
    for (Operation *op : s.pre)
      rw.clone(*op, map);
    llvm::SmallPtrSet<Operation *, 8> later; // the staged copies' chains and stores
    for (const ElementCopy &c : s.copies)
      if (!c.async) {
        later.insert(c.chain.begin(), c.chain.end());
        later.insert(c.store);
      }
    for (Operation *op : s.copy)
      if (!later.contains(op))
        rw.clone(*op, map);
    SmallVector<Value> loaded;
    OpBuilder::InsertionGuard guard(rw);
    for (const ElementCopy &c : s.copies) {
      Value value = map.lookup(c.load->getResult(c.result));
      if (!c.async) {
        loaded.push_back(value);
        continue;
      }
      Operation *load = value.getDefiningOp();
      Operation *store = *value.user_begin();
      auto zeroFill = dyn_cast<arith::SelectOp>(store);
      if (zeroFill)
        store = *zeroFill->user_begin();
      rw.setInsertionPoint(store);
      Location l = store->getLoc();
      Value dst = baseOf(store);
      Value flat = flatBuffer(rw, l, viewedBuffer(dst));
      Value linear = linearIndex(rw, l, dst, indicesOf(store));
      int64_t elements = 1;
      if (auto vt = dyn_cast<VectorType>(value.getType()))
        elements = vt.getNumElements();
      int64_t bytes = copyBytes(c.load, c.store);
      // A guarded read copies all its elements or none (then zero-filled).
      Value srcElements;
      if (zeroFill)
        srcElements = arith::SelectOp::create(rw, l, zeroFill.getCondition(),
                                              arith::ConstantIndexOp::create(rw, l, elements),
                                              arith::ConstantIndexOp::create(rw, l, 0));
      nvgpu::DeviceAsyncCopyOp::create(rw, l, nvgpu::DeviceAsyncTokenType::get(rw.getContext()),
                                       flat, ValueRange{linear}, baseOf(load), indicesOf(load),
                                       rw.getIndexAttr(elements), srcElements,
                                       bytes == 16 ? rw.getUnitAttr() : UnitAttr());
      rw.eraseOp(store);
      if (zeroFill)
        rw.eraseOp(zeroFill);
      rw.eraseOp(load);
    }
    return loaded;
  }

  /// Stores the staged copies of step `iv` (their loaded values `loaded`, converted by
  /// their chains) into stage `stage`'s buffers.
  void land(Value iv, int64_t stage, ValueRange loaded) {
    if (!s.anyStaged)
      return;
    IRMapping map = maps[stage];
    map.map(s.loop.getInductionVar(), iv);
    size_t k = 0;
    for (const ElementCopy &c : s.copies)
      if (!c.async)
        map.map(c.load->getResult(c.result), loaded[k++]);
    for (Operation *op : s.pre)
      rw.clone(*op, map);
    for (Operation *op : s.copy)
      if (isMemoryEffectFree(op) && !op->getNumRegions() && !zeroFills.contains(op))
        rw.clone(*op, map); // address arithmetic and the chains
    llvm::SmallPtrSet<Operation *, 8> stored; // lanes of one vector share their store
    for (const ElementCopy &c : s.copies)
      if (!c.async && stored.insert(c.store).second)
        rw.clone(*c.store, map);
  }

  /// Step `iv` computed from stage `stage`'s buffers, on the loop-carried `values`;
  /// before it, the copies of the step `stages - 1` ahead are issued (into the buffer
  /// the step before read), and after it the staged ones stored. Returns the values
  /// the step carries on.
  SmallVector<Value> stepAt(Value iv, int64_t stage, ValueRange values) {
    if (s.anyAsync)
      NVVM::CpAsyncWaitGroupOp::create(rw, loc, rw.getI32IntegerAttr(stages - 2));
    if (s.proxyFence)
      rw.clone(*s.proxyFence);
    gpu::BarrierOp::create(rw, loc);
    int64_t ahead = (stages - 1) * s.step, next = (stage + stages - 1) % stages;
    std::optional<int64_t> at = getConstantIntValue(iv);
    Value nextIv, any;
    SmallVector<Value> loaded;
    if (at && !s.dynamicTrips) {
      if (*at + ahead < s.ub) {
        nextIv = constant(*at + ahead);
        loaded = issue(nextIv, next);
      }
    } else {
      nextIv = arith::AddIOp::create(rw, loc, iv, constant(ahead));
      any = before(nextIv);
      SmallVector<Type> types;
      for (const ElementCopy &c : s.copies)
        if (!c.async)
          types.push_back(c.load->getResult(c.result).getType());
      auto guard = scf::IfOp::create(rw, loc, types, any, /*withElseRegion=*/!types.empty());
      OpBuilder::InsertionGuard g(rw);
      rw.setInsertionPointToStart(guard.thenBlock());
      SmallVector<Value> inside = issue(nextIv, next);
      if (!types.empty()) {
        scf::YieldOp::create(rw, loc, inside);
        rw.setInsertionPointToStart(guard.elseBlock());
        SmallVector<Value> zeros;
        for (Type t : types)
          zeros.push_back(arith::ConstantOp::create(rw, loc, cast<TypedAttr>(rw.getZeroAttr(t))));
        scf::YieldOp::create(rw, loc, zeros);
      }
      loaded = SmallVector<Value>(guard.getResults());
    }
    commit();

    IRMapping map = maps[stage];
    map.map(s.loop.getInductionVar(), iv);
    map.map(s.loop.getRegionIterArgs(), values);
    for (Operation *op : s.pre)
      rw.clone(*op, map);
    for (Operation *op : s.copy)
      if (isMemoryEffectFree(op) && !op->getNumRegions() && !chainOps.contains(op) &&
          !zeroFills.contains(op))
        rw.clone(*op, map);
    for (Operation *op : s.compute)
      rw.clone(*op, map);
    auto yield = cast<scf::YieldOp>(s.loop.getBody()->getTerminator());
    SmallVector<Value> carried =
        llvm::map_to_vector(yield.getOperands(), [&](Value v) { return map.lookupOrDefault(v); });

    if (s.anyStaged && nextIv) {
      if (at && !s.dynamicTrips) {
        land(nextIv, next, loaded);
      } else {
        auto guard = scf::IfOp::create(rw, loc, any, /*withElseRegion=*/false);
        OpBuilder::InsertionGuard g(rw);
        rw.setInsertionPointToStart(guard.thenBlock());
        land(nextIv, next, loaded);
      }
    }
    return carried;
  }

  gpu::GPUFuncOp func;
  StepLoop &s;
  int64_t stages;
  llvm::DenseMap<BlockArgument, StageBuffers> &made;
  IRRewriter rw;
  Location loc;
  SmallVector<IRMapping> maps;
  llvm::SmallPtrSet<Operation *, 16> chainOps;
  /// The selects of cp.async copies that zero-fill (issue() folds them into the copy).
  llvm::SmallPtrSet<Operation *, 8> zeroFills;
};

struct DlcGpuAsyncCopiesPass : impl::DlcGpuAsyncCopiesBase<DlcGpuAsyncCopiesPass> {
  using Base::Base;

  void runOnOperation() override {
    const GpuTarget *target = lookupGpuTarget(arch);
    if (!target) {
      getOperation().emitError("dlc-gpu-async-copies: unknown architecture '") << arch << "'";
      return signalPassFailure();
    }
    if (stages < 2)
      return;
    // cp.async exists from sm_80 on; before, every copy is staged through registers.
    bool async = target->computeCapability >= 80;
    llvm::DenseMap<BlockArgument, StageBuffers> made;
    SmallVector<scf::ForOp> loops;
    getOperation().walk([&](scf::ForOp loop) {
      if (loop->getParentOfType<gpu::GPUFuncOp>())
        loops.push_back(loop);
    });
    for (scf::ForOp loop : loops) {
      auto func = loop->getParentOfType<gpu::GPUFuncOp>();
      unrollGathers(loop);
      forwardLanes(loop);
      forwardPrivateCopies(loop);
      forwardPrivateValues(loop);
      splitGuardedCopies(loop, async);
      std::optional<StepLoop> s = Analysis(func, loop, async).run();
      if (!s)
        continue;
      int64_t shared = 0, stepBytes = 0;
      for (BlockArgument b : func.getWorkgroupAttributions())
        shared += llvm::alignTo(staticBytes(cast<MemRefType>(b.getType())), 16);
      // Stage buffers another version of this loop made count as this loop's already.
      int64_t lent = std::numeric_limits<int64_t>::max();
      for (BlockArgument b : s->buffers) {
        stepBytes += llvm::alignTo(staticBytes(cast<MemRefType>(b.getType())), 16);
        lent = std::min<int64_t>(lent, reusable(made, b, loop).size());
      }
      if (!s->buffers.empty())
        shared -= lent * stepBytes;
      // Staged copies land one step ahead whatever the stages: two buffers do. Warpgroup
      // tiles' stages may take dynamic shared memory (dlc-gpu-dynamic-shared); the others
      // stay within the static.
      int64_t n = s->anyAsync ? stages : 2;
      if (!s->dynamicTrips)
        n = std::min<int64_t>(n, s->trips);
      int64_t limit = s->proxyFence ? target->maxDynamicSharedBytes : target->maxStaticSharedBytes;
      while (n >= 2 && shared + (n - 1) * stepBytes > limit)
        --n;
      if (n < 2)
        continue;
      Rewriter(func, *s, n, made).run();
      SmallVector<int64_t> recorded;
      if (auto old = func->getAttrOfType<DenseI64ArrayAttr>(attrs::kCopyStages))
        recorded.assign(old.asArrayRef().begin(), old.asArrayRef().end());
      recorded.push_back(n);
      func->setAttr(attrs::kCopyStages, DenseI64ArrayAttr::get(func.getContext(), recorded));
    }
  }
};

} // namespace
} // namespace dlc
