//===- TrainStep.cpp - Running a compiled training step --------------------===//
//
// The host side of a training step artifact (lib/Compiler/Train.cpp builds it): the
// optimizer's scalar factors for the step number, and the parameters and state, which
// stay in the model as resident values between steps (on the device for CUDA). Shared by dlc::TrainingSession and
// `dlc-run --train` (which runs steps where no compiler is installed).
//
//===----------------------------------------------------------------------===//
#include "dlc/runtime.h"

#include <algorithm>
#include <cmath>

namespace dlc {
namespace {

Tensor scalarTensor(double v) {
  Tensor t(DType::Float, {});
  *t.as<float>() = static_cast<float>(v);
  return t;
}

} // namespace

Expected<double> runTrainingStep(Model &step, const std::vector<Tensor> &inputs,
                                 const Tensor &labels, const OptimizerOptions &opt,
                                 double lr, int64_t t, std::map<std::string, Tensor> &state) {
  const std::vector<TensorInfo> &in = step.inputs();
  size_t numInputs = 0;
  while (numInputs < in.size() && in[numInputs].name != "label")
    ++numInputs;
  if (numInputs == in.size())
    return Status::error("the artifact is not a training step (no 'label' input)");
  if (inputs.size() != numInputs)
    return Status::error("the batch has " + std::to_string(inputs.size()) +
                         " inputs; the model takes " + std::to_string(numInputs));
  // The step's scalar factors, computed here so the graph has no scalar-only ops:
  //   SGD:   lr; s1 = 1 on the first step, else 0 (the momentum buffer starts at the
  //          gradient); s2 = 1 - s1;
  //   Adam:  lr / (1 - beta1^t); s1 = 1 / sqrt(1 - beta2^t); s2 = 1 - lr * weight decay
  //          (AdamW's decoupled decay).
  double stepLr = lr, s1 = 0, s2 = 0;
  if (opt.kind == OptimizerKind::Sgd) {
    s1 = t == 1 ? 1 : 0;
    s2 = 1 - s1;
  } else {
    stepLr = lr / (1 - std::pow(opt.beta1, double(t)));
    s1 = 1 / std::sqrt(1 - std::pow(opt.beta2, double(t)));
    s2 = 1 - lr * opt.weightDecay;
  }
  // "seed" (steps with training Dropout): the step number, from which the masks are
  // hashed, so a step draws the same masks on every target and run.
  Tensor seed(DType::Int64, {});
  *seed.as<int64_t>() = t;
  std::map<std::string, Tensor> scalars = {{"lr", scalarTensor(stepLr)},
                                           {"s1", scalarTensor(s1)},
                                           {"s2", scalarTensor(s2)},
                                           {"seed", std::move(seed)}};
  // Inputs the step updates (an output of the same name) stay in the model; the others
  // (frozen parameters) are bound from `state` on every step.
  const std::vector<TensorInfo> &names = step.outputs();
  auto updated = [&](const std::string &name) {
    return std::any_of(names.begin(), names.end(),
                       [&](const TensorInfo &t) { return t.name == name; });
  };
  if (!step.hasResident()) {
    std::map<std::string, Tensor> resident;
    for (size_t i = numInputs + 1; i < in.size(); ++i) {
      if (scalars.count(in[i].name) || !updated(in[i].name))
        continue;
      auto it = state.find(in[i].name);
      if (it == state.end())
        return Status::error("the training step needs '" + in[i].name +
                             "', which the state does not hold");
      resident.insert(*it);
    }
    if (Status s = step.setResident(resident); !s)
      return s;
  }
  std::vector<Tensor> args(inputs);
  args.push_back(labels);
  for (size_t i = numInputs + 1; i < in.size(); ++i) {
    if (auto sc = scalars.find(in[i].name); sc != scalars.end()) {
      args.push_back(std::move(sc->second));
      continue;
    }
    if (updated(in[i].name))
      continue;
    auto it = state.find(in[i].name);
    if (it == state.end())
      return Status::error("the training step needs '" + in[i].name +
                           "', which the state does not hold");
    args.push_back(it->second);
  }
  Expected<std::vector<Tensor>> out = step.runResident(args);
  if (!out)
    return out.status();
  if (out->empty())
    return Status::error("the training step has no 'loss' output");
  // Outputs without an input of their name (none in dlc's steps) update the state here.
  size_t k = 1;
  for (size_t o = 1; o < names.size() && k < out->size(); ++o)
    if (std::none_of(in.begin(), in.end(),
                     [&](const TensorInfo &t) { return t.name == names[o].name; }))
      state[names[o].name] = std::move((*out)[k++]);
  const Tensor &loss = (*out)[0];
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
