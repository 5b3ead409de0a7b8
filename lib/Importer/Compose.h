//===- Compose.h - Straight-line composition of dlc ops --------*- C++ -*-===//
//
// Handlers that decompose an ONNX op into several dlc ops (quantization, the
// normalizations, Attention) write the formula as straight-line code: each call
// builds one op, and after the first failure (already reported at the node) every
// later call returns null, so the handler checks once at the end.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_IMPORTER_COMPOSE_H
#define DLC_LIB_IMPORTER_COMPOSE_H

#include "NodeImporter.h"

namespace dlc::importer {

/// Builds dlc ops for one node, turning any failure (already reported) into a null
/// value that every later call passes on, so a formula reads as straight-line code.
struct Compose {
  NodeImporter &n;
  bool failed = false;

  /// The dlc op `name` with result element type `et`; null after a failure.
  mlir::Value op(llvm::StringRef name, mlir::Type et, mlir::ValueRange ins,
                 llvm::ArrayRef<mlir::NamedAttribute> attrs = {}) {
    if (failed || llvm::any_of(ins, [](mlir::Value v) { return !v; })) {
      failed = true;
      return nullptr;
    }
    auto r = n.build1(name, et, ins, attrs);
    if (mlir::failed(r)) {
      failed = true;
      return nullptr;
    }
    return *r;
  }
  /// Reports `message` at the node and fails the composition.
  mlir::Value fail(const llvm::Twine &message) {
    if (!failed)
      n.error() << message;
    failed = true;
    return nullptr;
  }
  mlir::Type type(mlir::Value v) { return v ? n.elementType(v) : mlir::Type(); }
  mlir::Value cast(mlir::Value v, mlir::Type t) {
    return v && type(v) == t ? v : op("dlc.cast", t, {v});
  }
  mlir::Value binary(llvm::StringRef name, mlir::Value a, mlir::Value b) {
    return op(name, type(a), {a, b});
  }
  mlir::Value unary(llvm::StringRef name, mlir::Value a) { return op(name, type(a), {a}); }
  mlir::Value add(mlir::Value a, mlir::Value b) { return binary("dlc.add", a, b); }
  mlir::Value sub(mlir::Value a, mlir::Value b) { return binary("dlc.sub", a, b); }
  mlir::Value mul(mlir::Value a, mlir::Value b) { return binary("dlc.mul", a, b); }
  mlir::Value div(mlir::Value a, mlir::Value b) { return binary("dlc.div", a, b); }
  /// A rank-0 constant of `v`'s element type.
  mlir::Value scalarLike(mlir::Value v, double x) { return v ? n.scalar(type(v), x) : v; }
  mlir::Value reshape(mlir::Value v, llvm::ArrayRef<int64_t> shape) {
    return op("dlc.reshape", type(v), {v},
              {n.named("shape", n.i64s(shape)), n.named("allowzero", n.b.getBoolAttr(false))});
  }
  /// v[start:end] along `axis` (static bounds, step 1).
  mlir::Value slice(mlir::Value v, int64_t axis, int64_t start, int64_t end) {
    return op("dlc.slice", type(v), {v},
              {n.named("starts", n.i64s({start})), n.named("ends", n.i64s({end})),
               n.named("axes", n.i64s({axis})), n.named("steps", n.i64s({1}))});
  }
  mlir::Value squeeze(mlir::Value v, int64_t axis) {
    return op("dlc.squeeze", type(v), {v}, {n.named("axes", n.i64s({axis}))});
  }
  mlir::Value unsqueeze(mlir::Value v, int64_t axis) {
    return op("dlc.unsqueeze", type(v), {v}, {n.named("axes", n.i64s({axis}))});
  }
  /// Entry `i` of `axis`, that axis removed.
  mlir::Value take(mlir::Value v, int64_t axis, int64_t i) {
    return squeeze(slice(v, axis, i, i + 1), axis);
  }
  mlir::Value transpose(mlir::Value v, llvm::ArrayRef<int64_t> perm) {
    return op("dlc.transpose", type(v), {v}, {n.named("perm", n.i64s(perm))});
  }
  /// `vs` joined along `axis` (the value itself when there is one).
  mlir::Value concat(mlir::ValueRange vs, int64_t axis) {
    if (vs.size() == 1)
      return vs[0];
    if (vs.empty()) { // nothing to join: no type to give the result (a caller's bug)
      failed = true;
      return {};
    }
    return op("dlc.concat", type(vs[0]), vs, {n.named("axis", n.b.getI64IntegerAttr(axis))});
  }
  /// Equally shaped values stacked along a new axis `axis`.
  mlir::Value stack(mlir::ValueRange vs, int64_t axis) {
    llvm::SmallVector<mlir::Value> parts;
    for (mlir::Value v : vs)
      parts.push_back(unsqueeze(v, axis));
    return concat(parts, axis);
  }
  /// A reduction (`kind`: "dlc.reduce_mean", ...) over `axes` (all when empty).
  mlir::Value reduce(llvm::StringRef kind, mlir::Value v, llvm::ArrayRef<int64_t> axes,
                     bool keepdims = true) {
    return op(kind, type(v), {v},
              {n.named("axes", n.i64s(axes)), n.named("keepdims", n.b.getBoolAttr(keepdims))});
  }
  /// The node's single result, or failure.
  mlir::LogicalResult result(mlir::Value v) {
    if (failed || !v)
      return mlir::failure();
    return n.result(v);
  }
};

/// A bool mask of `shape`, true with probability 1 - `ratio`, from the node's `seed`
/// (OpsRandom.cpp; training-mode Dropout at inference).
mlir::Value randomKeepMask(Compose &c, llvm::ArrayRef<int64_t> shape, double ratio);

/// x / sqrt(mean(x^2 over the dims from `axis` on) + eps), computed in `stash`, in x's
/// type (RMSNormalization without its scale; OpsNorm.cpp).
mlir::Value rmsNormalize(Compose &c, mlir::Value x, int64_t axis, double eps, mlir::Type stash);

/// `a` (float, [..., K]) times an 8-bit weight `w` [K, N] with its `scale` and zero
/// point `zp` (scalars, or one per column [N]) as onnxruntime's quantized GEMMs compute
/// it: `a` quantized to uint8 over all its elements (DynamicQuantizeLinear's range with
/// 0 in it; scale 1 when `a` is all zeros), the centred integers multiplied in int32,
/// the sums scaled by a's scale times the weight's (OpsQuant.cpp; DynamicQuantizeLSTM).
mlir::Value dynamicQuantizedMatMul(Compose &c, mlir::Value a, mlir::Value w, mlir::Value scale,
                                   mlir::Value zp);

/// `x` padded with `value` by `pads` (begin of each axis, then ends), entries that may
/// be expressions of the dims or data dims (OpsTensor.cpp).
mlir::Value padSymbolic(Compose &c, mlir::Value x, llvm::ArrayRef<mlir::AffineExpr> pads,
                        double value);

} // namespace dlc::importer

#endif // DLC_LIB_IMPORTER_COMPOSE_H
