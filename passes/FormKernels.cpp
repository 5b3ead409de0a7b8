//===- FormKernels.cpp - The dlc-form-kernels pass ------------------------===//
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "dlc-form-kernels"

namespace dlc {
#define GEN_PASS_DEF_DLCFORMKERNELS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {

bool isMetadataOnly(Operation *op) { return op->hasTrait<OpTrait::MetadataOnlyKind>(); }

namespace {

/// "X (Add)" for a location naming ONNX node X; "" for other locations.
std::string nodeLabel(Location loc) {
  auto n = dyn_cast<NameLoc>(loc);
  if (!n)
    return "";
  StringRef s = n.getName().strref();
  if (s.consume_front("node '")) {
    auto q = s.find('\'');
    if (q != StringRef::npos)
      return (s.take_front(q) + s.drop_front(q + 1)).str();
  }
  return s.str();
}

} // namespace

SmallVector<std::string> nodeLabels(Operation *op) {
  SmallVector<std::string> labels;
  if (auto fused = dyn_cast<FusedLoc>(op->getLoc())) {
    for (Location l : fused.getLocations())
      if (std::string s = nodeLabel(l); !s.empty())
        labels.push_back(s);
  } else if (std::string s = nodeLabel(op->getLoc()); !s.empty()) {
    labels.push_back(s);
  }
  if (labels.empty())
    labels.push_back(op->getName().getStringRef().str());
  return labels;
}

namespace {

/// How an op combines with its neighbours (TVM's op pattern kinds, XLA's fusion kinds).
enum class Kind {
  Elementwise, ///< one output element from the same-index (broadcast) input elements
  Injective,   ///< data movement by index: transpose, slice, expand
  Reduction,   ///< reduces trailing dims (Softmax, LayerNorm, ReduceX, global pooling)
  Contraction, ///< MatMul, Gemm, Conv: takes an elementwise epilogue
  Window,      ///< MaxPool, AveragePool: takes an elementwise epilogue
  Opaque,      ///< everything else: a kernel of its own
};

/// Most ops in one kernel; keeps kernels (and their compile time) bounded.
constexpr size_t kMaxKernelOps = 24;

bool reducesTrailingDims(ArrayRef<int64_t> axes, int64_t rank) {
  if (axes.empty())
    return true; // All dims.
  llvm::SmallBitVector reduced(rank);
  for (int64_t a : axes)
    reduced.set(a < 0 ? a + rank : a);
  int first = reduced.find_first();
  return first >= 0 && reduced.count() == size_t(rank - first);
}

int64_t rankOf(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t ? t.getRank() : -1;
}

Kind kindOf(Operation *op) {
  if (op->hasTrait<OpTrait::ElementwiseKind>())
    return Kind::Elementwise;
  if (op->hasTrait<OpTrait::InjectiveKind>())
    return Kind::Injective;
  if (op->hasTrait<OpTrait::ContractionKind>())
    return Kind::Contraction;
  if (op->hasTrait<OpTrait::WindowKind>())
    return Kind::Window;
  if (!op->hasTrait<OpTrait::ReductionKind>())
    return Kind::Opaque;
  int64_t rank = op->getNumOperands() ? rankOf(op->getOperand(0)) : -1;
  if (rank < 0)
    return Kind::Opaque;
  auto lastAxis = [&](int64_t axis) { return axis == -1 || axis == rank - 1; };
  if (auto s = dyn_cast<SoftmaxOp>(op))
    return lastAxis(s.getAxis()) ? Kind::Reduction : Kind::Opaque;
  if (auto s = dyn_cast<LogSoftmaxOp>(op))
    return lastAxis(s.getAxis()) ? Kind::Reduction : Kind::Opaque;
  // A ReduceX op (axes, keepdims) roots a kernel when it reduces trailing dims.
  if (auto axes = op->getAttrOfType<DenseI64ArrayAttr>("axes"))
    return reducesTrailingDims(axes.asArrayRef(), rank) ? Kind::Reduction : Kind::Opaque;
  return Kind::Reduction;
}

/// Whether a reduction's result can feed elementwise ops in the same kernel: its
/// result must have lost the reduced dims (keepdims results are reshapes, which tiling
/// cannot fuse through).
bool takesConsumers(Operation *reduction) {
  // A reduction to a scalar would be recomputed by every tile of its consumers.
  if (rankOf(reduction->getResult(0)) < 1)
    return false;
  if (auto keep = reduction->getAttrOfType<BoolAttr>("keepdims"))
    return !keep.getValue();
  return isa<SoftmaxOp, LogSoftmaxOp, LayerNormOp>(reduction);
}

/// Whether `a` and `b` have the same shape (a symbolic dim taken as equal to a
/// symbolic dim): an elementwise chain producing `a` does no more work in the kernel of
/// `b`'s op than in its own.
bool sameShape(Value a, Value b) {
  auto ta = dyn_cast<RankedTensorType>(a.getType()), tb = dyn_cast<RankedTensorType>(b.getType());
  return ta && tb && ta.getShape() == tb.getShape();
}

struct Group {
  SmallVector<Operation *> ops;
  Kind kind;
  Operation *reduction = nullptr; // its reduction op, if any
};

bool onlyKind(const Group &g, Kind kind) {
  return llvm::all_of(g.ops, [&](Operation *op) { return kindOf(op) == kind; });
}

/// Whether `op` converts a constant: a weight stored in half precision and widened
/// where it is read (dlc-half-weights).
bool convertsConstant(Operation *op) {
  auto cast = dyn_cast<CastOp>(op);
  if (!cast || !cast.getX().getDefiningOp<ConstantOp>())
    return false;
  Type from = getElementTypeOrSelf(cast.getX().getType());
  return (from.isF16() || from.isBF16()) && getElementTypeOrSelf(cast.getType()).isF32();
}

/// Whether `g` only converts constants: its consumer's kernel reads them through the
/// conversion, whatever that kernel's kind.
bool convertsConstants(const Group &g) {
  return !g.ops.empty() && llvm::all_of(g.ops, convertsConstant);
}

/// The longest row (in elements) a reduction joins its contraction's kernel over: the
/// kernel keeps all of a workgroup's contraction rows in one temporary, which rows of a
/// classifier's thousands of classes (ppocr's 18710) push out of the caches.
constexpr int64_t kMaxFusedReductionRow = 4096;

/// Whether the reduction `op` reduces rows of more than `limit` elements (a row: all
/// the dims it reduces, the spatial ones of a global pooling, a ReduceX's axes, a
/// LayerNorm's from its axis); a symbolic row (an attention's sequence) is long only
/// below the CPU's kMaxFusedReductionRow.
bool longRows(Operation *op, int64_t limit) {
  auto t = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
  if (!t || t.getRank() == 0)
    return false;
  int64_t rank = t.getRank();
  SmallVector<int64_t> dims;
  if (isa<GlobalAveragePoolOp, GlobalMaxPoolOp>(op)) {
    for (int64_t d = 2; d < rank; ++d)
      dims.push_back(d);
  } else if (auto norm = dyn_cast<LayerNormOp>(op)) {
    int64_t axis = norm.getAxis() < 0 ? norm.getAxis() + rank : norm.getAxis();
    for (int64_t d = std::max<int64_t>(axis, 0); d < rank; ++d)
      dims.push_back(d);
  } else if (auto axes = op->getAttrOfType<DenseI64ArrayAttr>("axes")) {
    for (int64_t a : axes.asArrayRef())
      dims.push_back(a < 0 ? a + rank : a);
    if (dims.empty())
      dims = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  } else {
    dims.push_back(rank - 1);
  }
  int64_t row = 1;
  for (int64_t d : dims) {
    if (d < 0 || d >= rank)
      continue;
    if (t.isDynamicDim(d))
      return limit < kMaxFusedReductionRow;
    row *= t.getDimSize(d);
  }
  return row > limit;
}

/// The extent of the reduction of `conv` (its input channels per group times its
/// window), or nullopt where not static.
std::optional<int64_t> convDepth(ConvOp conv) {
  auto t = dyn_cast<RankedTensorType>(conv.getW().getType());
  if (!t || !t.hasStaticShape() || t.getRank() < 2)
    return std::nullopt;
  int64_t n = 1;
  for (int64_t d = 1; d < t.getRank(); ++d)
    n *= t.getDimSize(d);
  return n;
}

/// Whether `consumer` (of kind `kind`) may join `g`, a group producing one of its
/// operands; `maxFusedRow`, `broadcastEpilogues`, `sharedSlices`, `maxFusedDepth`: the
/// pass's options.
bool canJoin(const Group &g, Operation *consumer, Kind kind, int64_t maxFusedRow,
             bool broadcastEpilogues, bool sharedSlices, int64_t maxFusedDepth) {
  if (g.ops.size() >= kMaxKernelOps)
    return false;
  switch (kind) {
  case Kind::Elementwise:
    // Elementwise chains, and epilogues of everything that computes per output element.
    if (g.kind == Kind::Reduction)
      return takesConsumers(g.reduction);
    // An epilogue whose result is larger than the group's (its value broadcast) would
    // have the contraction or window computed again for each element it reaches.
    if ((g.kind == Kind::Contraction || g.kind == Kind::Window) && !broadcastEpilogues &&
        !sameShape(g.ops.back()->getResult(0), consumer->getResult(0)))
      return false;
    return g.kind != Kind::Opaque;
  case Kind::Injective:
    // Transposes, slices and expands of data-parallel work read it through their
    // indexing instead of copying it.
    if (g.kind == Kind::Contraction && !sharedSlices && !g.ops.back()->hasOneUse())
      return false;
    return g.kind == Kind::Elementwise || g.kind == Kind::Injective || g.kind == Kind::Contraction;
  case Kind::Reduction:
    // A row reduction with its producers: elementwise work, or a contraction whose
    // output rows it reduces (scores then Softmax), each row computed once.
    if (g.kind == Kind::Contraction && maxFusedDepth > 0) {
      // A deep Conv keeps its tile: a kernel of its own (a depth not known at compile
      // time counts as deep).
      auto c = llvm::find_if(g.ops, [](Operation *op) { return isa<ConvOp>(op); });
      if (c != g.ops.end()) {
        std::optional<int64_t> depth = convDepth(cast<ConvOp>(*c));
        if (!depth || *depth > maxFusedDepth)
          return false;
      }
    }
    return !g.reduction && (g.kind == Kind::Elementwise ||
                            (g.kind == Kind::Contraction && !longRows(consumer, maxFusedRow)));
  default:
    return false;
  }
}

/// Most kernels an elementwise kernel's value is recomputed in, and most ops such a
/// kernel may have (mergeIntoConsumers).
constexpr size_t kMaxDuplicatedConsumers = 4;
constexpr size_t kMaxDuplicatedOps = 8;

/// Whether recomputing `op` per element costs less than writing and reading its
/// value: arithmetic, comparisons, selects, casts and data movement by index, not
/// transcendental functions.
bool isCheap(Operation *op) {
  return kindOf(op) == Kind::Injective ||
         isa<AddOp, SubOp, MulOp, DivOp, NegOp, AbsOp, SqrtOp, ReciprocalOp, ReluOp, ClipOp, MinOp,
             MaxOp, SignOp, FloorOp, CeilOp, CastOp, WhereOp, EqualOp, LessOp, LessOrEqualOp,
             GreaterOp, GreaterOrEqualOp, AndOp, OrOp, XorOp, NotOp, IsInfOp, IsNaNOp>(op);
}

struct DlcFormKernelsPass : impl::DlcFormKernelsBase<DlcFormKernelsPass> {
  using DlcFormKernelsBase::DlcFormKernelsBase;

  std::vector<Group> groups;
  DenseMap<Operation *, size_t> groupOf;

  /// Whether every use of `g`'s values is inside `g` or by `op`.
  bool usedOnlyBy(const Group &g, Operation *op) {
    SmallPtrSet<Operation *, 16> members(g.ops.begin(), g.ops.end());
    for (Operation *member : g.ops)
      for (Operation *user : member->getUsers())
        if (user != op && !members.contains(user))
          return false;
    return true;
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<Operation *> ops;
    for (Operation &op : func.getOps())
      if (op.getDialect() && op.getDialect()->getNamespace() == "dlc" &&
          !isa<ConstantOp, KernelOp>(op) && !isMetadataOnly(&op) &&
          !op.hasTrait<OpTrait::HostKind>())
        ops.push_back(&op);
    DenseMap<Operation *, size_t> position;
    for (auto [i, op] : llvm::enumerate(ops))
      position[op] = i;

    // Greedy producer-consumer grouping in program order.
    for (Operation *op : ops) {
      Kind kind = kindOf(op);
      SmallVector<size_t> producers; // groups defining an operand, latest first
      for (Value v : op->getOperands())
        if (Operation *def = v.getDefiningOp())
          if (auto it = groupOf.find(def); it != groupOf.end())
            if (!llvm::is_contained(producers, it->second))
              producers.push_back(it->second);
      llvm::sort(producers, std::greater<size_t>());
      std::optional<size_t> target;
      SmallVector<size_t> absorbed;
      if (fuse && op->getNumResults() == 1) {
        for (size_t g : producers) {
          // Transposes, slices and expands feeding only this op are read through its
          // indexing, whatever its kind; so are widened half-precision weights.
          if ((onlyKind(groups[g], Kind::Injective) || convertsConstants(groups[g])) &&
              usedOnlyBy(groups[g], op)) {
            absorbed.push_back(g);
            continue;
          }
          if (!target && canJoin(groups[g], op, kind, maxFusedRow, broadcastEpilogues, sharedSlices,
                                 maxFusedDepth))
            target = g;
        }
      }
      if (!target) {
        groups.push_back({{}, kind, nullptr});
        target = groups.size() - 1;
      }
      Group &g = groups[*target];
      g.ops.push_back(op);
      groupOf[op] = *target;
      if (kind == Kind::Reduction) {
        g.kind = Kind::Reduction;
        g.reduction = op;
      }
      for (size_t a : absorbed) {
        if (a == *target || g.ops.size() + groups[a].ops.size() > kMaxKernelOps)
          continue;
        for (Operation *member : groups[a].ops) {
          g.ops.push_back(member);
          groupOf[member] = *target;
        }
        groups[a].ops.clear();
      }
      llvm::sort(g.ops, [&](Operation *a, Operation *b) { return position[a] < position[b]; });
    }

    // A kernel has one output, its last op's: split groups where an earlier member's
    // value is used outside (the greedy joins above do not look ahead).
    std::vector<SmallVector<Operation *>> kernels;
    for (Group &g : groups)
      if (!g.ops.empty())
        split(g.ops, kernels);
    llvm::sort(kernels, [&](auto &a, auto &b) { return position[a.back()] < position[b.back()]; });
    if (fuse)
      mergeIntoConsumers(kernels, position);
    for (auto [i, k] : llvm::enumerate(kernels)) {
      LLVM_DEBUG({
        llvm::dbgs() << "kernel " << i << ":";
        for (Operation *op : k)
          llvm::dbgs() << " " << op->getName();
        llvm::dbgs() << "\n";
      });
      buildKernel(k, i);
    }
  }

  /// Merges each elementwise kernel whose value other kernels read, by elementwise ops
  /// of the value's shape (of any shape for a rank-0 value), into them, from the last kernel back
  /// (consumer-driven, as XLA's producer-consumer fusion): into its one consumer kernel, or, when
  /// it is cheap (isCheap ops, at most kMaxDuplicatedOps of them) and has a few consumer kernels, a
  /// copy into each (XLA duplicates cheap producers likewise). The greedy grouping joins an op to a
  /// producer's group without seeing where the op's consumers end up: an optimizer's scaled
  /// gradient joins the contraction computing the gradient, which is then cut off after the
  /// gradient (read by other kernels too), and a kernel has one output, so a value two kernels read
  /// was written out between them. Copies are bounded by the ops' count (chains of such kernels
  /// would multiply them). Emptied kernels are removed; `kernels` stays in the order of their last
  /// ops.
  void mergeIntoConsumers(std::vector<SmallVector<Operation *>> &kernels,
                          DenseMap<Operation *, size_t> &position) {
    DenseMap<Operation *, size_t> kernelOf;
    size_t budget = 0;
    for (auto [i, k] : llvm::enumerate(kernels)) {
      budget += k.size();
      for (Operation *op : k)
        kernelOf[op] = i;
    }
    for (size_t p = kernels.size(); p-- > 0;) {
      SmallVector<Operation *> &producer = kernels[p];
      if (producer.empty() || !llvm::all_of(producer, [](Operation *op) {
            return kindOf(op) == Kind::Elementwise || kindOf(op) == Kind::Injective;
          }))
        continue;
      // Transposes, slices and expands alone are read through the indexing of one op
      // of any kind in each consumer kernel (rule 3 of the grouping, which misses them
      // when they joined an elementwise group first: the weight gradient's transposed
      // input of a Conv).
      bool dataMovement =
          llvm::all_of(producer, [](Operation *op) { return kindOf(op) == Kind::Injective; });
      Operation *last = producer.back();
      if (last->getNumResults() != 1 || last->getResult(0).use_empty())
        continue;
      Value value = last->getResult(0);
      // A scalar (a quantization's scale, the product of two scales) costs its readers
      // a few operations per element at most, where a kernel of its own costs a launch
      // and, on a GPU, runs on one thread: it merges into readers of any shape. The CPU
      // kernel computes it once in front of its tiles; the CUDA one per element
      // (dlc-fuse-scalar-producers).
      bool scalar = rankOf(value) == 0;
      // The consumer kernels, in order, with the ops in each that read the value.
      SmallVector<std::pair<size_t, SmallVector<Operation *>>> consumers;
      bool ok = true;
      bool prologue = false;
      for (Operation *user : value.getUsers()) {
        auto it = kernelOf.find(user);
        if (it == kernelOf.end() || it->second == p) {
          ok = false;
          break;
        }
        // Elementwise work in front of the one reduction of a kernel without a
        // contraction or window: the reduction's producers (rule 4), split off when
        // they had joined a contraction's kernel whose result other kernels read.
        if (!dataMovement && kindOf(user) == Kind::Reduction && user->getOperand(0) == value &&
            reducesInKernel(kernels[it->second], user)) {
          prologue = true;
        } else if (!dataMovement &&
                   (kindOf(user) != Kind::Elementwise || user->getNumResults() != 1 ||
                    !(scalar || sameShape(value, user->getResult(0))))) {
          ok = false;
          break;
        }
        auto c = llvm::find_if(consumers, [&](auto &e) { return e.first == it->second; });
        if (c == consumers.end())
          consumers.push_back({it->second, {user}});
        else if (!llvm::is_contained(c->second, user))
          c->second.push_back(user);
      }
      size_t copies = consumers.size() - 1;
      if (!ok || consumers.empty() || (prologue && copies > 0) ||
          (dataMovement && llvm::any_of(consumers,
                                        [](auto &c) {
                                          // Several readers: slices and transposes of it
                                          // (Swin's patch merging: the even and odd rows'
                                          // even and odd columns), read through theirs.
                                          return c.second.size() != 1 &&
                                                 !llvm::all_of(c.second, [](Operation *u) {
                                                   return kindOf(u) == Kind::Injective;
                                                 });
                                        })) ||
          llvm::any_of(
              consumers,
              [&](auto &c) { return kernels[c.first].size() + producer.size() > kMaxKernelOps; }) ||
          (copies > 0 &&
           (consumers.size() > kMaxDuplicatedConsumers || producer.size() > kMaxDuplicatedOps ||
            !llvm::all_of(producer, isCheap) || copies * producer.size() > budget)))
        continue;
      llvm::sort(consumers, [](auto &a, auto &b) { return a.first < b.first; });
      auto append = [&](size_t c, Operation *op) {
        kernels[c].push_back(op);
        kernelOf[op] = c;
      };
      // A copy for each consumer but the last, right after the original.
      OpBuilder b(last->getContext());
      b.setInsertionPointAfter(last);
      for (auto &[c, users] : ArrayRef(consumers).drop_back()) {
        IRMapping map;
        for (Operation *op : producer) {
          Operation *copy = b.clone(*op, map);
          position[copy] = position[op];
          append(c, copy);
        }
        for (Operation *user : users)
          user->replaceUsesOfWith(value, map.lookup(value));
        budget -= producer.size();
      }
      for (Operation *op : producer)
        append(consumers.back().first, op);
      for (auto &[c, users] : consumers)
        llvm::sort(kernels[c],
                   [&](Operation *x, Operation *y) { return position[x] < position[y]; });
      producer.clear();
    }
    llvm::erase_if(kernels, [](const SmallVector<Operation *> &k) { return k.empty(); });
  }

  /// Whether `reduction` is the one reduction of `kernel` and the kernel has no
  /// contraction or window whose rows it would reduce.
  static bool reducesInKernel(ArrayRef<Operation *> kernel, Operation *reduction) {
    return llvm::all_of(kernel, [&](Operation *op) {
      Kind k = kindOf(op);
      return k == Kind::Elementwise || k == Kind::Injective ||
             (k == Kind::Reduction && op == reduction);
    });
  }

  /// Appends `ops` to `out` as one kernel if only its last op's values escape, else
  /// splits after the last escaping member and recurses on both halves.
  void split(ArrayRef<Operation *> ops, std::vector<SmallVector<Operation *>> &out) {
    SmallPtrSet<Operation *, 16> members(ops.begin(), ops.end());
    std::optional<size_t> cut;
    for (size_t i = 0; i + 1 < ops.size(); ++i)
      if (llvm::any_of(ops[i]->getUsers(), [&](Operation *u) { return !members.contains(u); }))
        cut = i;
    if (!cut) {
      out.emplace_back(ops.begin(), ops.end());
      return;
    }
    split(ops.take_front(*cut + 1), out);
    split(ops.drop_front(*cut + 1), out);
  }

  /// Replaces `ops` (one group, in program order) by one dlc.kernel at the last op.
  void buildKernel(ArrayRef<Operation *> ops, size_t index) {
    Operation *last = ops.back();
    SmallPtrSet<Operation *, 8> members(ops.begin(), ops.end());
    SmallVector<Value> inputs;
    for (Operation *op : ops)
      for (Value v : op->getOperands())
        if ((!v.getDefiningOp() || !members.contains(v.getDefiningOp())) &&
            !llvm::is_contained(inputs, v))
          inputs.push_back(v);
    // Named after its ONNX nodes' ops; a weight's widening is no node of the model.
    SmallVector<Operation *> named;
    for (Operation *op : ops)
      if (!convertsConstant(op) || ops.size() == 1)
        named.push_back(op);
    std::string name = "k" + std::to_string(index);
    SmallVector<std::string> nodes;
    for (auto [i, op] : llvm::enumerate(named)) {
      if (i < 3)
        name += "_" + op->getName().getStringRef().drop_front(4).str();
      nodes.append(nodeLabels(op));
    }
    if (named.size() > 3)
      name += "_etc";
    OpBuilder b(last);
    SmallVector<StringRef> nodeRefs(nodes.begin(), nodes.end());
    auto kernel = KernelOp::create(b, last->getLoc(), last->getResultTypes(), inputs,
                                   b.getStringAttr(name), b.getStrArrayAttr(nodeRefs));
    Block *body = new Block();
    kernel.getBody().push_back(body);
    IRMapping map;
    for (Value v : inputs)
      map.map(v, body->addArgument(v.getType(), v.getLoc()));
    OpBuilder inner = OpBuilder::atBlockBegin(body);
    for (Operation *op : ops)
      inner.clone(*op, map);
    YieldOp::create(inner, last->getLoc(), map.lookup(last)->getResults());
    last->replaceAllUsesWith(kernel.getResults());
    for (Operation *op : llvm::reverse(ops))
      op->erase();
  }
};

} // namespace
} // namespace dlc
