//===- Importer.h - ONNX ModelProto to the dlc dialect ----------*- C++ -*-===//
#ifndef DLC_LIB_IMPORTER_IMPORTER_H
#define DLC_LIB_IMPORTER_IMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace dlc::importer {

struct ImportOptions {
  /// Values of graph inputs that may stand in where dlc needs a compile-time constant
  /// (JIT specialization of shape-tensor inputs such as Reshape's shape, as TensorRT
  /// needs shape-tensor values at build time). Keyed by input name; each a
  /// DenseElementsAttr of the input's type. Only inputs that feed such a parameter are
  /// specialized, so the compiled model is valid for these values only (the JIT path
  /// compiles and runs with the same inputs).
  std::map<std::string, mlir::Attribute> constantInputs;
  /// When set, receives the names of the constantInputs a node did take as constants.
  std::set<std::string> *usedConstantInputs = nullptr;
  /// Training: float initializers that are not scalars become trailing arguments of
  /// @main (named in `dlc.input_names`, marked `dlc.initializer`) instead of
  /// constants; their values are stored in `initializerValues` when it is set.
  bool initializersAsArguments = false;
  std::map<std::string, mlir::Attribute> *initializerValues = nullptr;
  /// Sequence and optional graph inputs, flattened into tensor arguments: per input,
  /// the shapes of its tensors (a sequence's elements, arguments NAME[0], NAME[1], ...;
  /// an optional's tensor, argument NAME, or sequence). Absent optionals are in
  /// absentOptionalInputs and take no argument.
  std::map<std::string, std::vector<std::vector<int64_t>>> listInputs;
  std::set<std::string> absentOptionalInputs;
  /// Fixed shapes of graph inputs, by name (shape specialization: the compiled model
  /// serves these shapes only).
  std::map<std::string, std::vector<int64_t>> inputShapes;
  /// When positive, every dynamic dim of the graph inputs takes this value (training
  /// compiles its step for one static batch size).
  int64_t dynamicDimValue = 0;
  /// Import for training: Dropout becomes dlc.dropout (else the identity).
  bool training = false;
  /// Loop and Scan are unrolled at import when their iteration count is known and the
  /// unrolled body has at most this many nodes (count x body nodes); otherwise the
  /// runtime runs them, their body compiled once (0: never unroll).
  int64_t unrollLimit = kDefaultUnrollLimit;
  static constexpr int64_t kDefaultUnrollLimit = 4096;
  /// An If on a runtime condition whose branches agree in shape is imported with both
  /// branches computed and each output selected (they fuse with the graph, and on
  /// CUDA stay in one graph of launches); with this set, one whose branches hold a
  /// contraction (a Conv, a MatMul, a recurrence, a loop) runs only the branch taken
  /// (dlc.if), as the CPU target does: a branch's convolutions cost far more than the
  /// runtime's call into a nested artifact.
  bool branchesAtRunTime = false;
  /// The most bytes the model file may have (external data is bounded by its tensors).
  uint64_t maxModelBytes = kDefaultMaxModelBytes;
  /// QDQ node units that onnxruntime runs as its QLinear kernels (DequantizeLinear ->
  /// Conv -> QuantizeLinear, ...) import as those ops, rounding as onnxruntime does
  /// (QdqUnits.cpp); false: as the float arithmetic between the DQ and Q nodes.
  bool qdqUnits = true;

  /// Protobuf's own limit on one message: 2 GiB.
  static constexpr uint64_t kDefaultMaxModelBytes = uint64_t(2) << 30;
};

/// Imports an ONNX model (binary protobuf `.onnx`, or ONNX text syntax when the file
/// ends in `.onnxtxt`). Errors are emitted as diagnostics (naming the file, node and op)
/// and yield a null module.
mlir::OwningOpRef<mlir::ModuleOp> importModelFile(mlir::MLIRContext &ctx,
                                                  const std::string &path,
                                                  const ImportOptions &options = {});

/// Imports a serialized ModelProto held in memory; external data is resolved against
/// `modelDir` (empty: external data is refused).
mlir::OwningOpRef<mlir::ModuleOp> importModelBytes(mlir::MLIRContext &ctx,
                                                   const std::string &bytes,
                                                   const std::string &modelDir,
                                                   const std::string &displayName,
                                                   const ImportOptions &options = {});

/// A graph input as listGraphInputs() reports it.
struct GraphInputInfo {
  std::string name;
  int dtype;    // ONNX TensorProto.DataType of the tensor or of the elements
  int kind = 0; // 0 tensor, 1 sequence of tensors, 2 optional (of a tensor or sequence)
};
/// The graph inputs that are not initializers, in order, without importing the graph.
/// Emits errors (maps and sparse tensors are refused).
mlir::LogicalResult listGraphInputs(mlir::MLIRContext &ctx, const std::string &path,
                                    std::vector<GraphInputInfo> &inputs,
                                    uint64_t maxModelBytes = ImportOptions::kDefaultMaxModelBytes);

/// The ONNX op types dlc imports, sorted.
std::vector<std::string> supportedOpTypes();

} // namespace dlc::importer

#endif // DLC_LIB_IMPORTER_IMPORTER_H
