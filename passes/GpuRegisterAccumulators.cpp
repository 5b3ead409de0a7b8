//===- GpuRegisterAccumulators.cpp - dlc-gpu-register-accumulators --------===//
//
// An fp32 (FMA) contraction tile keeps its accumulator in the block's shared memory:
// at every reduction step each thread's micro-tile (a 4 x 4 linalg.generic over the
// step's A and B buffers) loaded its 16 accumulator elements from shared memory and
// stored them back once per k, 2 x 16 x 16 shared accesses a step beside the 8 x 16
// operand loads that do the work. Tensor-core tiles carry their fragments in registers
// (dlc-gpu-mma); here the FMA tiles do too.
//
// A micro-tile is a linalg.generic with a reduction, directly in a loop with a barrier
// (the tile's steps), static and small (at most kMaxElements accumulator elements and
// kMaxPoints iteration points), whose output is a view defined outside the loop of a
// buffer nothing else in the loop touches. Its accumulator elements become values the
// loop carries: loaded from the view before the loop (after a barrier: the block's
// threads filled the buffer, each its own elements, which are not this thread's), the
// generic unrolled point by point in its loop order (each element's updates in the
// order the loop made them, so the sums are the same), its operands loaded once per
// element, and stored to the view after the loop, where the epilogue reads them;
// dlc-gpu-register-epilogue, run again after this pass, then applies the epilogue to
// those values, and the tile's shared accumulator goes. The micro-tile is found before
// the thread loops are unrolled: a thread loop of one iteration (`thread_id.x to T step
// T`, a block of T threads) is inlined first and loop-invariant code hoisted, so that
// its view, made from the thread id, leaves the step loop.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/ViewedBuffer.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

#include "dialects/DlcDialect.h"

#include <map>

namespace dlc {
#define GEN_PASS_DEF_DLCGPUREGISTERACCUMULATORS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// Accumulator elements a thread may keep in registers (an 8 x 8 micro-tile).
constexpr int64_t kMaxElements = 64;
/// Iteration points a micro-tile may be unrolled into.
constexpr int64_t kMaxPoints = 4096;

/// Whether `op` (inside `loop`) or any op nested in it uses a view of `buffer`.
bool touches(Operation *op, Value buffer) {
  WalkResult r = op->walk([&](Operation *inner) {
    for (Value v : inner->getOperands())
      if (isa<MemRefType>(v.getType()) && viewedBuffer(v) == buffer)
        return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return r.wasInterrupted();
}

/// The micro-tile `g` in `loop` whose accumulator may live in registers, per the file
/// comment; its loop ranges in `ranges`.
bool eligible(scf::ForOp loop, linalg::GenericOp g, SmallVectorImpl<int64_t> &ranges) {
  if (g->getParentOp() != loop || !g.hasPureBufferSemantics() || g.getNumDpsInits() != 1 ||
      g.getNumReductionLoops() == 0 || g->getNumResults() != 0)
    return false;
  Value init = g.getDpsInitOperand(0)->get();
  auto type = dyn_cast<MemRefType>(init.getType());
  if (!type || !type.hasStaticShape() || type.getNumElements() > kMaxElements ||
      !type.getElementType().isIntOrFloat() ||
      loop->isAncestor(init.getParentBlock()->getParentOp()))
    return false;
  ranges = g.getStaticLoopRanges();
  int64_t points = 1;
  for (int64_t r : ranges) {
    if (ShapedType::isDynamic(r) || r <= 0)
      return false;
    points *= r;
    if (points > kMaxPoints)
      return false;
  }
  // The payload computes values only: no memory writes, no regions.
  for (Operation &op : g.getRegion().front().without_terminator())
    if (op.getNumRegions() != 0 || (!isMemoryEffectFree(&op) && !isa<memref::LoadOp>(op)))
      return false;
  Value buffer = viewedBuffer(init);
  for (Operation &op : loop.getBody()->without_terminator())
    if (&op != g.getOperation() && touches(&op, buffer))
      return false;
  return true;
}

/// The constant results of `map` at the iteration point `point`.
SmallVector<int64_t> evaluate(AffineMap map, ArrayRef<int64_t> point) {
  SmallVector<int64_t> out;
  for (AffineExpr e : map.getResults()) {
    AffineExpr folded = e.replaceDims(llvm::to_vector(llvm::map_range(
        point, [&](int64_t v) { return getAffineConstantExpr(v, map.getContext()); })));
    out.push_back(cast<AffineConstantExpr>(folded).getValue());
  }
  return out;
}

int64_t flatIndex(ArrayRef<int64_t> shape, ArrayRef<int64_t> indices) {
  int64_t flat = 0;
  for (auto [d, i] : llvm::zip(shape, indices))
    flat = flat * d + i;
  return flat;
}

class Rewriter {
public:
  Rewriter(IRRewriter &rw, Location loc) : rw(rw), loc(loc) {}

  Value index(int64_t v) {
    Value &c = constants[v];
    if (!c)
      c = arith::ConstantIndexOp::create(rw, loc, v);
    return c;
  }
  SmallVector<Value> indices(ArrayRef<int64_t> values) {
    return llvm::to_vector(llvm::map_range(values, [&](int64_t v) { return index(v); }));
  }

  /// The generic `g` unrolled onto the accumulator values `acc` (row-major over the
  /// init's shape), at the rewriter's insertion point; returns the final values.
  SmallVector<Value> unroll(linalg::GenericOp g, ArrayRef<int64_t> ranges, ValueRange acc) {
    SmallVector<Value> values(acc.begin(), acc.end());
    Value init = g.getDpsInitOperand(0)->get();
    ArrayRef<int64_t> shape = cast<MemRefType>(init.getType()).getShape();
    SmallVector<AffineMap> maps = g.getIndexingMapsArray();
    Block &body = g.getRegion().front();
    std::map<std::pair<unsigned, SmallVector<int64_t>>, Value> loads;
    SmallVector<int64_t> point(ranges.size(), 0);
    for (;;) {
      IRMapping mapping;
      for (OpOperand *in : g.getDpsInputOperands()) {
        unsigned n = in->getOperandNumber();
        BlockArgument arg = body.getArgument(n);
        if (!isa<MemRefType>(in->get().getType())) {
          mapping.map(arg, in->get());
          continue;
        }
        SmallVector<int64_t> at = evaluate(maps[n], point);
        Value &loaded = loads[{n, at}];
        if (!loaded)
          loaded = memref::LoadOp::create(rw, loc, in->get(), indices(at));
        mapping.map(arg, loaded);
      }
      int64_t e = flatIndex(shape, evaluate(maps.back(), point));
      mapping.map(body.getArgument(g.getNumDpsInputs()), values[e]);
      for (Operation &op : body.without_terminator()) {
        if (auto idx = dyn_cast<linalg::IndexOp>(op)) {
          mapping.map(idx.getResult(), index(point[idx.getDim()]));
          continue;
        }
        rw.clone(op, mapping);
      }
      values[e] = mapping.lookupOrDefault(body.getTerminator()->getOperand(0));
      // The next point, the last loop fastest (the generic's loop order).
      int64_t d = static_cast<int64_t>(ranges.size()) - 1;
      for (; d >= 0; --d) {
        if (++point[d] < ranges[d])
          break;
        point[d] = 0;
      }
      if (d < 0)
        return values;
    }
  }

private:
  IRRewriter &rw;
  Location loc;
  std::map<int64_t, Value> constants;
};

/// Carries the accumulator of micro-tile `g` through `loop` in registers.
void carryInRegisters(IRRewriter &rw, scf::ForOp loop, linalg::GenericOp g,
                      ArrayRef<int64_t> ranges) {
  Location loc = g.getLoc();
  Value init = g.getDpsInitOperand(0)->get();
  auto type = cast<MemRefType>(init.getType());
  SmallVector<SmallVector<int64_t>> elements;
  for (int64_t e = 0; e < type.getNumElements(); ++e) {
    SmallVector<int64_t> at(type.getRank());
    for (int64_t d = type.getRank() - 1, rest = e; d >= 0; --d) {
      at[d] = rest % type.getDimSize(d);
      rest /= type.getDimSize(d);
    }
    elements.push_back(at);
  }
  rw.setInsertionPoint(loop);
  // The block's threads wrote the buffer before the loop, each its own elements: the
  // first step's barrier ordered those writes before this thread's reads.
  bool barrier = false;
  loop.getBody()->walk([&](gpu::BarrierOp) { barrier = true; });
  if (barrier)
    gpu::BarrierOp::create(rw, loc);
  Rewriter before(rw, loc);
  SmallVector<Value> initial;
  for (ArrayRef<int64_t> at : elements)
    initial.push_back(memref::LoadOp::create(rw, loc, init, before.indices(at)));
  unsigned first = loop.getNumResults();
  auto carried = cast<scf::ForOp>(*loop.replaceWithAdditionalYields(
      rw, initial, /*replaceInitOperandUsesInLoop=*/false,
      [&](OpBuilder &, Location, ArrayRef<BlockArgument> args) -> SmallVector<Value> {
        rw.setInsertionPoint(g);
        Rewriter inside(rw, loc);
        SmallVector<Value> values(args.begin(), args.end());
        SmallVector<Value> result = inside.unroll(g, ranges, values);
        rw.eraseOp(g);
        return result;
      }));
  rw.setInsertionPointAfter(carried);
  Rewriter after(rw, loc);
  for (auto [i, at] : llvm::enumerate(elements))
    memref::StoreOp::create(rw, loc, carried.getResult(first + i), init, after.indices(at));
}

/// Inlines each loop `for i = thread_id.x to T step T` of a kernel of T threads (one
/// iteration, i = thread_id.x), so that a micro-tile's view, made from i, can leave the
/// step loop (loop-invariant code motion follows).
void inlineOneIterationThreadLoops(IRRewriter &rw, gpu::GPUFuncOp func) {
  auto block = func->getAttrOfType<DenseI64ArrayAttr>(attrs::kBlock);
  if (!block || block.size() != 1)
    return;
  int64_t threads = block[0];
  SmallVector<scf::ForOp> loops;
  func.walk([&](scf::ForOp loop) {
    if (loop.getLowerBound().getDefiningOp<gpu::ThreadIdOp>() && loop.getNumResults() == 0 &&
        getConstantIntValue(loop.getStep()) == threads &&
        getConstantIntValue(loop.getUpperBound()) == threads)
      loops.push_back(loop);
  });
  for (scf::ForOp loop : loops) {
    Block *body = loop.getBody();
    rw.eraseOp(body->getTerminator());
    rw.inlineBlockBefore(body, loop, ValueRange{loop.getLowerBound()});
    rw.eraseOp(loop);
  }
  func.walk([&](scf::ForOp loop) { moveLoopInvariantCode(loop); });
}

struct GpuRegisterAccumulators : impl::DlcGpuRegisterAccumulatorsBase<GpuRegisterAccumulators> {
  void runOnOperation() override {
    IRRewriter rw(&getContext());
    getOperation()->walk([&](gpu::GPUFuncOp f) { inlineOneIterationThreadLoops(rw, f); });
    // Collected first: carrying one tile's accumulators replaces its loop, so each is
    // checked against its loop as it is then.
    SmallVector<linalg::GenericOp> generics;
    getOperation()->walk([&](linalg::GenericOp g) {
      if (isa<scf::ForOp>(g->getParentOp()))
        generics.push_back(g);
    });
    for (linalg::GenericOp g : generics) {
      auto loop = cast<scf::ForOp>(g->getParentOp());
      SmallVector<int64_t> ranges;
      if (eligible(loop, g, ranges))
        carryInRegisters(rw, loop, g, ranges);
    }
  }
};

} // namespace
} // namespace dlc
