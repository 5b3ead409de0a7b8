//===- HalfActivations.cpp - The dlc-half-activations pass -------------------===//
//
// Below fp32 on the GPU (--precision fp16 or bf16) a contraction reads its operands
// rounded to half precision: tensor cores round them as they copy them into shared
// memory, and dlc-half-weights stores the weights rounded. An f32 activation whose
// every reader rounds it first can be rounded once, by the kernel that writes it: it
// crosses from kernel to kernel in half precision (half the bytes written and read,
// and a copy into shared memory that converts nothing, which cp.async then takes), and
// each reader widens it back to f32. The rounding is the same (to nearest even), so a
// tensor-core tile computes exactly what it computed from the f32 activation; a
// contraction left on FMA tiles (a GEMV, a depthwise Conv) reads the rounded value, as
// it reads the rounded weight.
//
// A kernel input is read rounded when each of its uses in the kernel body is
//   - a Conv's input or weight, a MatMul's or Gemm's A or B (not a bias);
//   - a rounding to the precision (the yield of a result this pass rounded);
//   - an op whose results are read rounded and which commutes with rounding: data
//     movement (Transpose, Slice, Split, Concat, Expand, Tile, Pad, Gather's table,
//     nearest Resize and the metadata-only reshapes) and monotone selections (Relu,
//     Max, Min, MaxPool), since rounding to nearest even is monotone and idempotent:
//     max(round(a), b) rounds to max(round(a), round(b)).
// A kernel result (through the graph's metadata-only reshapes) is rounded when every
// user is a kernel that reads it rounded or an op that reads its shape alone; the
// model's outputs, host ops and anything else keep f32. Kernels are visited from the
// last back, so that a chain (Conv, then MaxPool, then Conv) rounds at its first kernel.
//
// The rounded result: `dlc.cast` to f16 (bf16) before the producer's yield; its
// readers' block arguments take the half type and `dlc.cast` back to f32 first
// thing. A Concat's result is rounded piece by piece (a piece its kernel widened from
// half precision is taken as it came): a rounding after the Concat would be a kernel
// root reading a Concat, which has no GPU tiling (the kernel ran on one thread). The
// kernels fuse both casts: the producer's epilogue stores half-precision elements, the
// consumer's copies load them (folding extend-then-round away).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace dlc {
#define GEN_PASS_DEF_DLCHALFACTIVATIONS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// Whether `op` reads operand `i` as a contraction's factor (rounded below fp32): a
/// Conv's input or weight, a MatMul's or Gemm's A or B (not a bias).
bool isFactor(Operation *op, unsigned i) { return isa<ConvOp, MatMulOp, GemmOp>(op) && i < 2; }

/// Whether rounding `op`'s results rounds as if its operand `i` were rounded first:
/// data movement (of operand `i`'s elements, not of shape operands) and monotone
/// selections.
bool commutesWithRounding(Operation *op, unsigned i) {
  if (isa<ConcatOp, MaxOp, MinOp>(op))
    return true;
  // A Pad's pad value is rounded either way: round(pad(x, v)) = pad(round(x), round(v)).
  if (isa<TransposeOp, SliceOp, SplitOp, ExpandOp, TileOp, PadOp, GatherOp, ReluOp, MaxPoolOp,
          ReshapeOp, FlattenOp, SqueezeOp, UnsqueezeOp, IdentityOp>(op))
    return i == 0;
  if (auto resize = dyn_cast<ResizeOp>(op))
    return i == 0 && resize.getMode() == "nearest";
  return false;
}

/// Whether `op` reads only the shape of its operand `i` (whatever its element type).
bool readsShapeOnly(Operation *op, unsigned i) {
  return isa<ShapeOp, SizeOp>(op) || (isa<ReshapeOp, ResizeOp>(op) && i > 0);
}

/// Whether `type` is an f32 tensor.
bool isF32Tensor(Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  return t && t.getElementType().isF32();
}

struct DlcHalfActivationsPass : impl::DlcHalfActivationsBase<DlcHalfActivationsPass> {
  using DlcHalfActivationsBase::DlcHalfActivationsBase;

  Type half;

  /// Whether every read of `v`, a value in a kernel body, rounds it to `half` first.
  bool readRounded(Value v, unsigned depth = 0) {
    if (depth > 16)
      return false;
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      unsigned i = use.getOperandNumber();
      if (isFactor(user, i) || readsShapeOnly(user, i))
        continue;
      if (auto cast = dyn_cast<CastOp>(user)) {
        if (getElementTypeOrSelf(cast.getType()) == half)
          continue;
        return false;
      }
      if (!commutesWithRounding(user, i) || user->getNumResults() == 0)
        return false;
      for (Value r : user->getResults())
        if (!isF32Tensor(r.getType()) || !readRounded(r, depth + 1))
          return false;
    }
    return true;
  }

  /// Whether every user of `v`, a value of the function body, is a kernel that reads
  /// it rounded, directly or through metadata-only reshapes.
  bool usersReadRounded(Value v, unsigned depth = 0) {
    if (depth > 16 || v.use_empty())
      return false;
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (auto kernel = dyn_cast<KernelOp>(user)) {
        if (!readRounded(kernel.getBody().getArgument(use.getOperandNumber())))
          return false;
        continue;
      }
      if (readsShapeOnly(user, use.getOperandNumber()))
        continue;
      if (isMetadataOnly(user) && use.getOperandNumber() == 0 && user->getNumResults() == 1 &&
          isF32Tensor(user->getResult(0).getType()) &&
          usersReadRounded(user->getResult(0), depth + 1))
        continue;
      return false;
    }
    return true;
  }

  /// Gives `v` (a kernel result or a reshape of one) the half type, and its readers
  /// the half-precision input widened first thing.
  void retype(Value v, OpBuilder &b) {
    auto type = cast<RankedTensorType>(v.getType());
    v.setType(type.clone(half));
    for (OpOperand &use : llvm::make_early_inc_range(v.getUses())) {
      Operation *user = use.getOwner();
      if (auto kernel = dyn_cast<KernelOp>(user)) {
        BlockArgument arg = kernel.getBody().getArgument(use.getOperandNumber());
        if (!isF32Tensor(arg.getType()))
          continue; // the same value passed twice: widened already
        arg.setType(type.clone(half));
        b.setInsertionPointToStart(&kernel.getBody().front());
        Value wide = CastOp::create(b, kernel.getLoc(), type, arg);
        arg.replaceAllUsesExcept(wide, wide.getDefiningOp());
        continue;
      }
      if (isMetadataOnly(user) && use.getOperandNumber() == 0)
        retype(user->getResult(0), b);
    }
  }

  /// `value` rounded to the half type, built before the yield `b` is at. A Concat that
  /// only the yield reads concatenates its pieces rounded instead (the same elements):
  /// the kernel's root stays the Concat, which writes the result piece by piece,
  /// rather than a rounding that reads a Concat it would have to materialize first.
  Value round(Value value, OpBuilder &b, unsigned depth = 0) {
    auto type = cast<RankedTensorType>(value.getType()).clone(half);
    auto concat = value.getDefiningOp<ConcatOp>();
    if (!concat || !value.hasOneUse() || depth > 16 ||
        !llvm::all_of(concat.getInputs().getTypes(), isF32Tensor))
      return CastOp::create(b, value.getLoc(), type, value);
    SmallVector<Value> pieces;
    for (Value piece : concat.getInputs())
      pieces.push_back(round(piece, b, depth + 1));
    return ConcatOp::create(b, concat.getLoc(), type, pieces, concat.getAxis());
  }

  /// `v` (f32) in the half type without a rounding, where it is a widened half
  /// value moved by data-movement ops that only it reads (a Gather of a widened
  /// table: the class token ViT takes from its half-precision sequence; a nearest
  /// Resize of a widened feature map); the moves are built again on the half value.
  /// Null otherwise.
  Value narrowed(Value v, OpBuilder &b, unsigned depth = 0) {
    if (depth > 16)
      return {};
    if (auto widen = v.getDefiningOp<CastOp>())
      return getElementTypeOrSelf(widen.getX().getType()) == half && isF32Tensor(v.getType())
                 ? widen.getX()
                 : Value();
    Operation *op = v.getDefiningOp();
    auto resize = dyn_cast_or_null<ResizeOp>(op);
    if (!op || !v.hasOneUse() || op->getNumResults() != 1 ||
        !(isa<TransposeOp, SliceOp, ExpandOp, TileOp, GatherOp, ReshapeOp, FlattenOp, SqueezeOp,
              UnsqueezeOp, IdentityOp>(op) ||
          (resize && resize.getMode() == "nearest")))
      return {};
    Value in = narrowed(op->getOperand(0), b, depth + 1);
    if (!in)
      return {};
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(op);
    IRMapping map;
    map.map(op->getOperand(0), in);
    Operation *copy = b.clone(*op, map);
    copy->getResult(0).setType(cast<RankedTensorType>(v.getType()).clone(half));
    return copy->getResult(0);
  }

  /// Erases `op` and then the ops only it read, as long as nothing else reads them.
  static void eraseDeadChain(Operation *op, unsigned depth = 0) {
    if (!op || !op->use_empty() || depth > 16 || !isMemoryEffectFree(op))
      return;
    SmallVector<Value> operands(op->getOperands());
    op->erase();
    for (Value v : operands)
      eraseDeadChain(v.getDefiningOp(), depth + 1);
  }

  /// Erases `op` if nothing reads it, and then the Concats it alone read.
  static void eraseIfDead(Operation *op) {
    if (!op || !op->use_empty())
      return;
    SmallVector<Value> operands(op->getOperands());
    op->erase();
    for (Value v : operands)
      if (auto concat = v.getDefiningOp<ConcatOp>())
        eraseIfDead(concat);
  }

  void runOnOperation() override {
    FailureOr<Type> halfType = halfPrecisionType(getOperation(), getArgument(), precision);
    if (failed(halfType))
      return signalPassFailure();
    half = *halfType;
    if (!half)
      return;
    SmallVector<KernelOp> kernels;
    getOperation().walk([&](KernelOp k) { kernels.push_back(k); });
    OpBuilder b(&getContext());
    for (KernelOp kernel : llvm::reverse(kernels)) {
      auto yield = cast<YieldOp>(kernel.getBody().front().getTerminator());
      for (OpResult result : kernel->getResults()) {
        if (!isF32Tensor(result.getType()) || !usersReadRounded(result))
          continue;
        unsigned i = result.getResultNumber();
        b.setInsertionPoint(yield);
        Value value = yield.getOperand(i);
        yield.setOperand(i, round(value, b));
        if (auto concat = value.getDefiningOp<ConcatOp>())
          eraseIfDead(concat);
        retype(result, b);
      }
    }
    // A reader's widening of a half-precision input that a rounding then reads (a
    // Concat's piece) is the input itself: extending is exact, rounding it back is too;
    // so is the widened input moved by data-movement ops before the rounding (a Gather
    // of it), which then move the half value (the rounding was a kernel root reading a
    // Gather of a widened copy of the whole table, which had to be made first: the
    // kernel ran on one thread).
    SmallVector<CastOp> rounds;
    getOperation().walk([&](CastOp round) {
      if (getElementTypeOrSelf(round.getType()) == half && isF32Tensor(round.getX().getType()))
        rounds.push_back(round);
    });
    for (CastOp round : rounds) {
      Value n = narrowed(round.getX(), b);
      if (!n)
        continue;
      Operation *moved = round.getX().getDefiningOp();
      round.replaceAllUsesWith(n);
      round.erase();
      eraseDeadChain(moved);
    }
  }
};

} // namespace
} // namespace dlc
