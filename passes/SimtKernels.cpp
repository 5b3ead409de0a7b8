//===- SimtKernels.cpp - The dlc-simt-kernels pass ------------------------===//
//
// The GPU emulation of DLC_EMULATE_GPU=1 runs a kernel's blocks and threads as loops,
// mapped before the kernel-code passes: the tensor-core lane code, the register
// epilogues, the unrolled thread loops and the pipelined steps that the GPU runs are
// not in it. DLC_EMULATE_GPU=simt runs that code: this pass turns each gpu.func
// into a CPU kernel of one GPU thread, with calls to the runtime's SIMT emulator
// (runtime/Simt.cpp) where threads meet (barriers) or exchange data (warp shuffles,
// ldmatrix, mma.sync, sm_90a's warpgroup wgmma). The emulator calls it per thread of
// each block, each thread on its own fiber.
//
// Shared memory has two kinds of address. The threads' loads and stores use the host
// memory of the buffers; the shared-window address that a kernel computes from a
// buffer (memref.extract_aligned_pointer_as_index, for wgmma's matrix descriptors) is
// the buffer's place in a window laid out here (from kSharedWindowBase, each buffer
// 128-byte aligned), as on the GPU, and wgmma gets the table from window to host.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/ViewedBuffer.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/AttrTypeSubElements.h"
#include "mlir/IR/PatternMatch.h"

namespace dlc {
#define GEN_PASS_DEF_DLCSIMTKERNELS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// Where the emulated shared window puts its first buffer (the GPU reserves its first
/// KiB too) and the alignment of each.
constexpr int64_t kSharedWindowBase = 1024;
constexpr int64_t kSharedWindowAlign = 128;

/// The emulator's entry points (runtime/Simt.cpp), as the code section declares them.
struct Entry {
  StringRef name;
  SmallVector<Type> inputs, results;
};

/// The kinds of mma.sync the emulator computes (runtime/Simt.cpp, MmaKind).
std::optional<int64_t> mmaKind(NVVM::MmaOp op) {
  NVVM::MMAShapeAttr shape = op.getShape();
  std::optional<NVVM::MMATypes> type = op.getMultiplicandAPtxType();
  if (!type || shape.getM() != 16 || shape.getN() != 8 || op.getLayoutA() != NVVM::MMALayout::row ||
      op.getLayoutB() != NVVM::MMALayout::col)
    return std::nullopt;
  if (shape.getK() == 16 && *type == NVVM::MMATypes::f16)
    return 0;
  if (shape.getK() == 16 && *type == NVVM::MMATypes::bf16)
    return 1;
  if (shape.getK() == 8 && *type == NVVM::MMATypes::f16)
    return 2;
  if (shape.getK() == 8 && *type == NVVM::MMATypes::tf32)
    return 3;
  return std::nullopt;
}

/// The kinds of wgmma the emulator computes (runtime/Simt.cpp, WgmmaKind): m64nNk16
/// f16/bf16 and m64nNk8 tf32 from shared memory, f32 accumulators added to; an
/// f16/bf16 operand may be MN-major (transposed: kTransposedA, kTransposedB added).
constexpr int64_t kTransposedA = 16, kTransposedB = 32;
std::optional<int64_t> wgmmaKind(NVVM::WgmmaMmaAsyncOp op) {
  NVVM::MMAShapeAttr shape = op.getShape();
  if (shape.getM() != 64 || shape.getN() < 8 || shape.getN() > 256 || shape.getN() % 8 ||
      op.getTypeA() != op.getTypeB() || op.getTypeD() != NVVM::WGMMATypes::f32 ||
      op.getScaleD() != NVVM::WGMMAScaleOut::one || op.getScaleA() != NVVM::WGMMAScaleIn::one ||
      op.getScaleB() != NVVM::WGMMAScaleIn::one)
    return std::nullopt;
  int64_t transposed = (op.getLayoutA() == NVVM::MMALayout::col ? kTransposedA : 0) +
                       (op.getLayoutB() == NVVM::MMALayout::row ? kTransposedB : 0);
  if (shape.getK() == 16 && op.getTypeA() == NVVM::WGMMATypes::f16)
    return 0 + transposed;
  if (shape.getK() == 16 && op.getTypeA() == NVVM::WGMMATypes::bf16)
    return 1 + transposed;
  if (shape.getK() == 8 && op.getTypeA() == NVVM::WGMMATypes::tf32 && !transposed)
    return 2;
  return std::nullopt;
}

class KernelConverter {
public:
  KernelConverter(ModuleOp module, gpu::GPUFuncOp gpuFunc)
      : module(module), gpuFunc(gpuFunc), rw(module.getContext()), loc(gpuFunc.getLoc()) {}

  LogicalResult convert() {
    if (!gpuFunc.isKernel())
      return gpuFunc.emitOpError("is not a kernel: the SIMT emulation runs kernels only");
    MLIRContext *ctx = module.getContext();
    Type index = rw.getIndexType();
    SmallVector<Type> inputs(gpuFunc.getArgumentTypes());
    inputs.append({index, index});
    rw.setInsertionPointToEnd(module.getBody());
    func = func::FuncOp::create(rw, loc, gpuFunc.getName(), FunctionType::get(ctx, inputs, {}));
    for (NamedAttribute a : gpuFunc->getDiscardableAttrs())
      if (a.getName().strref().starts_with("dlc."))
        func->setAttr(a.getName(), a.getValue());
    func->setAttr(attrs::kKernel, rw.getUnitAttr());
    func->setAttr("llvm.emit_c_interface", rw.getUnitAttr());
    unsigned numArgs = gpuFunc.getNumArguments();
    unsigned numWorkgroup = gpuFunc.getNumWorkgroupAttributions();
    unsigned numPrivate = gpuFunc.getNumPrivateAttributions(); // counts the body's arguments
    func.getBody().takeBody(gpuFunc.getBody());
    Block &entry = func.getBody().front();
    Value wg = entry.addArgument(index, loc), nwg = entry.addArgument(index, loc);

    // The shared-window address of a buffer (see the file comment).
    SmallVector<int64_t> windowAddress, bufferBytes;
    int64_t window = kSharedWindowBase;
    for (unsigned i = 0; i < numWorkgroup; ++i) {
      windowAddress.push_back(window);
      bufferBytes.push_back(
          staticBytes(cast<MemRefType>(entry.getArgument(numArgs + i).getType())));
      window = llvm::alignTo(window + bufferBytes.back(), kSharedWindowAlign);
    }
    SmallVector<memref::ExtractAlignedPointerAsIndexOp> pointers;
    func.walk([&](memref::ExtractAlignedPointerAsIndexOp p) { pointers.push_back(p); });
    for (memref::ExtractAlignedPointerAsIndexOp p : pointers) {
      Value root = p.getSource();
      while (auto view = root.getDefiningOp<ViewLikeOpInterface>())
        root = view.getViewSource();
      auto arg = dyn_cast<BlockArgument>(root);
      if (!arg || arg.getOwner() != &entry || arg.getArgNumber() < numArgs ||
          arg.getArgNumber() >= numArgs + numWorkgroup)
        continue;
      rw.setInsertionPoint(p);
      rw.replaceOp(p, constantIndex(windowAddress[arg.getArgNumber() - numArgs]));
    }

    // Attributions: shared memory as a thread-local global per buffer, private memory
    // as allocas. Block arguments numArgs.. are the workgroup, then private ones.
    rw.setInsertionPointToStart(&entry);
    SmallVector<Value> sharedBuffers;
    for (unsigned i = 0; i < numWorkgroup; ++i) {
      BlockArgument arg = entry.getArgument(numArgs + i);
      auto type = stripped(cast<MemRefType>(arg.getType()));
      std::string name = ("dlc_simt_shared_" + gpuFunc.getName() + "_" + Twine(i)).str();
      {
        OpBuilder::InsertionGuard guard(rw);
        rw.setInsertionPoint(func);
        memref::GlobalOp::create(rw, loc, name, rw.getStringAttr("private"), type,
                                 /*initial_value=*/rw.getUnitAttr(), /*constant=*/false,
                                 rw.getI64IntegerAttr(16));
      }
      Value global = memref::GetGlobalOp::create(rw, loc, type, name);
      arg.replaceAllUsesWith(global);
      sharedBuffers.push_back(global);
    }
    for (unsigned i = 0; i < numPrivate; ++i) {
      BlockArgument arg = entry.getArgument(numArgs + numWorkgroup + i);
      auto type = stripped(cast<MemRefType>(arg.getType()));
      arg.replaceAllUsesWith(memref::AllocaOp::create(rw, loc, type));
    }
    entry.eraseArguments(numArgs, entry.getNumArguments() - numArgs - 2);

    // wgmma's table of the shared buffers: (window address, host address, bytes) each.
    bool wgmma = false;
    func.walk([&](NVVM::WgmmaMmaAsyncOp) { wgmma = true; });
    if (wgmma) {
      sharedTable = memref::AllocaOp::create(
          rw, loc, MemRefType::get({3 * int64_t(numWorkgroup)}, rw.getI64Type()));
      for (auto [i, buffer] : llvm::enumerate(sharedBuffers)) {
        for (auto [j, v] : llvm::enumerate(SmallVector<Value>{
                 constantI64(windowAddress[i]), address(buffer), constantI64(bufferBytes[i])}))
          memref::StoreOp::create(rw, loc, v, sharedTable, ValueRange{constantIndex(3 * i + j)});
      }
      sharedEntries = numWorkgroup;
    }

    // No GPU address spaces: every memref in the body is plain host memory.
    AttrTypeReplacer replacer;
    replacer.addReplacement([&](MemRefType t) -> std::optional<Type> {
      if (isa_and_nonnull<gpu::AddressSpaceAttr>(t.getMemorySpace()))
        return stripped(t);
      return std::nullopt;
    });
    replacer.recursivelyReplaceElementsIn(func, /*replaceAttrs=*/true, /*replaceLocs=*/false,
                                          /*replaceTypes=*/true);

    threadValue = {};
    SmallVector<Operation *> ops;
    func.walk([&](Operation *op) { ops.push_back(op); });
    for (Operation *op : ops)
      if (failed(lower(op, wg, nwg)))
        return failure();
    return success();
  }

private:
  static MemRefType stripped(MemRefType t) {
    return MemRefType::get(t.getShape(), t.getElementType(), t.getLayout(), Attribute());
  }

  /// Declares the emulator's function `name` (once) and calls it.
  ValueRange call(StringRef name, TypeRange results, ValueRange operands) {
    if (!module.lookupSymbol(name)) {
      OpBuilder::InsertionGuard guard(rw);
      rw.setInsertionPointToStart(module.getBody());
      auto decl = func::FuncOp::create(
          rw, loc, name, FunctionType::get(module.getContext(), operands.getTypes(), results));
      decl.setPrivate();
    }
    return func::CallOp::create(rw, loc, name, results, operands).getResults();
  }

  Value i64(Value v) {
    if (v.getType().isIndex())
      return arith::IndexCastOp::create(rw, loc, rw.getI64Type(), v);
    return v;
  }
  Value constantI64(int64_t v) { return arith::ConstantIntOp::create(rw, loc, v, 64); }
  Value constantIndex(int64_t v) { return arith::ConstantIndexOp::create(rw, loc, v); }

  /// The thread id (index), computed once in the entry block.
  Value thread() {
    if (threadValue)
      return threadValue;
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(&func.getBody().front());
    Value id = call("dlc_uk_simt_thread", rw.getI64Type(), {})[0];
    threadValue = arith::IndexCastOp::create(rw, loc, rw.getIndexType(), id);
    return threadValue;
  }

  /// A per-thread buffer of `n` 32-bit words (one per purpose), in the entry block.
  Value words(StringRef purpose, int64_t n) {
    Value &buffer = scratch[purpose];
    if (buffer)
      return buffer;
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(&func.getBody().front());
    buffer = memref::AllocaOp::create(rw, loc, MemRefType::get({n}, rw.getI32Type()),
                                      rw.getI64IntegerAttr(16));
    return buffer;
  }

  /// The address of `buffer` (identity layout, offset 0) as i64.
  Value address(Value buffer) {
    return i64(memref::ExtractAlignedPointerAsIndexOp::create(rw, loc, buffer));
  }

  /// The address of element `indices` of `memref`, as i64.
  Value elementAddress(Value memref, ValueRange indices) {
    return i64(dlc::elementAddress(rw, loc, memref, indices));
  }

  /// A 32-bit word of `v` (i32, f32 or a vector of two 16-bit elements), or null.
  Value word(Value v) {
    Type i32 = rw.getI32Type();
    Type t = v.getType();
    if (t == i32)
      return v;
    if (t.isF32())
      return arith::BitcastOp::create(rw, loc, i32, v);
    auto vt = dyn_cast<VectorType>(t);
    if (vt && vt.getRank() == 1 && vt.getNumElements() * vt.getElementTypeBitWidth() == 32) {
      Value one = vector::BitCastOp::create(rw, loc, VectorType::get({1}, i32), v);
      return vector::ExtractOp::create(rw, loc, one, ArrayRef<int64_t>{0});
    }
    return {};
  }

  LogicalResult storeWords(Operation *op, ValueRange values, Value buffer) {
    for (auto [i, v] : llvm::enumerate(values)) {
      Value w = word(v);
      if (!w)
        return op->emitOpError("has an operand the SIMT emulation cannot pass: ") << v.getType(),
               failure();
      memref::StoreOp::create(rw, loc, w, buffer, ValueRange{constantIndex(i)});
    }
    return success();
  }

  LogicalResult lower(Operation *op, Value wg, Value nwg) {
    rw.setInsertionPoint(op);
    loc = op->getLoc();
    auto dimValue = [&](gpu::Dimension d, Value x, int64_t other) -> Value {
      return d == gpu::Dimension::x ? x : constantIndex(other);
    };
    if (auto t = dyn_cast<gpu::ThreadIdOp>(op)) {
      Value v = t.getDimension() == gpu::Dimension::x ? thread() : constantIndex(0);
      rw.replaceOp(op, v);
      return success();
    }
    if (auto b = dyn_cast<gpu::BlockIdOp>(op))
      return rw.replaceOp(op, dimValue(b.getDimension(), wg, 0)), success();
    if (auto g = dyn_cast<gpu::GridDimOp>(op))
      return rw.replaceOp(op, dimValue(g.getDimension(), nwg, 1)), success();
    if (auto b = dyn_cast<gpu::BlockDimOp>(op)) {
      auto block = func->getAttrOfType<DenseI64ArrayAttr>(attrs::kBlock);
      int64_t threads = block && block.size() == 1 ? block[0] : 1;
      Value x = b.getDimension() == gpu::Dimension::x ? constantIndex(threads) : Value();
      return rw.replaceOp(op, dimValue(b.getDimension(), x, 1)), success();
    }
    if (isa<gpu::LaneIdOp>(op)) {
      rw.replaceOp(op, arith::RemUIOp::create(rw, loc, thread(), constantIndex(32)));
      return success();
    }
    if (isa<gpu::BarrierOp>(op)) {
      call("dlc_uk_simt_barrier", {}, {});
      rw.eraseOp(op);
      return success();
    }
    if (isa<gpu::ReturnOp>(op)) {
      rw.replaceOpWithNewOp<func::ReturnOp>(op);
      return success();
    }
    if (auto l = dyn_cast<vector::LoadOp>(op))
      return assertAligned(l.getBase(), l.getIndices(), l.getAlignment());
    if (auto s = dyn_cast<vector::StoreOp>(op))
      return assertAligned(s.getBase(), s.getIndices(), s.getAlignment());
    if (auto s = dyn_cast<gpu::ShuffleOp>(op))
      return lowerShuffle(s);
    if (auto l = dyn_cast<nvgpu::LdMatrixOp>(op))
      return lowerLdMatrix(l);
    if (auto m = dyn_cast<NVVM::MmaOp>(op))
      return lowerMma(m);
    if (auto c = dyn_cast<nvgpu::DeviceAsyncCopyOp>(op))
      return lowerAsyncCopy(c);
    if (isa<NVVM::CpAsyncCommitGroupOp>(op)) {
      call("dlc_uk_simt_async_commit", {}, {});
      rw.eraseOp(op);
      return success();
    }
    if (auto w = dyn_cast<NVVM::WgmmaMmaAsyncOp>(op))
      return lowerWgmma(w);
    // wgmma is computed when its warpgroup arrives (runtime/Simt.cpp): its fence, commit
    // and wait have nothing left to order, nor has the fence between the generic proxy's
    // writes and its reads.
    if (isa<NVVM::WgmmaFenceAlignedOp, NVVM::WgmmaGroupSyncAlignedOp, NVVM::WgmmaWaitGroupSyncOp,
            NVVM::FenceProxyOp>(op)) {
      rw.eraseOp(op);
      return success();
    }
    if (auto w = dyn_cast<NVVM::CpAsyncWaitGroupOp>(op)) {
      call("dlc_uk_simt_async_wait", {}, {constantI64(w.getN())});
      rw.eraseOp(op);
      return success();
    }
    if (isa<memref::MemorySpaceCastOp>(op) &&
        op->getOperand(0).getType() == op->getResult(0).getType()) {
      rw.replaceOp(op, op->getOperand(0));
      return success();
    }
    StringRef dialect = op->getDialect() ? op->getDialect()->getNamespace() : "";
    if (dialect == "gpu" || dialect == "nvgpu" || dialect == "nvvm")
      return op->emitOpError("is not run by the SIMT emulation"), failure();
    return success();
  }

  /// A vector access the kernel code claims `alignment` bytes for (a 128-bit PTX access
  /// the GPU faults on when misaligned, where the CPU would not) asserts it.
  LogicalResult assertAligned(Value memref, ValueRange indices, std::optional<uint64_t> alignment) {
    if (!alignment || *alignment <= 1)
      return success();
    Value at = elementAddress(memref, indices);
    Value rest = arith::RemUIOp::create(rw, loc, at, constantI64(*alignment));
    Value ok = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, rest, constantI64(0));
    cf::AssertOp::create(rw, loc, ok,
                         "SIMT emulation: a vector access the GPU would fault on (not " +
                             std::to_string(*alignment) + "-byte aligned), in " +
                             func.getName().str());
    return success();
  }

  LogicalResult lowerShuffle(gpu::ShuffleOp s) {
    Type type = s.getShuffleResult().getType();
    Type i32 = rw.getI32Type();
    if (type != i32 && !type.isF32())
      return s.emitOpError("of ") << type << " is not run by the SIMT emulation (32-bit only)",
             failure();
    int64_t mode = 0;
    switch (s.getMode()) {
    case gpu::ShuffleMode::XOR:
      mode = 0;
      break;
    case gpu::ShuffleMode::UP:
      mode = 1;
      break;
    case gpu::ShuffleMode::DOWN:
      mode = 2;
      break;
    case gpu::ShuffleMode::IDX:
      mode = 3;
      break;
    }
    Value value = word(s.getValue());
    Value r = call(
        "dlc_uk_simt_shuffle", rw.getI64Type(),
        {value, s.getOffset(), s.getWidth(), arith::ConstantIntOp::create(rw, loc, mode, 32)})[0];
    Value result = arith::TruncIOp::create(rw, loc, i32, r);
    if (type.isF32())
      result = arith::BitcastOp::create(rw, loc, type, result);
    Value valid = arith::TruncIOp::create(rw, loc, rw.getI1Type(),
                                          arith::ShRUIOp::create(rw, loc, r, constantI64(32)));
    rw.replaceOp(s, ValueRange{result, valid});
    return success();
  }

  LogicalResult lowerLdMatrix(nvgpu::LdMatrixOp l) {
    auto result = cast<VectorType>(l.getRes().getType());
    int64_t matrices = l.getNumTiles();
    if (result.getRank() != 2 || result.getDimSize(0) != matrices || result.getDimSize(1) != 2 ||
        result.getElementTypeBitWidth() != 16)
      return l.emitOpError("of ") << result << " is not run by the SIMT emulation", failure();
    Value out = words("ldmatrix", 4);
    call("dlc_uk_simt_ldmatrix", {},
         {elementAddress(l.getSrcMemref(), l.getIndices()), constantI64(matrices),
          constantI64(l.getTranspose()), address(out)});
    Value regs = vector::LoadOp::create(rw, loc, VectorType::get({matrices}, rw.getI32Type()), out,
                                        ValueRange{constantIndex(0)});
    Value pairs = vector::BitCastOp::create(
        rw, loc, VectorType::get({2 * matrices}, result.getElementType()), regs);
    rw.replaceOp(l, vector::ShapeCastOp::create(rw, loc, result, pairs));
    return success();
  }

  /// cp.async: the emulator lands the copy when its thread waits for its group.
  LogicalResult lowerAsyncCopy(nvgpu::DeviceAsyncCopyOp c) {
    if (!c.getAsyncToken().use_empty())
      return c.emitOpError("with a used token is not run by the SIMT emulation (groups are "
                           "committed and waited for with nvvm.cp.async.*)"),
             failure();
    int64_t elementBytes = cast<MemRefType>(c.getDst().getType()).getElementTypeBitWidth() / 8;
    int64_t elements = c.getDstElements().getZExtValue();
    Value bytes = constantI64(elements * elementBytes);
    Value srcBytes = bytes;
    if (Value n = c.getSrcElements())
      srcBytes = arith::MulIOp::create(rw, loc, i64(n), constantI64(elementBytes));
    call("dlc_uk_simt_async_copy", {},
         {elementAddress(c.getDst(), c.getDstIndices()),
          elementAddress(c.getSrc(), c.getSrcIndices()), bytes, srcBytes});
    rw.eraseOp(c);
    return success();
  }

  LogicalResult lowerMma(NVVM::MmaOp m) {
    std::optional<int64_t> kind = mmaKind(m);
    auto resultType = dyn_cast<LLVM::LLVMStructType>(m.getRes().getType());
    if (!kind || !resultType || resultType.getBody().size() != 4 ||
        !llvm::all_of(resultType.getBody(), [](Type t) { return t.isF32(); }) ||
        m.getOperandA().size() > 4 || m.getOperandB().size() > 2 || m.getOperandC().size() != 4)
      return m.emitOpError("is not run by the SIMT emulation (m16n8k16 f16/bf16, m16n8k8 "
                           "f16/tf32, row.col, f32 accumulators)"),
             failure();
    Value a = words("mma.a", 4), b = words("mma.b", 2), c = words("mma.c", 4),
          d = words("mma.d", 4);
    if (failed(storeWords(m, m.getOperandA(), a)) || failed(storeWords(m, m.getOperandB(), b)) ||
        failed(storeWords(m, m.getOperandC(), c)))
      return failure();
    call("dlc_uk_simt_mma", {},
         {constantI64(*kind), address(a), address(b), address(c), address(d)});
    Value s = LLVM::PoisonOp::create(rw, loc, resultType);
    for (int64_t i = 0; i < 4; ++i) {
      Value w = memref::LoadOp::create(rw, loc, d, ValueRange{constantIndex(i)});
      Value f = arith::BitcastOp::create(rw, loc, rw.getF32Type(), w);
      s = LLVM::InsertValueOp::create(rw, loc, s, f, i);
    }
    rw.replaceOp(m, s);
    return success();
  }

  LogicalResult lowerWgmma(NVVM::WgmmaMmaAsyncOp w) {
    std::optional<int64_t> kind = wgmmaKind(w);
    auto type = dyn_cast<LLVM::LLVMStructType>(w.getInouts().getType());
    int64_t n = w.getShape().getN();
    if (!kind || !sharedTable || !type || int64_t(type.getBody().size()) != n / 2 ||
        !llvm::all_of(type.getBody(), [](Type t) { return t.isF32(); }))
      return w.emitOpError("is not run by the SIMT emulation (m64nNk16 f16/bf16, m64nNk8 tf32 "
                           "with K-major operands, f32 accumulators added to)"),
             failure();
    Value acc = words("wgmma.d", 128);
    for (int64_t i = 0; i < n / 2; ++i) {
      Value f = LLVM::ExtractValueOp::create(rw, loc, w.getInouts(), i);
      memref::StoreOp::create(rw, loc, arith::BitcastOp::create(rw, loc, rw.getI32Type(), f), acc,
                              ValueRange{constantIndex(i)});
    }
    call("dlc_uk_simt_wgmma", {},
         {constantI64(*kind), constantI64(n), w.getDescriptorA(), w.getDescriptorB(), address(acc),
          address(sharedTable), constantI64(sharedEntries)});
    Value s = LLVM::PoisonOp::create(rw, loc, type);
    for (int64_t i = 0; i < n / 2; ++i) {
      Value word = memref::LoadOp::create(rw, loc, acc, ValueRange{constantIndex(i)});
      s = LLVM::InsertValueOp::create(rw, loc, s,
                                      arith::BitcastOp::create(rw, loc, rw.getF32Type(), word), i);
    }
    rw.replaceOp(w, s);
    return success();
  }

  ModuleOp module;
  gpu::GPUFuncOp gpuFunc;
  IRRewriter rw;
  Location loc;
  func::FuncOp func;
  Value threadValue;
  llvm::StringMap<Value> scratch;
  /// wgmma's table of the shared buffers (memref<3 x entries x i64>) and its entries.
  Value sharedTable;
  int64_t sharedEntries = 0;
};

struct SimtKernels : impl::DlcSimtKernelsBase<SimtKernels> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto gpuModule : llvm::make_early_inc_range(module.getOps<gpu::GPUModuleOp>())) {
      for (auto f : llvm::make_early_inc_range(gpuModule.getOps<gpu::GPUFuncOp>()))
        if (failed(KernelConverter(module, f).convert()))
          return signalPassFailure();
      gpuModule.erase();
    }
    module->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());
  }
};

} // namespace
} // namespace dlc
