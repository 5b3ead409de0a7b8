//===- PipelineSteps.cpp - The dlc-pipeline-steps pass --------------------===//
//
// A shared-memory contraction tile walks its reduction in steps: barrier, every thread
// copies its elements of the step's operand slices from global into shared memory,
// barrier, the tile's products from shared memory. Each step waits a whole global
// memory latency before any product can start. Here such a loop is software-pipelined
// in two stages (upstream's scf::pipelineForLoop): the global loads of step i + 1 (and
// the address arithmetic they need) issue first in iteration i, before its barrier,
// their values carried in registers into the next iteration, so that they are in
// flight while step i's copies go to shared memory and its products compute; the
// first step's loads go before the loop, the last step's products after it.
//
// It applies to a loop (after dlc-unroll-thread-loops, linalg-to-loops and LICM) with
// a static trip count of two or more whose global loads (scalar, or 128-bit vector
// loads) are all at its top level, read kernel arguments, and whose body writes no
// global memory: the loads of step i + 1 then cannot see anything step i writes.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/ViewedBuffer.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace dlc {
#define GEN_PASS_DEF_DLCPIPELINESTEPS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// The ops of `loop`'s body that make up stage 0 (its global loads and what computes
/// their operands in the body), or nothing when the loop does not qualify.
std::optional<llvm::SetVector<Operation *>> loadStage(scf::ForOp loop) {
  Block *body = loop.getBody();
  llvm::SetVector<Operation *> stage;
  bool ok = true, barrier = false;
  SmallVector<Operation *> worklist;
  loop.walk([&](Operation *op) {
    if (op == loop)
      return;
    if (isa<gpu::BarrierOp>(op)) {
      barrier = true;
      return;
    }
    // Registers only (declaring no effects), or ordering shared memory only: wgmma's
    // instructions read shared memory the step's barrier made ready.
    if (isa<NVVM::MmaOp, NVVM::WgmmaMmaAsyncOp, NVVM::WgmmaFenceAlignedOp,
            NVVM::WgmmaGroupSyncAlignedOp, NVVM::WgmmaWaitGroupSyncOp, NVVM::FenceProxyOp>(op))
      return;
    auto effects = dyn_cast<MemoryEffectOpInterface>(op);
    if (!effects) {
      if (!op->hasTrait<OpTrait::HasRecursiveMemoryEffects>() && !isPure(op))
        ok = false;
      return;
    }
    SmallVector<MemoryEffects::EffectInstance> list;
    effects.getEffects(list);
    for (const MemoryEffects::EffectInstance &e : list) {
      Value v = e.getValue();
      if (isa<MemoryEffects::Write>(e.getEffect()) &&
          (!v || !isa<BaseMemRefType>(v.getType()) || viewsKernelArgument(v)))
        ok = false; // A global write, or one to unknown memory.
      if (isa<MemoryEffects::Read>(e.getEffect()) && v && isa<BaseMemRefType>(v.getType()) &&
          viewsKernelArgument(v)) {
        if (op->getBlock() != body || !isa<memref::LoadOp, vector::LoadOp>(op))
          ok = false; // A global read inside a nested region: not split off.
        else
          worklist.push_back(op);
      }
    }
  });
  if (!ok || !barrier || worklist.empty())
    return std::nullopt;
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    if (!stage.insert(op))
      continue;
    for (Value operand : op->getOperands()) {
      Operation *def = operand.getDefiningOp();
      if (!def || def->getBlock() != body)
        continue;
      if (!isPure(def) || def->getNumRegions())
        return std::nullopt;
      worklist.push_back(def);
    }
  }
  return stage;
}

struct DlcPipelineStepsPass : impl::DlcPipelineStepsBase<DlcPipelineStepsPass> {
  void runOnOperation() override {
    SmallVector<std::pair<scf::ForOp, llvm::SetVector<Operation *>>> loops;
    getOperation().walk([&](scf::ForOp loop) {
      auto func = loop->getParentOfType<gpu::GPUFuncOp>();
      std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound());
      std::optional<int64_t> ub = getConstantIntValue(loop.getUpperBound());
      std::optional<int64_t> step = getConstantIntValue(loop.getStep());
      if (!func || !lb || !ub || !step || *step <= 0 || llvm::divideCeil(*ub - *lb, *step) < 2)
        return;
      if (std::optional<llvm::SetVector<Operation *>> stage = loadStage(loop))
        loops.push_back({loop, std::move(*stage)});
    });
    IRRewriter rw(&getContext());
    for (auto &[loop, stage] : loops) {
      // Stage 0 (step i + 1's loads) first, before the body's first barrier: a barrier
      // keeps LLVM from sinking them towards their uses in the next iteration (after
      // this step's products, which would expose their latency again).
      scf::PipeliningOption options;
      options.getScheduleFn = [&](scf::ForOp forOp,
                                  std::vector<std::pair<Operation *, unsigned>> &s) {
        for (Operation &op : forOp.getBody()->without_terminator())
          if (stage.contains(&op))
            s.push_back({&op, 0});
        for (Operation &op : forOp.getBody()->without_terminator())
          if (!stage.contains(&op))
            s.push_back({&op, 1});
      };
      options.peelEpilogue = true;
      bool modified = false;
      rw.setInsertionPoint(loop);
      if (failed(scf::pipelineForLoop(rw, loop, options, &modified)) && modified) {
        loop->emitOpError("could not be pipelined");
        return signalPassFailure();
      }
    }
  }
};

} // namespace
} // namespace dlc
