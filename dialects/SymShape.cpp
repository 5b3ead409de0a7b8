//===- SymShape.cpp - Symbolic shapes for shape inference -----------------===//
#include "dialects/SymShape.h"

#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/TypeRange.h"
#include "llvm/ADT/StringMap.h"

#include <cmath>

using namespace mlir;

namespace dlc {

AffineExpr dataDimSymbol(MLIRContext *ctx, unsigned k) {
  return inputDimSymbol(ctx, kDataDimInput + k, 0);
}

std::optional<unsigned> dataDimOf(AffineExpr e) {
  auto sym = dyn_cast<AffineSymbolExpr>(e);
  if (!sym)
    return std::nullopt;
  unsigned pos = sym.getPosition();
  if (pos % kMaxRank != 0 || pos / kMaxRank < kDataDimInput || pos >= (1u << 30))
    return std::nullopt;
  return pos / kMaxRank - kDataDimInput;
}

bool usesDataDim(AffineExpr e) {
  bool uses = false;
  e.walk([&](AffineExpr s) { uses |= dataDimOf(s).has_value(); });
  return uses;
}

AffineExpr inputDimSymbol(MLIRContext *ctx, unsigned input, unsigned dim) {
  return getAffineSymbolExpr(input * kMaxRank + dim, ctx);
}

SmallVector<SymShape> graphInputShapes(MLIRContext *ctx, TypeRange types, ArrayAttr dimNames) {
  SmallVector<SymShape> shapes;
  llvm::StringMap<AffineExpr> named;
  for (auto [i, type] : llvm::enumerate(types)) {
    SymShape s;
    auto t = dyn_cast<RankedTensorType>(type);
    auto names = dimNames && i < dimNames.size() ? dyn_cast<ArrayAttr>(dimNames[i]) : ArrayAttr();
    for (int64_t d = 0; t && d < t.getRank(); ++d) {
      if (!t.isDynamicDim(d)) {
        s.push_back(getAffineConstantExpr(t.getDimSize(d), ctx));
        continue;
      }
      AffineExpr own = inputDimSymbol(ctx, i, d);
      auto name =
          names && d < (int64_t)names.size() ? dyn_cast<StringAttr>(names[d]) : StringAttr();
      if (!name || name.getValue().empty()) {
        s.push_back(own);
        continue;
      }
      s.push_back(named.try_emplace(name.getValue(), own).first->second);
    }
    shapes.push_back(std::move(s));
  }
  return shapes;
}

std::optional<int64_t> constDim(AffineExpr e) {
  if (auto c = dyn_cast<AffineConstantExpr>(e))
    return c.getValue();
  return std::nullopt;
}

SymShape shapeFromType(ShapedType type, unsigned freshBase) {
  SymShape shape;
  MLIRContext *ctx = type.getContext();
  for (auto [i, d] : llvm::enumerate(type.getShape()))
    shape.push_back(ShapedType::isDynamic(d)
                        ? getAffineSymbolExpr(freshBase + i, ctx)
                        : getAffineConstantExpr(d, ctx));
  return shape;
}

SmallVector<int64_t> staticShape(ArrayRef<AffineExpr> shape) {
  SmallVector<int64_t> out;
  for (AffineExpr e : shape)
    out.push_back(constDim(e).value_or(ShapedType::kDynamic));
  return out;
}

AffineExpr productOf(MLIRContext *ctx, ArrayRef<AffineExpr> dims) {
  AffineExpr p = getAffineConstantExpr(1, ctx);
  for (AffineExpr d : dims)
    p = p * d;
  return p;
}

std::string shapeToString(ArrayRef<AffineExpr> shape) {
  std::string s = "[";
  for (auto [i, e] : llvm::enumerate(shape)) {
    if (i)
      s += ",";
    auto c = constDim(e);
    s += c ? std::to_string(*c) : "?";
  }
  return s + "]";
}

std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

std::optional<AffineExpr> scaledExtent(AffineExpr in, double scale) {
  if (!(scale > 0))
    return std::nullopt;
  double k = scale >= 1 ? scale : 1 / scale;
  if (k != std::round(k))
    return std::nullopt;
  return scale >= 1 ? in * (int64_t)k : in.floorDiv((int64_t)k);
}

std::optional<SymShape> resolveDimsOf(AffineMap symShape, ArrayRef<SymShape> dimsOf) {
  SmallVector<AffineExpr> repl;
  for (unsigned k = 0; k < symShape.getNumSymbols(); ++k) {
    unsigned j = k / kMaxRank, d = k % kMaxRank;
    repl.push_back(j < dimsOf.size() && d < dimsOf[j].size()
                       ? dimsOf[j][d]
                       : getAffineSymbolExpr(k, symShape.getContext()));
  }
  SymShape out;
  for (AffineExpr e : symShape.getResults()) {
    bool valid = true;
    e.walk([&](AffineExpr s) {
      if (auto sym = dyn_cast<AffineSymbolExpr>(s)) {
        unsigned j = sym.getPosition() / kMaxRank, d = sym.getPosition() % kMaxRank;
        if (j >= dimsOf.size() || d >= dimsOf[j].size())
          valid = false;
      }
    });
    if (!valid)
      return std::nullopt;
    out.push_back(e.replaceSymbols(repl));
  }
  return out;
}

} // namespace dlc
