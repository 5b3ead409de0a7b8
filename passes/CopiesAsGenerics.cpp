//===- CopiesAsGenerics.cpp - The dlc-copies-as-generics pass -------------===//
//
// A kernel that only moves data (a Slice's extract_slice, a Concat's chain of
// insert_slices, a Pad's tensor.pad) has no linalg op for the GPU tiling to
// distribute: it ran on one thread. Its result becomes one elementwise
// linalg.generic over the output instead:
// a copy of the slice, or for the Concat a read of the input that holds each output
// element (scf.if on the index along the axis, tensor.extract at the input's index),
// for the Pad a copy of the padded tensor (the pad folded into its reads later).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

namespace dlc {
#define GEN_PASS_DEF_DLCCOPIESASGENERICS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// An identity generic copying `src` into a fresh tensor of its shape (its sizes
/// `dims`, else read from `src`).
Value copyOf(OpBuilder &b, Location loc, Value src, ArrayRef<OpFoldResult> sizes = {}) {
  auto t = cast<RankedTensorType>(src.getType());
  SmallVector<OpFoldResult> dims =
      sizes.empty() ? tensor::getMixedSizes(b, loc, src) : llvm::to_vector(sizes);
  Value init = tensor::EmptyOp::create(b, loc, dims, t.getElementType());
  AffineMap id = b.getMultiDimIdentityMap(t.getRank());
  SmallVector<utils::IteratorType> iters(t.getRank(), utils::IteratorType::parallel);
  return linalg::GenericOp::create(b, loc, t, ValueRange{src}, ValueRange{init},
                                   ArrayRef<AffineMap>{id, id}, iters,
                                   [](OpBuilder &b, Location l, ValueRange args) {
                                     linalg::YieldOp::create(b, l, args[0]);
                                   })
      .getResult(0);
}

/// The insert_slices of a Concat chain ending at `last` (first to last), over an empty
/// or destination tensor, each inserting a whole source at an offset along one axis
/// with unit strides; empty when `last` is not such a chain.
SmallVector<tensor::InsertSliceOp> concatChain(tensor::InsertSliceOp last, int64_t &axis) {
  SmallVector<tensor::InsertSliceOp> chain;
  for (auto op = last; op; op = op.getDest().getDefiningOp<tensor::InsertSliceOp>())
    chain.push_back(op);
  std::reverse(chain.begin(), chain.end());
  axis = -1;
  for (tensor::InsertSliceOp op : chain) {
    if (!op.hasUnitStride() || op.getSourceType().getRank() != op.getDestType().getRank())
      return {};
    for (auto [d, off] : llvm::enumerate(op.getMixedOffsets())) {
      if (isConstantIntValue(off, 0))
        continue;
      if (axis != -1 && axis != static_cast<int64_t>(d))
        return {};
      axis = d;
    }
  }
  if (axis == -1)
    axis = 0;
  // A Concat's chain (ConvertDlcToLinalg's): into a fresh tensor or the kernel's output,
  // from offset 0 along the axis, each source after the one before.
  Value base = chain.front().getDest();
  auto toTensor = base.getDefiningOp<bufferization::ToTensorOp>();
  if (!base.getDefiningOp<tensor::EmptyOp>() && !(toTensor && toTensor.getWritable()))
    return {};
  if (!isConstantIntValue(chain.front().getMixedOffsets()[axis], 0))
    return {};
  // The sizes off the axis are the output's (the Concat's verifier).
  return chain;
}

/// Whether `v` is defined outside the kernel's computation: a function argument's
/// tensor (the data-movement kernel reads its inputs directly).
bool isKernelInput(Value v) { return v.getDefiningOp<bufferization::ToTensorOp>() != nullptr; }

/// Whether `g` only moves its one input's elements: a transpose, or a generic yielding
/// its input through a projected permutation (a copy or a broadcast, as Expand).
bool isRemap(Operation *op) {
  if (isa<linalg::TransposeOp>(op))
    return true;
  auto g = dyn_cast<linalg::GenericOp>(op);
  if (!g || g.getNumDpsInputs() != 1 || g.getNumDpsInits() != 1 || g.getNumReductionLoops() != 0 ||
      !g.hasPureTensorSemantics())
    return false;
  SmallVector<AffineMap> maps = g.getIndexingMapsArray();
  auto yield = cast<linalg::YieldOp>(g.getBody()->getTerminator());
  return maps[1].isIdentity() && maps[0].isProjectedPermutation(/*allowZeroInResults=*/true) &&
         yield->getNumOperands() == 1 && yield->getOperand(0) == g.getBody()->getArgument(0);
}

/// Whether `op` computes each element of its one result from its inputs' elements at
/// that index (an elementwise generic, broadcasts allowed): element i can be
/// recomputed alone, its body inlined where it is read.
bool isElementwise(Operation *op) {
  auto g = dyn_cast<linalg::GenericOp>(op);
  if (!g || isRemap(op) || g.getNumDpsInits() != 1 || g.getNumReductionLoops() != 0 ||
      !g.hasPureTensorSemantics() || g.payloadUsesValueFromOperand(g.getDpsInitOperand(0)) ||
      !g.getMatchingIndexingMap(g.getDpsInitOperand(0)).isIdentity())
    return false;
  return llvm::all_of(g.getDpsInputOperands(), [&](OpOperand *in) {
    return g.getMatchingIndexingMap(in).isProjectedPermutation(/*allowZeroInResults=*/true);
  });
}

/// Whether `slice` keeps its source's rank (element i of it is element
/// offset + i * stride of the source).
bool isBoxSlice(tensor::ExtractSliceOp slice) {
  return slice.getSourceType().getRank() == slice.getType().getRank();
}

/// Whether `v` is a kernel input, or a remap or slice of a readable value (element i
/// read by index arithmetic alone).
bool readable(Value v) {
  if (isKernelInput(v))
    return true;
  if (auto slice = v.getDefiningOp<tensor::ExtractSliceOp>())
    return isBoxSlice(slice) && readable(slice.getSource());
  Operation *def = v.getDefiningOp();
  if (def && isElementwise(def))
    return llvm::all_of(cast<linalg::GenericOp>(def).getDpsInputOperands(),
                        [](OpOperand *in) { return readable(in->get()); });
  return def && isRemap(def) && readable(cast<linalg::LinalgOp>(def).getDpsInputOperand(0)->get());
}

/// The indices of `g`'s operand read through `map` at iteration `idx` (a broadcast
/// dim, a 0 in the map, reads index 0).
SmallVector<Value> operandIndices(OpBuilder &b, Location l, AffineMap map, ArrayRef<Value> idx) {
  SmallVector<Value> at;
  for (AffineExpr e : map.getResults())
    at.push_back(isa<AffineDimExpr>(e) ? idx[cast<AffineDimExpr>(e).getPosition()]
                                       : arith::ConstantIndexOp::create(b, l, 0).getResult());
  return at;
}

/// Element `idx` of a readable value, read from the kernel input behind its remaps.
Value extractAt(OpBuilder &b, Location l, Value v, SmallVector<Value> idx) {
  if (auto t = v.getDefiningOp<linalg::TransposeOp>()) {
    // Element r of transpose(x, perm) is x[s] with s[perm[i]] = r[i].
    SmallVector<Value> at(idx.size());
    for (auto [i, p] : llvm::enumerate(t.getPermutation()))
      at[p] = idx[i];
    return extractAt(b, l, t.getInput(), at);
  }
  if (auto slice = v.getDefiningOp<tensor::ExtractSliceOp>()) {
    // Element i of the slice is element offset + i * stride of its source.
    SmallVector<Value> at;
    for (auto [i, off, stride] :
         llvm::zip_equal(idx, slice.getMixedOffsets(), slice.getMixedStrides())) {
      Value x = i;
      if (!isConstantIntValue(stride, 1))
        x = arith::MulIOp::create(b, l, x, getValueOrCreateConstantIndexOp(b, l, stride));
      if (!isConstantIntValue(off, 0))
        x = arith::AddIOp::create(b, l, x, getValueOrCreateConstantIndexOp(b, l, off));
      at.push_back(x);
    }
    return extractAt(b, l, slice.getSource(), at);
  }
  if (auto g = v.getDefiningOp<linalg::GenericOp>(); g && isElementwise(g)) {
    // The body at this element: its inputs read at their indices, its index ops the
    // element's own.
    IRMapping map;
    for (OpOperand *in : g.getDpsInputOperands())
      map.map(g.getMatchingBlockArgument(in),
              extractAt(b, l, in->get(), operandIndices(b, l, g.getMatchingIndexingMap(in), idx)));
    for (Operation &op : g.getBody()->without_terminator()) {
      if (auto index = dyn_cast<linalg::IndexOp>(op)) {
        map.map(index.getResult(), idx[index.getDim()]);
        continue;
      }
      b.clone(op, map);
    }
    return map.lookupOrDefault(g.getBody()->getTerminator()->getOperand(0));
  }
  if (auto g = v.getDefiningOp<linalg::GenericOp>())
    return extractAt(b, l, g.getDpsInputOperand(0)->get(),
                     operandIndices(b, l, g.getIndexingMapsArray()[0], idx));
  return tensor::ExtractOp::create(b, l, v, idx);
}

/// Source k's element at `idx` (shifted along `axis`) when idx[axis] is before source
/// k + 1's offset, else the next source's: each element reads one source only.
Value readIn(OpBuilder &b, Location l, ArrayRef<Value> idx, int64_t axis, ArrayRef<Value> offsets,
             ArrayRef<Value> sources, size_t k) {
  auto extract = [&](OpBuilder &b) {
    SmallVector<Value> at(idx);
    at[axis] = arith::SubIOp::create(b, l, idx[axis], offsets[k]);
    return extractAt(b, l, sources[k], at);
  };
  if (k + 1 == sources.size())
    return extract(b);
  Value before = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, idx[axis], offsets[k + 1]);
  auto ifOp = scf::IfOp::create(
      b, l, before, [&](OpBuilder &b, Location l) { scf::YieldOp::create(b, l, extract(b)); },
      [&](OpBuilder &b, Location l) {
        scf::YieldOp::create(b, l, readIn(b, l, idx, axis, offsets, sources, k + 1));
      });
  return ifOp.getResult(0);
}

/// A generic without inputs over a fresh tensor of type `t` and sizes `dims`, whose
/// element idx is `element(idx)`.
Value generateOver(OpBuilder &b, Location loc, RankedTensorType t, ArrayRef<OpFoldResult> dims,
                   function_ref<Value(OpBuilder &, Location, ArrayRef<Value>)> element) {
  Value init = tensor::EmptyOp::create(b, loc, dims, t.getElementType());
  AffineMap id = b.getMultiDimIdentityMap(t.getRank());
  SmallVector<utils::IteratorType> iters(t.getRank(), utils::IteratorType::parallel);
  return linalg::GenericOp::create(b, loc, t, ValueRange{}, ValueRange{init},
                                   ArrayRef<AffineMap>{id}, iters,
                                   [&](OpBuilder &b, Location l, ValueRange) {
                                     SmallVector<Value> idx;
                                     for (int64_t d = 0; d < t.getRank(); ++d)
                                       idx.push_back(linalg::IndexOp::create(b, l, d));
                                     linalg::YieldOp::create(b, l, element(b, l, idx));
                                   })
      .getResult(0);
}

/// One generic over `v`'s shape whose element i is read from the kernel inputs behind
/// `v`'s remaps, slices and elementwise ops.
Value readAsGeneric(OpBuilder &b, Location loc, Value v) {
  return generateOver(b, loc, cast<RankedTensorType>(v.getType()), tensor::getMixedSizes(b, loc, v),
                      [&](OpBuilder &b, Location l, ArrayRef<Value> idx) {
                        return extractAt(b, l, v, SmallVector<Value>(idx));
                      });
}

/// One generic over the Concat's output: element i reads source k where
/// offset_k <= i[axis] < offset_k+1.
Value concatAsGeneric(OpBuilder &b, ArrayRef<tensor::InsertSliceOp> chain, int64_t axis) {
  tensor::InsertSliceOp last = chain.back();
  Location loc = last.getLoc();
  auto t = cast<RankedTensorType>(last.getType());
  // The output's sizes, from the tensor the chain inserts into (not its result, which
  // then stays alive).
  SmallVector<OpFoldResult> dims =
      tensor::getMixedSizes(b, loc, tensor::InsertSliceOp(chain.front()).getDest());
  SmallVector<Value> offsets, sources;
  for (tensor::InsertSliceOp op : chain) {
    offsets.push_back(getValueOrCreateConstantIndexOp(b, loc, op.getMixedOffsets()[axis]));
    sources.push_back(op.getSource());
  }
  return generateOver(b, loc, t, dims, [&](OpBuilder &b, Location l, ArrayRef<Value> idx) {
    return readIn(b, l, idx, axis, offsets, sources, 0);
  });
}

struct DlcCopiesAsGenericsPass : impl::DlcCopiesAsGenericsBase<DlcCopiesAsGenericsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func->hasAttr(attrs::kKernel))
        continue;
      // Only kernels that move data and compute elementwise (each element of a Concat's
      // or Slice's output then recomputed where it is read).
      bool computes = false;
      SmallVector<Operation *> remaps;
      func.walk([&](linalg::LinalgOp op) {
        if (isRemap(op) || isElementwise(op))
          remaps.push_back(op);
        else
          computes = true;
      });
      if (computes)
        continue;
      for (auto out :
           llvm::make_early_inc_range(func.getOps<bufferization::MaterializeInDestinationOp>())) {
        Value v = out.getSource();
        OpBuilder b(out);
        if (auto slice = v.getDefiningOp<tensor::ExtractSliceOp>()) {
          // A slice of an input is copied through the generic's indexing map; one of a
          // remap or of another slice is read element by element behind them.
          if (isKernelInput(slice.getSource()))
            out.getSourceMutable().assign(copyOf(b, slice.getLoc(), slice.getResult()));
          else if (readable(v))
            out.getSourceMutable().assign(readAsGeneric(b, slice.getLoc(), v));
          continue;
        }
        if (isKernelInput(v)) {
          // A kernel that copies its input (an Expand to the input's own shape).
          out.getSourceMutable().assign(copyOf(b, out.getLoc(), v));
          continue;
        }
        if (auto pad = v.getDefiningOp<tensor::PadOp>()) {
          // A Pad alone (Swin's feature map padded to whole windows): a copy of the
          // padded tensor, into whose reads dlc-fold-pad-into-loads folds the pad. Its
          // sizes from the pad's source's (a tensor.dim of the pad would keep it: the
          // whole padded tensor written before the tiles).
          ReifiedRankedShapedTypeDims sizes;
          if (pad.getConstantPaddingValue() && !pad.getNofold() &&
              succeeded(reifyResultShapes(b, pad, sizes)))
            out.getSourceMutable().assign(copyOf(b, pad.getLoc(), pad.getResult(), sizes[0]));
          continue;
        }
        auto last = v.getDefiningOp<tensor::InsertSliceOp>();
        if (!last)
          continue;
        int64_t axis;
        SmallVector<tensor::InsertSliceOp> chain = concatChain(last, axis);
        // One insert is a Concat whose other inputs were empty (folded away): into an
        // empty tensor it covers the whole output (nothing else defines it).
        bool whole = chain.size() == 1 && chain.front().getDest().getDefiningOp<tensor::EmptyOp>();
        if ((chain.size() < 2 && !whole) ||
            !llvm::all_of(chain, [](auto op) { return readable(op.getSource()); }))
          continue;
        out.getSourceMutable().assign(concatAsGeneric(b, chain, axis));
        for (tensor::InsertSliceOp op : llvm::reverse(chain))
          if (op->use_empty())
            op->erase();
      }
      // The slices, remaps and elementwise ops the generics read through.
      SmallVector<tensor::ExtractSliceOp> slices(func.getOps<tensor::ExtractSliceOp>());
      for (tensor::ExtractSliceOp op : llvm::reverse(slices))
        if (op->use_empty())
          op->erase();
      for (Operation *op : llvm::reverse(remaps))
        if (op->use_empty())
          op->erase();
    }
  }
};

} // namespace
} // namespace dlc
