//===- Bounds.cpp - Constant bounds and divisors of index values ---------===//
//
// The value-bounds analysis gives affine.max only lower bounds; the tile sizes tiling
// makes are max(0, min(...)), so a max is bounded by the largest bound of its results.
// Divisors come from the ops that compute an index (constants, sums, products,
// remainders, affine maps, loop induction variables), powers of two only.
//
//===----------------------------------------------------------------------===//
#include "passes/Bounds.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/ValueBoundsOpInterface.h"

#include "llvm/ADT/bit.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

using namespace mlir;

namespace dlc {

namespace {

/// Whether the index `v` is known to be at least 0. The value-bounds analysis gives an
/// affine.min no lower bound; a tile's size min(T, ub - iv) inside the loop over iv is
/// one where each of its results has one.
bool knownNonNegative(Value v) {
  using VB = ValueBoundsConstraintSet;
  if (auto min = v.getDefiningOp<affine::AffineMinOp>()) {
    AffineMap map = min.getAffineMap();
    for (unsigned i = 0; i < map.getNumResults(); ++i) {
      FailureOr<int64_t> lb = VB::computeConstantBound(
          presburger::BoundType::LB, VB::Variable(map.getSubMap({i}), min.getMapOperands()));
      if (failed(lb) || *lb < 0)
        return false;
    }
    return true;
  }
  FailureOr<int64_t> lb = VB::computeConstantBound(presburger::BoundType::LB, VB::Variable(v));
  return succeeded(lb) && *lb >= 0;
}

} // namespace

FailureOr<int64_t> constantUpperBound(Value v) {
  using VB = ValueBoundsConstraintSet;
  // A product of two bounded sizes (an edge tile's rows times a partial step's
  // columns), which the analysis, linear, does not bound: a * b <= ua * ub when one
  // factor is at least 0 and both bounds are (the product is at most 0 otherwise).
  if (auto mul = v.getDefiningOp<arith::MulIOp>()) {
    Value a = mul.getLhs(), b = mul.getRhs();
    FailureOr<int64_t> ua = constantUpperBound(a), ub = constantUpperBound(b);
    int64_t product;
    if (succeeded(ua) && succeeded(ub) && *ua >= 0 && *ub >= 0 &&
        (knownNonNegative(a) || knownNonNegative(b)) && !llvm::MulOverflow(*ua, *ub, product))
      return product;
  }
  if (auto max = v.getDefiningOp<affine::AffineMaxOp>()) {
    int64_t best = std::numeric_limits<int64_t>::min();
    AffineMap map = max.getAffineMap();
    for (unsigned i = 0; i < map.getNumResults(); ++i) {
      FailureOr<int64_t> ub = VB::computeConstantBound(
          presburger::BoundType::UB, VB::Variable(map.getSubMap({i}), max.getMapOperands()),
          /*stopCondition=*/nullptr, /*closedUB=*/true);
      if (failed(ub))
        return failure();
      best = std::max(best, *ub);
    }
    return best;
  }
  return VB::computeConstantBound(presburger::BoundType::UB, VB::Variable(v),
                                  /*stopCondition=*/nullptr, /*closedUB=*/true);
}

int64_t divisorOfConstant(int64_t c) {
  if (c == 0)
    return kMaxKnownDivisor;
  return std::min<int64_t>(kMaxKnownDivisor, int64_t(1) << llvm::countr_zero(uint64_t(c)));
}

namespace {

/// `e` over dims and symbols of known divisors.
int64_t exprDivisor(AffineExpr e, ArrayRef<int64_t> dims, ArrayRef<int64_t> syms) {
  if (auto c = dyn_cast<AffineConstantExpr>(e))
    return divisorOfConstant(c.getValue());
  if (auto d = dyn_cast<AffineDimExpr>(e))
    return dims[d.getPosition()];
  if (auto s = dyn_cast<AffineSymbolExpr>(e))
    return syms[s.getPosition()];
  auto bin = cast<AffineBinaryOpExpr>(e);
  int64_t l = exprDivisor(bin.getLHS(), dims, syms), r = exprDivisor(bin.getRHS(), dims, syms);
  switch (e.getKind()) {
  case AffineExprKind::Add:
    return std::min(l, r);
  case AffineExprKind::Mul:
    return std::min(kMaxKnownDivisor, l * r);
  case AffineExprKind::Mod:
    // x mod c: a multiple of what divides both.
    return std::min(l, r);
  default:
    return 1;
  }
}

} // namespace

int64_t knownDivisor(Value v, int depth) {
  if (depth > 16)
    return 1;
  if (std::optional<int64_t> c = getConstantIntValue(v))
    return divisorOfConstant(*c);
  Operation *def = v.getDefiningOp();
  if (!def) {
    // An scf.for induction variable: its lower bound plus multiples of its step.
    auto arg = cast<BlockArgument>(v);
    if (auto loop = dyn_cast<scf::ForOp>(arg.getOwner()->getParentOp());
        loop && loop.getInductionVar() == arg)
      return std::min(knownDivisor(loop.getLowerBound(), depth + 1),
                      knownDivisor(loop.getStep(), depth + 1));
    // An scf.forall induction variable likewise (a block's tile offset).
    if (auto loop = dyn_cast<scf::ForallOp>(arg.getOwner()->getParentOp());
        loop && arg.getArgNumber() < loop.getRank()) {
      auto divisorOf = [&](OpFoldResult f) {
        std::optional<int64_t> c = getConstantIntValue(f);
        return c ? divisorOfConstant(*c) : knownDivisor(cast<Value>(f), depth + 1);
      };
      unsigned d = arg.getArgNumber();
      return std::min(divisorOf(loop.getMixedLowerBound()[d]), divisorOf(loop.getMixedStep()[d]));
    }
    return 1;
  }
  auto of = [&](Value x) { return knownDivisor(x, depth + 1); };
  if (isa<arith::AddIOp, arith::SubIOp>(def))
    return std::min(of(def->getOperand(0)), of(def->getOperand(1)));
  if (isa<arith::MulIOp>(def))
    return std::min(kMaxKnownDivisor, of(def->getOperand(0)) * of(def->getOperand(1)));
  if (isa<arith::RemUIOp, arith::RemSIOp>(def))
    return std::min(of(def->getOperand(0)), of(def->getOperand(1)));
  if (isa<arith::IndexCastOp, arith::IndexCastUIOp>(def))
    return of(def->getOperand(0));
  // One of two values: a multiple of what divides both.
  if (isa<arith::MinUIOp, arith::MinSIOp, arith::MaxUIOp, arith::MaxSIOp>(def))
    return std::min(of(def->getOperand(0)), of(def->getOperand(1)));
  if (auto select = dyn_cast<arith::SelectOp>(def))
    return std::min(of(select.getTrueValue()), of(select.getFalseValue()));
  auto affine = [&](AffineMap map, ValueRange operands) {
    SmallVector<int64_t> dims, syms;
    for (Value d : operands.take_front(map.getNumDims()))
      dims.push_back(of(d));
    for (Value s : operands.drop_front(map.getNumDims()))
      syms.push_back(of(s));
    int64_t divisor = kMaxKnownDivisor;
    for (AffineExpr e : map.getResults())
      divisor = std::min(divisor, exprDivisor(e, dims, syms));
    return divisor;
  };
  if (auto apply = dyn_cast<affine::AffineApplyOp>(def))
    return affine(apply.getAffineMap(), apply.getMapOperands());
  // The extent of a slice: its size operand (a tile's affine.min).
  auto sliceSize = [&](Value source, Value dim) -> int64_t {
    std::optional<int64_t> d = getConstantIntValue(dim);
    if (!d)
      return 1;
    auto type = cast<ShapedType>(source.getType());
    if (*d < 0 || *d >= type.getRank())
      return 1;
    // A destination-style op's result has its init's extents.
    for (int i = 0; i < 8; ++i) {
      auto dps = source.getDefiningOp<DestinationStyleOpInterface>();
      if (!dps)
        break;
      source = dps.getTiedOpOperand(cast<OpResult>(source))->get();
    }
    if (!type.isDynamicDim(*d))
      return divisorOfConstant(type.getDimSize(*d));
    SmallVector<OpFoldResult> sizes;
    if (auto slice = source.getDefiningOp<tensor::ExtractSliceOp>();
        slice && !slice.getDroppedDims().any())
      sizes = slice.getMixedSizes();
    else if (auto view = source.getDefiningOp<memref::SubViewOp>();
             view && !view.getDroppedDims().any())
      sizes = view.getMixedSizes();
    else if (auto cast = source.getDefiningOp<memref::ReinterpretCastOp>())
      sizes = cast.getMixedSizes();
    if (sizes.empty())
      return 1;
    OpFoldResult size = sizes[*d];
    std::optional<int64_t> c = getConstantIntValue(size);
    return c ? divisorOfConstant(*c) : of(cast<Value>(size));
  };
  if (auto dim = dyn_cast<tensor::DimOp>(def))
    return sliceSize(dim.getSource(), dim.getIndex());
  if (auto dim = dyn_cast<memref::DimOp>(def))
    return sliceSize(dim.getSource(), dim.getIndex());
  if (auto min = dyn_cast<affine::AffineMinOp>(def))
    return affine(min.getAffineMap(), min.getMapOperands());
  if (auto max = dyn_cast<affine::AffineMaxOp>(def))
    return affine(max.getAffineMap(), max.getMapOperands());
  return 1;
}

std::optional<std::pair<Value, Value>> clampedIndex(Value v) {
  auto min = v.getDefiningOp<arith::MinUIOp>();
  auto last = min ? min.getRhs().getDefiningOp<arith::SubIOp>() : arith::SubIOp();
  if (!last || !matchPattern(last.getRhs(), m_One()))
    return std::nullopt;
  return std::make_pair(min.getLhs(), last.getLhs());
}

bool isZeroBits(Value v) {
  if (auto broadcast = v.getDefiningOp<vector::BroadcastOp>())
    v = broadcast.getSource();
  return matchPattern(v, m_PosZeroFloat()) || matchPattern(v, m_Zero());
}

} // namespace dlc
