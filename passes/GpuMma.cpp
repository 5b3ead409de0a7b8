//===- GpuMma.cpp - The dlc-gpu-mma pass: warp tiles on tensor cores ------===//
//
// A tensor-core contraction tile (dlc-gpu-select-tiling's `mma`) reaches the GPU
// module as one linalg contraction per warp tile, marked `dlc.mma`, over the block's
// shared buffers (A and B rounded to the instruction's type by their copies, the f32
// accumulator). Each is lowered here to lane code around `nvvm.mma.sync`: every lane
// loads its fragments by the PTX ISA's layout ("Matrix Fragments for mma.m16n8k16 /
// mma.m16n8k8"), the warp runs one instruction per 16 x 8 piece of the tile and
// K step, and the lanes store the accumulator's fragments back. The fragments are
// loaded element by element (no ldmatrix yet), so any operand layout in shared memory
// works: each operand is indexed through its own indexing map.
//
//===----------------------------------------------------------------------===//
#include "passes/GpuTiling.h"
#include "passes/MmaLayout.h"
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace dlc {
#define GEN_PASS_DEF_DLCGPUMMA
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// The instruction shape of `mma` and the PTX type of its operands.
struct Layout {
  mma::Shape shape;
  NVVM::MMATypes ptxType;
};

std::optional<Layout> layoutOf(GpuMma kind) {
  switch (kind) {
  case GpuMma::F16K16:
    return Layout{mma::Shape::F16K16, NVVM::MMATypes::f16};
  case GpuMma::Bf16K16:
    return Layout{mma::Shape::F16K16, NVVM::MMATypes::bf16};
  case GpuMma::F16K8:
    return Layout{mma::Shape::F16K8, NVVM::MMATypes::f16};
  case GpuMma::Tf32K8:
    return Layout{mma::Shape::Tf32K8, NVVM::MMATypes::tf32};
  case GpuMma::None:
    break;
  }
  return std::nullopt;
}

struct LaneCode {
  LaneCode(RewriterBase &rw, Location loc) : rw(rw), loc(loc) {}

  RewriterBase &rw;
  Location loc;
  Value group, inGroup;
  DenseMap<int64_t, Value> constants;

  Value constant(int64_t v) {
    auto [it, inserted] = constants.try_emplace(v);
    if (inserted)
      it->second = arith::ConstantIndexOp::create(rw, loc, v);
    return it->second;
  }
  /// The coordinate `p` of this lane, plus `base`.
  Value at(mma::Coord p, int64_t base) {
    Value v = p.groupScale ? group : inGroup;
    int64_t scale = p.groupScale ? p.groupScale : p.inGroupScale;
    if (scale != 1)
      v = arith::MulIOp::create(rw, loc, v, constant(scale));
    if (p.offset + base)
      v = arith::AddIOp::create(rw, loc, v, constant(p.offset + base));
    return v;
  }
};

LogicalResult lowerWarpTile(linalg::GenericOp op, GpuMma kind) {
  std::optional<Layout> layout = layoutOf(kind);
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return op.emitOpError("is marked dlc.mma but has a dynamic shape");
  std::optional<MmaLoops> loops = matchMmaLoops(op, ranges);
  if (!layout || !loops || !op.hasPureBufferSemantics())
    return op.emitOpError("is marked dlc.mma but is not a contraction on buffers");
  int64_t m = ranges[loops->m], n = ranges[loops->n], k = ranges[loops->k];
  int64_t instrK = mma::kOf(layout->shape);
  if (m % 16 || n % 8 || k % instrK ||
      llvm::any_of(loops->batch, [&](unsigned l) { return ranges[l] != 1; }))
    return op.emitOpError("is marked dlc.mma but its tile ")
           << m << " x " << n << " x " << k << " is not made of m16n8k" << instrK << " pieces";
  IRRewriter rw(op.getContext());
  rw.setInsertionPoint(op);
  Location loc = op.getLoc();
  LaneCode lc(rw, loc);
  Value lane = gpu::LaneIdOp::create(rw, loc, /*upper_bound=*/nullptr);
  lc.group = arith::DivUIOp::create(rw, loc, lane, lc.constant(4));
  lc.inGroup = arith::RemUIOp::create(rw, loc, lane, lc.constant(4));
  Value a = op.getDpsInputOperand(0)->get(), b = op.getDpsInputOperand(1)->get();
  Value c = op.getDpsInitOperand(0)->get();
  AffineMap aMap = op.getMatchingIndexingMap(op.getDpsInputOperand(0));
  AffineMap bMap = op.getMatchingIndexingMap(op.getDpsInputOperand(1));
  AffineMap cMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  unsigned numLoops = ranges.size();
  // Loads (or stores) the element of `buffer` (indexing map `map`) at loop values
  // m, n, k (Values; batch loops are 0).
  auto indices = [&](AffineMap map, Value mv, Value nv, Value kv) {
    SmallVector<Value> loopValues(numLoops, lc.constant(0));
    loopValues[loops->m] = mv;
    loopValues[loops->n] = nv;
    loopValues[loops->k] = kv;
    SmallVector<Value> result;
    for (unsigned j = 0; j < map.getNumResults(); ++j)
      result.push_back(loopValues[map.getDimPosition(j)]);
    return result;
  };
  Value zero = lc.constant(0);
  Type f32 = rw.getF32Type(), i32 = rw.getI32Type();
  // Packs a fragment's elements into the instruction's registers.
  auto registers = [&](ArrayRef<Value> elements) {
    SmallVector<Value> regs;
    for (size_t r = 0; r < elements.size(); r += mma::perRegister(layout->shape)) {
      if (layout->ptxType == NVVM::MMATypes::tf32) {
        regs.push_back(arith::BitcastOp::create(rw, loc, i32, elements[r]));
      } else if (layout->ptxType == NVVM::MMATypes::f16) {
        regs.push_back(vector::FromElementsOp::create(
            rw, loc, VectorType::get({2}, rw.getF16Type()), elements.slice(r, 2)));
      } else {
        // bf16x2 in a b32: the first element in the low half.
        auto word = [&](Value v) {
          Value bits = arith::BitcastOp::create(rw, loc, rw.getI16Type(), v);
          return arith::ExtUIOp::create(rw, loc, i32, bits).getResult();
        };
        Value high =
            arith::ShLIOp::create(rw, loc, word(elements[r + 1]),
                                  arith::ConstantOp::create(rw, loc, rw.getIntegerAttr(i32, 16)));
        regs.push_back(arith::OrIOp::create(rw, loc, high, word(elements[r])));
      }
    }
    return regs;
  };
  int64_t mTiles = m / 16, nTiles = n / 8, kSteps = k / instrK;
  // The accumulator's fragments, kept in registers over the K steps.
  SmallVector<SmallVector<Value>> acc(mTiles * nTiles);
  for (int64_t mi = 0; mi < mTiles; ++mi)
    for (int64_t ni = 0; ni < nTiles; ++ni)
      for (int64_t i = 0; i < 4; ++i) {
        auto [row, col] = mma::cPosition(i);
        acc[mi * nTiles + ni].push_back(memref::LoadOp::create(
            rw, loc, c, indices(cMap, lc.at(row, mi * 16), lc.at(col, ni * 8), zero)));
      }
  auto resultType = LLVM::LLVMStructType::getLiteral(rw.getContext(), {f32, f32, f32, f32});
  for (int64_t ks = 0; ks < kSteps; ++ks) {
    SmallVector<SmallVector<Value>> aRegs, bRegs;
    for (int64_t mi = 0; mi < mTiles; ++mi) {
      SmallVector<Value> elements;
      for (int64_t i = 0; i < mma::aElements(layout->shape); ++i) {
        auto [row, col] = mma::aPosition(layout->shape, i);
        elements.push_back(memref::LoadOp::create(
            rw, loc, a, indices(aMap, lc.at(row, mi * 16), zero, lc.at(col, ks * instrK))));
      }
      aRegs.push_back(registers(elements));
    }
    for (int64_t ni = 0; ni < nTiles; ++ni) {
      SmallVector<Value> elements;
      for (int64_t i = 0; i < mma::bElements(layout->shape); ++i) {
        auto [row, col] = mma::bPosition(layout->shape, i);
        elements.push_back(memref::LoadOp::create(
            rw, loc, b, indices(bMap, zero, lc.at(col, ni * 8), lc.at(row, ks * instrK))));
      }
      bRegs.push_back(registers(elements));
    }
    for (int64_t mi = 0; mi < mTiles; ++mi)
      for (int64_t ni = 0; ni < nTiles; ++ni) {
        SmallVector<Value> &frag = acc[mi * nTiles + ni];
        Value d = NVVM::MmaOp::create(
            rw, loc, resultType, aRegs[mi], bRegs[ni], frag, {16, 8, instrK},
            /*b1Op=*/std::nullopt, /*intOverflow=*/std::nullopt,
            std::array<NVVM::MMATypes, 2>{layout->ptxType, layout->ptxType},
            std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row, NVVM::MMALayout::col});
        for (int64_t i = 0; i < 4; ++i)
          frag[i] = LLVM::ExtractValueOp::create(rw, loc, d, i);
      }
  }
  for (int64_t mi = 0; mi < mTiles; ++mi)
    for (int64_t ni = 0; ni < nTiles; ++ni)
      for (int64_t i = 0; i < 4; ++i) {
        auto [row, col] = mma::cPosition(i);
        memref::StoreOp::create(rw, loc, acc[mi * nTiles + ni][i], c,
                                indices(cMap, lc.at(row, mi * 16), lc.at(col, ni * 8), zero));
      }
  rw.eraseOp(op);
  return success();
}

struct DlcGpuMmaPass : impl::DlcGpuMmaBase<DlcGpuMmaPass> {
  void runOnOperation() override {
    SmallVector<std::pair<linalg::GenericOp, GpuMma>> tiles;
    getOperation().walk([&](linalg::GenericOp op) {
      if (auto mma = op->getAttrOfType<GpuMmaAttr>(attrs::kMma))
        tiles.push_back({op, mma.getValue()});
    });
    for (auto [op, kind] : tiles)
      if (failed(lowerWarpTile(op, kind)))
        return signalPassFailure();
  }
};

} // namespace
} // namespace dlc
