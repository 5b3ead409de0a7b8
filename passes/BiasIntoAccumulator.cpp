//===- BiasIntoAccumulator.cpp - The dlc-bias-into-accumulator pass -------===//
//
// A contraction with a bias epilogue (MatMul + Add, a Linear layer) bufferizes as
//   %c = alloc; fill 0 -> %c; contract(A, B) -> %c; out = %c + bias; dealloc %c
// The scratch %c is written twice and read once more than the output needs; where the
// contraction is a whole workgroup's (PP-OCRv6 rec's 20 x 18710 x 120 head at batch 1,
// which the micro-kernel splits over the threads itself) the fill and the add each
// ran over 1.5 MB on one core. The pass starts the accumulator at the bias instead:
//   out = broadcast(bias); contract(A, B) -> out
// (the sum then adds the bias first: another rounding order of the same terms).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace dlc {
#define GEN_PASS_DEF_DLCBIASINTOACCUMULATOR
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// The buffer a view (subview, collapse, expand, transpose, cast) of it comes from.
Value rootBuffer(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      break;
    v = view.getViewSource();
  }
  return v;
}

/// The parts of a bias epilogue on a scratch accumulator (see the file comment).
struct Match {
  memref::AllocOp alloc;
  linalg::FillOp fill;
  linalg::LinalgOp contraction;
  linalg::GenericOp epilogue;
  OpOperand *bias;
  SmallVector<Operation *> dead; // the fill's views of the alloc, the dealloc
};

/// Whether `epilogue` is `out = acc + bias` on floats, reading `acc` with the identity
/// map and writing its output with it; the bias operand, or null.
OpOperand *biasOperand(linalg::GenericOp epilogue, Value acc) {
  if (epilogue.getNumDpsInputs() != 2 || epilogue.getNumDpsInits() != 1 ||
      !epilogue.hasPureBufferSemantics() ||
      epilogue.getNumParallelLoops() != epilogue.getNumLoops() ||
      !epilogue.getMatchingIndexingMap(epilogue.getDpsInitOperand(0)).isIdentity())
    return nullptr;
  Block &body = epilogue.getRegion().front();
  if (!body.getArgument(2).use_empty() || body.getOperations().size() != 2)
    return nullptr;
  auto add =
      cast<linalg::YieldOp>(body.getTerminator()).getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add)
    return nullptr;
  for (int64_t i : {0, 1}) {
    OpOperand *in = epilogue.getDpsInputOperand(i);
    OpOperand *other = epilogue.getDpsInputOperand(1 - i);
    if (in->get() != acc || !epilogue.getMatchingIndexingMap(in).isIdentity() ||
        other->get() == acc)
      continue;
    Value a = body.getArgument(i), b = body.getArgument(1 - i);
    if ((add.getLhs() == a && add.getRhs() == b) || (add.getLhs() == b && add.getRhs() == a))
      return other;
  }
  return nullptr;
}

/// Whether `op` adds its terms to its output (`yield out + f(..)`, float add): what
/// it computes from a start of 0 plus the bias equals it from a start of the bias (a
/// max or a product would not).
bool sumsIntoOutput(linalg::LinalgOp op) {
  Block *body = op.getBlock();
  BlockArgument out = op.getMatchingBlockArgument(op.getDpsInitOperand(0));
  auto add = body->getTerminator()->getOperand(0).getDefiningOp<arith::AddFOp>();
  return add && out.hasOneUse() && (add.getLhs() == out || add.getRhs() == out);
}

std::optional<Match> match(memref::AllocOp alloc) {
  Match m;
  m.alloc = alloc;
  Value acc = alloc.getResult();
  for (Operation *user : acc.getUsers()) {
    if (isa<memref::DeallocOp>(user)) {
      m.dead.push_back(user);
      continue;
    }
    // The fill, on the buffer or on a view of it that nothing else uses.
    Operation *fillUser = user;
    if (isa<ViewLikeOpInterface>(user) && user->hasOneUse()) {
      fillUser = *user->getUsers().begin();
      if (!isa<linalg::FillOp>(fillUser))
        return std::nullopt;
      m.dead.push_back(user);
    }
    if (auto fill = dyn_cast<linalg::FillOp>(fillUser)) {
      if (m.fill || !matchPattern(fill.getInputs()[0], m_AnyZeroFloat()))
        return std::nullopt;
      m.fill = fill;
      continue;
    }
    auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
    if (!linalgOp || !linalgOp.hasPureBufferSemantics())
      return std::nullopt;
    if (linalgOp.getNumDpsInits() == 1 && linalgOp.getDpsInitOperand(0)->get() == acc &&
        linalgOp.getNumReductionLoops() > 0 && sumsIntoOutput(linalgOp) &&
        llvm::none_of(linalgOp.getDpsInputs(), [&](Value v) { return v == acc; })) {
      if (m.contraction)
        return std::nullopt;
      m.contraction = linalgOp;
      continue;
    }
    auto generic = dyn_cast<linalg::GenericOp>(user);
    if (!generic || m.epilogue || !(m.bias = biasOperand(generic, acc)))
      return std::nullopt;
    m.epilogue = generic;
  }
  if (!m.fill || !m.contraction || !m.epilogue)
    return std::nullopt;
  // In this order, in one block; between the contraction and the epilogue nothing
  // that touches memory (the contraction moves down to the epilogue).
  Block *block = alloc->getBlock();
  if (m.fill->getBlock() != block || m.contraction->getBlock() != block ||
      m.epilogue->getBlock() != block || !m.fill->isBeforeInBlock(m.contraction) ||
      !m.contraction->isBeforeInBlock(m.epilogue))
    return std::nullopt;
  for (Operation *op = m.contraction->getNextNode(); op != m.epilogue; op = op->getNextNode())
    if (!isMemoryEffectFree(op))
      return std::nullopt;
  // The output, the accumulator from now on, must not be what the contraction reads.
  Value out = rootBuffer(m.epilogue.getDpsInitOperand(0)->get());
  if (llvm::any_of(m.contraction.getDpsInputs(), [&](Value v) { return rootBuffer(v) == out; }) ||
      rootBuffer(m.bias->get()) == out)
    return std::nullopt;
  // Same shape: the contraction's result is the epilogue's loop space.
  auto accType = cast<MemRefType>(acc.getType());
  auto outType = cast<MemRefType>(m.epilogue.getDpsInitOperand(0)->get().getType());
  if (accType.getRank() != outType.getRank() ||
      accType.getElementType() != outType.getElementType())
    return std::nullopt;
  return m;
}

void rewrite(Match &m) {
  OpBuilder b(m.epilogue);
  Location loc = m.epilogue.getLoc();
  Value out = m.epilogue.getDpsInitOperand(0)->get();
  auto outType = cast<MemRefType>(out.getType());
  // out = bias, broadcast as the epilogue read it.
  AffineMap biasMap = m.epilogue.getMatchingIndexingMap(m.bias);
  AffineMap identity = b.getMultiDimIdentityMap(outType.getRank());
  linalg::GenericOp::create(
      b, loc, ValueRange{m.bias->get()}, ValueRange{out}, ArrayRef<AffineMap>{biasMap, identity},
      m.epilogue.getIteratorTypesArray(),
      [](OpBuilder &nb, Location l, ValueRange args) { linalg::YieldOp::create(nb, l, args[0]); });
  m.contraction->moveBefore(m.epilogue);
  m.contraction.getDpsInitOperand(0)->set(out);
  m.epilogue->erase();
  m.fill->erase();
  for (Operation *op : m.dead)
    op->erase();
  m.alloc->erase();
}

struct DlcBiasIntoAccumulatorPass : impl::DlcBiasIntoAccumulatorBase<DlcBiasIntoAccumulatorPass> {
  void runOnOperation() override {
    SmallVector<Match> found;
    getOperation()->walk([&](memref::AllocOp alloc) {
      if (std::optional<Match> m = match(alloc))
        found.push_back(*m);
    });
    for (Match &m : found)
      rewrite(m);
  }
};

} // namespace
} // namespace dlc
