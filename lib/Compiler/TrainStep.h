//===- TrainStep.h - Building and compiling a training step (internal) -*- C++ -*-===//
//
// The step function of dlc train and dlc::TrainingSession, built in the dlc dialect from
// the imported model (TrainStep.cpp), and its signature: what each argument and result
// holds, by name and StepRole. The session (TrainingSession.cpp) and the runtime's
// runTrainingStep (runtime/TrainStep.cpp) work from the signature alone.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_COMPILER_TRAINSTEP_H
#define DLC_LIB_COMPILER_TRAINSTEP_H

#include "dlc/train.h"

#include <map>
#include <string>
#include <vector>

namespace dlc::compiler {

/// A step's parameters by category, and its signature.
struct StepLayout {
  std::vector<std::string> params;  ///< float initializers, graph order
  std::vector<std::string> trained; ///< parameters updated by the optimizer
  std::vector<std::string> buffers; ///< BatchNorm running statistics
  std::vector<std::string> state;   ///< optimizer state ("<param>.momentum_buffer", ...)
  int64_t numClasses = 0;           ///< cross-entropy: classes of the logits
  /// The role of each argument and result, in order (the artifact records it).
  StepSignature signature;
};

/// The compile options of the step and evaluation models of `o`.
CompileOptions compileOptionsFor(const TrainOptions &o);

/// Builds and compiles the step function of the model at `onnxPath` to the stage
/// `emit`; fills `layout` and `state` with what a first step reads besides the batch
/// (initial parameters, zero optimizer state), by input name.
Expected<CompileResult> compileStep(const std::string &onnxPath, const TrainOptions &options,
                                    EmitKind emit, StepLayout &layout,
                                    std::map<std::string, Tensor> &state);

} // namespace dlc::compiler

#endif // DLC_LIB_COMPILER_TRAINSTEP_H
