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
// When each warp runs its tile exactly once per step of the block's K loop (one warp
// tile per warp, as dlc-gpu-select-tiling plans them) and nothing else in that loop
// touches the accumulator's buffer, the fragments stay in registers over the whole
// loop: loaded before it, carried as its iteration values, stored after it.
//
// With `wgmma` (sm_90a) such a block whose tile has 64 rows or a multiple computes
// warpgroup tiles on `wgmma.mma_async` instead: A and B are read from shared memory
// through matrix descriptors, their buffers moved to the instruction's K-major layout
// without swizzling (MN-major for an f16/bf16 operand whose buffer runs along its row
// dim, B as K x N; WgmmaOperand, relayout), the accumulator carried as above.
//
//===----------------------------------------------------------------------===//
#include "passes/Bounds.h"
#include "passes/GpuTiling.h"
#include "passes/MmaLayout.h"
#include "passes/Passes.h"
#include "passes/ViewedBuffer.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Affine/ViewLikeInterfaceUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

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
  Value lane, group, inGroup;
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

/// Whether `v` is defined outside `loop`, is `iv`, or is computed in it by pure ops
/// from such values only.
bool hoistable(Value v, scf::ForOp loop, Value iv) {
  if (v == iv)
    return true;
  Operation *def = v.getDefiningOp();
  if (!def)
    return !loop->isAncestor(cast<BlockArgument>(v).getOwner()->getParentOp());
  if (!loop->isAncestor(def))
    return true;
  return isPure(def) && def->getNumRegions() == 0 &&
         llvm::all_of(def->getOperands(), [&](Value o) { return hoistable(o, loop, iv); });
}

/// A clone before `loop` of what computes `v` in it (see hoistable).
Value hoist(RewriterBase &rw, Value v, scf::ForOp loop, IRMapping &map) {
  if (Value mapped = map.lookupOrNull(v))
    return mapped;
  Operation *def = v.getDefiningOp();
  if (!def || !loop->isAncestor(def))
    return v;
  for (Value o : def->getOperands())
    hoist(rw, o, loop, map);
  rw.clone(*def, map);
  return map.lookup(v);
}

/// The loops around a warp tile `op` whose accumulator may stay in registers: the
/// block's K-step loop, and in it the loop that deals the block's warp tiles to its
/// warps, when that runs each warp exactly once (it starts at thread_id.x / 32 and
/// steps by as many tiles as the block has warps) and nothing else in the K loop
/// touches the accumulator's workgroup buffer.
struct RegisterLoops {
  scf::ForOp kLoop, warpLoop;
};

std::optional<RegisterLoops> registerLoops(linalg::GenericOp op) {
  auto warpLoop = dyn_cast<scf::ForOp>(op->getParentOp());
  auto kLoop = warpLoop ? dyn_cast<scf::ForOp>(warpLoop->getParentOp()) : nullptr;
  auto func = op->getParentOfType<gpu::GPUFuncOp>();
  if (!kLoop || !func || kLoop.getNumRegionIterArgs() != 0 || warpLoop.getNumRegionIterArgs())
    return std::nullopt;
  auto block = func->getAttrOfType<DenseI64ArrayAttr>(attrs::kBlock);
  std::optional<int64_t> ub = getConstantIntValue(warpLoop.getUpperBound());
  std::optional<int64_t> step = getConstantIntValue(warpLoop.getStep());
  auto div = warpLoop.getLowerBound().getDefiningOp<arith::DivUIOp>();
  auto tid = div ? div.getLhs().getDefiningOp<gpu::ThreadIdOp>() : nullptr;
  if (!block || block.empty() || !ub || !step || *ub != *step || !tid ||
      tid.getDimension() != gpu::Dimension::x || getConstantIntValue(div.getRhs()) != 32 ||
      block[0] != *ub * 32 ||
      llvm::any_of(block.asArrayRef().drop_front(), [](int64_t d) { return d != 1; }))
    return std::nullopt;
  Value c = op.getDpsInitOperand(0)->get();
  Value buffer = viewedBuffer(c);
  if (!hoistable(c, kLoop, warpLoop.getInductionVar()) ||
      !llvm::is_contained(func.getWorkgroupAttributions(), buffer))
    return std::nullopt;
  // The views from the buffer to the tile's accumulator.
  SmallPtrSet<Operation *, 4> views;
  for (Value v = c; v != buffer; v = v.getDefiningOp()->getOperand(0))
    views.insert(v.getDefiningOp());
  WalkResult other = kLoop.walk([&](Operation *user) {
    if (user == op || views.contains(user))
      return WalkResult::advance();
    for (Value o : user->getOperands())
      if (isa<BaseMemRefType>(o.getType()) && viewedBuffer(o) == buffer)
        return WalkResult::interrupt();
    return WalkResult::advance();
  });
  if (other.wasInterrupted())
    return std::nullopt;
  return RegisterLoops{kLoop, warpLoop};
}

/// `kLoop` with `init` as additional iteration values, its body yielding them unchanged
/// (the caller sets what it yields), or failure.
FailureOr<scf::ForOp> carryThrough(IRRewriter &rw, scf::ForOp kLoop, ValueRange init) {
  auto unchanged = [](OpBuilder &, Location, ArrayRef<BlockArgument> args) {
    return SmallVector<Value>(args.begin(), args.end());
  };
  FailureOr<LoopLikeOpInterface> replaced = kLoop.replaceWithAdditionalYields(
      rw, init, /*replaceInitOperandUsesInLoop=*/false, unchanged);
  if (failed(replaced))
    return failure();
  return cast<scf::ForOp>(replaced->getOperation());
}

/// The lane code of one warp tile `op` (a contraction of static shape on buffers):
/// its fragments' loads and stores and its mma.sync instructions.
class WarpTile {
public:
  WarpTile(linalg::GenericOp op, Layout layout, MmaLoops loops, IRRewriter &rw)
      : op(op), layout(layout), loops(loops), ranges(op.getStaticLoopRanges()), rw(rw),
        lc(rw, op.getLoc()) {
    aMap = op.getMatchingIndexingMap(op.getDpsInputOperand(0));
    bMap = op.getMatchingIndexingMap(op.getDpsInputOperand(1));
    cMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
    instrK = mma::kOf(layout.shape);
    mTiles = ranges[loops.m] / 16;
    nTiles = ranges[loops.n] / 8;
    kSteps = ranges[loops.k] / instrK;
  }

  /// The lane's coordinates, at the rewriter's insertion point.
  void setUpLane() {
    lc.lane = gpu::LaneIdOp::create(rw, lc.loc, /*upper_bound=*/nullptr);
    lc.group = arith::DivUIOp::create(rw, lc.loc, lc.lane, lc.constant(4));
    lc.inGroup = arith::RemUIOp::create(rw, lc.loc, lc.lane, lc.constant(4));
  }

  /// The accumulator's fragments: 4 f32 per 16 x 8 piece, loaded from `c`.
  SmallVector<Value> loadAccumulator(Value c) {
    SmallVector<Value> acc;
    Value zero = lc.constant(0);
    for (int64_t mi = 0; mi < mTiles; ++mi)
      for (int64_t ni = 0; ni < nTiles; ++ni)
        for (int64_t i = 0; i < 4; ++i) {
          auto [row, col] = mma::cPosition(i);
          acc.push_back(memref::LoadOp::create(
              rw, lc.loc, c, indices(cMap, lc.at(row, mi * 16), lc.at(col, ni * 8), zero)));
        }
    return acc;
  }

  void storeAccumulator(Value c, ValueRange acc) {
    Value zero = lc.constant(0);
    for (int64_t mi = 0; mi < mTiles; ++mi)
      for (int64_t ni = 0; ni < nTiles; ++ni)
        for (int64_t i = 0; i < 4; ++i) {
          auto [row, col] = mma::cPosition(i);
          memref::StoreOp::create(rw, lc.loc, acc[(mi * nTiles + ni) * 4 + i], c,
                                  indices(cMap, lc.at(row, mi * 16), lc.at(col, ni * 8), zero));
        }
  }

  /// acc += A x B over the tile's K, one mma.sync per 16 x 8 piece and K step.
  void multiply(Value a, Value b, SmallVector<Value> &acc) {
    Value zero = lc.constant(0);
    Type f32 = rw.getF32Type();
    auto resultType = LLVM::LLVMStructType::getLiteral(rw.getContext(), {f32, f32, f32, f32});
    std::optional<MatrixSource> aSource = matrixSource(a, aMap, loops.m);
    std::optional<MatrixSource> bSource = matrixSource(b, bMap, loops.n);
    for (int64_t ks = 0; ks < kSteps; ++ks) {
      SmallVector<SmallVector<Value>> aRegs =
          aSource ? matrixRegisters(*aSource, /*isA=*/true, ks) : SmallVector<SmallVector<Value>>();
      SmallVector<SmallVector<Value>> bRegs = bSource ? matrixRegisters(*bSource, /*isA=*/false, ks)
                                                      : SmallVector<SmallVector<Value>>();
      for (int64_t mi = 0; !aSource && mi < mTiles; ++mi) {
        SmallVector<Value> elements;
        for (int64_t i = 0; i < mma::aElements(layout.shape); ++i) {
          auto [row, col] = mma::aPosition(layout.shape, i);
          elements.push_back(memref::LoadOp::create(
              rw, lc.loc, a, indices(aMap, lc.at(row, mi * 16), zero, lc.at(col, ks * instrK))));
        }
        aRegs.push_back(registers(elements));
      }
      for (int64_t ni = 0; !bSource && ni < nTiles; ++ni) {
        SmallVector<Value> elements;
        for (int64_t i = 0; i < mma::bElements(layout.shape); ++i) {
          auto [row, col] = mma::bPosition(layout.shape, i);
          elements.push_back(memref::LoadOp::create(
              rw, lc.loc, b, indices(bMap, zero, lc.at(col, ni * 8), lc.at(row, ks * instrK))));
        }
        bRegs.push_back(registers(elements));
      }
      for (int64_t mi = 0; mi < mTiles; ++mi)
        for (int64_t ni = 0; ni < nTiles; ++ni) {
          MutableArrayRef<Value> frag(acc.data() + (mi * nTiles + ni) * 4, 4);
          Value d = NVVM::MmaOp::create(
              rw, lc.loc, resultType, aRegs[mi], bRegs[ni], SmallVector<Value>(frag),
              {16, 8, instrK},
              /*b1Op=*/std::nullopt, /*intOverflow=*/std::nullopt,
              std::array<NVVM::MMATypes, 2>{layout.ptxType, layout.ptxType},
              std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row, NVVM::MMALayout::col});
          for (int64_t i = 0; i < 4; ++i)
            frag[i] = LLVM::ExtractValueOp::create(rw, lc.loc, d, i);
        }
    }
  }

  LaneCode &lane() { return lc; }

private:
  /// A 16-bit operand that ldmatrix can read: its workgroup buffer seen flat, its
  /// offset in it, its strides along its row dim (m for A, n for B) and along k, and
  /// whether k is the contiguous one.
  struct MatrixSource {
    Value flat, offset;
    int64_t rowStride, kStride;
    bool kInner;
  };

  /// `x` (indexing map `map`, row loop `rowLoop`) as an ldmatrix source, if it is:
  /// 16-bit elements in a workgroup buffer, one of its two dims contiguous and the
  /// other's stride a multiple of 16 bytes (dlc's block buffers, 16-byte aligned).
  std::optional<MatrixSource> matrixSource(Value x, AffineMap map, unsigned rowLoop) {
    auto type = dyn_cast<MemRefType>(x.getType());
    auto func = op->getParentOfType<gpu::GPUFuncOp>();
    if (!type || layout.ptxType == NVVM::MMATypes::tf32 || !func ||
        type.getElementTypeBitWidth() != 16)
      return std::nullopt;
    auto buffer = dyn_cast<BlockArgument>(viewedBuffer(x));
    if (!buffer || !llvm::is_contained(func.getWorkgroupAttributions(), buffer))
      return std::nullopt;
    auto bufferType = cast<MemRefType>(buffer.getType());
    SmallVector<int64_t> strides;
    int64_t offset;
    if (!bufferType.getLayout().isIdentity() || failed(type.getStridesAndOffset(strides, offset)))
      return std::nullopt;
    std::optional<unsigned> rowDim = map.getResultPosition(rw.getAffineDimExpr(rowLoop));
    std::optional<unsigned> kDim = map.getResultPosition(rw.getAffineDimExpr(loops.k));
    if (!rowDim || !kDim)
      return std::nullopt;
    int64_t rowStride = strides[*rowDim], kStride = strides[*kDim];
    if (ShapedType::isDynamic(rowStride) || ShapedType::isDynamic(kStride))
      return std::nullopt;
    // The stored matrix's rows: 8 contiguous elements, 16-byte aligned.
    int64_t storedRowStride = kStride == 1 ? rowStride : kStride;
    if ((kStride != 1 && rowStride != 1) || (storedRowStride * 2) % 16)
      return std::nullopt;
    MatrixSource source;
    source.rowStride = rowStride;
    source.kStride = kStride;
    source.kInner = kStride == 1;
    source.flat = flatBuffer(rw, lc.loc, buffer);
    source.offset = memref::ExtractStridedMetadataOp::create(rw, lc.loc, x).getOffset();
    return source;
  }

  /// The registers of every tile of an operand for K step `ks`, read with ldmatrix
  /// four 8 x 8 matrices at a time (the last one or two of an operand fewer). Lane L
  /// addresses row L % 8 of matrix L / 8; from rows along k (.trans) when the row dim
  /// is the contiguous one.
  SmallVector<SmallVector<Value>> matrixRegisters(const MatrixSource &source, bool isA,
                                                  int64_t ks) {
    int64_t tiles = isA ? mTiles : nTiles, tileRows = isA ? 16 : 8;
    int64_t perTile = isA ? mma::aRegisters(layout.shape) : mma::bRegisters(layout.shape);
    // Every register's matrix: {tile, row offset, k offset}.
    SmallVector<std::array<int64_t, 3>> matrices;
    for (int64_t tile = 0; tile < tiles; ++tile)
      for (int64_t r = 0; r < perTile; ++r) {
        auto [row, k] = isA ? mma::aMatrix(layout.shape, r) : mma::bMatrix(layout.shape, r);
        matrices.push_back({tile, tile * tileRows + row, ks * instrK + k});
      }
    SmallVector<SmallVector<Value>> regs(tiles);
    Type element = cast<MemRefType>(source.flat.getType()).getElementType();
    for (size_t first = 0; first < matrices.size();) {
      size_t left = matrices.size() - first;
      int64_t num = left >= 4 ? 4 : left >= 2 ? 2 : 1;
      ArrayRef<std::array<int64_t, 3>> group(matrices.data() + first, num);
      // This lane's row: the matrix's offsets relative to the group's first, plus the
      // row within the matrix (constant tables chosen by select).
      SmallVector<int64_t> rowDelta, kDelta;
      for (const auto &m : group) {
        rowDelta.push_back(m[1] - group[0][1]);
        kDelta.push_back(m[2] - group[0][2]);
      }
      Value laneOffset = matrixLaneOffset(source, rowDelta, kDelta);
      int64_t constOffset = group[0][1] * source.rowStride + group[0][2] * source.kStride;
      Value index = arith::AddIOp::create(rw, lc.loc, source.offset, laneOffset);
      index = arith::AddIOp::create(rw, lc.loc, index, lc.constant(constOffset));
      auto resultType = VectorType::get({num, 2}, element);
      Value loaded =
          nvgpu::LdMatrixOp::create(rw, lc.loc, resultType, source.flat, ValueRange{index},
                                    /*transpose=*/!source.kInner, num);
      for (int64_t j = 0; j < num; ++j) {
        Value pair = vector::ExtractOp::create(rw, lc.loc, loaded, ArrayRef<int64_t>{j});
        if (layout.ptxType == NVVM::MMATypes::bf16) {
          Value word =
              vector::BitCastOp::create(rw, lc.loc, VectorType::get({1}, rw.getI32Type()), pair);
          pair = vector::ExtractOp::create(rw, lc.loc, word, ArrayRef<int64_t>{0});
        }
        regs[group[j][0]].push_back(pair);
      }
      first += num;
    }
    return regs;
  }

  /// The lane's offset in an ldmatrix group whose matrices lie at (rowDelta[j],
  /// kDelta[j]) from the first: matrix j = lane / 8 % num, its row lane % 8.
  Value matrixLaneOffset(const MatrixSource &source, ArrayRef<int64_t> rowDelta,
                         ArrayRef<int64_t> kDelta) {
    SmallVector<int64_t> key = {source.rowStride, source.kStride, source.kInner};
    llvm::append_range(key, rowDelta);
    llvm::append_range(key, kDelta);
    auto [it, inserted] = laneOffsets.try_emplace(key);
    if (!inserted)
      return it->second;
    Location loc = lc.loc;
    int64_t num = rowDelta.size();
    Value j = arith::RemUIOp::create(
        rw, loc, arith::DivUIOp::create(rw, loc, lc.lane, lc.constant(8)), lc.constant(num));
    Value r = arith::RemUIOp::create(rw, loc, lc.lane, lc.constant(8));
    SmallVector<int64_t> deltas;
    for (int64_t m = 0; m < num; ++m)
      deltas.push_back(rowDelta[m] * source.rowStride + kDelta[m] * source.kStride);
    Value delta = lc.constant(deltas[0]);
    for (int64_t m = 1; m < num; ++m) {
      Value is = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, j, lc.constant(m));
      delta = arith::SelectOp::create(rw, loc, is, lc.constant(deltas[m]), delta);
    }
    // Rows of the stored matrix: along the row dim, or along k when transposed.
    Value rowOffset = arith::MulIOp::create(
        rw, loc, r, lc.constant(source.kInner ? source.rowStride : source.kStride));
    Value offset = arith::AddIOp::create(rw, loc, delta, rowOffset);
    it->second = offset;
    return offset;
  }

  std::map<SmallVector<int64_t>, Value> laneOffsets;

  /// The indices into a buffer (indexing map `map`) at loop values m, n, k (batch
  /// loops are 0).
  SmallVector<Value> indices(AffineMap map, Value mv, Value nv, Value kv) {
    SmallVector<Value> loopValues(ranges.size(), lc.constant(0));
    loopValues[loops.m] = mv;
    loopValues[loops.n] = nv;
    loopValues[loops.k] = kv;
    SmallVector<Value> result;
    for (unsigned j = 0; j < map.getNumResults(); ++j)
      result.push_back(loopValues[map.getDimPosition(j)]);
    return result;
  }

  /// A fragment's elements packed into the instruction's registers.
  SmallVector<Value> registers(ArrayRef<Value> elements) {
    Location loc = lc.loc;
    Type i32 = rw.getI32Type();
    SmallVector<Value> regs;
    for (size_t r = 0; r < elements.size(); r += mma::perRegister(layout.shape)) {
      if (layout.ptxType == NVVM::MMATypes::tf32) {
        regs.push_back(arith::BitcastOp::create(rw, loc, i32, elements[r]));
      } else if (layout.ptxType == NVVM::MMATypes::f16) {
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
  }

  linalg::GenericOp op;
  Layout layout;
  MmaLoops loops;
  SmallVector<int64_t> ranges;
  IRRewriter &rw;
  LaneCode lc;
  AffineMap aMap, bMap, cMap;
  int64_t instrK, mTiles, nTiles, kSteps;
};

/// A workgroup buffer that warpgroup tiles read through wgmma matrix descriptors: its
/// row (m for A, n for B) and k dims, its extents along them, the block tile's offset
/// in it, and what views and writes it.
struct WgmmaOperand {
  BlockArgument buffer;
  unsigned rowDim = 0, kDim = 0;
  /// The MN-major layout (a transposed operand, f16/bf16 only): 16-byte runs along the
  /// row dim instead of k (see relayout).
  bool mnMajor = false;
  /// `t`: the elements of one 16-byte core-matrix row; `blockRows`: the block
  /// view's extent along the row dim.
  int64_t rows = 0, ks = 0, rowOffset = 0, kOffset = 0, t = 0, blockRows = 0;
  SmallVector<Operation *> views;
  llvm::SetVector<Operation *> writers;
};

/// The elements of one 16-byte row of a core matrix (8 rows of 16 bytes).
int64_t chunkElements(Type element) { return 128 / element.getIntOrFloatBitWidth(); }

/// `x` (a warp tile's operand, indexing map `map`, row loop `rowLoop`) as a wgmma
/// operand: a subview in `warpLoop` of a block view outside it, a static workgroup
/// buffer under it whose dims other than the row and k dims are 1, read through views
/// (subviews of the source's rank, address-space casts) only by the warp tile and
/// written only by linalg ops that do not read it, memref.copy and memref.store.
std::optional<WgmmaOperand> wgmmaOperand(Value x, AffineMap map, unsigned rowLoop, unsigned kLoop,
                                         int64_t tileK, scf::ForOp warpLoop) {
  auto warpView = x.getDefiningOp<memref::SubViewOp>();
  auto func = warpLoop->getParentOfType<gpu::GPUFuncOp>();
  if (!warpView || !warpLoop->isAncestor(warpView) || !func)
    return std::nullopt;
  WgmmaOperand o;
  o.buffer = dyn_cast<BlockArgument>(viewedBuffer(warpView.getSource()));
  if (!o.buffer || !llvm::is_contained(func.getWorkgroupAttributions(), o.buffer))
    return std::nullopt;
  auto bufferType = cast<MemRefType>(o.buffer.getType());
  std::optional<unsigned> rowDim =
      map.getResultPosition(getAffineDimExpr(rowLoop, map.getContext()));
  std::optional<unsigned> kDim = map.getResultPosition(getAffineDimExpr(kLoop, map.getContext()));
  if (!rowDim || !kDim || !bufferType.hasStaticShape() || !bufferType.getLayout().isIdentity() ||
      bufferType.getRank() != map.getNumResults())
    return std::nullopt;
  o.rowDim = *rowDim;
  o.kDim = *kDim;
  for (auto [d, size] : llvm::enumerate(bufferType.getShape()))
    if (d != o.rowDim && d != o.kDim && size != 1)
      return std::nullopt;
  o.rows = bufferType.getDimSize(o.rowDim);
  o.ks = bufferType.getDimSize(o.kDim);
  o.t = chunkElements(bufferType.getElementType());
  // The block view: static offsets in the buffer, the whole K of the warp tile.
  Value block = warpView.getSource();
  auto blockType = dyn_cast<MemRefType>(block.getType());
  if (!blockType || blockType.getRank() != bufferType.getRank() ||
      blockType.getDimSize(o.kDim) != tileK ||
      (block.getDefiningOp() && warpLoop->isAncestor(block.getDefiningOp())))
    return std::nullopt;
  o.blockRows = blockType.getDimSize(o.rowDim);
  for (Value v = block; v != o.buffer; v = v.getDefiningOp()->getOperand(0)) {
    if (auto sv = v.getDefiningOp<memref::SubViewOp>()) {
      if (sv.getType().getRank() != sv.getSourceType().getRank() ||
          ShapedType::isDynamic(sv.getStaticOffsets()[o.rowDim]) ||
          ShapedType::isDynamic(sv.getStaticOffsets()[o.kDim]))
        return std::nullopt;
      o.rowOffset += sv.getStaticOffsets()[o.rowDim];
      o.kOffset += sv.getStaticOffsets()[o.kDim];
    } else if (!v.getDefiningOp<memref::MemorySpaceCastOp>()) {
      return std::nullopt;
    }
  }
  if (o.kOffset % o.t)
    return std::nullopt;
  // Everything that uses the buffer.
  SmallVector<Value> work = {o.buffer};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (Operation *user : v.getUsers()) {
      // In the warp loop, only the tile's own view (erased with the loop).
      if (warpLoop->isAncestor(user)) {
        if (user != warpView.getOperation())
          return std::nullopt;
        continue;
      }
      if (isa<memref::MemorySpaceCastOp>(user) ||
          (isa<memref::SubViewOp>(user) && cast<memref::SubViewOp>(user).getType().getRank() ==
                                               cast<MemRefType>(v.getType()).getRank())) {
        o.views.push_back(user);
        work.push_back(user->getResult(0));
        continue;
      }
      if (auto store = dyn_cast<memref::StoreOp>(user);
          store && store.getMemRef() == v && store.getValueToStore() != v) {
        o.writers.insert(user);
        continue;
      }
      if (auto copy = dyn_cast<memref::CopyOp>(user);
          copy && copy.getTarget() == v && copy.getSource() != v) {
        o.writers.insert(user);
        continue;
      }
      auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
      if (!linalgOp || !linalgOp.hasPureBufferSemantics())
        return std::nullopt;
      for (OpOperand &operand : user->getOpOperands()) {
        if (operand.get() != v)
          continue;
        if (!linalgOp.isDpsInit(&operand) || linalgOp.payloadUsesValueFromOperand(&operand))
          return std::nullopt;
      }
      o.writers.insert(user);
    }
  }
  return o;
}

/// The warpgroup tiles of a block: its M x N tile as warpgroups of 64 x n (wgmma's
/// m64nNkK), dealt to the block's warpgroups.
struct WgmmaPlan {
  NVVM::WGMMATypes type;
  int64_t instrK, m, n, k, groupsN, tileN;
  WgmmaOperand a, b;
  Value cBlock;
  unsigned cRowDim, cColDim;
};

std::optional<WgmmaPlan> planWgmma(linalg::GenericOp op, GpuMma kind, RegisterLoops around) {
  WgmmaPlan plan;
  switch (kind) {
  case GpuMma::F16K16:
    plan.type = NVVM::WGMMATypes::f16;
    plan.instrK = 16;
    break;
  case GpuMma::Bf16K16:
    plan.type = NVVM::WGMMATypes::bf16;
    plan.instrK = 16;
    break;
  case GpuMma::Tf32K8:
    plan.type = NVVM::WGMMATypes::tf32;
    plan.instrK = 8;
    break;
  default:
    return std::nullopt;
  }
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  std::optional<MmaLoops> loops = matchMmaLoops(op, ranges);
  if (!loops)
    return std::nullopt;
  int64_t tileK = ranges[loops->k];
  std::optional<WgmmaOperand> a = wgmmaOperand(op.getDpsInputOperand(0)->get(),
                                               op.getMatchingIndexingMap(op.getDpsInputOperand(0)),
                                               loops->m, loops->k, tileK, around.warpLoop);
  std::optional<WgmmaOperand> b = wgmmaOperand(op.getDpsInputOperand(1)->get(),
                                               op.getMatchingIndexingMap(op.getDpsInputOperand(1)),
                                               loops->n, loops->k, tileK, around.warpLoop);
  if (!a || !b || a->buffer == b->buffer ||
      llvm::any_of(a->writers, [&](Operation *w) { return b->writers.contains(w); }))
    return std::nullopt;
  plan.a = std::move(*a);
  plan.b = std::move(*b);
  // An operand whose buffer runs along its row dim (B as K x N, the source's layout)
  // takes the MN-major layout where wgmma has it (f16, bf16): a thread's copy along
  // the row dim then stays a 16-byte run.
  for (WgmmaOperand *o : {&plan.a, &plan.b})
    o->mnMajor = plan.type != NVVM::WGMMATypes::tf32 && o->rowDim > o->kDim &&
                 o->rows % o->t == 0 && o->rowOffset % o->t == 0;
  // The accumulator's block view and the block's extents.
  auto cView = op.getDpsInitOperand(0)->get().getDefiningOp<memref::SubViewOp>();
  if (!cView || !around.warpLoop->isAncestor(cView))
    return std::nullopt;
  plan.cBlock = cView.getSource();
  auto cType = cast<MemRefType>(plan.cBlock.getType());
  AffineMap cMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  std::optional<unsigned> cRow =
      cMap.getResultPosition(getAffineDimExpr(loops->m, op.getContext()));
  std::optional<unsigned> cCol =
      cMap.getResultPosition(getAffineDimExpr(loops->n, op.getContext()));
  if (!cRow || !cCol || !cType.hasStaticShape() || cType.getRank() != cMap.getNumResults())
    return std::nullopt;
  plan.cRowDim = *cRow;
  plan.cColDim = *cCol;
  for (auto [d, size] : llvm::enumerate(cType.getShape()))
    if (d != *cRow && d != *cCol && size != 1)
      return std::nullopt;
  plan.m = cType.getDimSize(*cRow);
  plan.n = cType.getDimSize(*cCol);
  plan.k = tileK;
  // The block view of each operand covers the block: m x k and n x k.
  if (plan.a.blockRows != plan.m || plan.b.blockRows != plan.n)
    return std::nullopt;
  // The warps' tiles cover the block; four warps make a warpgroup.
  int64_t warps = *getConstantIntValue(around.warpLoop.getUpperBound());
  if (warps % 4 || ranges[loops->m] * ranges[loops->n] * warps != plan.m * plan.n || plan.m % 64 ||
      plan.k % plan.instrK)
    return std::nullopt;
  int64_t groups = warps / 4, groupsM = plan.m / 64;
  if (groups % groupsM)
    return std::nullopt;
  plan.groupsN = groups / groupsM;
  if (plan.n % plan.groupsN)
    return std::nullopt;
  plan.tileN = plan.n / plan.groupsN;
  if (plan.tileN % 8 || plan.tileN > 256)
    return std::nullopt;
  // A barrier in the K loop before the tiles: the copies' writes reach the async proxy
  // (wgmma's reads) by a fence each thread runs before it.
  for (Operation *prev = around.warpLoop->getPrevNode(); prev; prev = prev->getPrevNode())
    if (isa<gpu::BarrierOp>(prev))
      return plan;
  return std::nullopt;
}

/// The indices into `buffer` of the element at `indices` of `view`, a chain of
/// subviews (of the source's rank) and address-space casts over `buffer`.
SmallVector<Value> bufferIndices(RewriterBase &rw, Location loc, Value view, Value buffer,
                                 SmallVector<Value> indices) {
  for (Value v = view; v != buffer; v = v.getDefiningOp()->getOperand(0)) {
    auto sv = v.getDefiningOp<memref::SubViewOp>();
    if (!sv)
      continue;
    SmallVector<Value> resolved;
    affine::resolveIndicesIntoOpWithOffsetsAndStrides(rw, loc, sv.getMixedOffsets(),
                                                      sv.getMixedStrides(), sv.getDroppedDims(),
                                                      indices, resolved);
    indices = std::move(resolved);
  }
  return indices;
}

/// The flat index of buffer element (r, k) in wgmma's layout (see relayout).
Value flatIndex(RewriterBase &rw, Location loc, const WgmmaOperand &o, Value r, Value k) {
  int64_t t = o.t;
  auto c = [&](int64_t v) { return arith::ConstantIndexOp::create(rw, loc, v); };
  if (o.mnMajor) {
    // ((k / 8) * (rows / t) + r / t) * 8t + (k % 8) * t + r % t.
    Value group = arith::AddIOp::create(
        rw, loc,
        arith::MulIOp::create(rw, loc, arith::DivUIOp::create(rw, loc, k, c(8)), c(o.rows / t)),
        arith::DivUIOp::create(rw, loc, r, c(t)));
    Value inCore = arith::AddIOp::create(
        rw, loc, arith::MulIOp::create(rw, loc, arith::RemUIOp::create(rw, loc, k, c(8)), c(t)),
        arith::RemUIOp::create(rw, loc, r, c(t)));
    return arith::AddIOp::create(rw, loc, arith::MulIOp::create(rw, loc, group, c(8 * t)), inCore);
  }
  Value column = arith::DivUIOp::create(rw, loc, k, c(t));
  Value index =
      arith::AddIOp::create(rw, loc, arith::MulIOp::create(rw, loc, column, c(o.rows)), r);
  return arith::AddIOp::create(rw, loc, arith::MulIOp::create(rw, loc, index, c(t)),
                               arith::RemUIOp::create(rw, loc, k, c(t)));
}

/// A thread's writer of `w` neighbours along the dim of the core matrices' 16-byte
/// rows (k; the row dim when MN-major): its one output a view of static shape [1, ...,
/// 1, w] whose last dim is that dim, w dividing the core matrices' `o.t`. Where its
/// first index along that dim is a multiple of w they are w contiguous elements of one
/// core-matrix row, so the same op writes them there (a view of `flat`; under an scf.if
/// unless the index is a known multiple), which dlc-vectorize-thread-tiles makes vector
/// accesses (the 128-bit global load of a step's copy); else it becomes loops of stores.
/// False when `writer` is not such an op.
bool writeContiguousRun(IRRewriter &rw, linalg::LinalgOp writer, const WgmmaOperand &o,
                        Value flat) {
  if (writer.getNumDpsInits() != 1 || writer->getNumResults() != 0)
    return false;
  Value out = writer.getDpsInitOperand(0)->get();
  auto type = dyn_cast<MemRefType>(out.getType());
  int64_t rank = type ? type.getRank() : 0;
  unsigned runDim = o.mnMajor ? o.rowDim : o.kDim;
  if (!type || !type.hasStaticShape() || rank != cast<MemRefType>(o.buffer.getType()).getRank() ||
      rank - 1 != static_cast<int64_t>(runDim))
    return false;
  int64_t w = type.getShape().back();
  if (w < 2 || o.t % w ||
      llvm::any_of(type.getShape().drop_back(), [](int64_t d) { return d != 1; }))
    return false;
  Location loc = writer.getLoc();
  rw.setInsertionPoint(writer);
  Value zero = arith::ConstantIndexOp::create(rw, loc, 0);
  SmallVector<Value> origin = bufferIndices(rw, loc, out, o.buffer, SmallVector<Value>(rank, zero));
  Value r = origin[o.rowDim], k = origin[o.kDim], start = origin[runDim];
  scf::IfOp branch;
  if (knownDivisor(start) % w != 0) {
    Value aligned = arith::CmpIOp::create(
        rw, loc, arith::CmpIPredicate::eq,
        arith::RemUIOp::create(rw, loc, start, arith::ConstantIndexOp::create(rw, loc, w)), zero);
    branch = scf::IfOp::create(rw, loc, aligned, /*withElseRegion=*/true);
    rw.setInsertionPointToStart(branch.thenBlock());
  }
  Value run = memref::SubViewOp::create(
      rw, loc, flat, ArrayRef<OpFoldResult>{flatIndex(rw, loc, o, r, k)},
      ArrayRef<OpFoldResult>{rw.getIndexAttr(w)}, ArrayRef<OpFoldResult>{rw.getIndexAttr(1)});
  SmallVector<ReassociationIndices> all(1);
  for (int64_t d = 0; d < rank; ++d)
    all[0].push_back(d);
  Value place = memref::ExpandShapeOp::create(rw, loc, type.getShape(), run, all);
  IRMapping toRun;
  toRun.map(out, place);
  rw.clone(*writer, toRun);
  if (!branch) {
    rw.eraseOp(writer);
    return true;
  }
  rw.setInsertionPointToStart(branch.elseBlock());
  auto elementwise = cast<linalg::LinalgOp>(rw.clone(*writer));
  rw.eraseOp(writer);
  rw.setInsertionPoint(elementwise);
  if (succeeded(linalg::linalgOpToLoops(rw, elementwise)))
    rw.eraseOp(elementwise);
  return true;
}

/// Moves `o`'s buffer to wgmma's K-major layout without swizzling: core matrices of
/// 8 rows x 16 bytes (`t` elements along k) stored as 128 contiguous bytes, the row
/// groups of one 16-byte column of k one after the other (8-row stride 128 bytes),
/// the columns `rows * 16` bytes apart: element (r, k) at ((k / t) * rows + r) * t +
/// k % t. MN-major (the ISA's canonical ((T,1,m),(8,k)):((1,T,SBO),(1T,LBO))): core
/// matrices of 8 k x 16 bytes (`t` elements along r), those of one group of 8 k one
/// after the other along r (stride byte offset 128), the groups `rows * 16` bytes apart
/// (leading byte offset): element (r, k) at ((k / 8) * (rows / t) + r / t) * 8t +
/// (k % 8) * t + r % t. The descriptor's offsets are the same numbers either way. Its
/// writers become loops of stores at those places (a thread's run along the 16-byte
/// rows stays one op, writeContiguousRun); `flat` stands for the buffer in its new
/// type until the old views are gone.
LogicalResult relayout(IRRewriter &rw, WgmmaOperand &o, Value flat) {
  // Copies and linalg ops as loops of stores.
  SmallVector<memref::StoreOp> stores;
  for (Operation *writer : o.writers) {
    rw.setInsertionPoint(writer);
    if (auto copy = dyn_cast<memref::CopyOp>(writer)) {
      auto linalgCopy =
          linalg::CopyOp::create(rw, writer->getLoc(), copy.getSource(), copy.getTarget());
      rw.eraseOp(copy);
      writer = linalgCopy;
    }
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(writer)) {
      if (writeContiguousRun(rw, linalgOp, o, flat))
        continue;
      if (failed(linalg::linalgOpToLoops(rw, linalgOp)))
        return writer->emitOpError("could not be lowered to loops for wgmma's layout");
      rw.eraseOp(writer);
    }
  }
  SmallPtrSet<Value, 8> viewValues;
  viewValues.insert(o.buffer);
  for (Operation *view : o.views)
    viewValues.insert(view->getResult(0));
  // (The loops load every operand, the unused output too.)
  SmallVector<Operation *> unusedLoads;
  for (Value v : viewValues)
    for (Operation *user : v.getUsers()) {
      if (auto store = dyn_cast<memref::StoreOp>(user); store && store.getMemRef() == v)
        stores.push_back(store);
      if (isa<memref::LoadOp>(user) && user->use_empty())
        unusedLoads.push_back(user);
    }
  for (Operation *load : unusedLoads)
    rw.eraseOp(load);
  for (memref::StoreOp store : stores) {
    Location loc = store.getLoc();
    rw.setInsertionPoint(store);
    SmallVector<Value> at =
        bufferIndices(rw, loc, store.getMemRef(), o.buffer, llvm::to_vector(store.getIndices()));
    Value index = flatIndex(rw, loc, o, at[o.rowDim], at[o.kDim]);
    rw.replaceOpWithNewOp<memref::StoreOp>(store, store.getValueToStore(), flat, ValueRange{index});
  }
  // The old views, now unused.
  for (bool erased = true; erased;) {
    erased = false;
    for (Operation *&view : o.views)
      if (view && view->use_empty()) {
        rw.eraseOp(view);
        view = nullptr;
        erased = true;
      }
  }
  if (!o.buffer.hasOneUse()) {
    InFlightDiagnostic diag =
        emitError(o.buffer.getLoc(), "a wgmma operand's buffer is still read in its old layout");
    for (Operation *user : o.buffer.getUsers())
      diag.attachNote(user->getLoc()) << "by " << user->getName();
    return diag;
  }
  return success();
}

/// The 64-bit matrix descriptor of `o` (in `flat`) without its start address's row
/// and column: the address field (bits 0-13, in 16-byte units) of the buffer's start,
/// the 16-byte columns' distance (leading byte offset, bits 16-29) and the 8-row
/// groups' (stride byte offset, bits 32-45); no swizzling (bits 62-63 zero).
Value descriptorBase(RewriterBase &rw, Location loc, const WgmmaOperand &o, Value flat) {
  Type i64 = rw.getI64Type();
  auto c = [&](int64_t v) { return arith::ConstantOp::create(rw, loc, rw.getI64IntegerAttr(v)); };
  Value address = memref::ExtractAlignedPointerAsIndexOp::create(rw, loc, flat);
  address = arith::IndexCastUIOp::create(rw, loc, i64, address);
  Value field =
      arith::ShRUIOp::create(rw, loc, arith::AndIOp::create(rw, loc, address, c(0x3FFFF)), c(4));
  int64_t leading = o.rows * 16 >> 4, stride = 128 >> 4;
  return arith::OrIOp::create(rw, loc, field, c(leading << 16 | stride << 32));
}

/// Lowers the block's warp tiles (one `op` per warp in `around`'s warp loop) to
/// warpgroup tiles on wgmma (sm_90a): the operands' buffers moved to wgmma's layout,
/// the accumulator's fragments in registers over the K loop, each K step's
/// instructions issued after a proxy fence and the step's barrier, then waited for.
LogicalResult lowerWarpgroupTiles(linalg::GenericOp op, WgmmaPlan &plan, RegisterLoops around) {
  IRRewriter rw(op.getContext());
  Location loc = op.getLoc();
  auto func = op->getParentOfType<gpu::GPUFuncOp>();
  scf::ForOp kLoop = around.kLoop, warpLoop = around.warpLoop;
  // The operands' buffers, flat.
  SmallVector<std::pair<WgmmaOperand *, Value>> flats;
  for (WgmmaOperand *o : {&plan.a, &plan.b}) {
    auto type = cast<MemRefType>(o->buffer.getType());
    int64_t size = o->rows * static_cast<int64_t>(llvm::divideCeil(o->ks, o->t)) * o->t;
    auto flatType = MemRefType::get({size}, type.getElementType(), MemRefLayoutAttrInterface(),
                                    type.getMemorySpace());
    rw.setInsertionPointToStart(&func.getBody().front());
    Value flat =
        UnrealizedConversionCastOp::create(rw, loc, TypeRange{flatType}, ValueRange{o->buffer})
            .getResult(0);
    flats.push_back({o, flat});
  }
  // The lane's place: warpgroup g's tile at rows 64 * (g / groupsN), columns tileN *
  // (g % groupsN); warp w of it holds rows 16 * w + lane / 4 (+ 8) of it.
  rw.setInsertionPoint(kLoop);
  LaneCode lc(rw, loc);
  Value tid = gpu::ThreadIdOp::create(rw, loc, gpu::Dimension::x);
  Value group = arith::DivUIOp::create(rw, loc, tid, lc.constant(128));
  Value warp = arith::RemUIOp::create(
      rw, loc, arith::DivUIOp::create(rw, loc, tid, lc.constant(32)), lc.constant(4));
  lc.lane = gpu::LaneIdOp::create(rw, loc, /*upper_bound=*/nullptr);
  lc.group = arith::DivUIOp::create(rw, loc, lc.lane, lc.constant(4));
  lc.inGroup = arith::RemUIOp::create(rw, loc, lc.lane, lc.constant(4));
  Value row0 = arith::MulIOp::create(
      rw, loc, arith::DivUIOp::create(rw, loc, group, lc.constant(plan.groupsN)), lc.constant(64));
  Value col0 = arith::MulIOp::create(
      rw, loc, arith::RemUIOp::create(rw, loc, group, lc.constant(plan.groupsN)),
      lc.constant(plan.tileN));
  Value fragmentRow =
      arith::AddIOp::create(rw, loc, row0, arith::MulIOp::create(rw, loc, warp, lc.constant(16)));
  IRMapping map;
  Value c = hoist(rw, plan.cBlock, kLoop, map);
  auto cType = cast<MemRefType>(c.getType());
  // Accumulator element i of 8-column piece j: row fragmentRow + lane / 4 + 8 * (i / 2),
  // column col0 + 8 * j + 2 * (lane % 4) + i % 2 (mma.sync's C layout, per warp).
  auto cIndices = [&](int64_t j, int64_t i) {
    auto [row, col] = mma::cPosition(i);
    Value r = arith::AddIOp::create(rw, loc, fragmentRow, lc.at(row, 0));
    Value n = arith::AddIOp::create(rw, loc, col0, lc.at(col, j * 8));
    SmallVector<Value> indices(cType.getRank(), lc.constant(0));
    indices[plan.cRowDim] = r;
    indices[plan.cColDim] = n;
    return indices;
  };
  int64_t pieces = plan.tileN / 8;
  if (!isa_and_nonnull<gpu::BarrierOp>(kLoop->getPrevNode()))
    gpu::BarrierOp::create(rw, loc);
  SmallVector<Value> init;
  for (int64_t j = 0; j < pieces; ++j)
    for (int64_t i = 0; i < 4; ++i)
      init.push_back(memref::LoadOp::create(rw, loc, c, cIndices(j, i)));
  // The descriptors' bases, and this warpgroup's rows in A and B (16 bytes a row).
  SmallVector<Value> bases;
  for (auto [o, flat] : flats)
    bases.push_back(descriptorBase(rw, loc, *o, flat));
  Type i64 = rw.getI64Type();
  auto c64 = [&](int64_t v) { return arith::ConstantOp::create(rw, loc, rw.getI64IntegerAttr(v)); };
  Value aBase = arith::AddIOp::create(
      rw, loc, bases[0],
      arith::IndexCastUIOp::create(
          rw, loc, i64, arith::AddIOp::create(rw, loc, row0, lc.constant(plan.a.rowOffset))));
  Value bBase = arith::AddIOp::create(
      rw, loc, bases[1],
      arith::IndexCastUIOp::create(
          rw, loc, i64, arith::AddIOp::create(rw, loc, col0, lc.constant(plan.b.rowOffset))));
  FailureOr<scf::ForOp> carried = carryThrough(rw, kLoop, init);
  if (failed(carried))
    return op.emitOpError("could not carry its accumulator through the K loop");
  scf::ForOp loop = *carried;
  // The fence before the step's barrier.
  Operation *barrier = warpLoop->getPrevNode();
  while (!isa<gpu::BarrierOp>(barrier))
    barrier = barrier->getPrevNode();
  rw.setInsertionPoint(barrier);
  NVVM::FenceProxyOp::create(
      rw, loc, NVVM::ProxyKind::async_shared,
      NVVM::SharedSpaceAttr::get(rw.getContext(), NVVM::SharedSpace::shared_cta));
  // The step: the accumulator as wgmma's struct, one instruction per K of it.
  rw.setInsertionPoint(warpLoop);
  Type f32 = rw.getF32Type();
  auto accType =
      LLVM::LLVMStructType::getLiteral(rw.getContext(), SmallVector<Type>(pieces * 4, f32));
  Value acc = LLVM::PoisonOp::create(rw, loc, accType);
  for (auto [i, v] : llvm::enumerate(loop.getRegionIterArgs()))
    acc = LLVM::InsertValueOp::create(rw, loc, acc, v, i);
  NVVM::WgmmaFenceAlignedOp::create(rw, loc);
  // A step's columns of 16 bytes (K-major; MN-major: its groups of 8 k, the same for
  // t = 8): `rows` 16-byte units further each.
  auto atK = [&](Value base, const WgmmaOperand &o, int64_t k) -> Value {
    int64_t units = (o.kOffset + k) / o.t * o.rows;
    return units ? arith::AddIOp::create(rw, loc, base, c64(units)).getResult() : base;
  };
  for (int64_t ks = 0; ks < plan.k / plan.instrK; ++ks) {
    Value descA = atK(aBase, plan.a, ks * plan.instrK);
    Value descB = atK(bBase, plan.b, ks * plan.instrK);
    acc = NVVM::WgmmaMmaAsyncOp::create(
        rw, loc, accType, acc, descA, descB,
        NVVM::MMAShapeAttr::get(rw.getContext(), 64, plan.tileN, plan.instrK), plan.type, plan.type,
        NVVM::WGMMATypes::f32, NVVM::WGMMAScaleOut::one, NVVM::WGMMAScaleIn::one,
        NVVM::WGMMAScaleIn::one,
        plan.a.mnMajor ? NVVM::MMALayout::col : NVVM::MMALayout::row, // imm-trans-a
        plan.b.mnMajor ? NVVM::MMALayout::row : NVVM::MMALayout::col, // imm-trans-b
        /*satfinite=*/nullptr);
  }
  NVVM::WgmmaGroupSyncAlignedOp::create(rw, loc);
  NVVM::WgmmaWaitGroupSyncOp::create(rw, loc, rw.getI64IntegerAttr(0));
  SmallVector<Value> results;
  for (int64_t i = 0; i < pieces * 4; ++i)
    results.push_back(LLVM::ExtractValueOp::create(rw, loc, acc, i));
  auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
  rw.modifyOpInPlace(yield, [&] { yield->setOperands(results); });
  rw.eraseOp(warpLoop);
  // After the loop: the fragments back into the accumulator's buffer.
  rw.setInsertionPointAfter(loop);
  Operation *next = loop->getNextNode();
  for (int64_t j = 0; j < pieces; ++j)
    for (int64_t i = 0; i < 4; ++i)
      memref::StoreOp::create(rw, loc, loop.getResult(j * 4 + i), c, cIndices(j, i));
  if (!isa_and_nonnull<gpu::BarrierOp>(next))
    gpu::BarrierOp::create(rw, loc);
  // The operands' buffers in wgmma's layout.
  for (auto [o, flat] : flats) {
    if (failed(relayout(rw, *o, flat)))
      return failure();
    auto cast = flat.getDefiningOp<UnrealizedConversionCastOp>();
    o->buffer.setType(flat.getType());
    rw.replaceAllUsesWith(flat, o->buffer);
    rw.eraseOp(cast);
  }
  return success();
}

LogicalResult lowerWarpTile(linalg::GenericOp op, GpuMma kind, bool wgmma) {
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
  Location loc = op.getLoc();
  WarpTile tile(op, *layout, *loops, rw);
  Value a = op.getDpsInputOperand(0)->get(), b = op.getDpsInputOperand(1)->get();
  Value c = op.getDpsInitOperand(0)->get();
  std::optional<RegisterLoops> around = registerLoops(op);
  if (wgmma && around)
    if (std::optional<WgmmaPlan> plan = planWgmma(op, kind, *around))
      return lowerWarpgroupTiles(op, *plan, *around);
  if (!around) {
    // The accumulator through its buffer at each step.
    rw.setInsertionPoint(op);
    tile.setUpLane();
    SmallVector<Value> acc = tile.loadAccumulator(c);
    tile.multiply(a, b, acc);
    tile.storeAccumulator(c, acc);
    rw.eraseOp(op);
    return success();
  }
  // The warp loop runs once: its body in its place, at this warp's index.
  scf::ForOp warpLoop = around->warpLoop, kLoop = around->kLoop;
  rw.eraseOp(warpLoop.getBody()->getTerminator());
  rw.inlineBlockBefore(warpLoop.getBody(), warpLoop, warpLoop.getLowerBound());
  rw.eraseOp(warpLoop);
  // Before the K loop: the accumulator's view and its fragments, once the block's
  // threads have initialized it.
  bool synced = isa_and_nonnull<gpu::BarrierOp>(kLoop->getPrevNode());
  rw.setInsertionPoint(kLoop);
  IRMapping map;
  Value hoisted = hoist(rw, c, kLoop, map);
  tile.setUpLane();
  if (!synced)
    gpu::BarrierOp::create(rw, loc);
  SmallVector<Value> init = tile.loadAccumulator(hoisted);
  FailureOr<scf::ForOp> carried = carryThrough(rw, kLoop, init);
  if (failed(carried))
    return op.emitOpError("could not carry its accumulator through the K loop");
  scf::ForOp loop = *carried;
  // In the loop: the products, on the carried fragments (constants made in it are not
  // reused after it).
  DenseMap<int64_t, Value> outside = tile.lane().constants;
  rw.setInsertionPoint(op);
  SmallVector<Value> acc(loop.getRegionIterArgs().begin(), loop.getRegionIterArgs().end());
  tile.multiply(a, b, acc);
  auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
  rw.modifyOpInPlace(yield, [&] { yield->setOperands(acc); });
  rw.eraseOp(op);
  // After it: the fragments back into the buffer, before the block's threads read it.
  tile.lane().constants = outside;
  rw.setInsertionPointAfter(loop);
  Operation *next = loop->getNextNode();
  tile.storeAccumulator(hoisted, loop.getResults());
  if (!isa_and_nonnull<gpu::BarrierOp>(next))
    gpu::BarrierOp::create(rw, loc);
  return success();
}

struct DlcGpuMmaPass : impl::DlcGpuMmaBase<DlcGpuMmaPass> {
  using DlcGpuMmaBase::DlcGpuMmaBase;

  void runOnOperation() override {
    SmallVector<std::pair<linalg::GenericOp, GpuMma>> tiles;
    getOperation().walk([&](linalg::GenericOp op) {
      if (auto mma = op->getAttrOfType<GpuMmaAttr>(attrs::kMma))
        tiles.push_back({op, mma.getValue()});
    });
    for (auto [op, kind] : tiles)
      if (failed(lowerWarpTile(op, kind, wgmma)))
        return signalPassFailure();
  }
};

} // namespace
} // namespace dlc
