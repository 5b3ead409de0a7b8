//===- train.h - Train ONNX models with dlc ---------------------*- C++ -*-===//
//
// The training API. A TrainingSession compiles, from an ONNX model, one step function
// (params, optimizer state, batch) -> (loss, new params, new state) through the same
// fusion, tiling and codegen as inference (the backward graph comes from the
// dlc-autodiff pass), plus the forward model with parameters as inputs for
// evaluation. Parameters and optimizer state stay in the session between steps.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_TRAIN_H
#define DLC_TRAIN_H

#include "dlc/dlc.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dlc {

enum class LossKind {
  CrossEntropy, ///< softmax cross-entropy of the first output (logits, [N, C]) against
                ///< integer class labels [N], averaged over the batch
  Mse,          ///< mean squared error of the first output against a float target
};

struct TrainOptions {
  /// How the step (and the evaluation forward pass) compile: target, CUDA
  /// architecture, fusion and the other code-generation switches (`emit` is ignored).
  CompileOptions compile;
  LossKind loss = LossKind::CrossEntropy;
  OptimizerOptions optimizer;
  /// The step is compiled for this batch size (every dynamic input dim takes it).
  int64_t batchSize = 32;
  /// Float initializers left as they are (all others, except BatchNorm running
  /// statistics, are trained).
  std::vector<std::string> freeze;
  /// BatchNormalization in training mode: batch statistics, running statistics
  /// updated as torch does (momentum 0.1, unbiased variance).
  double batchNormMomentum = 0.1;
  /// Dynamic loss scaling (see LossScaler): unset, on exactly when compile.precision is
  /// fp16, whose small gradients would otherwise flush to zero (and large ones
  /// overflow) where the backward contractions round their operands to fp16.
  std::optional<bool> lossScaling;
  /// The initial scale and the rule of loss scaling (torch.amp.GradScaler's defaults).
  LossScaler lossScaler;

  /// Whether the step scales its loss: `lossScaling`, or else fp16.
  bool scalesLoss() const { return lossScaling.value_or(compile.precision == Precision::Fp16); }
};

/// Loss (and, for cross-entropy, accuracy) of the model on a set of samples.
struct EvalResult {
  double loss = 0;
  double accuracy = 0; ///< fraction of argmax predictions equal to the label (CE only)
  int64_t count = 0;
};

/// Compiles only the step function (no device needed): the artifact a session would
/// run, or the IR or PTX of a stage (`emit` as in CompileOptions), for inspection and
/// for checking the CUDA step without a GPU.
/// With `initialState`, also gives what a first step needs besides the batch: the
/// parameters' initial values and zero optimizer state, by the step's input names
/// (what `dlc-run --train` reads from the .init.npz that `--emit-step artifact` writes).
Expected<CompileResult> compileTrainingStep(const std::string &onnxPath,
                                            const TrainOptions &options,
                                            EmitKind emit = EmitKind::Artifact,
                                            std::map<std::string, Tensor> *initialState = nullptr);

class TrainingSession {
public:
  /// Imports and compiles the model's training step and evaluation forward pass.
  static Expected<std::unique_ptr<TrainingSession>> create(const std::string &onnxPath,
                                                           const TrainOptions &options);
  ~TrainingSession();

  /// The graph inputs a batch holds, in order (the batch dim as compiled for the step).
  const std::vector<TensorInfo> &inputs() const;
  /// The labels a step takes: int64 [batch] for cross-entropy, the first output's
  /// type for MSE.
  const TensorInfo &labels() const;
  /// The names of the trained parameters, in graph order.
  const std::vector<std::string> &trainedParameters() const;
  /// Current value of a float initializer (trained, frozen or running statistic).
  Expected<Tensor> parameter(const std::string &name) const;

  /// One optimizer step on a batch of exactly the compiled batch size: the graph
  /// inputs and the labels (int64 [N] for cross-entropy, the target for MSE). Returns
  /// the batch loss before the update.
  Expected<double> step(const std::vector<Tensor> &inputs, const Tensor &labels);
  /// The model's outputs with the current parameters (inference mode), any batch size.
  Expected<std::vector<Tensor>> predict(const std::vector<Tensor> &inputs);
  /// Loss and accuracy over samples (any count), with the current parameters.
  Expected<EvalResult> evaluate(const std::vector<Tensor> &inputs, const Tensor &labels);

  void setLearningRate(double lr);
  double learningRate() const;
  /// Optimizer steps taken so far (steps skipped by loss scaling do not count).
  int64_t stepCount() const;
  /// The loss scaler's state (scale, skipped steps); null without loss scaling.
  const LossScaler *lossScaler() const;

  /// Writes the ONNX model with its initializers replaced by the current values.
  Status exportOnnx(const std::string &path) const;
  /// Saves / restores parameters, optimizer state, step count and learning rate.
  Status saveCheckpoint(const std::string &path) const;
  Status loadCheckpoint(const std::string &path);

  struct Impl;

private:
  explicit TrainingSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace dlc

#endif // DLC_TRAIN_H
