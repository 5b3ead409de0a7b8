//===- ConstantFloats.h - The values of f32 dlc constants ------*- C++ -*-===//
//
// Graph passes that rewrite constant weights (dlc-fold-batch-norm,
// dlc-drop-padding-taps) read them as floats: a dlc.constant of f32 values, dense or a
// resource blob.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_PASSES_CONSTANTFLOATS_H
#define DLC_PASSES_CONSTANTFLOATS_H

#include "dialects/DlcDialect.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>
#include <optional>
#include <vector>

namespace dlc {

/// The values of an f32 constant (dense or resource), if `v` is one.
inline std::optional<std::vector<float>> constantFloats(mlir::Value v) {
  auto c = v.getDefiningOp<ConstantOp>();
  if (!c)
    return std::nullopt;
  auto type = llvm::dyn_cast<mlir::RankedTensorType>(c.getValue().getType());
  if (!type || !type.getElementType().isF32())
    return std::nullopt;
  if (auto r = llvm::dyn_cast<mlir::DenseResourceElementsAttr>(c.getValue())) {
    mlir::AsmResourceBlob *blob = r.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    llvm::ArrayRef<char> data = blob->getData();
    if (data.size() != size_t(type.getNumElements()) * sizeof(float))
      return std::nullopt;
    std::vector<float> out(type.getNumElements());
    std::memcpy(out.data(), data.data(), data.size());
    return out;
  }
  if (auto d = llvm::dyn_cast<mlir::DenseElementsAttr>(c.getValue())) {
    auto values = d.getValues<float>();
    return std::vector<float>(values.begin(), values.end());
  }
  return std::nullopt;
}

} // namespace dlc

#endif // DLC_PASSES_CONSTANTFLOATS_H
