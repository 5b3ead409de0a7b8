//===- VectorizeThreadTiles.cpp - The dlc-vectorize-thread-tiles pass -----===//
//
// A thread of an elementwise GPU kernel computes V neighbours along the innermost
// output dim, 128 bits of them (dlc-gpu-select-tiling: 4 of 32 bits, 8 of 16), so
// after dlc-map-to-gpu its generics work on memrefs of static shape [1, ..., 1, V].
// Each becomes vector code: an operand that walks its innermost dim with the
// generic's innermost loop is one vector.load or vector.store of V elements, any
// other operand a scalar load broadcast, and the body is applied lane by lane
// (passes/VectorBody.h). A thread's partial reduction over a static chunk of 2 to 8
// (a cooperative row's first phase: 1024 columns over 256 threads give chunks of 4)
// is vectorized likewise, its lanes folded onto the output element by an ordered
// vector.reduction (the loop's order). A thread's linalg.copy from a global buffer
// (a Slice; a contraction step's slice into shared memory, 128 bits a thread) is made
// a generic first and vectorized likewise.
//
// An access whose address is provably a multiple of 16 bytes (or of its V elements'
// bytes, if fewer) carries that alignment, so NVPTX emits one ld.global.v4.b32 /
// st.global.v4.b32 (128 bits) instead of scalar accesses (without it LLVM may only
// assume the element's alignment).
// The proof (`offsetDivisor`): the buffer is a kernel argument (the runtimes align
// every buffer to 16 bytes or more: weights, the arena and inputs; 64 on the GPU) or
// an alloca aligned to 16 or more, and every offset added on the way (subview
// offsets times static strides, the access's own indices) is a known multiple of the
// alignment claimed (at most 16 bytes): constants, products and sums of such, tile
// offsets `id * 4`.
//
//===----------------------------------------------------------------------===//
#include "passes/Bounds.h"
#include "passes/Passes.h"
#include "passes/VectorBody.h"
#include "passes/ViewedBuffer.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/MathExtras.h"

#include <numeric>

namespace dlc {
#define GEN_PASS_DEF_DLCVECTORIZETHREADTILES
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// The largest power of two this analysis tracks (more than any alignment it claims).
constexpr int64_t kMaxDivisor = kMaxKnownDivisor;
/// The most alignment an access claims (a 128-bit access; the runtimes align every
/// buffer to 16 bytes or more: 64 on the GPU).
constexpr int64_t kMaxAlignBytes = 16;
/// The most unrolled iterations of a generic's outer loops.
constexpr int64_t kMaxOuterIterations = 4;

/// Per dimension of `m`, a power of two known to divide its stride (in elements): a
/// static stride's, else what the views it comes from say (a dynamic stride of a
/// buffer of identity layout is the product of the sizes inside it: of
/// memref<?x?x64xf32>'s first dimension, a multiple of 64).
SmallVector<int64_t> strideDivisors(Value m, int depth = 0) {
  auto type = cast<MemRefType>(m.getType());
  auto [strides, offset] = type.getStridesAndOffset();
  (void)offset;
  SmallVector<int64_t> divisors;
  for (int64_t stride : strides)
    divisors.push_back(ShapedType::isDynamic(stride) ? 1 : divisorOfConstant(stride));
  if (llvm::all_of(strides, [](int64_t s) { return !ShapedType::isDynamic(s); }) || depth > 16)
    return divisors;
  if (type.getLayout().isIdentity()) {
    int64_t inner = 1;
    for (int64_t d = type.getRank() - 1; d >= 0; --d) {
      divisors[d] = std::max(divisors[d], inner);
      int64_t size = type.getDimSize(d);
      inner = std::min(kMaxDivisor,
                       inner * (ShapedType::isDynamic(size) ? 1 : divisorOfConstant(size)));
    }
    return divisors;
  }
  Operation *def = m.getDefiningOp();
  // A buffer seen with strides of known divisors (a versioned loop's, below).
  if (auto rc = dyn_cast_or_null<memref::ReinterpretCastOp>(def)) {
    for (auto [d, stride] : llvm::enumerate(rc.getMixedStrides()))
      if (d < divisors.size())
        divisors[d] = std::max(divisors[d], isa<Attribute>(stride)
                                                ? divisorOfConstant(*getConstantIntValue(stride))
                                                : knownDivisor(cast<Value>(stride)));
    return divisors;
  }
  if (isa_and_nonnull<memref::CastOp, memref::MemorySpaceCastOp>(def)) {
    SmallVector<int64_t> source = strideDivisors(def->getOperand(0), depth + 1);
    if (source.size() == divisors.size())
      for (auto [d, s] : llvm::zip(divisors, source))
        d = std::max(d, s);
    return divisors;
  }
  auto view = dyn_cast_or_null<memref::SubViewOp>(def);
  if (!view)
    return divisors;
  SmallVector<int64_t> source = strideDivisors(view.getSource(), depth + 1);
  llvm::SmallBitVector dropped = view.getDroppedDims();
  int64_t r = 0;
  for (auto [d, step] : llvm::enumerate(view.getMixedStrides())) {
    if (dropped.test(d))
      continue;
    int64_t s = isa<Attribute>(step) ? divisorOfConstant(*getConstantIntValue(step))
                                     : knownDivisor(cast<Value>(step));
    if (r < int64_t(divisors.size()))
      divisors[r] = std::max(divisors[r], std::min(kMaxDivisor, source[d] * s));
    ++r;
  }
  return divisors;
}

/// A power of two known to divide the element offset of `m`'s first element from an
/// address aligned to 16 bytes or more; 1 when nothing is known.
int64_t offsetDivisor(Value m, int depth = 0) {
  if (depth > 16)
    return 1;
  if (auto arg = dyn_cast<BlockArgument>(m)) {
    // A kernel argument (or a workgroup attribution, aligned to 16 bytes).
    Operation *owner = arg.getOwner()->getParentOp();
    bool entry = arg.getOwner()->isEntryBlock() && isa<gpu::GPUFuncOp, func::FuncOp>(owner);
    auto type = dyn_cast<MemRefType>(m.getType());
    return entry && type && type.getLayout().isIdentity() ? kMaxDivisor : 1;
  }
  Operation *def = m.getDefiningOp();
  if (auto alloca = dyn_cast_or_null<memref::AllocaOp>(def))
    return alloca.getAlignment().value_or(0) >= 16 && alloca.getType().getLayout().isIdentity()
               ? kMaxDivisor
               : 1;
  if (isa_and_nonnull<memref::CollapseShapeOp, memref::ExpandShapeOp, memref::CastOp,
                      memref::MemorySpaceCastOp>(def))
    return offsetDivisor(def->getOperand(0), depth + 1);
  // The source's buffer from a static offset (its aligned base when the source is a
  // kernel argument or an aligned alloca: identity layouts).
  if (auto rc = dyn_cast_or_null<memref::ReinterpretCastOp>(def)) {
    auto source = cast<MemRefType>(rc.getSource().getType());
    std::optional<int64_t> offset = getConstantIntValue(rc.getMixedOffsets()[0]);
    if (!offset || !source.getLayout().isIdentity())
      return 1;
    return std::min(offsetDivisor(rc.getSource(), depth + 1), divisorOfConstant(*offset));
  }
  auto view = dyn_cast_or_null<memref::SubViewOp>(def);
  if (!view)
    return 1;
  int64_t divisor = offsetDivisor(view.getSource(), depth + 1);
  for (auto [o, s] : llvm::zip(view.getMixedOffsets(), strideDivisors(view.getSource()))) {
    int64_t d = isa<Attribute>(o) ? divisorOfConstant(*getConstantIntValue(o))
                                  : knownDivisor(cast<Value>(o));
    divisor = std::min(divisor, std::min(kMaxDivisor, d * s));
  }
  return divisor;
}

/// Asserts at run time that the element `idx` of `m` lies at a multiple of `align`
/// bytes.
void assertAligned(OpBuilder &b, Location loc, Value m, ValueRange idx, llvm::Align align) {
  Value addr = elementAddress(b, loc, m, idx);
  Value rem =
      arith::RemUIOp::create(b, loc, addr, arith::ConstantIndexOp::create(b, loc, align.value()));
  Value ok = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, rem,
                                   arith::ConstantIndexOp::create(b, loc, 0));
  cf::AssertOp::create(b, loc, ok, "dlc-vectorize-thread-tiles: a vector access is not aligned");
}

/// The alignment a `lanes`-element access of `m` at `idx` provably has (at most 16
/// bytes), or none: the first element's offset and each index times its stride.
llvm::MaybeAlign accessAlign(Value m, ArrayRef<Value> idx, int64_t lanes) {
  auto type = cast<MemRefType>(m.getType());
  int64_t divisor = offsetDivisor(m);
  for (auto [i, s] : llvm::zip(idx, strideDivisors(m))) {
    int64_t d = knownDivisor(i);
    if (d < kMaxDivisor)
      d *= s;
    divisor = std::min(divisor, std::min(kMaxDivisor, d));
  }
  // At most 16 bytes: the widest access (128 bits; 8 lanes of f32 are two), and
  // what every buffer is aligned to on the GPU and in its emulation on the CPU.
  int64_t bytes = std::min<int64_t>(kMaxAlignBytes, lanes * type.getElementTypeBitWidth() / 8);
  int64_t elementBytes = type.getElementTypeBitWidth() / 8;
  if (elementBytes > 0 && llvm::isPowerOf2_64(bytes) && bytes % elementBytes == 0 &&
      divisor >= bytes / elementBytes)
    return llvm::Align(bytes);
  return std::nullopt;
}

/// Rewrites `g` into vector code (see the file comment); false when it does not apply.
bool vectorize(linalg::GenericOp g, bool verifyAlignment) {
  if (!g.hasPureBufferSemantics() || g.getNumDpsInits() != 1 || g.getNumDpsInputs() == 0 ||
      g.getNumLoops() == 0 || !isElementwiseScalarBody(*g.getBlock()))
    return false;
  unsigned inner = g.getNumLoops() - 1;
  // A thread's partial reduction over its chunk (a cooperative row's first phase): the
  // innermost loop alone reduces, with a combiner vector.reduction has.
  Operation *combiner = nullptr;
  std::optional<vector::CombiningKind> kind;
  if (g.getNumReductionLoops() != 0) {
    combiner = reductionCombiner(g);
    kind = combiner ? linalg::getCombinerOpKind(combiner) : std::nullopt;
    if (!kind || g.getNumReductionLoops() != 1 ||
        g.getIteratorTypesArray()[inner] != utils::IteratorType::reduction)
      return false;
  }
  SmallVector<int64_t> ranges = g.getStaticLoopRanges();
  int64_t lanes = ranges[inner];
  if (ShapedType::isDynamic(lanes) || lanes < 2 || lanes > 8 || !llvm::isPowerOf2_64(lanes))
    return false;
  // Small static outer loops are unrolled; others (a thread's rows of a block tile at
  // a dynamic edge: 0 or 1 of them) become loops.
  bool unroll = true;
  int64_t outer = 1;
  for (int64_t r : ArrayRef(ranges).drop_back()) {
    unroll &= !ShapedType::isDynamic(r);
    outer *= ShapedType::isDynamic(r) ? 1 : r;
  }
  unroll &= outer <= kMaxOuterIterations;
  // Each operand: a vector access along its innermost (unit-stride) dim, or a scalar.
  SmallVector<bool> vectorAccess;
  for (OpOperand &o : g->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(o.get().getType());
    AffineMap map = g.getMatchingIndexingMap(&o);
    // Whole bytes only: a vector of i1 is packed bits in memory, a memref of i1 bytes.
    if (!type || !type.getElementType().isIntOrFloat() || type.getElementTypeBitWidth() % 8 != 0 ||
        llvm::any_of(map.getResults(),
                     [](AffineExpr e) { return !isa<AffineDimExpr, AffineConstantExpr>(e); }))
      return false;
    bool walks =
        llvm::any_of(map.getResults(), [&](AffineExpr e) { return e.isFunctionOfDim(inner); });
    if (walks) {
      auto [strides, offset] = type.getStridesAndOffset();
      (void)offset;
      if (map.getResults().back() != getAffineDimExpr(inner, g.getContext()) || strides.back() != 1)
        return false;
    } else if (g.isDpsInit(&o) && !combiner) {
      return false;
    }
    vectorAccess.push_back(walks);
  }
  // The output's element is not read (an elementwise body ignores it), or only by the
  // combiner (reductionCombiner checks).
  Block &body = *g.getBlock();
  if (!combiner && !body.getArguments().back().use_empty())
    return false;

  OpBuilder b(g);
  Location loc = g.getLoc();
  auto index = [&](int64_t i) { return arith::ConstantIndexOp::create(b, loc, i).getResult(); };
  // The vector code at the loop point `point` (the innermost loop at 0).
  auto emit = [&](ArrayRef<Value> point) {
    IRMapping map;
    Value result;
    for (auto [o, vec] : llvm::zip(g->getOpOperands(), vectorAccess)) {
      auto type = cast<MemRefType>(o.get().getType());
      SmallVector<Value> idx;
      for (AffineExpr e : g.getMatchingIndexingMap(&o).getResults())
        idx.push_back(isa<AffineDimExpr>(e) ? point[cast<AffineDimExpr>(e).getPosition()]
                                            : index(cast<AffineConstantExpr>(e).getValue()));
      llvm::MaybeAlign align = accessAlign(o.get(), idx, lanes);
      auto vt = VectorType::get({lanes}, type.getElementType());
      if (align && verifyAlignment && (vec || (g.isDpsInit(&o) && !combiner)))
        assertAligned(b, loc, o.get(), idx, *align);
      if (g.isDpsInit(&o) && combiner) {
        // The lanes reduce in order onto the element (as the loop did: an ordered
        // vector.reduction, no reassociation).
        Value acc = memref::LoadOp::create(b, loc, o.get(), idx);
        Value r = vector::ReductionOp::create(b, loc, *kind, result, acc);
        memref::StoreOp::create(b, loc, r, o.get(), idx);
        continue;
      }
      if (g.isDpsInit(&o)) {
        vector::StoreOp::create(b, loc, result, o.get(), idx, /*nontemporal=*/false, align);
        continue;
      }
      Value v = vec ? vector::LoadOp::create(b, loc, vt, o.get(), idx, /*nontemporal=*/false, align)
                          .getResult()
                    : vector::BroadcastOp::create(b, loc, vt,
                                                  memref::LoadOp::create(b, loc, o.get(), idx))
                          .getResult();
      map.map(body.getArgument(o.getOperandNumber()), v);
      if (o.getOperandNumber() + 1 == g.getNumDpsInputs()) {
        broadcastOutsideValues(b, loc, body, lanes, map);
        if (combiner) {
          // The vector the combiner folds into the output.
          cloneOpsOnVectors(b, body, lanes, map, combiner);
          Value out = body.getArguments().back();
          result = map.lookup(combiner->getOperand(combiner->getOperand(0) == out ? 1 : 0));
        } else {
          result = cloneBodyOnVectors(b, body, lanes, map);
        }
      }
    }
  };
  SmallVector<Value> point(ranges.size(), index(0));
  if (unroll) {
    for (int64_t it = 0; it < outer; ++it) {
      // The outer loops' point for iteration `it`, innermost outer loop fastest.
      int64_t rest = it;
      for (unsigned l = inner; l-- > 0;) {
        point[l] = index(rest % ranges[l]);
        rest /= ranges[l];
      }
      emit(point);
    }
  } else {
    SmallVector<Range, 4> loopRanges =
        cast<linalg::LinalgOp>(g.getOperation()).createLoopRanges(b, loc);
    Value one = index(1);
    for (unsigned l = 0; l < inner; ++l) {
      auto loop = scf::ForOp::create(
          b, loc, index(0), getValueOrCreateConstantIndexOp(b, loc, loopRanges[l].size), one);
      point[l] = loop.getInductionVar();
      b.setInsertionPoint(loop.getBody()->getTerminator());
    }
    emit(point);
  }
  g->erase();
  return true;
}

/// How a value of a thread tile's body varies along its innermost loop of V lanes
/// (vectorizeContiguousRead).
enum class Lanes {
  Invariant,  // the same in every lane
  Contiguous, // lane l's is lane 0's + l
  Uniform,    // the same in every lane of an aligned chunk (a bound compared against)
  Clamped,    // min(contiguous, S - 1), the index of a read clamped to S elements
  Read        // computed from the read lane by lane
};

/// Whether affine `e` is `x + rest` with `rest` free of `x` (operand `pos` of a map
/// with `numDims` dims and `numSymbols` symbols).
bool unitCoefficient(AffineExpr e, unsigned pos, unsigned numDims, unsigned numSymbols) {
  AffineExpr x = pos < numDims ? getAffineDimExpr(pos, e.getContext())
                               : getAffineSymbolExpr(pos - numDims, e.getContext());
  AffineExpr rest = simplifyAffineExpr(e - x, numDims, numSymbols);
  return pos < numDims ? !rest.isFunctionOfDim(pos) : !rest.isFunctionOfSymbol(pos - numDims);
}

/// A thread's tile of a generic without inputs that reads what it writes with a load
/// in its body (a tensor-core step's guarded copy: indices clamped to the tile's
/// edge, zero past the step's end): [1, ..., 1, V] into a buffer contiguous along its
/// innermost dim, the load's innermost index the innermost loop's plus a value
/// independent of it. The index arithmetic and guards are computed once, the load is
/// one vector.load of V elements and what the body computes from it is applied lane
/// by lane. Along the innermost dim the read may also be guarded (`index < S`) and
/// clamped (`min(index, S - 1)`) where S and lane 0's index are multiples of V: the V
/// lanes are all inside or all past S, so the guard is lane 0's and the clamped
/// vector starts at min(index, S - V), inside the S elements.
bool vectorizeContiguousRead(linalg::GenericOp g, bool verifyAlignment,
                             SmallVectorImpl<Value> *notMultiples = nullptr) {
  if (!g.hasPureBufferSemantics() || g.getNumDpsInits() != 1 || g.getNumDpsInputs() != 0 ||
      g.getNumLoops() == 0 || g.getNumReductionLoops() != 0)
    return false;
  unsigned inner = g.getNumLoops() - 1;
  SmallVector<int64_t> ranges = g.getStaticLoopRanges();
  int64_t lanes = ranges[inner];
  if (ShapedType::isDynamic(lanes) || lanes < 2 || lanes > 8 || !llvm::isPowerOf2_64(lanes) ||
      llvm::any_of(ArrayRef(ranges).drop_back(), [](int64_t r) { return r != 1; }))
    return false;
  Value out = g.getDpsInitOperand(0)->get();
  auto outType = dyn_cast<MemRefType>(out.getType());
  if (!outType || !outType.getElementType().isIntOrFloat() ||
      outType.getElementTypeBitWidth() % 8 != 0 ||
      !g.getMatchingIndexingMap(g.getDpsInitOperand(0)).isIdentity())
    return false;
  auto [outStrides, outOffset] = outType.getStridesAndOffset();
  (void)outOffset;
  if (outStrides.back() != 1)
    return false;
  Block &body = *g.getBlock();
  if (!body.getArgument(0).use_empty())
    return false;
  // A clamp to a constant extent folds to min(index, C - 1) with C - 1 a constant: its
  // bound is the constant C of the guard index < C, spelled as a clamp again.
  for (Operation &op : body.without_terminator()) {
    auto min = dyn_cast<arith::MinUIOp>(op);
    std::optional<int64_t> last = min ? getConstantIntValue(min.getRhs()) : std::nullopt;
    if (!last || clampedIndex(min.getResult()))
      continue;
    for (Operation &other : body.without_terminator()) {
      auto cmp = dyn_cast<arith::CmpIOp>(other);
      if (!cmp || cmp.getPredicate() != arith::CmpIPredicate::ult || cmp.getLhs() != min.getLhs() ||
          getConstantIntValue(cmp.getRhs()) != *last + 1 ||
          (cmp.getRhs().getDefiningOp() && cmp.getRhs().getDefiningOp()->getBlock() == &body))
        continue;
      OpBuilder b(min);
      Value one = arith::ConstantIndexOp::create(b, min.getLoc(), 1);
      min.getRhsMutable().assign(arith::SubIOp::create(b, min.getLoc(), cmp.getRhs(), one));
      break;
    }
  }

  // Each value's kind, the one read, and what must be a multiple of V: the bounds
  // the contiguous indices are compared against or clamped to, and those indices.
  llvm::DenseMap<Value, Lanes> kind;
  auto kindOf = [&](Value v) {
    auto it = kind.find(v);
    return it == kind.end() ? Lanes::Invariant : it->second;
  };
  memref::LoadOp read;
  SmallVector<Value> multiples; // body values (or outside ones) that must divide by V
  // Each clamp min(index, S - 1) of the innermost index: (index, S).
  llvm::DenseMap<Operation *, std::pair<Value, Value>> clamps;
  for (Operation &op : body.without_terminator()) {
    if (op.getNumRegions() || (!isMemoryEffectFree(&op) && !isa<memref::LoadOp>(op)))
      return false;
    if (auto index = dyn_cast<linalg::IndexOp>(op)) {
      if (index.getDim() == inner)
        kind[index] = Lanes::Contiguous;
      continue;
    }
    SmallVector<Lanes> k = llvm::map_to_vector(op.getOperands(), kindOf);
    if (llvm::all_of(k, [](Lanes l) { return l == Lanes::Invariant; }))
      continue;
    if (op.getNumResults() != 1)
      return false;
    Value r = op.getResult(0);
    auto only = [&](std::initializer_list<Lanes> allowed) {
      return llvm::all_of(k, [&](Lanes l) { return llvm::is_contained(allowed, l); });
    };
    if (auto load = dyn_cast<memref::LoadOp>(op)) {
      // The read: contiguous (or clamped) along the innermost dim only.
      auto indices = load.getIndices();
      if (read || !isa<IntegerType, FloatType>(load.getType()) ||
          load.getType().getIntOrFloatBitWidth() % 8 != 0 ||
          !llvm::is_contained({Lanes::Contiguous, Lanes::Clamped}, kindOf(indices.back())) ||
          llvm::any_of(indices.drop_back(), [&](Value i) {
            return !llvm::is_contained({Lanes::Invariant, Lanes::Uniform}, kindOf(i));
          }))
        return false;
      read = load;
      kind[r] = Lanes::Read;
      continue;
    }
    if (llvm::is_contained(k, Lanes::Read)) {
      // Lane by lane: elementwise on the read and on values shared by the lanes.
      if (!r.getType().isIntOrFloat() || !only({Lanes::Read, Lanes::Invariant, Lanes::Uniform}))
        return false;
      kind[r] = Lanes::Read;
      continue;
    }
    if (auto add = dyn_cast<arith::AddIOp>(op)) {
      // An offset added to a contiguous or clamped index keeps its kind.
      if (llvm::count(k, Lanes::Invariant) != 1 ||
          !only({Lanes::Contiguous, Lanes::Clamped, Lanes::Invariant}))
        return false;
      kind[r] = llvm::is_contained(k, Lanes::Clamped) ? Lanes::Clamped : Lanes::Contiguous;
      continue;
    }
    if (auto apply = dyn_cast<affine::AffineApplyOp>(op)) {
      AffineMap map = apply.getAffineMap();
      if (!only({Lanes::Contiguous, Lanes::Invariant}) || llvm::count(k, Lanes::Contiguous) != 1)
        return false;
      unsigned pos = llvm::find(k, Lanes::Contiguous) - k.begin();
      if (!unitCoefficient(map.getResult(0), pos, map.getNumDims(), map.getNumSymbols()))
        return false;
      kind[r] = Lanes::Contiguous;
      continue;
    }
    if (auto cmp = dyn_cast<arith::CmpIOp>(op)) {
      // index < S (or >=): the same for a chunk's lanes when both divide by V.
      using P = arith::CmpIPredicate;
      if (k[0] != Lanes::Contiguous || k[1] != Lanes::Invariant ||
          !llvm::is_contained({P::ult, P::slt, P::uge, P::sge}, cmp.getPredicate()))
        return false;
      multiples.append({cmp.getLhs(), cmp.getRhs()});
      kind[r] = Lanes::Uniform;
      continue;
    }
    if (isa<arith::MinUIOp>(op)) {
      // min(index, S - 1): clamped to S elements.
      auto clamp = clampedIndex(r);
      if (k[0] != Lanes::Contiguous || k[1] != Lanes::Invariant || !clamp ||
          kindOf(clamp->second) != Lanes::Invariant)
        return false;
      multiples.append({clamp->first, clamp->second});
      clamps[&op] = *clamp;
      kind[r] = Lanes::Clamped;
      continue;
    }
    if (isa<arith::AndIOp, arith::OrIOp, arith::XOrIOp, arith::SelectOp>(op)) {
      if (!only({Lanes::Uniform, Lanes::Invariant}))
        return false;
      kind[r] = Lanes::Uniform;
      continue;
    }
    return false;
  }
  // A contiguous or clamped value only indexes the read or feeds the index arithmetic.
  for (Operation &op : body.without_terminator())
    for (Value r : op.getResults())
      if (llvm::is_contained({Lanes::Contiguous, Lanes::Clamped}, kindOf(r)))
        for (OpOperand &use : r.getUses()) {
          Operation *user = use.getOwner();
          if (user == read.getOperation() ? use.getOperandNumber() + 1 != user->getNumOperands()
              : kindOf(r) == Lanes::Clamped
                  ? !isa<arith::AddIOp>(user)
                  : !isa<arith::AddIOp, affine::AffineApplyOp, arith::CmpIOp, arith::MinUIOp>(user))
            return false;
        }
  Value yielded = body.getTerminator()->getOperand(0);
  if (!read || kindOf(yielded) != Lanes::Read)
    return false;
  // A clamped read is guarded by its bound: the body yields zero past it (so where
  // lane 0 is past it, what the clamped vector reads is never used).
  if (!clamps.empty()) {
    auto select = yielded.getDefiningOp<arith::SelectOp>();
    if (!select || !isZeroBits(select.getFalseValue()))
      return false;
    SmallVector<std::pair<Value, Value>> guards; // (index, bound) of index < bound
    SmallVector<Value> work{select.getCondition()};
    while (!work.empty()) {
      Value c = work.pop_back_val();
      if (auto a = c.getDefiningOp<arith::AndIOp>())
        work.append({a.getLhs(), a.getRhs()});
      else if (auto cmp = c.getDefiningOp<arith::CmpIOp>();
               cmp && cmp.getPredicate() == arith::CmpIPredicate::ult)
        guards.push_back({cmp.getLhs(), cmp.getRhs()});
    }
    for (const auto &[op, clamp] : clamps)
      if (!llvm::is_contained(guards, clamp))
        return false;
  }
  auto readType = cast<MemRefType>(read.getMemRef().getType());
  auto [readStrides, readOffset] = readType.getStridesAndOffset();
  (void)readOffset;
  if (readStrides.empty() || readStrides.back() != 1)
    return false;

  OpBuilder b(g);
  Location loc = g.getLoc();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  SmallVector<Value> point(g.getNumLoops(), zero);
  IRMapping map;
  // Lane 0's index arithmetic and guards, and the clamps at V elements from the end.
  SmallVector<Operation *> emitted;
  auto record = [&](Operation *op) {
    emitted.push_back(op);
    return op;
  };
  for (Operation &op : body.without_terminator()) {
    if (auto index = dyn_cast<linalg::IndexOp>(op)) {
      map.map(index.getResult(), zero);
      continue;
    }
    if (&op == read.getOperation() || kindOf(op.getResult(0)) == Lanes::Read)
      continue;
    if (auto clamp = clamps.find(&op); clamp != clamps.end()) {
      auto [index, bound] = clamp->second;
      Value v = record(arith::ConstantIndexOp::create(b, loc, lanes))->getResult(0);
      Value start =
          record(arith::SubIOp::create(b, loc, map.lookupOrDefault(bound), v))->getResult(0);
      map.map(
          op.getResult(0),
          record(arith::MinUIOp::create(b, loc, map.lookupOrDefault(index), start))->getResult(0));
      continue;
    }
    record(b.clone(op, map));
  }
  // The chunk argument needs lane 0's indices and the bounds to be multiples of V.
  bool whole = true;
  for (Value m : multiples)
    if (knownDivisor(map.lookupOrDefault(m)) < lanes) {
      whole = false;
      if (notMultiples)
        notMultiples->push_back(m);
    }
  if (!whole) {
    for (Operation *op : llvm::reverse(emitted))
      op->erase();
    zero.getDefiningOp()->erase();
    return false;
  }
  // The read and what is computed from it, lane by lane.
  for (Operation &op : body.without_terminator()) {
    if (&op == read.getOperation()) {
      SmallVector<Value> idx;
      for (Value i : read.getIndices())
        idx.push_back(map.lookupOrDefault(i));
      llvm::MaybeAlign align = accessAlign(read.getMemRef(), idx, lanes);
      if (align && verifyAlignment)
        assertAligned(b, loc, read.getMemRef(), idx, *align);
      map.map(read.getResult(),
              vector::LoadOp::create(b, loc, VectorType::get({lanes}, read.getType()),
                                     read.getMemRef(), idx, /*nontemporal=*/false, align)
                  .getResult());
      continue;
    }
    if (isa<linalg::IndexOp>(op) || kindOf(op.getResult(0)) != Lanes::Read)
      continue;
    // Scalar operands broadcast (a select's condition stays scalar).
    for (OpOperand &o : op.getOpOperands()) {
      Value m = map.lookupOrDefault(o.get());
      if (isa<VectorType>(m.getType()) ||
          (isa<arith::SelectOp>(op) && o.getOperandNumber() == 0))
        continue;
      map.map(o.get(), vector::BroadcastOp::create(
                           b, loc, VectorType::get({lanes}, m.getType()), m)
                           .getResult());
    }
    Operation *clone = b.clone(op, map);
    clone->getResult(0).setType(VectorType::get({lanes}, op.getResult(0).getType()));
    map.map(op.getResult(0), clone->getResult(0));
  }
  llvm::MaybeAlign align = accessAlign(out, point, lanes);
  if (align && verifyAlignment)
    assertAligned(b, loc, out, point, *align);
  vector::StoreOp::create(b, loc, map.lookup(yielded), out, point, /*nontemporal=*/false, align);
  g->erase();
  return true;
}

/// The values defined outside `scope` that `m` is computed from and whose divisors
/// fall short of `lanes` (into `roots`): what a version of `scope` may assume are
/// multiples of `lanes`. A memref.dim of an outside buffer inside the scope counts as
/// outside (it moves out, into `hoist`). False when `m` depends on a value of the
/// scope that is no known multiple (an induction variable, a load).
bool rootsOf(Value m, Operation *scope, int64_t lanes, llvm::SetVector<Value> &roots,
             llvm::SetVector<Operation *> &hoist, int depth = 0) {
  if (depth > 16 || !m.getType().isIndex())
    return false;
  if (knownDivisor(m) >= lanes)
    return true;
  Operation *def = m.getDefiningOp();
  Operation *owner = def ? def : cast<BlockArgument>(m).getOwner()->getParentOp();
  if (!scope->isAncestor(owner)) {
    roots.insert(m);
    return true;
  }
  if (!def)
    return false;
  if (auto dim = dyn_cast<memref::DimOp>(def)) {
    Value source = dim.getSource();
    Operation *sourceOwner = source.getDefiningOp()
                                 ? source.getDefiningOp()
                                 : cast<BlockArgument>(source).getOwner()->getParentOp();
    if (scope->isAncestor(sourceOwner) || !getConstantIntValue(dim.getIndex()))
      return false;
    hoist.insert(dim);
    roots.insert(m);
    return true;
  }
  if (!isa<arith::AddIOp, arith::SubIOp, arith::MulIOp, arith::MinUIOp, arith::MinSIOp,
           arith::MaxUIOp, arith::MaxSIOp, arith::IndexCastOp, arith::IndexCastUIOp,
           affine::AffineApplyOp, affine::AffineMinOp, affine::AffineMaxOp>(def))
    return false;
  for (Value operand : def->getOperands())
    if (!rootsOf(operand, scope, lanes, roots, hoist, depth + 1))
      return false;
  return true;
}

/// The kernel argument a read's buffer views, where it has an identity layout.
BlockArgument viewedArgument(Value memref) {
  auto arg = dyn_cast<BlockArgument>(viewedBuffer(memref));
  if (!arg || !viewsKernelArgument(memref) ||
      !cast<MemRefType>(arg.getType()).getLayout().isIdentity())
    return nullptr;
  return arg;
}

/// Guarded copies into a step's shared buffer (vectorizeContiguousRead) whose chunks
/// of V lanes need extents and offsets known only at run time to be multiples of V
/// (attention's P over a symbolic sequence: K = s) run in two versions of their step
/// loop, chosen once per block: `scf.if (all of them are multiples of V)`, whose
/// then-version sees each such value as (x / V) * V and the buffer it reads with
/// its innermost extent so rounded (a memref.reinterpret_cast: its rows start at
/// multiples of V elements), so that its copies are 128-bit reads (cp.async after
/// dlc-gpu-async-copies, which gives both versions the same stage buffers); the
/// else-version keeps the element-by-element copies. The scf.if, where `g` was
/// versioned.
scf::IfOp versionForMultiples(linalg::GenericOp g, bool verifyAlignment) {
  SmallVector<Value> notMultiples;
  if (vectorizeContiguousRead(g, verifyAlignment, &notMultiples) || notMultiples.empty())
    return nullptr;
  int64_t lanes = g.getStaticLoopRanges().back();
  // The step loop (the one whose body has the barriers), else the generic alone.
  Operation *scope = g;
  for (auto loop = g->getParentOfType<scf::ForOp>(); loop;
       loop = loop->getParentOfType<scf::ForOp>())
    if (llvm::any_of(loop.getBody()->getOperations(),
                     [](Operation &op) { return isa<gpu::BarrierOp>(op); })) {
      scope = loop;
      break;
    }
  if (!scope->getParentOfType<FunctionOpInterface>())
    return nullptr;
  llvm::SetVector<Value> roots;
  llvm::SetVector<Operation *> hoist;
  for (Value m : notMultiples)
    if (!rootsOf(m, scope, lanes, roots, hoist))
      return nullptr;
  if (roots.empty())
    return nullptr; // constant extents: no version makes them multiples
  // The rows the read starts a chunk in: their start is a multiple of V where the
  // buffer's innermost extent is.
  memref::LoadOp read;
  g.getBlock()->walk([&](memref::LoadOp l) { read = l; });
  BlockArgument buffer = read ? viewedArgument(read.getMemRef()) : nullptr;
  auto bufferType = buffer ? cast<MemRefType>(buffer.getType()) : MemRefType();
  // (Only where the scope reads the buffer through subviews, loads and dims, which
  // take the cast's strided layout as they are.)
  bool roundBuffer =
      bufferType && bufferType.isDynamicDim(bufferType.getRank() - 1) &&
      llvm::all_of(buffer.getUsers(), [&](Operation *user) {
        return !scope->isAncestor(user) ||
               isa<memref::SubViewOp, memref::LoadOp, memref::DimOp, vector::LoadOp>(user);
      });

  OpBuilder b(scope);
  Location loc = g.getLoc();
  for (Operation *op : hoist)
    op->moveBefore(scope);
  Value c = arith::ConstantIndexOp::create(b, loc, lanes);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  SmallVector<Value> extents; // the buffer's, its innermost the last root
  if (roundBuffer) {
    for (int64_t d = 0; d < bufferType.getRank(); ++d) {
      // A root that is this extent already, else the extent.
      auto same = llvm::find_if(roots, [&](Value r) {
        auto dim = r.getDefiningOp<memref::DimOp>();
        return dim && dim.getSource() == buffer && getConstantIntValue(dim.getIndex()) == d;
      });
      extents.push_back(
          same != roots.end() ? *same
          : bufferType.isDynamicDim(d)
              ? memref::DimOp::create(b, loc, buffer, d).getResult()
              : arith::ConstantIndexOp::create(b, loc, bufferType.getDimSize(d)).getResult());
    }
    roots.insert(extents.back());
  }
  Value all;
  for (Value r : roots) {
    Value ok = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                     arith::RemUIOp::create(b, loc, r, c), zero);
    all = all ? arith::AndIOp::create(b, loc, all, ok).getResult() : ok;
  }
  auto version = scf::IfOp::create(b, loc, scope->getResultTypes(), all, /*withElse=*/true);
  scope->replaceUsesWithIf(version.getResults(),
                           [&](OpOperand &use) { return !version->isAncestor(use.getOwner()); });
  // Else: the scope as it is.
  Block *otherwise = version.elseBlock();
  if (otherwise->empty()) {
    scope->moveBefore(otherwise, otherwise->end());
    b.setInsertionPointToEnd(otherwise);
    scf::YieldOp::create(b, loc, scope->getResults());
  } else {
    scope->moveBefore(&otherwise->back());
  }
  // Then: a copy that sees the roots rounded down to multiples of V.
  Block *then = version.thenBlock();
  if (then->empty())
    b.setInsertionPointToEnd(then);
  else
    b.setInsertionPoint(&then->back());
  IRMapping map;
  for (Value r : roots)
    map.map(r, arith::MulIOp::create(b, loc, arith::DivUIOp::create(b, loc, r, c), c).getResult());
  if (roundBuffer) {
    SmallVector<OpFoldResult> sizes, strides(extents.size());
    for (auto [d, e] : llvm::enumerate(extents))
      sizes.push_back(bufferType.isDynamicDim(d)
                          ? OpFoldResult(map.lookupOrDefault(e))
                          : OpFoldResult(b.getIndexAttr(bufferType.getDimSize(d))));
    OpFoldResult stride = b.getIndexAttr(1);
    for (int64_t d = extents.size() - 1; d >= 0; --d) {
      strides[d] = stride;
      if (d > 0)
        stride = affine::makeComposedFoldedAffineApply(
            b, loc, b.getAffineSymbolExpr(0) * b.getAffineSymbolExpr(1), {stride, sizes[d]});
    }
    SmallVector<int64_t> staticStrides;
    for (OpFoldResult stride : strides)
      staticStrides.push_back(getConstantIntValue(stride).value_or(ShapedType::kDynamic));
    auto type = MemRefType::get(bufferType.getShape(), bufferType.getElementType(),
                                StridedLayoutAttr::get(b.getContext(), /*offset=*/0, staticStrides),
                                bufferType.getMemorySpace());
    map.map(buffer, memref::ReinterpretCastOp::create(b, loc, type, buffer, b.getIndexAttr(0),
                                                      sizes, strides)
                        .getResult());
    // The subviews of it that the scope reads, taken outside it, taken again of that.
    scope->walk([&](Operation *op) {
      for (Value v : op->getOperands()) {
        SmallVector<Operation *> chain;
        while (auto view = v.getDefiningOp<memref::SubViewOp>()) {
          if (scope->isAncestor(view) || map.contains(view.getResult()))
            break;
          chain.push_back(view);
          v = view.getSource();
        }
        if (v == buffer || map.contains(v))
          for (Operation *view : llvm::reverse(chain))
            if (!map.contains(view->getResult(0)))
              b.clone(*view, map);
      }
    });
  }
  Operation *copy = b.clone(*scope, map);
  if (copy->getNumResults())
    scf::YieldOp::create(b, loc, copy->getResults());
  // The copy's generics, vectorized (those before `g` in the scope already are).
  SmallVector<linalg::GenericOp> generics;
  copy->walk([&](linalg::GenericOp cg) { generics.push_back(cg); });
  bool gained = false;
  for (linalg::GenericOp cg : generics)
    if (!vectorize(cg, verifyAlignment))
      gained |= vectorizeContiguousRead(cg, verifyAlignment);
  if (!gained) {
    // Nothing gained: the scope back as it was.
    scope->moveBefore(version);
    for (auto [from, to] : llvm::zip(version.getResults(), scope->getResults()))
      from.replaceAllUsesWith(to);
    version->erase();
    return nullptr;
  }
  return version;
}

struct DlcVectorizeThreadTilesPass
    : impl::DlcVectorizeThreadTilesBase<DlcVectorizeThreadTilesPass> {
  using DlcVectorizeThreadTilesBase::DlcVectorizeThreadTilesBase;

  void runOnOperation() override {
    // A thread's copy from global memory (a Slice's tile, a contraction step's slice
    // into shared memory; canonicalization made the copy generic a linalg.copy) as a
    // generic, which vectorizes as any (dlc-pipeline-steps pipelines its vector loads
    // as it does scalar ones).
    SmallVector<linalg::CopyOp> copies;
    getOperation()->walk([&](linalg::CopyOp c) {
      if (c.hasPureBufferSemantics() && viewsKernelArgument(c.getInputs()[0]))
        copies.push_back(c);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::CopyOp c : copies) {
      rewriter.setInsertionPoint(c);
      (void)linalg::generalizeNamedOp(rewriter, c);
    }
    SmallVector<linalg::GenericOp> generics;
    getOperation()->walk([&](linalg::GenericOp g) { generics.push_back(g); });
    // A generic whose step loop was versioned already stays as it is there.
    llvm::SmallPtrSet<Operation *, 4> versioned;
    for (linalg::GenericOp g : generics) {
      if (vectorize(g, verifyAlignment))
        continue;
      bool inVersion = false;
      for (Operation *p = g->getParentOp(); p && !inVersion; p = p->getParentOp())
        inVersion = versioned.contains(p);
      if (inVersion)
        (void)vectorizeContiguousRead(g, verifyAlignment);
      else if (scf::IfOp version = versionForMultiples(g, verifyAlignment))
        versioned.insert(version);
    }
  }
};

} // namespace
} // namespace dlc
