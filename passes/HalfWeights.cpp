//===- HalfWeights.cpp - The dlc-half-weights pass --------------------------===//
//
// Below fp32 on the GPU (--precision fp16 or bf16) tensor cores read a contraction's
// operands rounded to half precision as they copy them into shared memory. A weight
// that is an f32 constant can be rounded once, at compile time, instead: it is stored
// in the artifact in half precision (half the weight bytes, half the bytes each
// kernel reads of it) and widened back to f32 where it is read. The rounding is the
// same (to nearest even), so tensor-core tiles compute exactly what they computed
// from the f32 weight; contractions left on FMA tiles (a GEMV, a grouped Conv) now
// read the rounded weight too, as the precision mode asks.
//
// Each such operand of a Conv (its weight), MatMul or Gemm (A and B) becomes
// `dlc.cast(<constant in f16/bf16>) : -> f32`, one cast per use; dlc-form-kernels puts
// the cast in its consumer's kernel, so the widening is fused into the reads.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"

#include "mlir/IR/Builders.h"

namespace dlc {
#define GEN_PASS_DEF_DLCHALFWEIGHTS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {

FailureOr<Type> halfPrecisionType(Operation *op, StringRef pass, StringRef precision) {
  if (precision == "fp16")
    return Type(Float16Type::get(op->getContext()));
  if (precision == "bf16")
    return Type(BFloat16Type::get(op->getContext()));
  if (precision == "fp32" || precision == "tf32")
    return Type();
  return emitError(op->getLoc()) << pass << ": unknown precision '" << precision << "'", failure();
}

namespace {

/// The operands of contraction `op` that are weights: a Conv's filter, a MatMul's or
/// Gemm's factors.
SmallVector<OpOperand *> weightOperands(Operation *op) {
  SmallVector<OpOperand *> operands;
  if (auto conv = dyn_cast<ConvOp>(op))
    operands.push_back(&conv.getWMutable());
  else if (auto mm = dyn_cast<MatMulOp>(op))
    operands.append({&mm.getAMutable(), &mm.getBMutable()});
  else if (auto gemm = dyn_cast<GemmOp>(op))
    operands.append({&gemm.getAMutable(), &gemm.getBMutable()});
  return operands;
}

struct DlcHalfWeightsPass : impl::DlcHalfWeightsBase<DlcHalfWeightsPass> {
  using DlcHalfWeightsBase::DlcHalfWeightsBase;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    FailureOr<Type> halfType = halfPrecisionType(getOperation(), getArgument(), precision);
    if (failed(halfType))
      return signalPassFailure();
    Type half = *halfType;
    if (!half)
      return;
    OpBuilder b(ctx);
    // One half-precision copy per f32 weight, shared by its uses.
    DenseMap<Value, Value> halves;
    getOperation().walk([&](Operation *op) {
      for (OpOperand *operand : weightOperands(op)) {
        auto constant = operand->get().getDefiningOp<ConstantOp>();
        auto type = constant ? dyn_cast<RankedTensorType>(constant.getType()) : nullptr;
        if (!type || !type.getElementType().isF32() || !type.hasStaticShape())
          continue;
        Value &h = halves[constant];
        if (!h) {
          b.setInsertionPointAfter(constant);
          h = b.createOrFold<CastOp>(constant.getLoc(), type.clone(half), constant.getResult());
          if (!h.getDefiningOp<ConstantOp>()) {
            // The rounding did not fold (it always does for f32 constants): keep f32.
            h.getDefiningOp()->erase();
            h = constant;
          }
        }
        if (h == constant.getResult())
          continue;
        b.setInsertionPoint(op);
        Value widened = CastOp::create(b, constant.getLoc(), type, h);
        operand->set(widened);
      }
    });
    for (auto [f32, h] : halves)
      if (auto c = f32.getDefiningOp<ConstantOp>(); c && c->use_empty())
        c->erase();
  }
};

} // namespace
} // namespace dlc
