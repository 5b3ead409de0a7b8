//===- SplitToSlices.cpp - The dlc-split-to-slices pass -------------------===//
//
// A Split becomes one Slice per piece. A kernel with several outputs has no single
// root for the GPU tiling to distribute, so a Split kernel ran on one thread (GPT-2's
// QKV Split: 28 ms at batch 32 on an H200); each Slice is injective and is read through
// its consumer's kernel instead, or is a copy kernel of its own.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"

namespace dlc {
#define GEN_PASS_DEF_DLCSPLITTOSLICES
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

struct DlcSplitToSlicesPass : impl::DlcSplitToSlicesBase<DlcSplitToSlicesPass> {
  void runOnOperation() override {
    SmallVector<SplitOp> splits;
    getOperation().walk([&](SplitOp op) { splits.push_back(op); });
    for (SplitOp op : splits) {
      auto xt = dyn_cast<RankedTensorType>(op.getX().getType());
      if (!xt)
        continue;
      auto axis = static_cast<int64_t>(op.getAxis());
      if (axis < 0)
        axis += xt.getRank();
      if (axis < 0 || axis >= xt.getRank() || xt.isDynamicDim(axis))
        continue;
      OpBuilder b(op);
      int64_t offset = 0;
      SmallVector<Value> pieces;
      for (auto [r, size] : llvm::zip(op.getOutputs(), op.getSizes())) {
        // An empty piece starts at 0: a slice may not start at the end of its dim.
        int64_t start = size ? offset : 0;
        pieces.push_back(
            SliceOp::create(b, op.getLoc(), r.getType(), op.getX(), b.getDenseI64ArrayAttr({start}),
                            b.getDenseI64ArrayAttr({start + size}), b.getDenseI64ArrayAttr({axis}),
                            b.getDenseI64ArrayAttr({1})));
        offset += size;
      }
      op->replaceAllUsesWith(pieces);
      op->erase();
    }
  }
};

} // namespace
} // namespace dlc
