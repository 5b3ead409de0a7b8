//===- CpuUkernels.cpp - The dlc-cpu-ukernels pass ------------------------===//
//
// f32 contractions on buffers -> calls to the runtime's dlc_uk_contract_f32, copies
// that transpose the innermost dimension -> dlc_uk_transpose (runtime/Ukernels.h
// documents the descriptors this builds).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Dominance.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace dlc {
#define GEN_PASS_DEF_DLCCPUUKERNELS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

constexpr StringLiteral kContractF32 = "dlc_uk_contract_f32";
constexpr StringLiteral kContractI32 = "dlc_uk_contract_i32";
constexpr StringLiteral kTranspose = "dlc_uk_transpose";
// Must match runtime/Ukernels.h (kMaxLoops, kDescriptorSlots).
constexpr int64_t kMaxLoops = 12;
constexpr int64_t kDescriptorSlots = 4 + 5 * kMaxLoops;

/// `e` as sum_i coef[i] * d_i + cst, scaled by `scale`; false if it is not linear.
bool linearTerms(AffineExpr e, int64_t scale, SmallVectorImpl<int64_t> &coef, int64_t &cst) {
  if (auto d = dyn_cast<AffineDimExpr>(e)) {
    coef[d.getPosition()] += scale;
    return true;
  }
  if (auto c = dyn_cast<AffineConstantExpr>(e)) {
    cst += scale * c.getValue();
    return true;
  }
  auto bin = dyn_cast<AffineBinaryOpExpr>(e);
  if (!bin)
    return false;
  if (e.getKind() == AffineExprKind::Add)
    return linearTerms(bin.getLHS(), scale, coef, cst) &&
           linearTerms(bin.getRHS(), scale, coef, cst);
  if (e.getKind() == AffineExprKind::Mul) {
    if (auto c = dyn_cast<AffineConstantExpr>(bin.getRHS()))
      return linearTerms(bin.getLHS(), scale * c.getValue(), coef, cst);
    if (auto c = dyn_cast<AffineConstantExpr>(bin.getLHS()))
      return linearTerms(bin.getRHS(), scale * c.getValue(), coef, cst);
  }
  return false;
}

/// Whether the body is `yield out + in0 * in1` (either operand order), with AddOp and
/// MulOp the float or the integer ops.
template <typename AddOp, typename MulOp> bool isMulAdd(linalg::GenericOp g) {
  Block &body = g.getRegion().front();
  if (body.getOperations().size() != 3)
    return false;
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<AddOp>();
  if (!add)
    return false;
  Value acc = body.getArgument(2);
  Value other = add.getLhs() == acc ? add.getRhs() : add.getRhs() == acc ? add.getLhs() : Value();
  auto mul = other ? other.getDefiningOp<MulOp>() : nullptr;
  if (!mul)
    return false;
  Value x = body.getArgument(0), y = body.getArgument(1);
  return (mul.getLhs() == x && mul.getRhs() == y) || (mul.getLhs() == y && mul.getRhs() == x);
}

/// The micro-kernel for `g`, or "" when it is not a contraction one takes: f32 or i32
/// (wrapping) operands, linear maps, an output written once per parallel index.
StringRef ukernelFor(linalg::GenericOp g) {
  if (!g.hasPureBufferSemantics() || g.getNumDpsInputs() != 2 || g.getNumDpsInits() != 1)
    return "";
  Type et;
  for (Value v : g->getOperands()) {
    auto t = dyn_cast<MemRefType>(v.getType());
    if (!t || (et && t.getElementType() != et))
      return "";
    et = t.getElementType();
  }
  StringRef name;
  if (et.isF32() && isMulAdd<arith::AddFOp, arith::MulFOp>(g))
    name = kContractF32;
  else if (et.isSignlessInteger(32) && isMulAdd<arith::AddIOp, arith::MulIOp>(g))
    name = kContractI32;
  unsigned loops = g.getNumLoops();
  if (name.empty() || loops == 0 || loops > kMaxLoops)
    return "";
  // The output is written once per parallel index tuple: its map is a permutation of
  // exactly the parallel loops.
  AffineMap out = g.getIndexingMapsArray()[2];
  if (!out.isProjectedPermutation() || out.getNumSymbols() != 0 ||
      out.getNumResults() != g.getNumParallelLoops())
    return "";
  for (AffineExpr e : out.getResults())
    if (!(g.getIteratorTypesArray()[cast<AffineDimExpr>(e).getPosition()] ==
          utils::IteratorType::parallel))
      return "";
  for (AffineMap m : g.getIndexingMapsArray()) {
    if (m.getNumSymbols() != 0)
      return "";
    SmallVector<int64_t> coef(loops, 0);
    int64_t cst = 0;
    for (AffineExpr e : m.getResults())
      if (!linearTerms(e, 1, coef, cst))
        return "";
  }
  return name;
}

/// Whether `op` copies one buffer into another through a permutation of its
/// dimensions that moves the innermost one (a `linalg.transpose`, or a generic
/// yielding its input under permutation maps), with elements of 1, 2, 4 or 8 bytes and
/// static strides of 1 on the last dimension of both: the copy LLVM's loops do
/// element by element with one side strided, which a blocked micro-kernel does at
/// close to the copy bandwidth.
bool isTransposeCopy(linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
      op.getNumLoops() < 2 || op.getNumLoops() > kMaxLoops ||
      op.getNumParallelLoops() != op.getNumLoops())
    return false;
  if (auto g = dyn_cast<linalg::GenericOp>(op.getOperation())) {
    auto yield = cast<linalg::YieldOp>(g.getBody()->getTerminator());
    if (yield.getNumOperands() != 1 || yield.getOperand(0) != g.getBody()->getArgument(0))
      return false;
  } else if (!isa<linalg::TransposeOp>(op.getOperation())) {
    return false;
  }
  auto in = dyn_cast<MemRefType>(op.getDpsInputOperand(0)->get().getType());
  auto out = dyn_cast<MemRefType>(op.getDpsInitOperand(0)->get().getType());
  if (!in || !out || in.getElementType() != out.getElementType() ||
      !in.getElementType().isIntOrFloat() || in.getRank() != out.getRank())
    return false;
  unsigned bits = in.getElementTypeBitWidth();
  if (bits != 8 && bits != 16 && bits != 32 && bits != 64)
    return false;
  for (MemRefType t : {in, out}) {
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(t.getStridesAndOffset(strides, offset)) || strides.back() != 1)
      return false;
  }
  AffineMap inMap = op.getMatchingIndexingMap(op.getDpsInputOperand(0));
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (!inMap.isPermutation() || !outMap.isPermutation())
    return false;
  // The loop along the input's last dimension must not be the output's last.
  return inMap.getResults().back() != outMap.getResults().back();
}

/// The number of the kernel argument `v` views (through subviews, reshapes, casts and
/// transposes), or -1.
int64_t viewedArgument(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (!isa<memref::SubViewOp, memref::ExpandShapeOp, memref::CollapseShapeOp, memref::CastOp,
             memref::ReinterpretCastOp, memref::TransposeOp>(def))
      return -1;
    v = def->getOperand(0);
  }
  auto arg = dyn_cast<BlockArgument>(v);
  auto func = arg ? dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp()) : nullptr;
  return func && arg.getOwner()->isEntryBlock() ? arg.getArgNumber() : -1;
}

/// Whether `v` views a kernel argument bound to a weight (dlc.constant).
bool viewsWeight(Value v) {
  int64_t arg = viewedArgument(v);
  auto func = v.getParentRegion()->getParentOfType<func::FuncOp>();
  return arg >= 0 && func && func.getArgAttr(arg, attrs::kConstant);
}

/// An input the contraction reads from a temporary that only a linalg.transpose fills
/// (a weight's transpose, attention's K^T): read the transpose's source through a
/// permuted view instead, and drop the copy. The micro-kernel takes any strides.
void readThroughTranspose(linalg::GenericOp g, OpOperand &input, DominanceInfo &dom) {
  auto alloc = input.get().getDefiningOp<memref::AllocOp>();
  if (!alloc)
    return;
  linalg::TransposeOp transpose;
  for (Operation *user : alloc->getUsers()) {
    if (user == g.getOperation() || isa<memref::DeallocOp>(user))
      continue;
    auto t = dyn_cast<linalg::TransposeOp>(user);
    if (!t || t.getInit() != alloc.getResult() || transpose)
      return;
    transpose = t;
  }
  // The copy must be complete before the contraction and its source unchanged since:
  // same block, nothing between them writes memory.
  if (!transpose || transpose->getBlock() != g->getBlock() || !transpose->isBeforeInBlock(g) ||
      !dom.properlyDominates(transpose.getInput(), g))
    return;
  // What starts the accumulator (a fill, dlc-bias-into-accumulator's bias) writes only
  // the contraction's output, which no input of the kernel aliases.
  auto startsAccumulator = [&](Operation *op) {
    auto l = dyn_cast<linalg::LinalgOp>(op);
    return l && l.hasPureBufferSemantics() && l.getNumDpsInits() == 1 &&
           l.getDpsInits()[0] == g.getDpsInits()[0];
  };
  for (Operation *op = transpose->getNextNode(); op != g.getOperation(); op = op->getNextNode())
    if (!isMemoryEffectFree(op) && !isa<memref::AllocOp, memref::AllocaOp>(op) &&
        !startsAccumulator(op))
      return;
  OpBuilder b(g);
  auto perm =
      AffineMapAttr::get(AffineMap::getPermutationMap(transpose.getPermutation(), g.getContext()));
  Value view = memref::TransposeOp::create(b, g.getLoc(), transpose.getInput(), perm);
  input.set(view);
  transpose.erase();
  for (Operation *user : llvm::to_vector(alloc->getUsers()))
    user->erase();
  alloc.erase();
}

/// Stores into a micro-kernel's descriptor (memref<kDescriptorSlots x i64>) before `op`.
struct DescriptorWriter {
  DescriptorWriter(Operation *op, Value desc) : b(op), loc(op->getLoc()), desc(desc) {}
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v).getResult(); }
  void store(Value v, int64_t slot) {
    Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), v);
    memref::StoreOp::create(b, loc, i64, desc, ValueRange{idx(slot)});
  }
  /// The address of element `offset` (elements of `bytes` bytes) of `buffer`.
  void storeAddress(Value buffer, Value offset, int64_t bytes, int64_t slot) {
    Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
    if (bytes != 1)
      offset = arith::MulIOp::create(b, loc, offset, idx(bytes));
    store(arith::AddIOp::create(b, loc, base, offset), slot);
  }
  OpBuilder b;
  Location loc;
  Value desc;
};

struct DlcCpuUkernelsPass : impl::DlcCpuUkernelsBase<DlcCpuUkernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<std::pair<linalg::GenericOp, StringRef>> found;
    for (auto func : module.getOps<func::FuncOp>())
      if (func->hasAttr(attrs::kKernel) && !func.isExternal())
        func.walk([&](linalg::GenericOp g) {
          if (StringRef name = ukernelFor(g); !name.empty())
            found.push_back({g, name});
        });
    auto descType = MemRefType::get({kDescriptorSlots}, IntegerType::get(&getContext(), 64));
    for (auto [g, name] : found)
      if (!module.lookupSymbol<func::FuncOp>(name)) {
        OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
        auto decl =
            func::FuncOp::create(b, module.getLoc(), name, b.getFunctionType({descType}, {}));
        decl.setPrivate();
      }
    DenseMap<Operation *, Value> descriptors; // one stack slot per kernel function
    auto descriptorFor = [&](Operation *op) {
      auto func = op->getParentOfType<func::FuncOp>();
      Value &desc = descriptors[func];
      if (!desc) {
        OpBuilder b = OpBuilder::atBlockBegin(&func.getBody().front());
        desc = memref::AllocaOp::create(b, op->getLoc(), descType);
      }
      return desc;
    };
    for (auto [g, name] : found) {
      DominanceInfo dom(g->getParentOfType<func::FuncOp>());
      for (OpOperand *input : g.getDpsInputOperands())
        readThroughTranspose(g, *input, dom);
      rewrite(g, descriptorFor(g), name);
    }
    // Transposing copies, after the contractions have read through theirs.
    SmallVector<linalg::LinalgOp> copies;
    for (auto func : module.getOps<func::FuncOp>())
      if (func->hasAttr(attrs::kKernel) && !func.isExternal())
        func.walk([&](linalg::LinalgOp op) {
          if (isTransposeCopy(op))
            copies.push_back(op);
        });
    if (!copies.empty() && !module.lookupSymbol<func::FuncOp>(kTranspose)) {
      OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
      auto decl =
          func::FuncOp::create(b, module.getLoc(), kTranspose, b.getFunctionType({descType}, {}));
      decl.setPrivate();
    }
    DenseMap<Operation *, SmallVector<int64_t>> outputs;
    for (linalg::LinalgOp op : copies) {
      outputs[op->getParentOfType<func::FuncOp>()].push_back(
          viewedArgument(op.getDpsInitOperand(0)->get()));
      rewriteTranspose(op, descriptorFor(op));
    }
    for (auto &[func, args] : outputs)
      func->setAttr(attrs::kTransposeOutputs, DenseI64ArrayAttr::get(func->getContext(), args));
  }

  /// Descriptor of dlc_uk_transpose: [0] loops | element bytes << 8, [1] input and
  /// [2] output address, then per loop i at 3 + 3 i: extent, stride in the input, in
  /// the output (elements).
  void rewriteTranspose(linalg::LinalgOp op, Value desc) {
    DescriptorWriter w(op, desc);
    OpBuilder &b = w.b;
    Location loc = w.loc;
    unsigned loops = op.getNumLoops();
    auto memrefType = cast<MemRefType>(op.getDpsInitOperand(0)->get().getType());
    int64_t bytes = memrefType.getElementTypeBitWidth() / 8;
    w.store(w.idx(loops | (bytes << 8)), 0);
    SmallVector<Range> ranges = op.createLoopRanges(b, loc);
    OpOperand *operands[] = {op.getDpsInputOperand(0), op.getDpsInitOperand(0)};
    for (auto [n, operand] : llvm::enumerate(operands)) {
      auto md = memref::ExtractStridedMetadataOp::create(b, loc, operand->get());
      w.storeAddress(operand->get(), md.getOffset(), bytes, 1 + n);
      AffineMap map = op.getMatchingIndexingMap(operand);
      for (auto [j, e] : llvm::enumerate(map.getResults()))
        w.store(md.getStrides()[j], 3 + 3 * cast<AffineDimExpr>(e).getPosition() + 1 + n);
    }
    for (unsigned i = 0; i < loops; ++i)
      w.store(getValueOrCreateConstantIndexOp(b, loc, ranges[i].size), 3 + 3 * i);
    func::CallOp::create(b, loc, kTranspose, TypeRange{}, ValueRange{desc});
    op->erase();
  }

  void rewrite(linalg::GenericOp g, Value desc, StringRef callee) {
    DescriptorWriter w(g, desc);
    OpBuilder &b = w.b;
    Location loc = w.loc;
    unsigned loops = g.getNumLoops();
    auto mulConst = [&](Value v, int64_t c) -> Value {
      if (c == 1)
        return v;
      return arith::MulIOp::create(b, loc, v, w.idx(c));
    };
    auto add = [&](Value x, Value y) -> Value {
      return x ? arith::AddIOp::create(b, loc, x, y).getResult() : y;
    };
    // Slot 0: the loop count, and which inputs are weights (packed once, cached).
    int64_t head = loops;
    for (auto [n, input] : llvm::enumerate(g.getDpsInputs()))
      if (viewsWeight(input))
        head |= int64_t(1) << (8 + n);
    w.store(w.idx(head), 0);
    SmallVector<AffineMap> maps = g.getIndexingMapsArray();
    // Per operand: its address, and its element stride along each loop.
    SmallVector<SmallVector<Value>> strides;
    for (auto [n, operand] : llvm::enumerate(g->getOperands())) {
      auto md = memref::ExtractStridedMetadataOp::create(b, loc, operand);
      SmallVector<Value> perLoop(loops);
      Value offset = md.getOffset();
      for (auto [j, e] : llvm::enumerate(maps[n].getResults())) {
        SmallVector<int64_t> coef(loops, 0);
        int64_t cst = 0;
        (void)linearTerms(e, 1, coef, cst);
        Value stride = md.getStrides()[j];
        if (cst)
          offset = add(offset, mulConst(stride, cst));
        for (unsigned i = 0; i < loops; ++i)
          if (coef[i])
            perLoop[i] = add(perLoop[i], mulConst(stride, coef[i]));
      }
      w.storeAddress(operand, offset, 4, 1 + n);
      strides.push_back(perLoop);
    }
    SmallVector<Range> ranges = cast<linalg::LinalgOp>(g.getOperation()).createLoopRanges(b, loc);
    SmallVector<utils::IteratorType> iters = g.getIteratorTypesArray();
    Value zero = w.idx(0);
    for (unsigned i = 0; i < loops; ++i) {
      int64_t s = 4 + 5 * i;
      w.store(getValueOrCreateConstantIndexOp(b, loc, ranges[i].size), s);
      w.store(w.idx(iters[i] == utils::IteratorType::reduction ? 1 : 0), s + 1);
      for (int n = 0; n < 3; ++n)
        w.store(strides[n][i] ? strides[n][i] : zero, s + 2 + n);
    }
    func::CallOp::create(b, loc, callee, TypeRange{}, ValueRange{desc});
    g.erase();
  }
};

} // namespace
} // namespace dlc
