//===- GpuSwizzleShared.cpp - The dlc-gpu-swizzle-shared pass -------------===//
//
// ldmatrix reads eight 16-byte rows of a shared tile at once, one per lane group, and
// shared memory serves a warp in one pass only when those rows fall in different banks
// (32 banks of 4 bytes: 128 bytes a line of banks). A tile whose rows are 32, 64 or a
// multiple of 128 bytes long puts two, four or eight of them in the same banks: the
// read is replayed that many times. dlc-tile-gpu used to pad such rows by 16 or 32
// bytes; with its `swizzle-shared` it leaves them unpadded (mma::swizzlesRows), and
// here they are swizzled as CUTLASS's Swizzle<3,4,3> and Hopper's 128-byte mode do:
// the buffer's 16-byte chunks are permuted within each 128-byte line, the chunk's
// index XOR-ed with the row's index modulo 8 (the line's where rows are shorter
// than a line). Eight consecutive rows then land on eight different chunks of the
// banks, and the padding's shared memory is saved.
//
// The permutation is a bijection within each 128-byte line whatever the tile's shape,
// so every access of the buffer is rewritten through it — the cp.async and register
// stores that fill it as well as the ldmatrix reads — as an index into the buffer
// seen flat. An access must not straddle a 16-byte chunk: scalars, ldmatrix rows and
// cp.async copies (whose hardware alignment keeps them inside one) qualify, and
// vector loads and stores of at most 16 bytes that claim their own size as alignment
// (dlc-vectorize-thread-tiles's proof). A buffer with any other use (a view passed
// on, a wgmma descriptor, an unaligned vector) is left as it is. Swizzled buffers are
// aligned to 128 bytes, so the permutation is the same on offsets and on bank
// addresses.
//
//===----------------------------------------------------------------------===//
#include "passes/MmaLayout.h"
#include "passes/Passes.h"
#include "passes/ViewedBuffer.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"

namespace dlc {
#define GEN_PASS_DEF_DLCGPUSWIZZLESHARED
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// The bytes of a chunk (one ldmatrix row, one 128-bit access) and of a line of banks.
constexpr int64_t kChunkBytes = 16;
constexpr int64_t kLineBytes = 128;
/// The rows (lines) whose index permutes the chunks: 3 bits of chunk index.
constexpr int64_t kLinesPerPeriod = 8;

/// One access of a swizzled buffer: the op and the number of its memref operand
/// (its indices follow it in the op's operand list as the op defines).
struct Access {
  Operation *op;
  unsigned memrefOperand;
};

/// Whether the only users of `v`, transitively, are integer arithmetic feeding
/// cf.assert: dlc-vectorize-thread-tiles's alignment checks, which the permutation
/// (within 16-byte chunks' order) leaves true.
bool onlyFeedsAsserts(Value v) {
  SmallVector<Value> work{v};
  while (!work.empty()) {
    Value x = work.pop_back_val();
    for (Operation *user : x.getUsers()) {
      if (isa<cf::AssertOp>(user))
        continue;
      if (user->getDialect()->getNamespace() != arith::ArithDialect::getDialectNamespace())
        return false;
      llvm::append_range(work, user->getResults());
    }
  }
  return true;
}

/// Whether a vector access of `type` at alignment `align` stays inside one chunk.
bool insideChunk(VectorType type, std::optional<uint64_t> align) {
  if (type.getRank() != 1 || type.isScalable())
    return false;
  int64_t bytes = type.getNumElements() * type.getElementTypeBitWidth() / 8;
  if (type.getNumElements() == 1)
    return true;
  return bytes <= kChunkBytes && align && int64_t(*align) >= bytes;
}

/// Every access of `buffer` through its views, and the first use that is not an
/// access the permutation can be applied to (null when there is none).
struct Accesses {
  SmallVector<Access> list;
  Operation *unsupported = nullptr;
};
Accesses accessesOf(Value buffer) {
  Accesses result;
  SmallVector<Access> &accesses = result.list;
  auto refuse = [&](Operation *op) {
    if (!result.unsupported)
      result.unsupported = op;
  };
  SmallVector<Value> views{buffer};
  while (!views.empty()) {
    Value view = views.pop_back_val();
    for (OpOperand &use : view.getUses()) {
      Operation *user = use.getOwner();
      unsigned n = use.getOperandNumber();
      if (isa<memref::SubViewOp, memref::CollapseShapeOp, memref::ExpandShapeOp, memref::CastOp,
              memref::ReinterpretCastOp, memref::MemorySpaceCastOp>(user) &&
          n == 0) {
        views.push_back(user->getResult(0));
      } else if (auto meta = dyn_cast<memref::ExtractStridedMetadataOp>(user)) {
        if (!meta.getBaseBuffer().use_empty())
          refuse(user);
      } else if (auto ptr = dyn_cast<memref::ExtractAlignedPointerAsIndexOp>(user)) {
        if (!onlyFeedsAsserts(ptr.getResult()))
          refuse(user);
      } else if (auto load = dyn_cast<memref::LoadOp>(user)) {
        accesses.push_back({load, n});
      } else if (auto store = dyn_cast<memref::StoreOp>(user);
                 store && use.get() == store.getMemRef()) {
        accesses.push_back({store, n});
      } else if (auto load = dyn_cast<vector::LoadOp>(user)) {
        if (!insideChunk(load.getVectorType(), load.getAlignment()))
          refuse(user);
        accesses.push_back({load, n});
      } else if (auto store = dyn_cast<vector::StoreOp>(user);
                 store && use.get() == store.getBase()) {
        if (!insideChunk(store.getVectorType(), store.getAlignment()))
          refuse(user);
        accesses.push_back({store, n});
      } else if (isa<nvgpu::LdMatrixOp, nvgpu::DeviceAsyncCopyOp>(user)) {
        accesses.push_back({user, n});
      } else {
        refuse(user);
      }
    }
  }
  return result;
}

/// The memref operand of an access and its indices, which follow it in every op
/// accessesOf takes (one per dim).
std::pair<Value, ValueRange> addressOf(const Access &a) {
  Value memref = a.op->getOperand(a.memrefOperand);
  return {memref, a.op->getOperands().slice(a.memrefOperand + 1,
                                            cast<MemRefType>(memref.getType()).getRank())};
}

/// Points the access at element `index` of `flat`. Only cp.async keeps the sizes of
/// its operand groups in an attribute, which its accessors update.
void redirect(const Access &a, Value flat, Value index) {
  if (auto copy = dyn_cast<nvgpu::DeviceAsyncCopyOp>(a.op)) {
    (a.memrefOperand == 0 ? copy.getDstMutable() : copy.getSrcMutable()).assign(flat);
    (a.memrefOperand == 0 ? copy.getDstIndicesMutable() : copy.getSrcIndicesMutable())
        .assign(index);
    return;
  }
  int64_t rank = cast<MemRefType>(a.op->getOperand(a.memrefOperand).getType()).getRank();
  a.op->setOperands(a.memrefOperand, 1 + rank, ValueRange{flat, index});
}

/// `index` (elements of `elementBytes` in rows of `rowBytes`) permuted: its 16-byte
/// chunk within its 128-byte line XOR-ed with the index modulo 8 of its row, or of
/// its line where rows are shorter.
Value swizzle(OpBuilder &b, Location loc, Value index, int64_t elementBytes, int64_t rowBytes) {
  auto c = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); };
  // mma::swizzledOffset on byte offsets, here on element indices.
  int64_t elementShift = llvm::Log2_64(elementBytes);
  int64_t lineShift = mma::swizzleRowShift(rowBytes) - elementShift;
  int64_t chunkShift = llvm::Log2_64(kChunkBytes) - elementShift;
  Value line = arith::ShRUIOp::create(b, loc, index, c(lineShift));
  Value bits = arith::AndIOp::create(b, loc, line, c(kLinesPerPeriod - 1));
  Value mask = arith::ShLIOp::create(b, loc, bits, c(chunkShift));
  return arith::XOrIOp::create(b, loc, index, mask);
}

struct GpuSwizzleSharedPass : impl::DlcGpuSwizzleSharedBase<GpuSwizzleSharedPass> {
  using DlcGpuSwizzleSharedBase::DlcGpuSwizzleSharedBase;

  void runOnOperation() override {
    getOperation().walk([&](gpu::GPUFuncOp func) {
      for (auto [i, buffer] : llvm::enumerate(func.getWorkgroupAttributions()))
        swizzleBuffer(func, i, buffer);
    });
  }

  void swizzleBuffer(gpu::GPUFuncOp func, unsigned i, BlockArgument buffer) {
    auto type = cast<MemRefType>(buffer.getType());
    int64_t elementBits = type.getElementTypeBitWidth();
    if (!type.hasStaticShape() || !type.getLayout().isIdentity() || type.getRank() == 0 ||
        elementBits % 8 || !llvm::isPowerOf2_64(elementBits / 8) || elementBits / 8 > 4)
      return;
    int64_t rowBytes = type.getShape()[mma::rowDimOf(type.getShape())] * elementBits / 8;
    if (!mma::swizzlesRows(rowBytes, staticBytes(type)))
      return;
    Accesses accesses = accessesOf(buffer);
    if (llvm::none_of(accesses.list, [](const Access &a) { return isa<nvgpu::LdMatrixOp>(a.op); }))
      return;
    // dlc-tile-gpu left the rows unpadded for this pass: unswizzled, ldmatrix replays.
    if (accesses.unsupported) {
      func.emitRemark("kernel '")
          << func.getName() << "': shared buffer " << i
          << " that ldmatrix reads is not swizzled (bank conflicts): it is used by '"
          << accesses.unsupported->getName() << "'";
      return;
    }
    OpBuilder b = OpBuilder::atBlockBegin(&func.getBody().front());
    Value flat = flatBuffer(b, buffer.getLoc(), buffer);
    for (const Access &a : accesses.list) {
      auto [memref, indices] = addressOf(a);
      b.setInsertionPoint(a.op);
      Location loc = a.op->getLoc();
      Value index =
          swizzle(b, loc, linearIndex(b, loc, memref, indices), elementBits / 8, rowBytes);
      redirect(a, flat, index);
    }
    auto align = dyn_cast_or_null<IntegerAttr>(
        func.getWorkgroupAttributionAttr(i, LLVM::LLVMDialect::getAlignAttrName()));
    if (!align || align.getInt() < kLineBytes)
      func.setWorkgroupAttributionAttr(i, LLVM::LLVMDialect::getAlignAttrName(),
                                       b.getI64IntegerAttr(kLineBytes));
  }
};

} // namespace
} // namespace dlc
