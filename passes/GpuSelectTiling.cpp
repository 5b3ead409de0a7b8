//===- GpuSelectTiling.cpp - The dlc-gpu-select-tiling pass ------------------===//
//
// Chooses how each kernel runs on CUDA and writes it as a `#dlc.gpu_config` on the
// kernel function; dlc-tile-gpu applies it and dlc-map-to-gpu maps it. Deciding is
// separate from doing (IREE's KernelConfig), so the decision can be tested alone.
//
// The per-op heuristic (docs/cuda.md): a block has kBlockThreads threads. They are dealt
// out over the root's parallel loops from the one walking the innermost output dim
// outwards — each loop takes the smallest power of two covering its static extent, or
// everything left when the extent is dynamic — so neighbouring threads touch neighbouring
// output elements (coalesced stores, and coalesced loads for elementwise work). Parallel
// loops left over get a block tile of 1; reduction loops stay whole inside each thread.
// When reductions are fused into the root's tile (Softmax, LayerNorm), the trailing
// output dims they reduce stay whole too: one thread per row instead of each thread
// recomputing its row's statistics. The same rule serves elementwise, reduction (one
// thread per output element) and contraction roots (mapping `threads`).
//
// Cooperative rows (mapping `rows`): when such a row is long (kMinCooperativeRow
// elements or more, or dynamic), or the root itself reduces a long innermost input dim,
// one block takes one row instead; each reduction in the row becomes partial reductions
// per thread and a merge. An elementwise root writes the row V elements an iteration
// (128 bits of its output's 32- or 16-bit type) when its innermost loop walks the
// innermost dim over a static multiple of V, which dlc-vectorize-thread-tiles makes
// vector accesses; else one element.
//
// Contraction tiles (mapping `contraction`): a kernel whose only reduction is a
// contraction (findSharedContraction) gets block tiles of up to kMaxContractionTileDim
// per output dim (kContractionTileElements in all), a micro-tile per thread and the
// reduction staged through shared memory kReductionTile elements at a time. Below fp32
// (option `precision`), a tile whose contraction is C[m, n] += A[m, k] * B[k, n] (with
// batch loops) and whose block tile has at least 16 rows and 8 columns runs on tensor
// cores where the architecture has the instruction (mmaForContraction, applyMma): each
// warp computes a warp tile instead of each thread a micro-tile. f16 and bf16 operands
// (models in half precision) take them in every precision: their products are exact.
// Launches with enough blocks take larger tensor-core tiles (kMmaTileElements; on
// sm_90a kWarpgroupTileElements, within its opt-in dynamic shared memory).
//
// A kernel without a tileable root, or whose output view the launch grid cannot
// describe, gets mapping `serial` (one thread) and a remark saying why; a kernel with
// a contraction (isContraction) that gets no contraction tile, a remark too.
//
//===----------------------------------------------------------------------===//
#include "passes/GpuTarget.h"
#include "passes/GpuTiling.h"
#include "passes/MmaLayout.h"
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/Support/Debug.h"
#include "llvm/Support/MathExtras.h"

#include <cstdlib>
#include <limits>

#define DEBUG_TYPE "dlc-gpu-select-tiling"

namespace dlc {
#define GEN_PASS_DEF_DLCGPUSELECTTILING
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// Threads of a block whose threads each compute their own output elements.
constexpr int64_t kBlockThreads = 256;
/// Rows at least this long (elements) are reduced by a whole block.
constexpr int64_t kMinCooperativeRow = 64;
/// Threads of a block that reduces a row.
constexpr int64_t kRowThreads = 256;
/// Shared-memory contraction tiles: at most this many output elements per block, and
/// this many along one output dim.
constexpr int64_t kContractionTileElements = 4096;
constexpr int64_t kMaxContractionTileDim = 64;
/// Threads of a block that computes a contraction tile.
constexpr int64_t kContractionThreads = 256;
/// Reduction elements staged in shared memory per step.
constexpr int64_t kReductionTile = 16;
/// Tensor-core tiles of a contraction large enough to fill the card with them: up to
/// kMmaTileElements per block, kMaxMmaTileDim along a dim, kMmaReductionTile per step
/// (each warp's accumulators stay in registers over the steps, dlc-gpu-mma, so a
/// larger tile means more instructions per shared-memory load and barrier).
constexpr int64_t kMmaTileElements = 8192;
constexpr int64_t kMaxMmaTileDim = 128;
/// Warpgroup tiles (sm_90a's wgmma): 128 x 128 blocks, each of two warpgroups an
/// m64n128 tile, which reads 43 flops per byte of shared memory where a 64 x 64 one
/// reads 32 (the H100's tensor cores need about 32 to keep up with its shared memory);
/// their steps' buffers may take dynamic shared memory (dlc-gpu-dynamic-shared).
constexpr int64_t kWarpgroupTileElements = 16384;
constexpr int64_t kMmaReductionTile = 32;
/// Bits a thread of an elementwise kernel takes along the innermost output dim (4
/// elements of 32 bits, 8 of 16), which dlc-vectorize-thread-tiles reads and writes
/// as one vector access per operand.
constexpr int64_t kVectorBits = 128;
/// Blocks a launch needs before its tiles grow to the tensor-core size: one wave on
/// the largest cards (132 SMs on an H100/H200).
constexpr int64_t kMinBlocksForMmaTiles = 132;

/// Block tile and thread count per loop of the root (0: loop not tiled at that level):
/// the configuration being chosen, written out as a GpuConfigAttr.
struct GpuTiling {
  GpuTiling(GpuMapping mapping, unsigned loops, int64_t blockThreads = 0)
      : mapping(mapping), blockTile(loops, 0), threads(loops, 0), blockThreads(blockThreads),
        rowTile(loops, 0) {}

  GpuMapping mapping;
  SmallVector<int64_t> blockTile;
  SmallVector<int64_t> threads;
  /// Cooperative blocks (rows, contraction): the block's thread count, and the
  /// thread-level tile sizes of an elementwise root (1 on each row loop, 0 elsewhere).
  int64_t blockThreads;
  SmallVector<int64_t> rowTile;
  /// A shared-memory contraction tile: its per-thread tile and its reduction step,
  /// per contraction loop (0: untiled).
  SmallVector<int64_t> threadTile;
  SmallVector<int64_t> reductionTile;
  /// The block tile of each parallel contraction loop (0 on reduction loops).
  SmallVector<int64_t> contractionBound;
  /// Tensor cores: the instruction, and threadTile is each warp's tile.
  GpuMma mma = GpuMma::None;
  /// The shared memory the block may use (0: the target's static limit; warpgroup
  /// tiles: its opt-in one).
  int64_t sharedBytes = 0;
};

/// The tensor-core instruction for `precision` on `target`: mma.sync m16n8k8 tf32,
/// m16n8k16 f16/bf16 from sm_80; sm_75 has f16 only, as m16n8k8; sm_70 none here (its
/// m8n8k4 is not used).
GpuMma mmaFor(const GpuTarget &target, StringRef precision) {
  int64_t cc = target.computeCapability;
  if (precision == "tf32")
    return cc >= 80 ? GpuMma::Tf32K8 : GpuMma::None;
  if (precision == "fp16")
    return cc >= 80 ? GpuMma::F16K16 : cc >= 75 ? GpuMma::F16K8 : GpuMma::None;
  if (precision == "bf16")
    return cc >= 80 ? GpuMma::Bf16K16 : GpuMma::None;
  return GpuMma::None;
}

/// The tensor-core instruction for contraction `c` (f32 results only): its operands'
/// own type when they are f16 or bf16 (exact products: tensor cores in every
/// precision), else `precision`'s for f32 operands.
GpuMma mmaForContraction(linalg::LinalgOp c, const GpuTarget &target, StringRef precision) {
  if (c.getNumDpsInputs() != 2 || c.getNumDpsInits() != 1)
    return GpuMma::None;
  Type a = getElementTypeOrSelf(c.getDpsInputOperand(0)->get().getType());
  Type b = getElementTypeOrSelf(c.getDpsInputOperand(1)->get().getType());
  if (!getElementTypeOrSelf(c.getDpsInitOperand(0)->get().getType()).isF32())
    return GpuMma::None;
  if (a.isF16() && b.isF16())
    return mmaFor(target, "fp16");
  if (a.isBF16() && b.isBF16())
    return mmaFor(target, "bf16");
  if (a.isF32() && b.isF32())
    return mmaFor(target, precision);
  return GpuMma::None;
}

/// The K of the instruction `mma` (m16n8kK).
int64_t mmaK(GpuMma mma) { return mma == GpuMma::F16K16 || mma == GpuMma::Bf16K16 ? 16 : 8; }

/// A tensor-core tile's reduction step for a loop of `extent` iterations instead of
/// `size`: the largest multiple of `unit` (the instruction's K) up to `size`, and at
/// least a quarter of it, that divides `extent`; `size` when none does. A partial last
/// step makes every step's size dynamic: the tensor cores read whole steps, so each
/// step's buffers are zero-filled first (a barrier of its own) and its copies are
/// guarded element by element and staged through registers, where whole steps copy with
/// cp.async (K = 48 on 32-deep steps: three steps of 16, not 32 and a partial 16).
/// FMA tiles keep their step: they read only the step's part of the buffers, and their
/// guarded copies of a partial step are cp.async too.
int64_t wholeStep(int64_t extent, int64_t size, int64_t unit) {
  if (size <= 0 || extent % size == 0)
    return size;
  for (int64_t d = size - size % unit; d >= unit && 4 * d >= size; d -= unit)
    if (extent % d == 0)
      return d;
  return size;
}

/// Makes `t`, a contraction tiling of `c`, a tensor-core tiling with instruction `mma`
/// when its shape allows: a contraction of the form matchMmaLoops takes, a block
/// tile of at least 16 rows (m) and 8 columns (n) and one batch element, and a
/// reduction step that is a multiple of the instruction's K. The block tile is split
/// into warp tiles (the larger side halved first, down to 16 x 8), one per warp, up
/// to kContractionThreads / 32 warps. Returns whether it did.
bool applyMma(linalg::LinalgOp c, GpuTiling &t, GpuMma mma) {
  if (mma == GpuMma::None)
    return false;
  std::optional<MmaLoops> loops = matchMmaLoops(c, t.contractionBound);
  if (!loops)
    return false;
  if (llvm::any_of(loops->batch, [&](unsigned l) { return t.contractionBound[l] != 1; }))
    return false;
  int64_t bm = t.contractionBound[loops->m], bn = t.contractionBound[loops->n];
  int64_t kStep = t.reductionTile[loops->k];
  if (bm < 16 || bm % 16 || bn < 8 || bn % 8 || kStep % mmaK(mma))
    return false;
  int64_t wm = bm, wn = bn, warps = 1;
  while (warps < kContractionThreads / 32) {
    if (wm >= wn * 2 && wm >= 32)
      wm /= 2;
    else if (wn >= 16)
      wn /= 2;
    else if (wm >= 32)
      wm /= 2;
    else
      break;
    warps *= 2;
  }
  std::fill(t.threadTile.begin(), t.threadTile.end(), 0);
  for (unsigned l : loops->batch)
    t.threadTile[l] = 1;
  t.threadTile[loops->m] = wm;
  t.threadTile[loops->n] = wn;
  t.blockThreads = warps * 32;
  t.mma = mma;
  return true;
}

/// How many trailing output dims of `root` a fused reduction reduces away: a reduction
/// feeding the root inside the kernel whose result has fewer dims than the root's
/// output is broadcast back over them (Softmax, LayerNorm). Those dims must not be split
/// across threads, or each thread would redo its whole row's reduction. The reduced
/// dims are taken to be the trailing ones, as they are for Softmax and LayerNorm over
/// the last axis; otherwise the split stays correct, only redundant.
int64_t fusedReductionDims(linalg::LinalgOp root) {
  SetVector<Operation *> slice;
  BackwardSliceOptions options;
  options.omitBlockArguments = true;
  (void)getBackwardSlice(root.getOperation(), &slice, options);
  int64_t rootRank = cast<ShapedType>(root->getResult(0).getType()).getRank(), dims = 0;
  for (Operation *op : slice) {
    auto l = dyn_cast<linalg::LinalgOp>(op);
    if (!l || l.getNumReductionLoops() == 0 || l->getNumResults() != 1)
      continue;
    int64_t rank = cast<ShapedType>(l->getResult(0).getType()).getRank();
    dims = std::max(dims, rootRank - rank);
  }
  return dims;
}

/// Whether `op` is a row reduction: its innermost reduction loop walks the innermost
/// dim of its first input (contiguous in memory) and no other input; `extent` gets how
/// many elements its reduction loops cover (ShapedType::kDynamic when dynamic).
/// Returns the loop, or -1.
int64_t innermostReductionLoop(linalg::LinalgOp op, int64_t *extent = nullptr) {
  if (op.getNumDpsInputs() == 0 || op.getNumReductionLoops() == 0)
    return -1;
  AffineMap map = op.getMatchingIndexingMap(op.getDpsInputOperand(0));
  if (map.getNumResults() == 0)
    return -1;
  auto dim = dyn_cast<AffineDimExpr>(map.getResults().back());
  auto iters = op.getIteratorTypesArray();
  if (!dim || iters[dim.getPosition()] != utils::IteratorType::reduction)
    return -1;
  // Contractions (MatMul, Gemm) read their other operands along the same loop: they
  // keep one thread per output element.
  SmallVector<OpOperand *> inputs = op.getDpsInputOperands();
  for (OpOperand *other : llvm::drop_begin(inputs))
    if (op.getMatchingIndexingMap(other).isFunctionOfDim(dim.getPosition()))
      return -1;
  if (extent) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    *extent = 1;
    for (auto [l, it] : llvm::enumerate(iters))
      if (it == utils::IteratorType::reduction)
        *extent = ShapedType::isDynamic(ranges[l]) || ShapedType::isDynamic(*extent)
                      ? ShapedType::kDynamic
                      : *extent * ranges[l];
  }
  return dim.getPosition();
}

/// The longest reduction computed in `root`'s kernel, over the root's own reduction
/// loops or a fused producer's (ShapedType::kDynamic when dynamic); 0 when there is
/// none, or when one of them is not a row reduction.
int64_t longestRowReduction(linalg::LinalgOp root) {
  SetVector<Operation *> slice;
  BackwardSliceOptions options;
  options.omitBlockArguments = true;
  options.inclusive = true;
  (void)getBackwardSlice(root.getOperation(), &slice, options);
  int64_t longest = 0;
  for (Operation *op : slice) {
    auto l = dyn_cast<linalg::LinalgOp>(op);
    if (!l || l.getNumReductionLoops() == 0)
      continue;
    // Every reduction of the kernel must be a row reduction (no contraction, no
    // convolution, no gather in its body) for the block to split them all.
    int64_t extent = 0;
    bool gathers = false;
    l->walk([&](tensor::ExtractOp) { gathers = true; });
    if (gathers || innermostReductionLoop(l, &extent) < 0)
      return 0;
    if (ShapedType::isDynamic(extent) || ShapedType::isDynamic(longest))
      longest = ShapedType::kDynamic;
    else
      longest = std::max(longest, extent);
  }
  return longest;
}

/// The cooperative-row tiling of `root` when it has one (see the file comment): the
/// `keepWhole` innermost output loops of `byOutDim` form the row an elementwise root
/// writes.
std::optional<GpuTiling> chooseRowTiling(linalg::LinalgOp root,
                                         ArrayRef<std::pair<int64_t, unsigned>> byOutDim,
                                         size_t keepWhole) {
  int64_t row = longestRowReduction(root);
  if (row == 0 || (!ShapedType::isDynamic(row) && row < kMinCooperativeRow))
    return std::nullopt;
  if (root.getNumReductionLoops() != 0 && innermostReductionLoop(root) < 0)
    return std::nullopt; // A reducing root that reads across rows.
  unsigned n = root.getNumLoops();
  GpuTiling t(GpuMapping::Rows, n, kRowThreads);
  if (root.getNumReductionLoops() == 0) {
    for (auto [outDim, l] : byOutDim.take_front(keepWhole)) {
      (void)outDim;
      t.rowTile[l] = 1;
    }
    // 128 bits an iteration along the innermost dim (a static multiple of them).
    SmallVector<int64_t> ranges = root.getStaticLoopRanges();
    int64_t lanes =
        vectorAccessElements(getElementTypeOrSelf(root.getDpsInitOperand(0)->get().getType()));
    if (keepWhole > 0 && lanes && isa<linalg::GenericOp>(root) &&
        root.getMatchingIndexingMap(root.getDpsInitOperand(0)).isIdentity()) {
      unsigned l = byOutDim.front().second;
      if (l + 1 == n && !ShapedType::isDynamic(ranges[l]) && ranges[l] % lanes == 0)
        t.rowTile[l] = lanes;
    }
  }
  // One block per row: block tile 1 on every other output loop.
  for (auto [outDim, l] : byOutDim.drop_front(keepWhole)) {
    (void)outDim;
    t.blockTile[l] = 1;
  }
  if (llvm::all_of(t.blockTile, [](int64_t s) { return s == 0; }))
    return std::nullopt; // A single row: no block loop to carry it.
  if (!ShapedType::isDynamic(row))
    t.blockThreads = std::min<int64_t>(kRowThreads, llvm::PowerOf2Ceil(row));
  return t;
}

/// The shared-memory contraction tiling of `root` when its kernel has a contraction
/// (see findSharedContraction): block tiles of up to kMaxContractionTileDim along the
/// output dims, kContractionTileElements in all, the innermost and its partner first;
/// each thread computes a micro-tile of it; the reduction staged kReductionTile elements at a time,
/// dealt from the innermost reduction loop.
/// Bytes of shared memory a contraction tiling of `c` stages: each input's slice for one
/// reduction step (its indexing map's extent over the block and reduction tiles) and
/// the block's accumulator tile.
int64_t contractionSharedBytes(linalg::LinalgOp c, const GpuTiling &t, int64_t mmaInputBytes = 0) {
  unsigned n = c.getNumLoops();
  SmallVector<int64_t> ranges = c.getStaticLoopRanges();
  SmallVector<int64_t> last(n, 0);
  for (unsigned l = 0; l < n; ++l) {
    int64_t tile = t.reductionTile[l] > 0             ? t.reductionTile[l]
                   : t.contractionBound[l] > 0        ? t.contractionBound[l]
                   : ShapedType::isDynamic(ranges[l]) ? 1
                                                      : ranges[l];
    last[l] = tile - 1;
  }
  SmallVector<int64_t> zero(n, 0);
  Type et = getElementTypeOrSelf(c->getOperand(0).getType());
  int64_t elementBytes = std::max<int64_t>(1, et.getIntOrFloatBitWidth() / 8);
  int64_t bytes = 0;
  for (OpOperand &operand : c->getOpOperands()) {
    AffineMap m = c.getMatchingIndexingMap(&operand);
    if (m.getNumSymbols())
      return std::numeric_limits<int64_t>::max();
    SmallVector<int64_t> hi = m.compose(last), lo = m.compose(zero);
    int64_t count = 1;
    for (auto [h, o] : llvm::zip(hi, lo))
      count *= std::abs(h - o) + 1;
    // Tensor cores stage their inputs in the instruction's type, rows padded (at most
    // mma::kMaxRowPaddingBytes each), the accumulator in f32.
    bool input = c.isDpsInput(&operand);
    bytes += count * (mmaInputBytes == 0 ? elementBytes : input ? mmaInputBytes : 4);
    if (mmaInputBytes && input && !hi.empty()) {
      SmallVector<int64_t> extents;
      for (auto [h, o] : llvm::zip(hi, lo))
        extents.push_back(std::abs(h - o) + 1);
      bytes += count / extents[mma::rowDimOf(extents)] * mma::kMaxRowPaddingBytes;
    }
  }
  return bytes;
}

/// With `mmaTarget`, only a tensor-core tiling (for that target and `precision`), or
/// nothing.
std::optional<GpuTiling> chooseContractionTiling(linalg::LinalgOp root, const KernelRoot &kr,
                                                 int64_t maxSharedBytes,
                                                 const GpuTarget *mmaTarget = nullptr,
                                                 StringRef precision = "fp32") {
  // Dims below are the contraction's result dims; outputDim[d] is the root's output
  // dim that dim d becomes (a transpose may follow the contraction).
  SmallVector<int64_t> outputDim;
  auto c = dyn_cast_or_null<linalg::LinalgOp>(findSharedContraction(root, &outputDim));
  if (!c)
    return std::nullopt;
  GpuMma mma = mmaTarget ? mmaForContraction(c, *mmaTarget, precision) : GpuMma::None;
  if (mmaTarget && mma == GpuMma::None)
    return std::nullopt;
  int64_t rank = root.getRank(root.getDpsInitOperand(0));
  SmallVector<int64_t> extent(rank, ShapedType::kDynamic);
  SmallVector<int64_t> ranges = root.getStaticLoopRanges();
  for (unsigned l = 0; l < root.getNumLoops(); ++l)
    for (int64_t d = 0; d < rank; ++d)
      if (kr.outputDimOfLoop[l] >= 0 && kr.outputDimOfLoop[l] == outputDim[d])
        extent[d] = ranges[l];
  // The innermost output dim and its partner: the innermost other output dim that no
  // input reading the first reads (a MatMul's rows against its columns, a Conv's
  // output channels against its output columns). Each input element of the one is
  // reused along the other, so they take the tile first and share the micro-tile.
  AffineMap outMap = c.getMatchingIndexingMap(c.getDpsInitOperand(0));
  auto loopOf = [&](int64_t d) { return cast<AffineDimExpr>(outMap.getResult(d)).getPosition(); };
  // Trailing dims of one element (a 1-D Conv exported as 2-D, [N, C, L, 1]) are no
  // tile's dims: the innermost is the innermost longer one.
  int64_t inner = mma::rowDimOf(extent);
  int64_t partner = inner >= 1 ? inner - 1 : inner;
  for (int64_t d = inner - 1; d >= 0; --d) {
    bool shared = llvm::any_of(c.getDpsInputOperands(), [&](OpOperand *in) {
      AffineMap m = c.getMatchingIndexingMap(in);
      return m.isFunctionOfDim(loopOf(inner)) && m.isFunctionOfDim(loopOf(d));
    });
    if (!shared) {
      partner = d;
      break;
    }
  }
  SmallVector<int64_t> order = {inner};
  if (partner != inner)
    order.push_back(partner);
  for (int64_t d = rank - 1; d >= 0; --d)
    if (d != inner && d != partner)
      order.push_back(d);
  // A contraction tensor cores may take (no sliding window: each input read through a
  // projected permutation).
  bool mmaShaped = mma != GpuMma::None && llvm::all_of(c.getDpsInputOperands(), [&](OpOperand *in) {
                     return c.getMatchingIndexingMap(in).isProjectedPermutation();
                   });
  // Per output dim: the block tile (powers of two). Tensor cores tile two dims (m and
  // n), the others keep one index per block (chooseTiling tiles for FMAs instead when
  // the tile does not suit tensor cores after all).
  SmallVector<int64_t> blockDim;
  int64_t elements = 1;
  auto chooseBlock = [&](bool twoDims, int64_t tileElements, int64_t maxTileDim) {
    blockDim.assign(rank, 1);
    int64_t budget = tileElements;
    elements = 1;
    for (int64_t d : order) {
      if (budget <= 1 || (twoDims && d != inner && d != partner))
        break;
      int64_t size = std::min(budget, maxTileDim);
      if (!ShapedType::isDynamic(extent[d]))
        size = std::min<int64_t>(size, llvm::PowerOf2Ceil(extent[d]));
      blockDim[d] = size;
      budget /= size;
      elements *= size;
    }
  };
  chooseBlock(mmaShaped, kContractionTileElements, kMaxContractionTileDim);
  // Tensor cores take larger tiles where the launch still fills the card: warpgroup
  // tiles the largest, within the opt-in shared memory.
  bool mmaTiles = false;
  int64_t budget = maxSharedBytes;
  if (mmaShaped && llvm::none_of(extent, ShapedType::isDynamic)) {
    SmallVector<int64_t, 2> sizes = {kMmaTileElements};
    if (mmaTarget->warpgroupMma)
      sizes.insert(sizes.begin(), kWarpgroupTileElements);
    for (int64_t size : sizes) {
      chooseBlock(true, size, kMaxMmaTileDim);
      int64_t blocks = 1;
      for (int64_t d = 0; d < rank; ++d)
        blocks *= llvm::divideCeil(extent[d], blockDim[d]);
      mmaTiles = blocks >= kMinBlocksForMmaTiles;
      if (mmaTiles) {
        if (size == kWarpgroupTileElements)
          budget = mmaTarget->maxDynamicSharedBytes;
        break;
      }
    }
    if (!mmaTiles)
      chooseBlock(true, kContractionTileElements, kMaxContractionTileDim);
  }
  // Each thread computes a micro-tile of elements / kContractionThreads outputs, grown
  // alternately along the two dims (4x4 of a 64x64 tile): per reduction step it reads
  // each input's slice of its micro-tile once for all its outputs.
  SmallVector<int64_t> micro(rank, 1);
  int64_t per = std::max<int64_t>(1, elements / kContractionThreads), microElements = 1;
  for (bool innerTurn = true; microElements < per; innerTurn = !innerTurn) {
    int64_t d = innerTurn ? inner : partner;
    if (micro[d] * 2 > blockDim[d])
      d = d == inner ? partner : inner;
    if (micro[d] * 2 > blockDim[d])
      break;
    micro[d] *= 2;
    microElements *= 2;
  }
  int64_t blockThreads = 1;
  for (int64_t d = 0; d < rank; ++d)
    blockThreads *= blockDim[d] / micro[d];
  unsigned n = root.getNumLoops();
  GpuTiling t(GpuMapping::Contraction, n, blockThreads);
  auto iters = root.getIteratorTypesArray();
  for (unsigned l = 0; l < n; ++l) {
    if (iters[l] != utils::IteratorType::parallel || kr.outputDimOfLoop[l] < 0)
      continue;
    for (int64_t d = 0; d < rank; ++d)
      if (outputDim[d] == kr.outputDimOfLoop[l])
        t.blockTile[l] = blockDim[d];
    t.rowTile[l] = 1; // An elementwise root writes the tile element by element.
  }
  if (llvm::all_of(t.blockTile, [](int64_t s) { return s <= 1; }))
    return std::nullopt; // A single output element: no tile to share.
  unsigned cn = c.getNumLoops();
  t.threadTile.assign(cn, 0);
  t.reductionTile.assign(cn, 0);
  t.contractionBound.assign(cn, 0);
  for (auto [d, e] : llvm::enumerate(outMap.getResults())) {
    t.threadTile[cast<AffineDimExpr>(e).getPosition()] = micro[d];
    t.contractionBound[cast<AffineDimExpr>(e).getPosition()] = blockDim[d];
  }
  SmallVector<int64_t> cRanges = c.getStaticLoopRanges();
  auto cIters = c.getIteratorTypesArray();
  int64_t kBudget = mmaTiles ? kMmaReductionTile : kReductionTile;
  for (unsigned l = cn; l-- > 0;) {
    if (cIters[l] != utils::IteratorType::reduction)
      continue;
    int64_t size = kBudget;
    if (!ShapedType::isDynamic(cRanges[l]))
      size = std::min(size, cRanges[l]);
    if (mmaTiles && size > mmaK(mma))
      size -= size % mmaK(mma); // Whole instruction steps (K = 24 takes 16 then 8).
    if (mmaShaped && !ShapedType::isDynamic(cRanges[l]))
      size = wholeStep(cRanges[l], size, mmaK(mma));
    t.reductionTile[l] = std::max<int64_t>(size, 1);
    kBudget = std::max<int64_t>(kBudget / std::max<int64_t>(size, 1), 1);
  }
  // Within the shared memory: the reduction steps shrink first (a Conv over dynamic
  // spatial dims stages its whole spatial tile per input channel); a tiling that still
  // does not fit is not taken (the kernel maps threads instead).
  int64_t mmaInputBytes = !mmaShaped ? 0 : mma == GpuMma::Tf32K8 ? 4 : 2;
  while (contractionSharedBytes(c, t, mmaInputBytes) > budget) {
    auto largest = std::max_element(t.reductionTile.begin(), t.reductionTile.end());
    if (largest == t.reductionTile.end() || *largest <= 1)
      return std::nullopt;
    *largest /= 2;
  }
  (void)applyMma(c, t, mma);
  if (budget != maxSharedBytes)
    t.sharedBytes = budget;
  return t;
}

/// Whether `g` reads and writes contiguous vectors along its innermost loop: operands
/// of `bits` bits (32 or 16; 0: the first operand's), no reduction, no gather, and
/// every operand that the innermost loop indexes walks its innermost dim with it (the
/// others it broadcasts along).
bool vectorizesAlongInnermost(linalg::GenericOp g, unsigned &bits) {
  if (g.getNumReductionLoops() != 0 || g.getNumLoops() == 0)
    return false;
  bool gathers = false;
  g->walk([&](tensor::ExtractOp) { gathers = true; });
  if (gathers)
    return false;
  unsigned inner = g.getNumLoops() - 1;
  for (OpOperand &o : g->getOpOperands()) {
    Type et = getElementTypeOrSelf(o.get().getType());
    if (!et.isIntOrFloat())
      return false;
    if (bits == 0)
      bits = et.getIntOrFloatBitWidth();
    if ((bits != 32 && bits != 16) || et.getIntOrFloatBitWidth() != bits)
      return false;
    AffineMap m = g.getMatchingIndexingMap(&o);
    for (auto [i, e] : llvm::enumerate(m.getResults()))
      if (e.isFunctionOfDim(inner) && (i + 1 != m.getNumResults() || !isa<AffineDimExpr>(e)))
        return false;
  }
  return true;
}

/// The elements a thread takes (kVectorBits of the kernel's operands) when every op of
/// `root`'s kernel is a generic that vectorizesAlongInnermost over operands of one
/// width, and the root's innermost loop walks the innermost output dim; 0 otherwise.
int64_t vectorElements(linalg::LinalgOp root) {
  auto func = root->getParentOfType<func::FuncOp>();
  bool ok = func && isa<linalg::GenericOp>(root.getOperation()) && root.getNumDpsInits() == 1 &&
            root.getMatchingIndexingMap(root.getDpsInitOperand(0)).isIdentity();
  unsigned bits = 0;
  if (ok)
    func.walk([&](linalg::LinalgOp op) {
      auto g = dyn_cast<linalg::GenericOp>(op.getOperation());
      ok &= g && vectorizesAlongInnermost(g, bits);
    });
  return ok && bits ? kVectorBits / bits : 0;
}

GpuTiling chooseTiling(linalg::LinalgOp root, const KernelRoot &kr, bool contractionTiles,
                       const GpuTarget &target, StringRef precision) {
  int64_t maxSharedBytes = target.maxStaticSharedBytes;
  if (contractionTiles)
    if (std::optional<GpuTiling> c =
            chooseContractionTiling(root, kr, maxSharedBytes, &target, precision);
        c && c->mma != GpuMma::None)
      return *c;
  if (std::optional<GpuTiling> c =
          contractionTiles ? chooseContractionTiling(root, kr, maxSharedBytes) : std::nullopt)
    return *c;
  unsigned n = root.getNumLoops();
  GpuTiling t(GpuMapping::Threads, n);
  SmallVector<int64_t> ranges = root.getStaticLoopRanges();
  auto iters = root.getIteratorTypesArray();
  // Parallel loops that walk an output dim, innermost output dim first.
  SmallVector<std::pair<int64_t, unsigned>> byOutDim;
  for (unsigned l = 0; l < n; ++l)
    if (iters[l] == utils::IteratorType::parallel && kr.outputDimOfLoop[l] >= 0)
      byOutDim.push_back({kr.outputDimOfLoop[l], l});
  llvm::sort(byOutDim, [](auto a, auto b) { return a.first > b.first; });
  // Output dims reduced by a fused producer stay whole in each thread.
  size_t keepWhole = std::min<size_t>(fusedReductionDims(root), byOutDim.size());
  if (std::optional<GpuTiling> rows = chooseRowTiling(root, byOutDim, keepWhole))
    return *rows;
  byOutDim.erase(byOutDim.begin(), byOutDim.begin() + keepWhole);
  int64_t budget = kBlockThreads;
  // An elementwise kernel over a static innermost dim of a multiple of V (the elements
  // of a 128-bit access): each thread takes V neighbours along it, with as many threads
  // as make the block tile divide the dim (the thread tiles stay whole).
  int64_t lanes = keepWhole == 0 && !byOutDim.empty() ? vectorElements(root) : 0;
  if (lanes) {
    unsigned l = byOutDim.front().second;
    if (l + 1 == n && !ShapedType::isDynamic(ranges[l]) && ranges[l] % lanes == 0) {
      int64_t threads = budget;
      while (threads > 1 && ranges[l] % (lanes * threads) != 0)
        threads /= 2;
      t.threads[l] = threads;
      t.blockTile[l] = lanes * threads;
      budget /= threads;
      byOutDim.erase(byOutDim.begin());
    }
  }
  for (auto [outDim, l] : byOutDim) {
    (void)outDim;
    if (budget == 1) {
      t.blockTile[l] = 1;
      continue;
    }
    int64_t threads = budget;
    if (!ShapedType::isDynamic(ranges[l]))
      threads = std::min<int64_t>(budget, llvm::PowerOf2Ceil(ranges[l]));
    t.threads[l] = threads;
    t.blockTile[l] = threads;
    budget /= threads;
  }
  return t;
}

/// The configuration attribute of `t` over the launch grid `grid`.
GpuConfigAttr toAttr(MLIRContext *ctx, const GpuTiling &t, LaunchGridAttr grid,
                     const GpuTarget &target) {
  int64_t blockThreads = t.blockThreads;
  if (t.mapping == GpuMapping::Threads) {
    blockThreads = 1;
    for (int64_t n : t.threads)
      blockThreads *= n ? n : 1;
  }
  auto array = [&](ArrayRef<int64_t> v) { return DenseI64ArrayAttr::get(ctx, v); };
  return GpuConfigAttr::get(ctx, t.mapping, grid, blockThreads, array(t.blockTile),
                            array(t.threads), array(t.rowTile), array(t.threadTile),
                            array(t.reductionTile), array(t.contractionBound),
                            t.sharedBytes ? t.sharedBytes : target.maxStaticSharedBytes, t.mma);
}

GpuConfigAttr serial(MLIRContext *ctx, const GpuTarget &target) {
  auto none = DenseI64ArrayAttr::get(ctx, {});
  return GpuConfigAttr::get(ctx, GpuMapping::Serial, LaunchGridAttr::get(ctx, {}), 1, none, none,
                            none, none, none, none, target.maxStaticSharedBytes, GpuMma::None);
}

/// Whether `op` is a contraction (isContraction) each of whose reduced inputs is read
/// again along a parallel loop it does not depend on (a MatMul's A along its columns,
/// B along its rows): what a shared-memory tile reuses. Not a depthwise Conv, whose
/// input every output channel reads apart.
bool reusesBothFactors(Operation *op) {
  if (!isContraction(op))
    return false;
  auto c = cast<linalg::LinalgOp>(op);
  auto iters = c.getIteratorTypesArray();
  for (OpOperand *in : c.getDpsInputOperands()) {
    AffineMap map = c.getMatchingIndexingMap(in);
    bool reduced = llvm::any_of(llvm::seq<unsigned>(0, iters.size()), [&](unsigned l) {
      return iters[l] == utils::IteratorType::reduction && map.isFunctionOfDim(l);
    });
    bool reused = llvm::any_of(llvm::seq<unsigned>(0, iters.size()), [&](unsigned l) {
      return iters[l] == utils::IteratorType::parallel && !map.isFunctionOfDim(l);
    });
    if (reduced && c.payloadUsesValueFromOperand(in) && !reused)
      return false;
  }
  return true;
}

struct DlcGpuSelectTilingPass : impl::DlcGpuSelectTilingBase<DlcGpuSelectTilingPass> {
  using DlcGpuSelectTilingBase::DlcGpuSelectTilingBase;

  void runOnOperation() override {
    const GpuTarget *target = lookupGpuTarget(arch);
    if (!target) {
      getOperation().emitError("unknown CUDA architecture '") << arch << "'";
      return signalPassFailure();
    }
    if (!llvm::is_contained({"fp32", "tf32", "fp16", "bf16"}, StringRef(precision))) {
      getOperation().emitError("unknown precision '")
          << precision << "' (expected fp32, tf32, fp16 or bf16)";
      return signalPassFailure();
    }
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func->hasAttr(attrs::kKernel) || func.isExternal())
        continue;
      GpuConfigAttr config = select(func, *target);
      LLVM_DEBUG(llvm::dbgs() << func.getSymName() << ": " << config << "\n");
      func->setAttr(attrs::kGpuConfig, config);
    }
  }

  GpuConfigAttr select(func::FuncOp func, const GpuTarget &target) {
    MLIRContext *ctx = func.getContext();
    auto remark = [&](StringRef why) {
      func.emitRemark("kernel '") << func.getSymName() << "' runs on one thread: " << why;
    };
    KernelRoot kr = findKernelRoot(func);
    if (!kr) {
      remark("no root op to tile (several outputs, an op that cannot be fused into "
             "tiles, or an empty iteration space)");
      return serial(ctx, target);
    }
    auto root = cast<linalg::LinalgOp>(kr.op);
    GpuTiling t = chooseTiling(root, kr, contractionTiles, target, precision);
    if (llvm::all_of(t.blockTile, [](int64_t s) { return s == 0; })) {
      remark("its root has no parallel loop over the output");
      return serial(ctx, target);
    }
    // The grid: one block per tile of each tiled loop, in terms of the kernel's output.
    std::optional<LaunchGridAttr> grid = launchGridOverOutput(func, kr, t.blockTile);
    if (!grid) {
      remark("the launch grid cannot be expressed over the view of the output its "
             "root writes");
      return serial(ctx, target);
    }
    if (contractionTiles && t.mapping != GpuMapping::Contraction) {
      SetVector<Operation *> slice;
      BackwardSliceOptions options;
      options.inclusive = true;
      options.omitBlockArguments = true;
      (void)getBackwardSlice(root.getOperation(), &slice, options);
      if (llvm::any_of(slice, reusesBothFactors))
        func.emitRemark("kernel '")
            << func.getSymName()
            << "' computes a contraction one thread per output element (no shared-memory "
               "tile: another reduction in the kernel, a gather, or ops other than "
               "elementwise ones and transposes between the contraction and the output)";
    }
    return toAttr(ctx, t, *grid, target);
  }
};

} // namespace
} // namespace dlc
