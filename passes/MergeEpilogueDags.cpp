//===- MergeEpilogueDags.cpp - The dlc-merge-epilogue-dags pass -----------===//
//
// A contraction's elementwise epilogue that uses a value twice (GELU's
// x * (1 + erf(x / sqrt(2))) / 2 over x = MatMul + bias) is a DAG, which the GPU's
// shared-memory contraction tiles do not take: tiling would fuse the contraction once
// per use. The epilogue's ops are merged into one elementwise generic (upstream
// elementwise fusion), so that the contraction has a chain of one op after it.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace dlc {
#define GEN_PASS_DEF_DLCMERGEEPILOGUEDAGS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

bool isElementwise(Operation *op) {
  auto l = dyn_cast<linalg::LinalgOp>(op);
  return l && l.getNumLoops() == l.getNumParallelLoops() && l->getNumResults() == 1 &&
         l.hasPureTensorSemantics();
}

/// The elementwise ops downstream of `c` whose values stay among them until one op, the
/// epilogue's last; empty unless they form such a DAG that is not a chain.
SetVector<Operation *> epilogueDag(Operation *c, Operation *&last) {
  SetVector<Operation *> dag;
  SmallVector<Operation *> work{c};
  last = nullptr;
  bool branches = false;
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    if (!op->hasOneUse())
      branches = true;
    for (Operation *user : op->getUsers()) {
      if (!isElementwise(user)) {
        // The epilogue ends at one op whose value leaves it.
        if (last && last != op)
          return {};
        last = op;
        continue;
      }
      if (dag.insert(user))
        work.push_back(user);
    }
  }
  if (!branches || !last || last == c)
    return {};
  // Every value of the DAG but the last's is used inside it.
  for (Operation *op : dag)
    if (op != last && llvm::any_of(op->getUsers(), [&](Operation *u) { return !dag.contains(u); }))
      return {};
  return dag;
}

struct DlcMergeEpilogueDagsPass : impl::DlcMergeEpilogueDagsBase<DlcMergeEpilogueDagsPass> {
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> contractions;
    getOperation()->walk([&](linalg::LinalgOp l) {
      if (l.getNumReductionLoops() != 0 && l->getNumResults() == 1 && l->hasOneUse() &&
          l.hasPureTensorSemantics())
        contractions.push_back(l);
    });
    IRRewriter rewriter(&getContext());
    RewritePatternSet dedupPatterns(&getContext());
    linalg::populateEraseUnusedOperandsAndResultsPatterns(dedupPatterns);
    FrozenRewritePatternSet dedup(std::move(dedupPatterns));
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingOps);
    for (linalg::LinalgOp c : contractions) {
      Operation *last = nullptr;
      SetVector<Operation *> dag = epilogueDag(c, last);
      if (dag.empty())
        continue;
      // Fuse the DAG's producers into its last op, each once its only user is that op,
      // until none is left; the last op reads a value twice after some fusions: those
      // operands are deduplicated first.
      for (;;) {
        OpOperand *exit = &*last->getUses().begin();
        (void)applyOpPatternsGreedily({last}, dedup, config);
        last = exit->get().getDefiningOp();
        OpOperand *next = nullptr;
        for (OpOperand &operand : last->getOpOperands()) {
          Operation *def = operand.get().getDefiningOp();
          if (def && dag.contains(def) &&
              llvm::all_of(def->getUsers(), [&](Operation *u) { return u == last; }) &&
              llvm::count_if(last->getOperands(), [&](Value v) { return v == operand.get(); }) ==
                  1 &&
              linalg::areElementwiseOpsFusable(&operand)) {
            next = &operand;
            break;
          }
        }
        if (!next)
          break;
        Operation *def = next->get().getDefiningOp();
        rewriter.setInsertionPoint(last);
        FailureOr<linalg::ElementwiseOpFusionResult> fused =
            linalg::fuseElementwiseOps(rewriter, next);
        if (failed(fused))
          break;
        for (OpResult r : last->getResults())
          rewriter.replaceAllUsesWith(r, fused->replacements.lookup(r));
        rewriter.eraseOp(last);
        dag.remove(def);
        rewriter.eraseOp(def);
        last = fused->fusedOp;
      }
    }
  }
};

} // namespace
} // namespace dlc
