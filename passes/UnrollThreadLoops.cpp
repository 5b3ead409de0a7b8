//===- UnrollThreadLoops.cpp - The dlc-unroll-thread-loops pass -----------===//
//
// dlc-map-to-gpu deals a block's iterations to its threads cyclically: `scf.for %i =
// thread_id.x to N step T` for a block of T threads. Each thread's trip count is not
// a constant to LLVM (it does not know thread_id.x < T), so such a loop stays a loop,
// and a loop whose body loads from global memory and stores the value into shared
// memory (a contraction step's operand copy) waits a whole memory latency per
// iteration. With N and T constants each thread runs N / T whole iterations, and one
// more when thread_id.x + (N / T) * T < N: the loop becomes one over the whole ones,
// fully unrolled up to kMaxUnrolled so that the loads of all iterations are issued
// before their values are used, and a guarded copy of the body for the last. With N
// dynamic but bounded by a constant B (an edge tile's rows: min(64, rows left) x 4),
// each thread runs at most ceil(B / T) iterations: up to kMaxUnrolled of them, each a
// guarded copy of the body. So does a loop over a thread's own tile from a constant
// with a dynamic extent bounded by a constant (up to kMaxUnrolledPrivate iterations):
// its private buffers then take constant indices, which LLVM keeps in registers. A
// static loop that indexes a private buffer by its induction variable (a thread's row
// of scores, one thread per row of a MatMul with its Softmax: ViT's attention) is
// unrolled whole for the same reason, up to kMaxUnrolledPrivateStatic iterations.
//
//===----------------------------------------------------------------------===//
#include "passes/Bounds.h"
#include "passes/Passes.h"
#include "passes/ViewedBuffer.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace dlc {
#define GEN_PASS_DEF_DLCUNROLLTHREADLOOPS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// Iterations per thread up to which the loop is unrolled.
constexpr int64_t kMaxUnrolled = 16;
/// Iterations of a thread's own bounded tile loop up to which it is unrolled.
constexpr int64_t kMaxUnrolledPrivate = 4;
/// Iterations of a static loop that indexes a private buffer by its induction variable
/// up to which it is unrolled, and the ops of its body (nested ones included) times
/// its iterations at most.
constexpr int64_t kMaxUnrolledPrivateStatic = 32;
constexpr int64_t kMaxUnrolledPrivateOps = 4096;

/// Whether `v` is computed from `iv` inside `loop` (through at most `depth` ops).
bool dependsOn(Value v, Value iv, scf::ForOp loop, int depth = 8) {
  if (v == iv)
    return true;
  Operation *def = v.getDefiningOp();
  if (!def || depth == 0 || !loop->isProperAncestor(def))
    return false;
  return llvm::any_of(def->getOperands(),
                      [&](Value o) { return dependsOn(o, iv, loop, depth - 1); });
}

/// Whether `loop` reads or writes a private buffer (a memref.alloca, through its
/// views) at a place that depends on its induction variable: a thread's row of scores
/// or its chunk of a row, which LLVM keeps in registers only at constant indices.
bool indexesPrivateBuffer(scf::ForOp loop) {
  Value iv = loop.getInductionVar();
  WalkResult r = loop.getBody()->walk([&](Operation *op) {
    if (!isa<memref::LoadOp, memref::StoreOp, vector::LoadOp, vector::StoreOp>(op))
      return WalkResult::advance();
    Value memref = baseOf(op);
    if (!viewedBuffer(memref).getDefiningOp<memref::AllocaOp>())
      return WalkResult::advance();
    // The access's indices, and the offsets and sizes of the views on the way.
    SmallVector<Value> places(indicesOf(op));
    for (Value v = memref; Operation *def = v.getDefiningOp();) {
      auto view = dyn_cast<ViewLikeOpInterface>(def);
      if (!view)
        break;
      for (Value o : def->getOperands())
        if (o != view.getViewSource())
          places.push_back(o);
      v = view.getViewSource();
    }
    return llvm::any_of(places, [&](Value p) { return dependsOn(p, iv, loop); })
               ? WalkResult::interrupt()
               : WalkResult::advance();
  });
  return r.wasInterrupted();
}

/// The threads of `func`'s block when it is one-dimensional (dlc.block), or 0.
int64_t blockThreads(gpu::GPUFuncOp func) {
  auto block = func->getAttrOfType<DenseI64ArrayAttr>(attrs::kBlock);
  if (!block || block.empty() ||
      llvm::any_of(block.asArrayRef().drop_front(), [](int64_t d) { return d != 1; }))
    return 0;
  return block[0];
}

/// A copy of `loop`'s body (its terminator aside) for iteration `iv`, guarded by
/// `iv < ub`, at the insertion point (which stays after it).
scf::IfOp guardedIteration(IRRewriter &rw, scf::ForOp loop, Value iv, Value ub) {
  OpBuilder::InsertionGuard g(rw);
  Location loc = loop.getLoc();
  Value inside = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, iv, ub);
  auto guard = scf::IfOp::create(rw, loc, inside, /*withElseRegion=*/false);
  rw.setInsertionPoint(guard.thenBlock()->getTerminator());
  IRMapping map;
  map.map(loop.getInductionVar(), iv);
  for (Operation &op : loop.getBody()->without_terminator())
    rw.clone(op, map);
  return guard;
}

/// Rewrites `loop` (thread_id.x to `ub` step the block's threads) as a loop over the
/// thread's whole iterations, unrolled when short, and a last iteration guarded by
/// `< ub` when the step does not divide `ub`.
void unroll(IRRewriter &rw, scf::ForOp loop, Value tid, int64_t ub, int64_t step) {
  Location loc = loop.getLoc();
  int64_t whole = ub / step;
  rw.setInsertionPoint(loop);
  auto index = [&](int64_t v) { return arith::ConstantIndexOp::create(rw, loc, v).getResult(); };
  // thread_id.x + j * T does not wrap: nuw lets the index arithmetic of the body
  // split off the constant (see DivRemOfConstantOffset).
  auto iteration = [&](Value j) {
    return arith::AddIOp::create(rw, loc, tid, arith::MulIOp::create(rw, loc, j, index(step)),
                                 arith::IntegerOverflowFlags::nuw)
        .getResult();
  };
  // The last iteration, for the threads it still has elements for: a copy of the body.
  // The whole iterations go before it.
  if (ub % step)
    rw.setInsertionPoint(guardedIteration(rw, loop, iteration(index(whole)), index(ub)));
  Block *body = loop.getBody();
  rw.eraseOp(body->getTerminator());
  if (whole == 0) {
    rw.eraseOp(loop);
    return;
  }
  auto perThread = scf::ForOp::create(rw, loc, index(0), index(whole), index(1));
  rw.setInsertionPointToStart(perThread.getBody());
  Value iv = iteration(perThread.getInductionVar());
  rw.inlineBlockBefore(body, perThread.getBody()->getTerminator(), ValueRange{iv});
  rw.eraseOp(loop);
  if (whole <= kMaxUnrolled)
    (void)loopUnrollFull(perThread);
}

/// Rewrites `loop` (`first` to `ub` step `step`, `ub` dynamic and at most `first +
/// bound`: thread_id.x to an edge tile's extent step the block's threads, or a
/// thread's own tile) as a guarded copy of its body per iteration it can have.
void unrollBounded(IRRewriter &rw, scf::ForOp loop, Value first, int64_t bound, int64_t step) {
  Location loc = loop.getLoc();
  rw.setInsertionPoint(loop);
  for (int64_t j = 0; j * step < bound; ++j) {
    Value offset = arith::ConstantIndexOp::create(rw, loc, j * step);
    Value iv = arith::AddIOp::create(rw, loc, first, offset, arith::IntegerOverflowFlags::nuw);
    guardedIteration(rw, loop, iv, loop.getUpperBound());
  }
  rw.eraseOp(loop);
}

/// (x +nuw c) / d = x / d +nuw c / d and (x +nuw c) % d = x % d when d divides c: an
/// unrolled iteration's delinearized indices become the first iteration's plus
/// constants, so that its loads and stores share one address register with
/// immediate offsets.
template <typename OpTy> struct DivRemOfConstantOffset : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rw) const override {
    auto add = op.getLhs().template getDefiningOp<arith::AddIOp>();
    std::optional<int64_t> d = getConstantIntValue(op.getRhs());
    if (!add || !d || *d <= 0 ||
        !bitEnumContainsAll(add.getOverflowFlags(), arith::IntegerOverflowFlags::nuw))
      return failure();
    Value x = add.getLhs();
    std::optional<int64_t> c = getConstantIntValue(add.getRhs());
    if (!c) {
      x = add.getRhs();
      c = getConstantIntValue(add.getLhs());
    }
    if (!c || *c < 0 || *c % *d)
      return failure();
    Location loc = op.getLoc();
    Value quotient = OpTy::create(rw, loc, x, op.getRhs());
    if (std::is_same_v<OpTy, arith::RemUIOp>) {
      rw.replaceOp(op, quotient);
      return success();
    }
    Value offset = arith::ConstantIndexOp::create(rw, loc, *c / *d);
    rw.replaceOpWithNewOp<arith::AddIOp>(op, quotient, offset, arith::IntegerOverflowFlags::nuw);
    return success();
  }
};

struct DlcUnrollThreadLoopsPass : impl::DlcUnrollThreadLoopsBase<DlcUnrollThreadLoopsPass> {
  void runOnOperation() override {
    SmallVector<scf::ForOp> loops;
    getOperation().walk([&](scf::ForOp loop) { loops.push_back(loop); });
    IRRewriter rw(&getContext());
    for (scf::ForOp loop : loops) {
      auto tid = loop.getLowerBound().getDefiningOp<gpu::ThreadIdOp>();
      auto func = loop->getParentOfType<gpu::GPUFuncOp>();
      std::optional<int64_t> ub = getConstantIntValue(loop.getUpperBound());
      std::optional<int64_t> step = getConstantIntValue(loop.getStep());
      // A static loop over a thread's private buffer (a contraction's row of scores
      // that its Softmax reads, one thread per row): unrolled, so that the buffer's
      // indices are constants and it stays in registers instead of local memory.
      if (std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound());
          func && lb && ub && step && *step > 0 && *ub > *lb) {
        int64_t trips = llvm::divideCeil(*ub - *lb, *step), ops = 0;
        loop.getBody()->walk([&](Operation *) { ++ops; });
        if (trips > 1 && trips <= kMaxUnrolledPrivateStatic &&
            ops * trips <= kMaxUnrolledPrivateOps && indexesPrivateBuffer(loop) &&
            succeeded(loopUnrollFull(loop)))
          continue;
      }
      // A loop over a thread's own tile whose extent is dynamic but bounded (its rows
      // of an edge block tile: at most 1 of `min(32, rows left)`): each iteration
      // guarded, so that the private buffers it indexes get constant indices and
      // LLVM keeps them in registers, not local memory.
      std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound());
      if (func && lb && step && *step > 0 && !ub && !loop.getNumRegionIterArgs()) {
        // The extent of a view of a private buffer (each op's temporary of the tile)
        // is the size it was cast to.
        if (auto dim = loop.getUpperBound().getDefiningOp<memref::DimOp>())
          if (auto cast = dim.getSource().getDefiningOp<memref::ReinterpretCastOp>())
            if (std::optional<int64_t> d = dim.getConstantIndex();
                d && *d >= 0 && *d < int64_t(cast.getMixedSizes().size()))
              if (auto size = dyn_cast<Value>(cast.getMixedSizes()[*d]))
                loop.getUpperBoundMutable().assign(size);
        FailureOr<int64_t> bound = constantUpperBound(loop.getUpperBound());
        if (succeeded(bound) && *bound > *lb &&
            llvm::divideCeil(*bound - *lb, *step) <= kMaxUnrolledPrivate) {
          unrollBounded(rw, loop, loop.getLowerBound(), *bound - *lb, *step);
          continue;
        }
      }
      if (!tid || tid.getDimension() != gpu::Dimension::x || !func || !step ||
          loop.getNumRegionIterArgs() || *step != blockThreads(func) || *step <= 0)
        continue;
      if (ub) {
        unroll(rw, loop, tid, *ub, *step);
        continue;
      }
      FailureOr<int64_t> bound = constantUpperBound(loop.getUpperBound());
      if (succeeded(bound) && *bound > 0 && llvm::divideCeil(*bound, *step) <= kMaxUnrolled)
        unrollBounded(rw, loop, tid, *bound, *step);
    }
    RewritePatternSet patterns(&getContext());
    patterns.add<DivRemOfConstantOffset<arith::DivUIOp>, DivRemOfConstantOffset<arith::RemUIOp>>(
        &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
} // namespace dlc
