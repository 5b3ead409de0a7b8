//===- FoldTransposesIntoOperands.cpp - dlc-fold-transposes-into-operands -===//
//
// A `linalg.transpose` feeding an input of a linalg.generic is read through the
// generic's indexing map instead: element r of transpose(x, perm) is x[s] with
// s[perm[i]] = r[i], so the operand becomes x and its map's results are permuted the
// same way. On the GPU a transpose fused into a contraction's block tile would
// otherwise be materialized whole by every thread of the block (on the device heap
// when a dim is symbolic: an attention's V^T over the sequence), before the
// shared-memory tiles read it. A transpose that no other op reads is erased.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace dlc {
#define GEN_PASS_DEF_DLCFOLDTRANSPOSESINTOOPERANDS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// Reads `operand` of `g` through the transpose that defines it, if one does.
bool foldTranspose(linalg::GenericOp g, OpOperand &operand) {
  auto t = operand.get().getDefiningOp<linalg::TransposeOp>();
  if (!t || !t.hasPureTensorSemantics())
    return false;
  AffineMap map = g.getMatchingIndexingMap(&operand);
  ArrayRef<int64_t> perm = t.getPermutation();
  SmallVector<AffineExpr> results(map.getNumResults());
  for (auto [i, expr] : llvm::enumerate(map.getResults()))
    results[perm[i]] = expr;
  SmallVector<AffineMap> maps = g.getIndexingMapsArray();
  maps[operand.getOperandNumber()] =
      AffineMap::get(map.getNumDims(), map.getNumSymbols(), results, g.getContext());
  g.setIndexingMapsAttr(Builder(g.getContext()).getAffineMapArrayAttr(maps));
  operand.set(t.getInput());
  // A transpose left unread is erased now: the GPU tiling follows a contraction's
  // result through its single use to the kernel's root.
  if (t->use_empty())
    t->erase();
  return true;
}

struct DlcFoldTransposesIntoOperandsPass
    : impl::DlcFoldTransposesIntoOperandsBase<DlcFoldTransposesIntoOperandsPass> {
  void runOnOperation() override {
    getOperation()->walk([](linalg::GenericOp g) {
      for (OpOperand *in : g.getDpsInputOperands())
        // A transpose of a transpose folds again.
        while (foldTranspose(g, *in)) {
        }
    });
  }
};

} // namespace
} // namespace dlc
