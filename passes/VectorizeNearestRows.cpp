//===- VectorizeNearestRows.cpp - The dlc-vectorize-nearest-rows pass -----===//
//
// A nearest-neighbour upsampling by an integer factor s along the last dim (Resize
// nearest 2x, YOLO's FPN) lowers to a generic that writes each output element with
// `x[.., w / s]`. LLVM vectorized its row with a 16-lane gather per output vector,
// about a cycle an element: Resize 2x of 16 MiB into 64 MiB ran at a quarter of the
// copy rate. The pass writes the row loop itself: per 16 outputs one contiguous load
// of 16 / s inputs and a shuffle that repeats each s times, then the vector store; the
// elements past the last whole vector take the body as it is.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/VectorBody.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"

namespace dlc {
#define GEN_PASS_DEF_DLCVECTORIZENEARESTROWS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// One AVX-512 vector of 32-bit elements.
constexpr int64_t kLanes = 16;

/// What the pass needs of a nearest row: the load and the factor.
struct NearestRow {
  memref::LoadOp load;
  int64_t factor = 0;
};

/// Whether `v` is computed in `body` from `linalg.index last` (or is it).
bool dependsOnIndex(Value v, Block &body, int64_t last) {
  Operation *def = v.getDefiningOp();
  if (!def || def->getBlock() != &body)
    return false;
  if (auto index = dyn_cast<linalg::IndexOp>(def))
    return index.getDim() == static_cast<uint64_t>(last);
  return llvm::any_of(def->getOperands(),
                      [&](Value operand) { return dependsOnIndex(operand, body, last); });
}

/// Whether `v` is `linalg.index last`.
bool isColumn(Value v, int64_t last) {
  auto index = v.getDefiningOp<linalg::IndexOp>();
  return index && index.getDim() == static_cast<uint64_t>(last);
}

/// Whether `bound` is the last extent of `memref` minus 1 (as i64): a constant, or
/// `index_cast(dim(memref, last)) - 1`.
bool isLastIndexOf(Value bound, Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  APInt c;
  if (matchPattern(bound, m_ConstantInt(&c)))
    return !type.isDynamicDim(type.getRank() - 1) && c.getSExtValue() == type.getShape().back() - 1;
  auto sub = bound.getDefiningOp<arith::SubIOp>();
  if (!sub || !matchPattern(sub.getRhs(), m_One()))
    return false;
  auto cast = sub.getLhs().getDefiningOp<arith::IndexCastOp>();
  auto dim = cast ? cast.getIn().getDefiningOp<memref::DimOp>() : nullptr;
  std::optional<int64_t> d = dim ? dim.getConstantIndex() : std::nullopt;
  return dim && dim.getSource() == memref && d && *d == type.getRank() - 1;
}

/// The factor s of an input column index that is `index(last) / s` for a constant s:
/// `arith.divui`, or Resize's float form `index_cast(clamp(fptosi(floor(sitofp(
/// index(last)) * (1 / s))), 0, n - 1))` with n the input's last extent (exact for
/// s a power of two, and the clamp changes nothing below s * n); 0 otherwise.
int64_t columnFactor(Value index, int64_t last, Value memref) {
  APInt factor;
  if (auto div = index.getDefiningOp<arith::DivUIOp>())
    return isColumn(div.getLhs(), last) && matchPattern(div.getRhs(), m_ConstantInt(&factor))
               ? factor.getSExtValue()
               : 0;
  auto toIndex = index.getDefiningOp<arith::IndexCastOp>();
  Value v = toIndex ? toIndex.getIn() : Value();
  if (auto min = v ? v.getDefiningOp<arith::MinSIOp>() : nullptr) {
    if (!isLastIndexOf(min.getRhs(), memref))
      return 0;
    v = min.getLhs();
  }
  if (auto max = v ? v.getDefiningOp<arith::MaxSIOp>() : nullptr) {
    if (!matchPattern(max.getRhs(), m_Zero()))
      return 0;
    v = max.getLhs();
  }
  auto toInt = v ? v.getDefiningOp<arith::FPToSIOp>() : nullptr;
  auto floor = toInt ? toInt.getIn().getDefiningOp<math::FloorOp>() : nullptr;
  auto mul = floor ? floor.getOperand().getDefiningOp<arith::MulFOp>() : nullptr;
  if (!mul)
    return 0;
  FloatAttr::ValueType scale(0.0);
  Value other;
  for (auto [x, y] : {std::pair(mul.getLhs(), mul.getRhs()), std::pair(mul.getRhs(), mul.getLhs())})
    if (matchPattern(y, m_ConstantFloat(&scale)))
      other = x;
  auto toFloat = other ? other.getDefiningOp<arith::SIToFPOp>() : nullptr;
  auto cast = toFloat ? toFloat.getIn().getDefiningOp<arith::IndexCastOp>() : nullptr;
  if (!cast || !isColumn(cast.getIn(), last) || scale.isZero() || scale.isNegative())
    return 0;
  // 1 / scale, when it is an integer power of two and the scale its exact reciprocal.
  for (int64_t s : {2, 4, 8, 16})
    if (scale.convertToDouble() * s == 1.0)
      return s;
  return 0;
}

/// `g` as a nearest row (see the file comment): on buffers, no inputs, its output
/// written in loop order with a unit-stride last dim of 32-bit elements, every loop
/// parallel, and a body of index arithmetic and pure ops around one `memref.load` of a
/// buffer from outside, with a unit-stride last dim, at `[.., index(last) / s]` (s a
/// constant dividing 16, 2 or more; the other indices free of index(last)), the load
/// yielded as it is.
std::optional<NearestRow> nearestRow(linalg::GenericOp g) {
  if (!g.hasPureBufferSemantics() || g.getNumDpsInputs() != 0 || g.getNumDpsInits() != 1 ||
      g.getNumParallelLoops() != g.getNumLoops() || g.getNumLoops() == 0 ||
      !g.getMatchingIndexingMap(g.getDpsInitOperand(0)).isIdentity())
    return std::nullopt;
  auto out = cast<MemRefType>(g.getDpsInitOperand(0)->get().getType());
  if (!out.isLastDimUnitStride() || out.getElementType().getIntOrFloatBitWidth() != 32)
    return std::nullopt;
  Block &body = g.getRegion().front();
  auto load =
      cast<linalg::YieldOp>(body.getTerminator()).getOperand(0).getDefiningOp<memref::LoadOp>();
  if (!load || load->getBlock() != &body || load.getType() != out.getElementType() ||
      load.getMemRef().getParentBlock() == &body)
    return std::nullopt;
  auto in = cast<MemRefType>(load.getMemRef().getType());
  if (!in.isLastDimUnitStride())
    return std::nullopt;
  for (Operation &op : body.without_terminator())
    if (&op != load.getOperation() && (op.getNumRegions() || !isPure(&op)))
      return std::nullopt;
  int64_t last = g.getNumLoops() - 1;
  ValueRange indices = load.getIndices();
  for (Value index : indices.drop_back())
    if (dependsOnIndex(index, body, last))
      return std::nullopt;
  int64_t s = columnFactor(indices.back(), last, load.getMemRef());
  if (s < 2 || s > kLanes || kLanes % s)
    return std::nullopt;
  return NearestRow{load, s};
}

void writeLoops(linalg::GenericOp g, NearestRow row) {
  OpBuilder b(g);
  Location loc = g.getLoc();
  Block &body = g.getRegion().front();
  Value out = g.getDpsInitOperand(0)->get();
  Type elem = cast<MemRefType>(out.getType()).getElementType();
  int64_t loops = g.getNumLoops();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value lanes = arith::ConstantIndexOp::create(b, loc, kLanes);
  OpBuilder::InsertionGuard guard(b);
  SmallVector<Value> ivs = openLoopsOverDims(b, loc, out, loops - 1);
  // Whole vectors while the row and the input's row (s outputs an input) last.
  Value columns = memref::DimOp::create(b, loc, out, loops - 1);
  auto inRank = cast<MemRefType>(row.load.getMemRef().getType()).getRank();
  Value covered =
      arith::MulIOp::create(b, loc, memref::DimOp::create(b, loc, row.load.getMemRef(), inRank - 1),
                            arith::ConstantIndexOp::create(b, loc, row.factor));
  Value bound = arith::MinUIOp::create(b, loc, columns, covered);
  Value whole = roundDown(b, loc, bound, lanes);
  // The body's ops at column `w`, all but the load (`vector`) or with it.
  auto cloneBody = [&](OpBuilder &nb, Value w, bool vector, IRMapping &map) {
    for (Operation &op : body.without_terminator()) {
      if (auto index = dyn_cast<linalg::IndexOp>(op)) {
        int64_t d = index.getDim();
        map.map(index.getResult(), d + 1 == loops ? w : ivs[d]);
        continue;
      }
      if (vector && &op == row.load.getOperation())
        continue;
      nb.clone(op, map);
    }
  };
  auto storeAt = [&](Value w) {
    SmallVector<Value> at(ivs);
    at.push_back(w);
    return at;
  };
  // Whole vectors: 16 / s inputs, each repeated s times.
  scf::ForOp::create(
      b, loc, zero, whole, lanes, ValueRange{}, [&](OpBuilder &nb, Location, Value w, ValueRange) {
        IRMapping map;
        cloneBody(nb, w, /*vector=*/true, map);
        SmallVector<Value> from;
        for (Value index : row.load.getIndices())
          from.push_back(map.lookupOrDefault(index));
        auto narrow = VectorType::get({kLanes / row.factor}, elem);
        Value part = vector::LoadOp::create(nb, loc, narrow, row.load.getMemRef(), from);
        SmallVector<int64_t> repeat;
        for (int64_t j = 0; j < kLanes; ++j)
          repeat.push_back(j / row.factor);
        Value wide = vector::ShuffleOp::create(nb, loc, part, part, repeat);
        vector::StoreOp::create(nb, loc, wide, out, storeAt(w));
        scf::YieldOp::create(nb, loc);
      });
  // The rest one element at a time.
  scf::ForOp::create(
      b, loc, whole, columns, one, ValueRange{}, [&](OpBuilder &nb, Location, Value w, ValueRange) {
        IRMapping map;
        cloneBody(nb, w, /*vector=*/false, map);
        memref::StoreOp::create(nb, loc, map.lookup(row.load.getResult()), out, storeAt(w));
        scf::YieldOp::create(nb, loc);
      });
  g.erase();
}

struct DlcVectorizeNearestRowsPass
    : impl::DlcVectorizeNearestRowsBase<DlcVectorizeNearestRowsPass> {
  void runOnOperation() override {
    SmallVector<std::pair<linalg::GenericOp, NearestRow>> found;
    getOperation()->walk([&](linalg::GenericOp g) {
      if (std::optional<NearestRow> row = nearestRow(g))
        found.push_back({g, *row});
    });
    for (auto &[g, row] : found)
      writeLoops(g, row);
  }
};

} // namespace
} // namespace dlc
