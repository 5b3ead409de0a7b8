//===- GpuRegisterEpilogue.cpp - The dlc-gpu-register-epilogue pass --------===//
//
// A tensor-core tile whose accumulator dlc-gpu-mma keeps in registers over the K loop
// still went through the block's shared accumulator buffer at both ends: the block's
// threads filled it with the contraction's initial value, the lanes loaded their
// fragments from it, stored them back after the loop, and after a barrier the block's
// threads ran the epilogue (bias, activation, the copy to the output) over it, one
// element a thread in turn. The buffer (32 KiB for a 64 x 128 f32 tile) took most of
// the block's shared memory, and its round trip two barriers and two passes through
// shared memory per tile.
//
// Here each lane applies the epilogue to its own fragments: for every fragment the
// lanes stored, the epilogue's loop body is cloned with the element's coordinates in
// place of those the loop derived from its induction variable, reading the fragment's
// value (through a one-element local buffer, which LLVM promotes to a register) where
// it read the shared element; the initial fragments are the fill's value; the fill,
// the stores, the epilogue loop and the buffer go.
//
// It applies to a workgroup buffer used only so: a thread loop filling it with one
// value, fragment loads before and stores after (in the block holding the epilogue
// loop, outside any loop), and a thread loop over the elements of one of its views
// (`for i = thread_id.x to n step blockThreads`, the view's indices the mixed-radix
// digits of i) reading one element a time. A fragment outside that view (a tile's
// padding past the output's edge) or past `n` is skipped, as the loop skipped it.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/ViewedBuffer.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace dlc {
#define GEN_PASS_DEF_DLCGPUREGISTEREPILOGUE
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// The unit-stride subviews (of the buffer's rank) from a buffer to a view of it,
/// outermost first; memory-space casts between them are skipped. Nullopt when the view
/// goes through anything else.
std::optional<SmallVector<memref::SubViewOp>> subviewChain(Value v, Value buffer) {
  SmallVector<memref::SubViewOp> chain;
  int64_t rank = cast<MemRefType>(buffer.getType()).getRank();
  while (v != buffer) {
    Operation *def = v.getDefiningOp();
    if (auto cast = dyn_cast_or_null<memref::MemorySpaceCastOp>(def)) {
      v = cast.getSource();
      continue;
    }
    auto sub = dyn_cast_or_null<memref::SubViewOp>(def);
    if (!sub || sub.getSourceType().getRank() != rank || sub.getType().getRank() != rank ||
        !llvm::all_of(sub.getMixedStrides(), [](OpFoldResult s) { return isOneInteger(s); }))
      return std::nullopt;
    chain.push_back(sub);
    v = sub.getSource();
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

/// Whether every subview of `chain` starts at 0.
bool atOrigin(ArrayRef<memref::SubViewOp> chain) {
  return llvm::all_of(chain, [](memref::SubViewOp s) {
    return llvm::all_of(s.getMixedOffsets(), [](OpFoldResult o) { return isZeroInteger(o); });
  });
}

/// The index in the buffer of `chain`'s view's element `index` along dim `d`.
Value bufferIndex(OpBuilder &b, Location loc, ArrayRef<memref::SubViewOp> chain, unsigned d,
                  Value index) {
  for (memref::SubViewOp s : llvm::reverse(chain)) {
    OpFoldResult o = s.getMixedOffsets()[d];
    if (!isZeroInteger(o))
      index = arith::AddIOp::create(b, loc, index, getValueOrCreateConstantIndexOp(b, loc, o));
  }
  return index;
}

/// Whether `indices` (a one-element view's offsets in a view of `sizes`) are the
/// mixed-radix digits of `iv`, innermost fastest: for each dim from the last, a
/// constant 0 where the size is 1, else `q % size` with `q` then `q / size`, the
/// outermost such dim `q` itself or `q % size`.
bool digitsOf(Value iv, ArrayRef<OpFoldResult> indices, ArrayRef<OpFoldResult> sizes) {
  int64_t outer = -1;
  for (int64_t d = indices.size() - 1; d >= 0; --d) {
    if (!isZeroInteger(indices[d]))
      outer = d;
    else if (!isOneInteger(sizes[d]))
      return false; // only element 0 of a longer dim
  }
  Value q = iv;
  for (int64_t d = indices.size() - 1; d >= 0; --d) {
    if (isZeroInteger(indices[d]))
      continue;
    auto index = dyn_cast<Value>(indices[d]);
    if (!index)
      return false;
    if (d == outer && index == q)
      return true;
    auto rem = index.getDefiningOp<arith::RemUIOp>();
    if (!rem || rem.getLhs() != q ||
        !isEqualConstantIntOrValue(getAsOpFoldResult(rem.getRhs()), sizes[d]))
      return false;
    if (d == outer)
      return true;
    Value next;
    for (Operation *user : q.getUsers())
      if (auto div = dyn_cast<arith::DivUIOp>(user))
        if (div.getLhs() == q &&
            isEqualConstantIntOrValue(getAsOpFoldResult(div.getRhs()), sizes[d]))
          next = div;
    if (!next)
      return false;
    q = next;
  }
  return outer < 0;
}

/// How a workgroup buffer is used, when this pass applies to it (see the file comment).
struct AccumulatorUses {
  Value fillValue;
  scf::ForOp fillLoop, epilogue;
  SmallVector<memref::LoadOp> loads;
  SmallVector<memref::StoreOp> stores;
  /// Each store's chain of subviews from the buffer.
  SmallVector<SmallVector<memref::SubViewOp>> storeChains;
  /// The epilogue's one-element view, the chain of the view it indexes and that
  /// view's sizes.
  memref::SubViewOp element;
  SmallVector<memref::SubViewOp> epilogueChain;
  SmallVector<OpFoldResult> viewSizes;
  /// Every view of the buffer, outer views before the views of them.
  SmallVector<Operation *> views;
};

/// The ops of `loop`'s body other than `keep` and views of memrefs have no memory
/// effects (index arithmetic).
bool onlyIndexMath(scf::ForOp loop, Operation *keep) {
  WalkResult r = loop.getBody()->walk([&](Operation *op) {
    if (op == keep || isa<memref::SubViewOp, scf::YieldOp>(op) || isPure(op))
      return WalkResult::advance();
    return WalkResult::interrupt();
  });
  return !r.wasInterrupted();
}

/// Whether `loop` deals [0, n) to the block's threads: from thread_id.x by the block's
/// thread count.
bool threadLoop(scf::ForOp loop, int64_t blockThreads) {
  auto tid = loop.getLowerBound().getDefiningOp<gpu::ThreadIdOp>();
  return tid && tid.getDimension() == gpu::Dimension::x &&
         getConstantIntValue(loop.getStep()) == blockThreads;
}

std::optional<AccumulatorUses> accumulatorUses(BlockArgument buffer, int64_t blockThreads) {
  AccumulatorUses u;
  SmallVector<Value> worklist{buffer};
  SmallVector<Operation *> users;
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    for (Operation *user : v.getUsers()) {
      if (isa<memref::MemorySpaceCastOp, memref::SubViewOp>(user)) {
        worklist.push_back(user->getResult(0));
        u.views.push_back(user);
        continue;
      }
      users.push_back(user);
    }
  }
  for (Operation *user : users) {
    if (auto fill = dyn_cast<linalg::FillOp>(user)) {
      auto loop = dyn_cast<scf::ForOp>(fill->getParentOp());
      if (!loop || (u.fillLoop && u.fillLoop != loop) || !threadLoop(loop, blockThreads) ||
          !onlyIndexMath(loop, fill) ||
          loop->isAncestor(fill.getInputs()[0].getParentBlock()->getParentOp()))
        return std::nullopt;
      if (u.fillValue && u.fillValue != fill.getInputs()[0])
        return std::nullopt;
      u.fillLoop = loop;
      u.fillValue = fill.getInputs()[0];
      continue;
    }
    if (auto load = dyn_cast<memref::LoadOp>(user)) {
      u.loads.push_back(load);
      continue;
    }
    if (auto store = dyn_cast<memref::StoreOp>(user)) {
      u.stores.push_back(store);
      continue;
    }
    // The epilogue's element, read by linalg ops only.
    auto loop = dyn_cast<scf::ForOp>(user->getParentOp());
    auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
    if (!loop || !linalgOp || (u.epilogue && u.epilogue != loop))
      return std::nullopt;
    for (OpOperand &o : user->getOpOperands())
      if (isa<BaseMemRefType>(o.get().getType()) && viewedBuffer(o.get()) == buffer) {
        auto element = o.get().getDefiningOp<memref::SubViewOp>();
        if (!element || element->getBlock() != loop.getBody() || !linalgOp.isDpsInput(&o) ||
            (u.element && u.element != element))
          return std::nullopt;
        u.element = element;
      }
    u.epilogue = loop;
  }
  if (!u.fillLoop || !u.epilogue || !u.element || u.stores.empty() ||
      !threadLoop(u.epilogue, blockThreads))
    return std::nullopt;
  Block *top = u.epilogue->getBlock();
  if (u.fillLoop->getBlock() != top ||
      llvm::any_of(u.stores, [&](memref::StoreOp s) { return s->getBlock() != top; }))
    return std::nullopt;
  // In program order (the use lists hold them in no particular one).
  llvm::sort(u.stores, [](memref::StoreOp a, memref::StoreOp b) { return a->isBeforeInBlock(b); });
  // Loads before the stores, stores before the epilogue, all in its block, after the fill.
  for (memref::LoadOp load : u.loads)
    if (load->getBlock() != top || !u.fillLoop->isBeforeInBlock(load) ||
        llvm::any_of(u.stores, [&](memref::StoreOp s) {
          return s->getBlock() != top || !load->isBeforeInBlock(s);
        }))
      return std::nullopt;
  for (memref::StoreOp store : u.stores)
    if (store->getBlock() != top || !store->isBeforeInBlock(u.epilogue) ||
        !u.fillLoop->isBeforeInBlock(store))
      return std::nullopt;
  // Every one-element view in the epilogue loop is `element`; it indexes a view defined
  // outside the loop by the loop's digits.
  if (!llvm::all_of(u.element.getMixedSizes(), [](OpFoldResult s) { return isOneInteger(s); }))
    return std::nullopt;
  Value base = u.element.getSource();
  if (u.epilogue->isAncestor(base.getParentBlock()->getParentOp()))
    return std::nullopt;
  std::optional<SmallVector<memref::SubViewOp>> chain = subviewChain(base, buffer);
  if (!chain)
    return std::nullopt;
  u.epilogueChain = *chain;
  u.viewSizes = chain->empty()
                    ? getAsIndexOpFoldResult(buffer.getContext(),
                                             cast<MemRefType>(buffer.getType()).getShape())
                    : chain->back().getMixedSizes();
  if (!digitsOf(u.epilogue.getInductionVar(), u.element.getMixedOffsets(), u.viewSizes))
    return std::nullopt;
  for (memref::StoreOp store : u.stores) {
    std::optional<SmallVector<memref::SubViewOp>> storeChain =
        subviewChain(store.getMemRef(), buffer);
    if (!storeChain)
      return std::nullopt;
    u.storeChains.push_back(std::move(*storeChain));
  }
  // The epilogue reads no other shared memory (what other threads wrote there would
  // need the barriers that go) and writes none.
  WalkResult other = u.epilogue.getBody()->walk([&](Operation *op) {
    for (Value o : op->getOperands())
      if (isa<BaseMemRefType>(o.getType())) {
        Value b = viewedBuffer(o);
        if (b != buffer && !viewsKernelArgument(o) && !b.getDefiningOp<memref::AllocaOp>())
          return WalkResult::interrupt();
      }
    return WalkResult::advance();
  });
  if (other.wasInterrupted())
    return std::nullopt;
  return u;
}

/// Applies the epilogue to the stored fragments (see the file comment) and removes the
/// buffer's uses.
void rewrite(IRRewriter &rw, BlockArgument buffer, AccumulatorUses &u) {
  scf::ForOp loop = u.epilogue;
  Location loc = loop.getLoc();
  auto bufferType = cast<MemRefType>(buffer.getType());
  int64_t rank = bufferType.getRank();
  ArrayRef<OpFoldResult> sizes = u.viewSizes;
  // The view's dims where a fragment may fall outside it, and whether the loop may end
  // before its last element.
  bool origin = atOrigin(u.epilogueChain);
  SmallVector<bool> guardDim(rank);
  int64_t elements = 1;
  for (int64_t d = 0; d < rank; ++d) {
    std::optional<int64_t> s = getConstantIntValue(sizes[d]);
    guardDim[d] = !origin || s != bufferType.getDimSize(d);
    elements = s && elements > 0 ? elements * *s : -1;
  }
  std::optional<int64_t> ub = getConstantIntValue(loop.getUpperBound());
  bool guardEnd = !(ub && elements > 0 && *ub >= elements);
  SmallVector<Value> indexValues;
  for (OpFoldResult o : u.element.getMixedOffsets())
    indexValues.push_back(dyn_cast<Value>(o));

  // What lies between the fragments' stores and the epilogue: barriers that ordered the
  // buffer's stores before its reads go, when nothing else there touches memory.
  Operation *first = u.stores.front();
  SmallVector<Operation *> barriers;
  bool quiet = true;
  for (Operation *op = first; op != loop.getOperation() && quiet; op = op->getNextNode()) {
    if (isa<gpu::BarrierOp>(op))
      barriers.push_back(op);
    else if (auto s = dyn_cast<memref::StoreOp>(op))
      quiet = llvm::is_contained(u.stores, s);
    else
      quiet = isPure(op);
  }
  rw.setInsertionPoint(loop);
  Type element = bufferType.getElementType();
  auto local = MemRefType::get(SmallVector<int64_t>(rank, 1), element);
  Value zero = arith::ConstantIndexOp::create(rw, loc, 0);
  SmallVector<Value> zeros(rank, zero);
  for (auto [store, chain] : llvm::zip(u.stores, u.storeChains)) {
    // The fragment's place in the epilogue's view, and its ordinal there.
    SmallVector<Value> at;
    Value lin = zero, cond;
    auto require = [&](Value in) {
      cond = cond ? arith::AndIOp::create(rw, loc, cond, in).getResult() : in;
    };
    for (int64_t d = 0; d < rank; ++d) {
      Value w = bufferIndex(rw, loc, chain, d, store.getIndices()[d]);
      for (memref::SubViewOp s : u.epilogueChain) {
        OpFoldResult o = s.getMixedOffsets()[d];
        if (!isZeroInteger(o))
          w = arith::SubIOp::create(rw, loc, w, getValueOrCreateConstantIndexOp(rw, loc, o));
      }
      at.push_back(w);
      Value size = getValueOrCreateConstantIndexOp(rw, loc, sizes[d]);
      lin = arith::AddIOp::create(rw, loc, arith::MulIOp::create(rw, loc, lin, size), w);
      if (guardDim[d])
        require(arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, w, size));
    }
    if (guardEnd)
      require(arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, lin, loop.getUpperBound()));
    OpBuilder::InsertionGuard guard(rw);
    if (cond) {
      auto ifOp = scf::IfOp::create(rw, loc, cond, /*withElseRegion=*/false);
      rw.setInsertionPointToStart(ifOp.thenBlock());
    }
    Value one = memref::AllocaOp::create(rw, loc, local);
    memref::StoreOp::create(rw, loc, store.getValueToStore(), one, zeros);
    IRMapping map;
    map.map(loop.getInductionVar(), lin);
    for (int64_t d = 0; d < rank; ++d)
      if (indexValues[d])
        map.map(indexValues[d], at[d]);
    map.map(u.element.getResult(), one);
    for (Operation &op : loop.getBody()->without_terminator()) {
      if (&op == u.element.getOperation() ||
          (op.getNumResults() &&
           llvm::all_of(op.getResults(), [&](Value r) { return map.contains(r); })))
        continue;
      rw.clone(op, map);
    }
  }
  // The buffer's views outside the loops that go (those in them go with them).
  SmallVector<Operation *> views;
  for (Operation *view : u.views)
    if (!loop->isAncestor(view) && !u.fillLoop->isAncestor(view))
      views.push_back(view);
  rw.eraseOp(loop);
  for (memref::StoreOp s : u.stores)
    rw.eraseOp(s);
  if (quiet)
    for (Operation *b : barriers)
      rw.eraseOp(b);
  for (memref::LoadOp load : u.loads)
    rw.replaceOp(load, u.fillValue);
  rw.eraseOp(u.fillLoop);
  // Those now unused, innermost first.
  for (Operation *view : llvm::reverse(views))
    if (view->use_empty())
      rw.eraseOp(view);
}

/// Removes workgroup attribution `arg` (unused) of `func`.
void eraseWorkgroupBuffer(gpu::GPUFuncOp func, BlockArgument arg) {
  unsigned first = func.getFirstWorkgroupAttributionIndex();
  unsigned index = arg.getArgNumber() - first, count = func.getNumWorkgroupAttributions();
  func.getBody().front().eraseArgument(arg.getArgNumber());
  auto countAttr =
      func->getAttrOfType<IntegerAttr>(gpu::GPUFuncOp::getNumWorkgroupAttributionsAttrName());
  func->setAttr(gpu::GPUFuncOp::getNumWorkgroupAttributionsAttrName(),
                IntegerAttr::get(countAttr.getType(), count - 1));
  if (ArrayAttr attrs = func.getWorkgroupAttribAttrsAttr()) {
    SmallVector<Attribute> kept(attrs.begin(), attrs.end());
    if (index < kept.size())
      kept.erase(kept.begin() + index);
    func.setWorkgroupAttribAttrsAttr(ArrayAttr::get(func.getContext(), kept));
  }
}

struct DlcGpuRegisterEpiloguePass : impl::DlcGpuRegisterEpilogueBase<DlcGpuRegisterEpiloguePass> {
  void runOnOperation() override {
    IRRewriter rw(&getContext());
    getOperation().walk([&](gpu::GPUFuncOp func) {
      auto block = func->getAttrOfType<DenseI64ArrayAttr>(attrs::kBlock);
      if (!block || block.empty() ||
          llvm::any_of(block.asArrayRef().drop_front(), [](int64_t d) { return d != 1; }))
        return;
      SmallVector<BlockArgument> buffers(func.getWorkgroupAttributions());
      for (BlockArgument buffer : llvm::reverse(buffers)) {
        std::optional<AccumulatorUses> uses = accumulatorUses(buffer, block[0]);
        if (!uses)
          continue;
        rewrite(rw, buffer, *uses);
        if (buffer.use_empty())
          eraseWorkgroupBuffer(func, buffer);
      }
    });
  }
};

} // namespace
} // namespace dlc
