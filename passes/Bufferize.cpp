//===- Bufferize.cpp - The dlc-bufferize pass ------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace dlc {
#define GEN_PASS_DEF_DLCBUFFERIZE
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// The extract_slice of `prev` at `ins`'s slice that is the init of the op making
/// `ins`'s source (a fused producer computing into its slice of the Concat), if any.
tensor::ExtractSliceOp sliceInit(tensor::InsertSliceOp ins, Value prev) {
  auto dps = ins.getSource().getDefiningOp<DestinationStyleOpInterface>();
  if (!dps || dps->getNumResults() != 1 || !ins.getSource().hasOneUse())
    return {};
  auto ex = dps.getDpsInits()[0].getDefiningOp<tensor::ExtractSliceOp>();
  if (!ex || ex.getSource() != prev || !ex->hasOneUse() ||
      ex.getMixedOffsets() != ins.getMixedOffsets() || ex.getMixedSizes() != ins.getMixedSizes() ||
      ex.getMixedStrides() != ins.getMixedStrides())
    return {};
  return ex;
}

/// A Concat written into a kernel output: a chain of tensor.insert_slice from a
/// tensor.empty (or the output's own contents) whose end is materialized into a memref, each link
/// used only by the next insert and by the extract_slice of the same slice that a fused producer
/// computes into. Each link writes its subview of the memref directly: the producer
/// into `to_tensor` of the subview, any other source through a materialization (a
/// copy), in the chain's order. That is what bufferizing the chain in place gives,
/// without One-Shot's analysis of it, which compares pairs of slices of one buffer
/// through ValueBoundsConstraintSet at a cost that grows with the symbols in the
/// offsets: a Concat of 90 tensors with data-dependent lengths (SSDLite's per-class
/// detections) took minutes.
void materializeInsertChains(ModuleOp module) {
  SmallVector<bufferization::MaterializeInDestinationOp> roots;
  module.walk([&](bufferization::MaterializeInDestinationOp m) {
    if (isa<BaseMemRefType>(m.getDest().getType()))
      roots.push_back(m);
  });
  for (bufferization::MaterializeInDestinationOp m : roots) {
    SmallVector<std::pair<tensor::InsertSliceOp, tensor::ExtractSliceOp>> chain;
    Value v = m.getSource();
    bool ok = v.hasOneUse();
    while (auto ins = v.getDefiningOp<tensor::InsertSliceOp>()) {
      // Rank-reducing inserts are not what dlc's Concat lowering makes: left to One-Shot.
      if (!ok || ins.getSourceType().getRank() != ins.getDestType().getRank()) {
        ok = false;
        break;
      }
      Value prev = ins.getDest();
      tensor::ExtractSliceOp ex = sliceInit(ins, prev);
      size_t uses = std::distance(prev.use_begin(), prev.use_end());
      if (uses != (ex ? 2u : 1u)) {
        ok = false;
        break;
      }
      chain.push_back({ins, ex});
      v = prev;
    }
    // The chain starts from nothing or from the memref's own contents, and nothing
    // else reads or writes the memref.
    Value out = m.getDest();
    Operation *root = v.getDefiningOp();
    auto own = dyn_cast_or_null<bufferization::ToTensorOp>(root);
    bool fromOut = own && own.getBuffer() == out;
    size_t outUses = std::distance(out.use_begin(), out.use_end());
    if (!ok || chain.size() < 2 || !(isa_and_nonnull<tensor::EmptyOp>(root) || fromOut) ||
        outUses != (fromOut ? 2u : 1u))
      continue;
    OpBuilder b(m);
    for (auto [ins, ex] : llvm::reverse(chain)) {
      Operation *at = ex ? ex.getOperation() : ins.getOperation();
      b.setInsertionPoint(at);
      auto view = memref::SubViewOp::create(b, ins.getLoc(), out, ins.getMixedOffsets(),
                                            ins.getMixedSizes(), ins.getMixedStrides());
      if (ex) {
        auto t = bufferization::ToTensorOp::create(b, ex.getLoc(), ex.getType(), view,
                                                   /*restrict=*/true, /*writable=*/true);
        ex.getResult().replaceAllUsesWith(t.getResult());
      }
      b.setInsertionPoint(ins);
      auto mat =
          bufferization::MaterializeInDestinationOp::create(b, ins.getLoc(), ins.getSource(), view);
      mat.setWritable(true);
      mat.setRestrict(true);
    }
    m.erase();
    for (auto [ins, ex] : chain) {
      ins.erase();
      if (ex)
        ex.erase();
    }
    root->erase();
  }
}

struct DlcBufferizePass : impl::DlcBufferizeBase<DlcBufferizePass> {
  void runOnOperation() override {
    materializeInsertChains(getOperation());
    bufferization::OneShotBufferizationOptions options;
    options.memCpyFn = [](OpBuilder &b, Location loc, Value from, Value to) {
      linalg::CopyOp::create(b, loc, from, to);
      return success();
    };
    bufferization::BufferizationState state;
    if (failed(bufferization::runOneShotBufferize(getOperation(), options, state)))
      signalPassFailure();
  }
};

} // namespace
} // namespace dlc
