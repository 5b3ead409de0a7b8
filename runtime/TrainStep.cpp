//===- TrainStep.cpp - Running a compiled training step --------------------===//
//
// The host side of a training step artifact (lib/Compiler/TrainStep.cpp builds it):
// its inputs are bound by the roles of its StepSignature: the batch and label, the
// optimizer's scalar factors for the step number, and the parameters and state, which
// stay in the model as resident values between steps (on the device for CUDA). Shared
// by dlc::TrainingSession and `dlc-run --train` (which runs steps where no compiler is
// installed).
//
//===----------------------------------------------------------------------===//
#include "dlc/runtime.h"

#include <cmath>

namespace dlc {
namespace {

Tensor scalarTensor(double v) {
  Tensor t(DType::Float, {});
  *t.as<float>() = static_cast<float>(v);
  return t;
}

bool isScalarRole(StepRole r) {
  return r == StepRole::StepSize || r == StepRole::MomentumInit || r == StepRole::MomentumKeep ||
         r == StepRole::InvSqrtBiasCorrection || r == StepRole::DecoupledDecay;
}

/// Whether inputs of `role` are updated by the step (an output of the same name).
bool isUpdated(StepRole r) {
  return r == StepRole::Parameter || r == StepRole::Buffer || r == StepRole::OptimizerState;
}

} // namespace

const char *stepRoleName(StepRole role) {
  switch (role) {
  case StepRole::Batch:
    return "batch";
  case StepRole::Label:
    return "label";
  case StepRole::Parameter:
    return "parameter";
  case StepRole::Frozen:
    return "frozen";
  case StepRole::Buffer:
    return "buffer";
  case StepRole::OptimizerState:
    return "optimizer_state";
  case StepRole::Seed:
    return "seed";
  case StepRole::StepSize:
    return "step_size";
  case StepRole::MomentumInit:
    return "momentum_init";
  case StepRole::MomentumKeep:
    return "momentum_keep";
  case StepRole::InvSqrtBiasCorrection:
    return "inv_sqrt_bias_correction";
  case StepRole::DecoupledDecay:
    return "decoupled_decay";
  case StepRole::Loss:
    return "loss";
  case StepRole::LossScale:
    return "loss_scale";
  case StepRole::NonFinite:
    return "non_finite_gradients";
  }
  return "unknown";
}

Status checkLossScaler(const LossScaler &s) {
  if (!(s.scale > 0 && std::isfinite(s.scale) && s.growthFactor >= 1 && s.backoffFactor > 0 &&
        s.backoffFactor < 1 && s.growthInterval >= 1))
    return Status::error("the loss scaler needs a positive finite scale (got " +
                         std::to_string(s.scale) +
                         "), a growth factor of at least 1, a backoff "
                         "factor in (0, 1) and a growth interval of at least 1");
  return Status::ok();
}

double stepScalar(StepRole role, const OptimizerOptions &opt, double lr, int64_t t) {
  bool adam = opt.kind != OptimizerKind::Sgd;
  switch (role) {
  case StepRole::StepSize:
    return adam ? lr / (1 - std::pow(opt.beta1, double(t))) : lr;
  case StepRole::MomentumInit:
    return t == 1 ? 1 : 0;
  case StepRole::MomentumKeep:
    return t == 1 ? 0 : 1;
  case StepRole::InvSqrtBiasCorrection:
    return 1 / std::sqrt(1 - std::pow(opt.beta2, double(t)));
  case StepRole::DecoupledDecay:
    return 1 - lr * opt.weightDecay;
  default:
    return 0;
  }
}

Expected<double> runTrainingStep(Model &step, const std::vector<Tensor> &inputs,
                                 const Tensor &labels, const OptimizerOptions &opt, double lr,
                                 int64_t t, std::map<std::string, Tensor> &state,
                                 LossScaler *scaler) {
  const StepSignature *sig = step.stepSignature();
  if (!sig)
    return Status::error("the artifact is not a training step (it has no step signature)");
  bool scaled = false;
  for (StepRole r : sig->inputs)
    scaled |= r == StepRole::LossScale;
  if (scaled && !scaler)
    return Status::error("the training step scales its loss (fp16): it needs a LossScaler");
  if (scaled)
    if (Status s = checkLossScaler(*scaler); !s)
      return s;
  const std::vector<TensorInfo> &in = step.inputs();
  size_t batch = 0;
  for (StepRole r : sig->inputs)
    batch += r == StepRole::Batch;
  if (inputs.size() != batch)
    return Status::error("the batch has " + std::to_string(inputs.size()) +
                         " inputs; the model takes " + std::to_string(batch));
  auto fromState = [&](size_t i) -> Expected<Tensor> {
    auto it = state.find(in[i].name);
    if (it == state.end())
      return Status::error("the training step needs '" + in[i].name +
                           "', which the state does not hold");
    return it->second;
  };
  // Updated inputs stay in the model from the first step on.
  if (!step.hasResident()) {
    std::map<std::string, Tensor> resident;
    for (size_t i = 0; i < in.size(); ++i) {
      if (!isUpdated(sig->inputs[i]))
        continue;
      Expected<Tensor> v = fromState(i);
      if (!v)
        return v.status();
      resident[in[i].name] = std::move(*v);
    }
    if (Status s = step.setResident(resident); !s)
      return s;
  }
  std::vector<Tensor> args;
  size_t nextBatch = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    StepRole r = sig->inputs[i];
    if (r == StepRole::Batch) {
      args.push_back(inputs[nextBatch++]);
    } else if (r == StepRole::Label) {
      args.push_back(labels);
    } else if (r == StepRole::Seed) {
      // The step number, from which the Dropout masks are hashed: a step draws the
      // same masks on every target and run.
      Tensor seed(DType::Int64, {});
      *seed.as<int64_t>() = t;
      args.push_back(std::move(seed));
    } else if (r == StepRole::LossScale) {
      args.push_back(scalarTensor(scaler->scale));
    } else if (isScalarRole(r)) {
      args.push_back(scalarTensor(stepScalar(r, opt, lr, t)));
    } else if (!isUpdated(r)) {
      Expected<Tensor> v = fromState(i);
      if (!v)
        return v.status();
      args.push_back(std::move(*v));
    }
  }
  Expected<std::vector<Tensor>> out = step.runResident(args);
  if (!out)
    return out.status();
  if (out->empty())
    return Status::error("the training step has no loss output");
  const Tensor &loss = (*out)[0];
  if (scaled) {
    // The outputs that are not resident, in order: the loss, then the count.
    size_t k = 0;
    double nonFinite = -1;
    for (size_t o = 0; o < sig->outputs.size(); ++o) {
      if (sig->outputs[o] == StepRole::NonFinite && k < out->size() &&
          (*out)[k].dtype == DType::Float && (*out)[k].numElements() == 1)
        nonFinite = *(*out)[k].as<float>();
      k += !isUpdated(sig->outputs[o]);
    }
    if (nonFinite < 0)
      return Status::error("the loss-scaled training step has no count of non-finite gradients");
    scaler->lastSkipped = nonFinite != 0;
    if (scaler->lastSkipped) {
      scaler->scale *= scaler->backoffFactor;
      scaler->goodSteps = 0;
      ++scaler->skippedSteps;
    } else if (++scaler->goodSteps >= scaler->growthInterval) {
      scaler->scale *= scaler->growthFactor;
      scaler->goodSteps = 0;
    }
  }
  return loss.dtype == DType::Double ? *loss.as<double>() : double(*loss.as<float>());
}

Status fetchTrainingState(Model &step, std::map<std::string, Tensor> &state) {
  if (!step.hasResident())
    return Status::ok();
  Expected<std::map<std::string, Tensor>> values = step.residentValues();
  if (!values)
    return values.status();
  for (auto &[name, value] : *values)
    state[name] = std::move(value);
  return Status::ok();
}

} // namespace dlc
