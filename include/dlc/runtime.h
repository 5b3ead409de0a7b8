//===- runtime.h - Load and run dlc artifacts -------------------*- C++ -*-===//
//
// The runtime API: host tensors, loading a compiled artifact, querying its signature and
// running it. Links no LLVM, MLIR or ONNX: this header includes only the standard library.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_H
#define DLC_RUNTIME_H

#include "dlc/status.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace dlc {

/// Element types, numbered as ONNX's TensorProto.DataType.
enum class DType : int32_t {
  Undefined = 0,
  Float = 1,
  UInt8 = 2,
  Int8 = 3,
  UInt16 = 4,
  Int16 = 5,
  Int32 = 6,
  Int64 = 7,
  String = 8,
  Bool = 9,
  Float16 = 10,
  Double = 11,
  UInt32 = 12,
  UInt64 = 13,
  BFloat16 = 16,
  Float8E4M3FN = 17,
  Float8E4M3FNUZ = 18,
  Float8E5M2 = 19,
  Float8E5M2FNUZ = 20,
  UInt4 = 21,
  Int4 = 22,
  Float4E2M1 = 23,
  Float8E8M0 = 24,
  UInt2 = 25,
  Int2 = 26,
};

/// Bytes per element, or 0 for types the runtime cannot hold (String, Undefined, unknown).
/// The sub-byte types (uint4, int4, float4e2m1, uint2, int2) take one byte per element in
/// memory, their bits in the low bits and the high bits zero; files pack them (.pb) or
/// widen them (.npy: int8/uint8).
size_t dtypeSize(DType t);
/// Bits of an element in ONNX's packed form: 4 or 2 for the sub-byte types, else 8 * size.
unsigned dtypeBits(DType t);
/// numpy-style name: "float32", "int64", "bool", ...; "unknown" otherwise.
const char *dtypeName(DType t);

/// A dense row-major host tensor that owns its bytes.
struct Tensor {
  DType dtype = DType::Float;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data; // numElements() * dtypeSize(dtype) bytes

  Tensor() = default;
  Tensor(DType t, std::vector<int64_t> s);
  int64_t numElements() const;
  template <typename T> T *as() { return reinterpret_cast<T *>(data.data()); }
  template <typename T> const T *as() const { return reinterpret_cast<const T *>(data.data()); }
};

/// What an ONNX graph input holds: a tensor, a sequence of tensors, or an optional.
/// Artifacts take tensors only: sequences and optionals are flattened at compile time.
enum class ValueKind : int8_t { Tensor = 0, Sequence = 1, Optional = 2 };

/// A graph input or output as the artifact declares it; -1 marks a dynamic dim.
struct TensorInfo {
  std::string name;
  DType dtype = DType::Float;
  std::vector<int64_t> shape;
  std::vector<std::string> dimNames; // ONNX dim_param per dim, "" where none
  /// dlc::modelInputs() only: the kind of the ONNX graph input (dtype: its elements').
  ValueKind kind = ValueKind::Tensor;
};

/// Reads a tensor from a .npy file or an ONNX TensorProto .pb file (by extension).
Expected<Tensor> readTensorFile(const std::string &path);
/// A sequence or optional value: its tensors (a sequence's elements, or an optional's
/// one tensor or sequence), and whether an optional holds anything.
struct TensorList {
  std::vector<Tensor> tensors;
  bool present = true;
  bool sequence = false;
};
/// Reads an ONNX SequenceProto (`optional` false) or OptionalProto .pb file.
Expected<TensorList> readTensorListFile(const std::string &path, bool optional);
/// Reads the arrays of a .npz file (numpy.savez, uncompressed), in file order, each
/// named without its ".npy".
Expected<std::vector<std::pair<std::string, Tensor>>> readNpz(const std::string &path);
/// Writes a tensor as a .npy file.
Status writeNpy(const std::string &path, const Tensor &t);
/// Writes arrays as a .npz file (uncompressed, as numpy.savez), each as NAME.npy.
Status writeNpz(const std::string &path, const std::vector<std::pair<std::string, Tensor>> &arrays);

/// Device memory a model used in its last run: the liveness-packed arena of
/// intermediate tensors, and what one buffer per tensor would have taken.
struct MemoryStats {
  uint64_t arenaBytes = 0;
  uint64_t naiveBytes = 0;
};

/// One launch of a profiled run: its kernel, its time, and the bytes its inputs and
/// outputs span (what a memory-bound kernel must move at least).
struct KernelTiming {
  std::string kernel;
  double milliseconds = 0;
  uint64_t bytes = 0;
};

/// What an input or output of a compiled training step holds (dlc train writes one
/// per input and output into the artifact; runTrainingStep binds by them).
enum class StepRole : int8_t {
  Batch = 0,                  ///< input: a graph input, one batch of it
  Label = 1,                  ///< input: the loss's target
  Parameter = 2,              ///< input: a trained parameter; output: its updated value
  Frozen = 3,                 ///< input: a parameter the step does not update
  Buffer = 4,                 ///< input: a BatchNorm running statistic; output: updated
  OptimizerState = 5,         ///< input: optimizer state "<param>.<slot>"; output: updated
  Seed = 6,                   ///< input: int64 step number, hashed into Dropout masks
  StepSize = 7,               ///< input: the learning rate (Adam, AdamW: lr / (1 - beta1^t))
  MomentumInit = 8,           ///< input: SGD with momentum: 1 on the first step, else 0
  MomentumKeep = 9,           ///< input: SGD with momentum: 1 - MomentumInit
  InvSqrtBiasCorrection = 10, ///< input: Adam, AdamW: 1 / sqrt(1 - beta2^t)
  DecoupledDecay = 11,        ///< input: AdamW: 1 - lr * weight decay
  Loss = 12,                  ///< output: the loss, the step's first output
  LossScale = 13,             ///< input: fp16 loss scaling: the factor the loss is
                              ///< multiplied by before the backward pass (LossScaler)
  NonFinite = 14,             ///< output: fp16 loss scaling: how many gradient elements
                              ///< were inf or NaN; when any were, the step left the
                              ///< parameters and optimizer state as they were
};

/// The roles of a training step's inputs and outputs, one per Model::inputs() and
/// Model::outputs(): the contract between the compiler that builds the step and the
/// code that runs it. Updated values (Parameter, Buffer, OptimizerState outputs) have
/// the name of the input they replace.
struct StepSignature {
  std::vector<StepRole> inputs;
  std::vector<StepRole> outputs;
  bool empty() const { return inputs.empty() && outputs.empty(); }
};

/// The name of `role` ("batch", "label", "step_size", ...), for messages and docs.
const char *stepRoleName(StepRole role);

/// OK when a CUDA driver and device are usable; otherwise the one-line reason
/// ("no CUDA driver (libcuda.so.1) found", "no CUDA device", ...).
Status cudaAvailable();

/// How a model is loaded and run. Each setting a tool takes from the environment
/// (DLC_NUM_THREADS, DLC_CUDA_GRAPHS, DLC_CPU_DENORMALS) is a field here; unset fields
/// fall back to it.
struct LoadOptions {
  /// CPU: threads that run a launch's workgroups, the caller's included (0:
  /// $DLC_NUM_THREADS when it is a positive number, else the hardware concurrency).
  unsigned threads = 0;
  /// CUDA: capture repeated runs of one input shape into a CUDA Graph (unset: on,
  /// unless $DLC_CUDA_GRAPHS=0).
  std::optional<bool> cudaGraphs;
  /// CPU (x86): run the kernels with denormal floats read and written as zero (MXCSR
  /// DAZ and FTZ, set around each launch and restored after), as TensorFlow and XLA do
  /// on the CPU and onnxruntime's session.set_denormal_as_zero: exported weights full
  /// of denormals (a PaddleOCR detector's 1x1 Convs) made every multiply-add a
  /// microcode assist, 30-60x slower. A value below 1.2e-38 in magnitude becomes 0.
  /// Unset: on, unless $DLC_CPU_DENORMALS=keep.
  std::optional<bool> flushDenormals;
  /// The most bytes an artifact file may have (loadFile).
  uint64_t maxArtifactBytes = uint64_t(64) << 30;
};

/// A loaded, verified artifact, ready to run.
///
/// Thread-safe: run() may be called from many threads at once. On the CPU every run has
/// its own memory for intermediate tensors, and the runs' launches take turns on the
/// model's thread pool; on CUDA the runs take turns on the model's stream. The resident
/// calls (setResident, runResident, residentValues) serialize with each other.
class Model {
public:
  /// Loads and verifies an artifact file.
  static Expected<std::unique_ptr<Model>> loadFile(const std::string &path,
                                                   const LoadOptions &options = {});
  /// Loads and verifies an artifact held in memory (the bytes are copied).
  static Expected<std::unique_ptr<Model>> loadBytes(const void *data, size_t size,
                                                    const LoadOptions &options = {});
  virtual ~Model();

  /// "cpu" or "cuda".
  virtual std::string target() const = 0;
  virtual const std::vector<TensorInfo> &inputs() const = 0;
  virtual const std::vector<TensorInfo> &outputs() const = 0;
  /// Runs the model; inputs bind to inputs() in order. Checks count, dtype and shape.
  virtual Expected<std::vector<Tensor>> run(const std::vector<Tensor> &inputs) = 0;
  /// Runs the model into `outputs` (resized to outputs().size()): a tensor that already
  /// has an output's dtype and shape keeps its storage, and on the CPU the kernels write
  /// that output there in place (no allocation, no copy: pass the same vector to every
  /// run, as onnxruntime's IOBinding binds outputs); the others are replaced. `outputs`
  /// must not be `inputs` (an error). On error the contents of `outputs` are
  /// unspecified.
  virtual Status runInto(const std::vector<Tensor> &inputs, std::vector<Tensor> &outputs);
  /// Memory of the last run (zero before the first).
  virtual MemoryStats memoryStats() const = 0;
  /// Times every launch of the following runs (CPU: wall clock around each launch;
  /// CUDA: events, without CUDA Graphs). Off by default.
  virtual void setProfiling(bool on) = 0;
  /// Per-launch times of the last profiled run, in launch order.
  virtual std::vector<KernelTiming> lastProfile() const = 0;
  /// Measured copy bandwidth of the target's memory in bytes/s (read + write counted),
  /// the ceiling for memory-bound kernels: a parallel memcpy on the CPU, a
  /// device-to-device copy on CUDA, each of `bytes` bytes, best of a few.
  virtual Expected<double> copyBandwidth(uint64_t bytes) = 0;

  /// Resident inputs: values the model keeps between runs, as a training step keeps
  /// its parameters and optimizer state on the device. Every entry of `values` names an
  /// input that has an output of the same name, dtype and shape; the input takes the
  /// entry's value now and, after each runResident(), that output's value, without a
  /// copy to the host on CUDA. An empty `values` drops them all.
  virtual Status setResident(const std::map<std::string, Tensor> &values);
  /// Runs with the resident inputs bound. `others` binds the other inputs, in order;
  /// returns the outputs that are not resident, in order.
  virtual Expected<std::vector<Tensor>> runResident(const std::vector<Tensor> &others);
  /// The resident values now (copied to the host on CUDA).
  virtual Expected<std::map<std::string, Tensor>> residentValues();
  virtual bool hasResident() const { return !resident_.empty(); }
  /// The step signature of a training-step artifact; null for other models.
  const StepSignature *stepSignature() const { return step_.empty() ? nullptr : &step_; }

protected:
  /// For `values`' names: (input index, output index) pairs, or the error naming the
  /// first that is not an input with a matching output.
  Expected<std::vector<std::pair<size_t, size_t>>>
  residentPairs(const std::map<std::string, Tensor> &values) const;

private:
  std::map<std::string, Tensor> resident_; // the host implementation's values
  std::mutex residentMutex_;                // guards resident_
  StepSignature step_;
};

//===----------------------------------------------------------------------===//
// Training steps (compiled by dlc train / dlc::TrainingSession; see dlc/train.h)
//===----------------------------------------------------------------------===//

enum class OptimizerKind { Sgd, Adam, AdamW };

/// Hyperparameters, with torch.optim's meaning and defaults.
struct OptimizerOptions {
  OptimizerKind kind = OptimizerKind::Sgd;
  double lr = 0.01;
  double momentum = 0;    ///< SGD
  double dampening = 0;   ///< SGD
  bool nesterov = false;  ///< SGD
  double weightDecay = 0; ///< SGD, Adam: L2 added to the gradient; AdamW: decoupled
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8; ///< Adam, AdamW
};

/// Dynamic loss scaling for fp16 training, with torch.amp.GradScaler's rule and
/// defaults. A step compiled with loss scaling (TrainOptions::lossScaling) multiplies
/// the loss by `scale` before the backward pass, so that small gradients survive
/// fp16's range in the tensor-core contractions, divides the gradients by it before
/// the optimizer, and skips the update (parameters and optimizer state unchanged) when
/// a gradient is inf or NaN. runTrainingStep then multiplies `scale` by
/// `backoffFactor`; after `growthInterval` steps in a row without one, by
/// `growthFactor`.
struct LossScaler {
  double scale = 65536.0;
  double growthFactor = 2.0;
  double backoffFactor = 0.5;
  int64_t growthInterval = 2000;
  int64_t goodSteps = 0;    ///< steps since the last skipped step or growth
  int64_t skippedSteps = 0; ///< steps skipped so far
  bool lastSkipped = false; ///< whether the last step was skipped
};

/// OK when `scaler` can drive a step: a positive finite scale, a growth factor of at
/// least 1, a backoff factor in (0, 1), a growth interval of at least 1.
Status checkLossScaler(const LossScaler &scaler);

/// The value of the scalar input `role` (StepSize, MomentumInit, MomentumKeep,
/// InvSqrtBiasCorrection, DecoupledDecay) in step `t` (1-based) with learning rate `lr`.
double stepScalar(StepRole role, const OptimizerOptions &optimizer, double lr, int64_t t);

/// Runs one step of a compiled training step (a model with a stepSignature()): binds
/// the Batch inputs to `inputs` in order, the Label to `labels`, the scalar roles to
/// stepScalar(), the Seed to `t` (int64), and every other input (parameters, optimizer
/// state, running statistics) from `state` by name. Returns the Loss; every updated
/// output replaces the state of its name.
///
/// The first call moves the state into `step` as resident values (on CUDA they stay
/// on the device from then on), and later calls leave `state` as it was: call
/// fetchTrainingState() to read the current values, and step.setResident({}) after
/// changing `state`, so that the next step takes it anew.
///
/// A step with loss scaling (a LossScale input) needs `scaler`: its scale is bound to
/// that input, and it is updated from the step's NonFinite output. A skipped step
/// (scaler->lastSkipped) did not update: do not count it in `t`, as torch's optimizer
/// does not count a step GradScaler skips.
Expected<double> runTrainingStep(Model &step, const std::vector<Tensor> &inputs,
                                 const Tensor &labels, const OptimizerOptions &optimizer, double lr,
                                 int64_t t, std::map<std::string, Tensor> &state,
                                 LossScaler *scaler = nullptr);

/// Copies the current values of `step`'s resident state into `state` (no-op when
/// it has none).
Status fetchTrainingState(Model &step, std::map<std::string, Tensor> &state);

} // namespace dlc

#endif // DLC_RUNTIME_H
