//===- NodeImporter.h - Per-node import context and op registry -*- C++ -*-===//
//
// Each ONNX op is imported by a handler registered per (op type, since-opset), as in
// torch-mlir's onOp("Add", 7, ...): the registry picks the newest handler whose
// since-version is <= the model's opset, so version differences are explicit.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_IMPORTER_NODEIMPORTER_H
#define DLC_LIB_IMPORTER_NODEIMPORTER_H

#include "dialects/DlcDialect.h"

#include "llvm/ADT/DenseSet.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "onnx/onnx_pb.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dlc::importer {

class NodeImporter;
using Handler = std::function<mlir::LogicalResult(NodeImporter &)>;

/// A sequence or optional value. dlc resolves them at import: a sequence is the list of
/// its tensors, an optional whether it holds a value, so lengths and presence must be
/// known when the graph is compiled (OpsSequence.cpp).
struct Aggregate {
  enum Kind { Sequence, Optional } kind = Sequence;
  /// Optional: whether it holds a value, and whether that value is a sequence.
  bool present = true;
  bool ofSequence = false;
  /// A sequence's elements; a present optional's tensor, or its sequence's elements.
  std::vector<mlir::Value> elems;
  /// The element type (for empty sequences and absent optionals), may be null.
  mlir::Type elemType;
  /// A sequence a runtime Loop appended to: its elements after `elems` are the
  /// slices along dim 0 of this tensor, how many known only at run time. Only
  /// ConcatFromSequence, SequenceLength and SequenceAt read such a sequence.
  mlir::Value stacked;
};
using AggregatePtr = std::shared_ptr<const Aggregate>;

/// A value of a graph: a tensor, or an aggregate (then `value` is null).
struct Item {
  mlir::Value value;
  AggregatePtr agg;
};

/// A subgraph imported as a function of its own (a runtime loop's body): its
/// arguments are the graph's inputs followed by the outer-scope values it reads
/// (`captures`, values of the enclosing function); constants it reads are copied in.
struct BodyFunction {
  mlir::Operation *func = nullptr; // func.func, private, in the module
  llvm::SmallVector<mlir::Value> captures;
  llvm::SmallVector<mlir::Value> outputs; // the values it returns
};

/// The registry of op handlers: op type -> since-opset -> handler.
class OpRegistry {
public:
  static OpRegistry &get();
  void add(const std::string &opType, int sinceVersion, Handler h);
  /// A handler for "<domain>.<op>" of a contrib domain (version 1), whose nodes no ONNX
  /// schema checks: the node fails with an error naming the missing input unless inputs
  /// 0..requiredInputs-1 are present.
  void addContrib(const std::string &opType, size_t requiredInputs, Handler h);
  /// The handler for `opType` at `opset`, or null when none applies.
  const Handler *lookup(const std::string &opType, int opset) const;
  /// Oldest opset any handler of `opType` supports; 0 if the op is unknown.
  int minVersion(const std::string &opType) const;
  std::vector<std::string> opTypes() const;

private:
  std::map<std::string, std::map<int, Handler>> handlers_;
};

/// Checks `node` against the ONNX schema of its op at `opset` (NodeValidation.cpp):
/// required inputs present, input and output counts, required attributes, attribute
/// types. Emits the error at `loc` and fails on the first violation.
mlir::LogicalResult validateNode(const onnx::NodeProto &node, int opset, mlir::Location loc);
/// Whether the ONNX definition of `opType` at `opset` is the one at `newer` (it has not
/// changed in between).
bool unchangedSince(const std::string &opType, int opset, int newer);

/// The MLIR element type of an ONNX TensorProto data type, or null if unsupported.
mlir::Type onnxElementType(mlir::MLIRContext *ctx, int dtype);

/// Registration functions, one per op family (each in its own file).
void registerElementwiseOps(OpRegistry &r);
void registerNNOps(OpRegistry &r);
void registerTensorOps(OpRegistry &r);
void registerReductionOps(OpRegistry &r);
void registerLossOps(OpRegistry &r);
void registerIndexOps(OpRegistry &r);
void registerResizeOps(OpRegistry &r);
void registerQuantOps(OpRegistry &r);

/// Imports the node as a Conv of inputs 0, 1 and (optional) 2 with its attributes
/// (OpsNN.cpp; QLinearConv and ConvInteger reuse it).
mlir::LogicalResult importConvNode(NodeImporter &n);
/// Imports the node as an AveragePool of input 0 that counts the padding (LpPool).
mlir::LogicalResult importAveragePoolCountingPads(NodeImporter &n);
void registerNormOps(OpRegistry &r);
void registerAttentionOps(OpRegistry &r);
void registerContribOps(OpRegistry &r);
void registerMLOps(OpRegistry &r);
void registerRecurrentOps(OpRegistry &r);
void registerControlFlowOps(OpRegistry &r);
void registerDynamicOps(OpRegistry &r);
void registerSequenceOps(OpRegistry &r);
void registerDeformConvOps(OpRegistry &r);
void registerRandomOps(OpRegistry &r);
void registerTrainingOps(OpRegistry &r);

/// The domain of the one-step recurrences that importRecurrentAsScan writes into the
/// Scans it makes (their X projected already); not for models.
inline constexpr char kStepDomain[] = "dlc.internal.step";

/// The data dims (SymShape.h) host op `op` decides: its `data_dim` or `data_dims`
/// attribute (none for other ops).
llvm::SmallVector<int64_t> decidedDataDims(mlir::Operation *op);
/// The next data dim no host op of the function being built uses (OpsDynamic.cpp).
int64_t nextHostDataDim(NodeImporter &n);

/// Everything a handler needs for one node: inputs, attributes, a builder and the
/// symbolic shapes of values, plus helpers to create and fold ops.
class NodeImporter {
public:
  NodeImporter(const onnx::NodeProto &node, int opset, mlir::OpBuilder &builder,
               mlir::Location loc, std::vector<mlir::Value> inputs,
               llvm::DenseMap<mlir::Value, SymShape> &shapes,
               const llvm::DenseMap<mlir::Value, mlir::DenseElementsAttr> &argConstants)
      : node(node), opset(opset), b(builder), loc(loc), inputs(std::move(inputs)),
        shapes(shapes), argConstants(argConstants) {}

  const onnx::NodeProto &node;
  const int opset;
  /// Importing for dlc train (ImportOptions::training): Dropout stays as dlc.dropout.
  bool training = false;
  mlir::OpBuilder &b;
  const mlir::Location loc;
  /// Node inputs in order; a null Value for an omitted optional input.
  std::vector<mlir::Value> inputs;
  /// Values of the node's outputs, set by the handler.
  std::vector<mlir::Value> outputs;
  /// Per input, the aggregate it is (null for tensors and omitted inputs: `inputs`
  /// holds a null Value for an aggregate).
  std::vector<AggregatePtr> aggregateInputs;
  /// Per output, the aggregate the handler produced (null where `outputs` holds a tensor).
  std::vector<AggregatePtr> aggregateOutputs;
  /// Input `i` as an aggregate, or null.
  AggregatePtr aggregate(size_t i) const {
    return i < aggregateInputs.size() ? aggregateInputs[i] : nullptr;
  }
  /// Input `i` as an item (tensor or aggregate).
  Item item(size_t i) const { return {input(i), aggregate(i)}; }
  /// Sets the node's outputs from items and succeeds.
  mlir::LogicalResult results(llvm::ArrayRef<Item> items) {
    outputs.clear();
    aggregateOutputs.clear();
    for (const Item &it : items) {
      outputs.push_back(it.value);
      aggregateOutputs.push_back(it.agg);
    }
    return mlir::success();
  }

  mlir::MLIRContext *ctx() const { return b.getContext(); }
  size_t numInputs() const { return inputs.size(); }
  /// Input `i`, or null when absent or omitted.
  mlir::Value input(size_t i) const { return i < inputs.size() ? inputs[i] : nullptr; }
  /// Fails with an error naming the first of inputs 0..count-1 that is missing (for
  /// handlers of ops whose schema libonnx may not know: contrib ops, newer opsets).
  mlir::LogicalResult requireInputs(size_t count) const {
    for (size_t i = 0; i < count; ++i)
      if (!input(i))
        return error() << "required input " << i << " is missing", mlir::failure();
    return mlir::success();
  }
  size_t numOutputs() const { return node.output_size(); }
  /// Whether output `i` exists and is used (named).
  bool wantsOutput(size_t i) const {
    return (int)i < node.output_size() && !node.output(i).empty();
  }

  // Attributes, with the ONNX default when absent.
  bool hasAttr(const std::string &name) const;
  int64_t attrInt(const std::string &name, int64_t dflt) const;
  float attrFloat(const std::string &name, float dflt) const;
  std::string attrString(const std::string &name, const std::string &dflt) const;
  std::optional<std::vector<int64_t>> attrInts(const std::string &name) const;
  const onnx::AttributeProto *attr(const std::string &name) const;

  /// The compile-time constant value of input `i`, or nullopt if it is not constant.
  std::optional<mlir::DenseElementsAttr> constInput(size_t i) const;
  /// The value of `v` when it is a constant, a JIT-specialized graph input, or computed
  /// from such values by ops that fold (their folders evaluate it).
  std::optional<mlir::DenseElementsAttr> foldedValue(mlir::Value v, int depth = 0) const;
  /// Input `i` as a list of integers; emits "input N (what) must be a compile-time
  /// constant" and fails when it is not constant.
  mlir::FailureOr<std::vector<int64_t>> constInts(size_t i, const char *what);
  /// Input `i` as a scalar double (first element), with the same rules.
  mlir::FailureOr<double> constScalar(size_t i, const char *what);

  /// The elements of a small integer tensor (rank <= 1) as expressions over the graph
  /// inputs' dims, where it is a constant or computed from shapes (SymValues.cpp).
  std::optional<llvm::SmallVector<mlir::AffineExpr>> symValue(mlir::Value v);
  /// Input `i` as such expressions; emits "input N (what) must be ... computed from
  /// input shapes" and fails when it depends on tensor data.
  mlir::FailureOr<llvm::SmallVector<mlir::AffineExpr>> symInts(size_t i, const char *what);
  /// Input `i` as extents or pads (not shape entries with Reshape's 0 and -1): as
  /// symInts, except that what is computed from tensor data (a size an exporter
  /// computed with float arithmetic, floor(H * scale)) is read at run time
  /// (materializeDataDims).
  mlir::FailureOr<llvm::SmallVector<mlir::AffineExpr>> extentsOrDataDims(size_t i,
                                                                         const char *what);
  /// Makes small integer tensor `v` a shape value over data dims where symValue cannot
  /// express it: through the ops symValue evaluates over their operands, each leaf that
  /// no expression holds becomes a dlc.data_dims (one data dim per element, read by the
  /// run, which rejects a negative one). Whether `v` is an expression now.
  bool materializeDataDims(mlir::Value v, int depth = 0);
  /// A symbolic shape as op operands and attributes: `shape` with kSymbolicEntry where
  /// an entry is not constant, `symShape` (null if all are constant) over the dims of
  /// the graph inputs in `dimsOf`.
  struct SymOperands {
    llvm::SmallVector<mlir::Value> dimsOf;
    llvm::SmallVector<int64_t> shape;
    mlir::AffineMapAttr symShape;
  };
  /// Fails (with an error naming the node) when an expression uses a dim that is not
  /// related to the graph inputs.
  mlir::FailureOr<SymOperands> symOperands(llvm::ArrayRef<mlir::AffineExpr> exprs);
  /// `x` reshaped to `shape` (dlc.reshape, symbolic where the entries are).
  mlir::FailureOr<mlir::Value> reshapeTo(mlir::Value x, llvm::ArrayRef<mlir::AffineExpr> shape);
  /// `x` sliced to [start, end) along `axis` (both normalized, within the dim):
  /// dlc.slice when both are constant on a static dim, else dlc.symbolic_slice.
  mlir::FailureOr<mlir::Value> sliceTo(mlir::Value x, int64_t axis, mlir::AffineExpr start,
                                       mlir::AffineExpr end);
  /// Receives each graph input whose JIT-specialized value a node took as a constant.
  llvm::DenseSet<mlir::Value> *usedArgConstants = nullptr;
  /// Memo of symValue across the nodes of a graph (owned by the model importer).
  llvm::DenseMap<mlir::Value, std::optional<llvm::SmallVector<mlir::AffineExpr>>> *symCache =
      nullptr;

  mlir::Type elementType(mlir::Value v) const {
    return llvm::cast<mlir::ShapedType>(v.getType()).getElementType();
  }
  /// The symbolic shape of `v`.
  SymShape shapeOf(mlir::Value v) const;
  int64_t rankOf(mlir::Value v) const { return shapeOf(v).size(); }

  /// Creates a dlc op whose results have element types `resultTypes`, infers their
  /// shapes, folds it where possible and returns its results (null on error, which has
  /// been emitted).
  mlir::FailureOr<llvm::SmallVector<mlir::Value>>
  build(llvm::StringRef opName, mlir::TypeRange resultElementTypes,
        mlir::ValueRange operands, llvm::ArrayRef<mlir::NamedAttribute> attrs = {});
  /// build() for single-result ops.
  mlir::FailureOr<mlir::Value> build1(llvm::StringRef opName, mlir::Type resultElementType,
                                      mlir::ValueRange operands,
                                      llvm::ArrayRef<mlir::NamedAttribute> attrs = {});
  /// A dlc.constant with `value`.
  mlir::Value constant(mlir::ElementsAttr value);
  /// A rank-0 constant of element type `t` holding `v`.
  mlir::Value scalar(mlir::Type t, double v);

  /// Sets the node's single output and succeeds.
  mlir::LogicalResult result(mlir::Value v) {
    outputs = {v};
    return mlir::success();
  }
  mlir::LogicalResult result(mlir::FailureOr<mlir::Value> v) {
    if (mlir::failed(v))
      return mlir::failure();
    return result(*v);
  }
  /// Emits an error at the node and fails.
  mlir::InFlightDiagnostic error() const { return mlir::emitError(loc); }

  /// The most elements a constant built at import may have (an iota, an identity
  /// matrix, a range): it is materialized element by element and becomes a weight.
  static constexpr int64_t kMaxConstantElements = int64_t(1) << 24;
  /// Fails with an error naming the node when a constant of `elements` (what it is:
  /// `what`) would exceed kMaxConstantElements.
  mlir::LogicalResult checkConstantSize(int64_t elements, llvm::StringRef what) const;
  /// `v` as an integer when it is finite and within [lo, hi]; an error naming `what`
  /// otherwise (a double from a constant input, before any conversion).
  mlir::FailureOr<int64_t> integerIn(double v, int64_t lo, int64_t hi, llvm::StringRef what) const;

  mlir::NamedAttribute named(llvm::StringRef name, mlir::Attribute a) const {
    return b.getNamedAttr(name, a);
  }
  mlir::DenseI64ArrayAttr i64s(llvm::ArrayRef<int64_t> v) const {
    return b.getDenseI64ArrayAttr(v);
  }

  /// Converts an ONNX TensorProto (Constant's value) to an attribute; set by the model
  /// importer, which owns external-data resolution and blob naming.
  std::function<mlir::FailureOr<mlir::ElementsAttr>(const onnx::TensorProto &)>
      parseTensor;
  /// Imports a graph attribute's subgraph in place, its inputs bound to the given
  /// values; its outputs, or failure (reported). inlineGraph takes and gives tensors
  /// only; inlineItems aggregates too.
  std::function<mlir::FailureOr<llvm::SmallVector<mlir::Value>>(const onnx::GraphProto &,
                                                                llvm::ArrayRef<mlir::Value>)>
      inlineGraph;
  std::function<mlir::FailureOr<llvm::SmallVector<Item>>(const onnx::GraphProto &,
                                                         llvm::ArrayRef<Item>)>
      inlineItems;
  /// Imports a subgraph as a function (BodyFunction) whose graph inputs have the types
  /// `inputTypes` (a `?` dim takes any extent at run time).
  std::function<mlir::FailureOr<BodyFunction>(const onnx::GraphProto &, llvm::ArrayRef<mlir::Type>)>
      importBody;
  /// Erases a function importBody made (to import the subgraph again, differently typed).
  std::function<void(mlir::Operation *)> discardBody;
  /// The most copies of a subgraph's nodes Loop and Scan unroll to (ImportOptions).
  int64_t unrollLimit = 0;
  /// ImportOptions::branchesAtRunTime.
  bool branchesAtRunTime = false;
  /// The body nodes the model's unrolled loops have copied so far (owned by the model
  /// importer; OpsControl.cpp bounds it).
  int64_t *unrolledNodes = nullptr;

private:
  std::optional<llvm::SmallVector<mlir::AffineExpr>> computeSymValue(mlir::Value v);
  /// A small float tensor whose elements are exactly integer expressions: shape
  /// arithmetic an exporter did in float (Cast, ReduceMax of one element, Mul, Add,
  /// Floor/Ceil of a Div by a constant), valid for extents below 2^24.
  std::optional<llvm::SmallVector<mlir::AffineExpr>> floatSymValue(mlir::Value v, int depth = 0);
  /// The elements of a small float tensor computed from constants and static shape
  /// values alone, each op rounded to its element type (f32/f64): what a quantizer's
  /// QuantizeLinear/DequantizeLinear pair makes of shape arithmetic (Div, Round, Add,
  /// Clip, Cast, Sub, Mul), which floatSymValue's exact integers cannot hold.
  std::optional<llvm::SmallVector<double>> floatConstValue(mlir::Value v, int depth = 0);
  /// floatSymValue of `div` (a Div by a positive constant) floored, or ceiled; with
  /// `nonNegativeOnly` only where every numerator is provably >= 0 (a truncating Cast).
  std::optional<llvm::SmallVector<mlir::AffineExpr>> floatQuotient(DivOp div, bool floor,
                                                                   bool nonNegativeOnly, int depth);
  std::optional<llvm::SmallVector<mlir::AffineExpr>> structuralSymValue(mlir::Operation *op,
                                                                        mlir::Value v);
  /// symValue(input(i)) when every element is a constant.
  std::optional<std::vector<int64_t>> symConstInts(size_t i);
  /// Whether `e` only uses symbols of graph-input dims and data dims that a host op of
  /// the function being built decides (known at run time before any later op runs).
  bool isInputDimExpr(mlir::AffineExpr e) const;
  /// A result of the host op deciding data dim `k`, and its dim that is that data dim.
  std::optional<std::pair<mlir::Value, unsigned>> dataDimCarrier(unsigned k) const;

  llvm::DenseMap<mlir::Value, SymShape> &shapes;
  const llvm::DenseMap<mlir::Value, mlir::DenseElementsAttr> &argConstants;
};

} // namespace dlc::importer

#endif // DLC_LIB_IMPORTER_NODEIMPORTER_H
