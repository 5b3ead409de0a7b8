//===- TrainingSession.cpp - The training API (dlc/train.h) ---------------===//
//
// A TrainingSession holds the compiled step (TrainStep.cpp) and a forward model for
// evaluation, the parameters and optimizer state, and the step count. Steps run through
// the runtime's runTrainingStep; checkpoints use the format of Checkpoint.cpp.
//
//===----------------------------------------------------------------------===//
#include "Checkpoint.h"
#include "Compiler.h"
#include "TrainStep.h"

#include "lib/Importer/Importer.h"

#include "onnx/defs/parser.h"
#include "onnx/onnx_pb.h"

#include <cmath>
#include <fstream>
#include <iterator>

using namespace mlir;

namespace dlc {

struct TrainingSession::Impl {
  TrainOptions options;
  std::string path;
  compiler::StepLayout layout;
  std::unique_ptr<Model> stepModel, evalModel;
  std::vector<TensorInfo> inputs; // graph inputs as the step takes them
  TensorInfo labels;
  /// Parameters, buffers and optimizer state. After the first step they live in the
  /// step model (on the device for CUDA); `values` holds them again after sync().
  std::map<std::string, Tensor> values;
  bool stale = false;
  int64_t steps = 0;
  double lr = 0;
  /// Loss scaling's state, when the step has a LossScale input.
  std::optional<LossScaler> scaler;

  Status sync() {
    if (!stale)
      return Status::ok();
    if (Status s = fetchTrainingState(*stepModel, values); !s)
      return s;
    stale = false;
    return Status::ok();
  }
};

TrainingSession::TrainingSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TrainingSession::~TrainingSession() = default;

Expected<std::unique_ptr<TrainingSession>> TrainingSession::create(const std::string &onnxPath,
                                                                   const TrainOptions &options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->path = onnxPath;
  impl->lr = options.optimizer.lr;

  // The step function.
  auto compiled =
      compiler::compileStep(onnxPath, options, EmitKind::Artifact, impl->layout, impl->values);
  if (!compiled)
    return compiled.status();
  auto step = Model::loadBytes(compiled->bytes.data(), compiled->bytes.size());
  if (!step)
    return step.status();
  impl->stepModel = std::move(*step);
  const StepSignature &sig = impl->layout.signature;
  for (size_t i = 0; i < sig.inputs.size(); ++i) {
    if (sig.inputs[i] == StepRole::Batch)
      impl->inputs.push_back(impl->stepModel->inputs()[i]);
    if (sig.inputs[i] == StepRole::Label)
      impl->labels = impl->stepModel->inputs()[i];
    if (sig.inputs[i] == StepRole::LossScale)
      impl->scaler = options.lossScaler;
  }
  if (impl->scaler)
    if (Status s = checkLossScaler(*impl->scaler); !s)
      return s;
  CompileOptions copts = compiler::compileOptionsFor(options);
  // The forward pass for evaluation, any batch size, parameters as inputs.
  {
    auto ctx = compiler::makeContext();
    compiler::ErrorCollector errors(*ctx);
    importer::ImportOptions io;
    io.initializersAsArguments = true;
    io.maxModelBytes = options.compile.maxModelBytes;
    OwningOpRef<ModuleOp> module = importer::importModelFile(*ctx, onnxPath, io);
    if (!module)
      return errors.status("cannot import " + onnxPath);
    auto compiled = compiler::compileImported(*ctx, *module, copts);
    if (!compiled)
      return Status::error("compiling the evaluation model: " + compiled.message());
    auto model = Model::loadBytes(compiled->bytes.data(), compiled->bytes.size());
    if (!model)
      return model.status();
    impl->evalModel = std::move(*model);
  }
  return std::unique_ptr<TrainingSession>(new TrainingSession(std::move(impl)));
}

const std::vector<TensorInfo> &TrainingSession::inputs() const { return impl_->inputs; }

const TensorInfo &TrainingSession::labels() const { return impl_->labels; }

const std::vector<std::string> &TrainingSession::trainedParameters() const {
  return impl_->layout.trained;
}

Expected<Tensor> TrainingSession::parameter(const std::string &name) const {
  if (Status s = impl_->sync(); !s)
    return s;
  auto it = impl_->values.find(name);
  if (it == impl_->values.end())
    return Status::error("no parameter named '" + name + "'");
  return it->second;
}

Expected<double> TrainingSession::step(const std::vector<Tensor> &inputs, const Tensor &labels) {
  Impl &m = *impl_;
  if (m.options.loss == LossKind::CrossEntropy && labels.dtype == DType::Int64) {
    // A label outside the classes would silently count as no class at all.
    int64_t c = m.layout.numClasses;
    for (int64_t i = 0; i < labels.numElements(); ++i) {
      int64_t l = labels.as<int64_t>()[i];
      if (l < 0 || l >= c)
        return Status::error("label " + std::to_string(l) + " of sample " + std::to_string(i) +
                             " is not a class of the model's " + std::to_string(c) + " outputs");
    }
  }
  Expected<double> loss = runTrainingStep(*m.stepModel, inputs, labels, m.options.optimizer, m.lr,
                                          m.steps + 1, m.values, m.scaler ? &*m.scaler : nullptr);
  m.stale = true;
  if (loss && !(m.scaler && m.scaler->lastSkipped))
    ++m.steps;
  return loss;
}

Expected<std::vector<Tensor>> TrainingSession::predict(const std::vector<Tensor> &inputs) {
  Impl &m = *impl_;
  if (Status s = m.sync(); !s)
    return s;
  std::vector<Tensor> args(inputs);
  const auto &in = m.evalModel->inputs();
  for (size_t i = inputs.size(); i < in.size(); ++i) {
    auto it = m.values.find(in[i].name);
    if (it == m.values.end())
      return Status::error("the evaluation model's input '" + in[i].name +
                           "' is not a parameter (give every graph input)");
    args.push_back(it->second);
  }
  return m.evalModel->run(args);
}

Expected<EvalResult> TrainingSession::evaluate(const std::vector<Tensor> &inputs,
                                               const Tensor &labels) {
  Expected<std::vector<Tensor>> out = predict(inputs);
  if (!out)
    return out.status();
  const Tensor &y = (*out)[0];
  auto at = [&](int64_t i) {
    return y.dtype == DType::Double ? y.as<double>()[i] : double(y.as<float>()[i]);
  };
  EvalResult r;
  if (impl_->options.loss == LossKind::CrossEntropy) {
    if (y.shape.size() != 2 || labels.dtype != DType::Int64 || labels.numElements() != y.shape[0])
      return Status::error("cross-entropy evaluation needs logits [N, C] and int64 labels [N]");
    int64_t n = y.shape[0], c = y.shape[1], correct = 0;
    double total = 0;
    for (int64_t i = 0; i < n; ++i) {
      double mx = -INFINITY;
      int64_t best = 0;
      for (int64_t j = 0; j < c; ++j)
        if (at(i * c + j) > mx)
          mx = at(i * c + j), best = j;
      double sum = 0;
      for (int64_t j = 0; j < c; ++j)
        sum += std::exp(at(i * c + j) - mx);
      int64_t l = labels.as<int64_t>()[i];
      if (l >= 0 && l < c)
        total += -(at(i * c + l) - mx - std::log(sum));
      correct += best == l;
    }
    r.count = n;
    r.loss = n ? total / n : 0;
    r.accuracy = n ? double(correct) / n : 0;
    return r;
  }
  if (labels.numElements() != y.numElements())
    return Status::error("the MSE target has " + std::to_string(labels.numElements()) +
                         " elements; the output has " + std::to_string(y.numElements()));
  double total = 0;
  for (int64_t i = 0; i < y.numElements(); ++i) {
    double t =
        labels.dtype == DType::Double ? labels.as<double>()[i] : double(labels.as<float>()[i]);
    total += (at(i) - t) * (at(i) - t);
  }
  r.count = y.shape.empty() ? 1 : y.shape[0];
  r.loss = y.numElements() ? total / y.numElements() : 0;
  return r;
}

void TrainingSession::setLearningRate(double lr) { impl_->lr = lr; }
double TrainingSession::learningRate() const { return impl_->lr; }
int64_t TrainingSession::stepCount() const { return impl_->steps; }
const LossScaler *TrainingSession::lossScaler() const {
  return impl_->scaler ? &*impl_->scaler : nullptr;
}

Status TrainingSession::exportOnnx(const std::string &path) const {
  onnx::ModelProto model;
  {
    std::ifstream in(impl_->path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bool text =
        impl_->path.size() > 8 && impl_->path.compare(impl_->path.size() - 8, 8, ".onnxtxt") == 0;
    bool ok = in.good() || in.eof();
    ok = ok && (text ? onnx::OnnxParser::Parse(model, bytes.c_str()).IsOK()
                     : model.ParseFromString(bytes));
    if (!ok)
      return Status::error("cannot read " + impl_->path + " to export it");
  }
  if (Status s = impl_->sync(); !s)
    return s;
  for (onnx::TensorProto &t : *model.mutable_graph()->mutable_initializer()) {
    auto it = impl_->values.find(t.name());
    if (it == impl_->values.end())
      continue;
    const Tensor &v = it->second;
    t.clear_float_data();
    t.clear_double_data();
    t.clear_external_data();
    t.set_data_location(onnx::TensorProto::DEFAULT);
    t.set_raw_data(std::string(v.data.begin(), v.data.end()));
  }
  std::ofstream out(path, std::ios::binary);
  if (!out || !model.SerializeToOstream(&out))
    return Status::error("cannot write " + path);
  return Status::ok();
}

namespace {
/// The checkpoint entry of the loss scaler's state: scale, good steps, skipped steps.
constexpr const char *kScalerEntry = "dlc:loss_scaler";

Tensor scalerEntry(const LossScaler &s) {
  Tensor t(DType::Double, {3});
  double *d = t.as<double>();
  d[0] = s.scale, d[1] = double(s.goodSteps), d[2] = double(s.skippedSteps);
  return t;
}
} // namespace

Status TrainingSession::saveCheckpoint(const std::string &path) const {
  if (Status s = impl_->sync(); !s)
    return s;
  compiler::Checkpoint c{impl_->steps, impl_->lr, impl_->values};
  if (impl_->scaler)
    c.values[kScalerEntry] = scalerEntry(*impl_->scaler);
  return compiler::writeCheckpoint(path, c);
}

Status TrainingSession::loadCheckpoint(const std::string &path) {
  if (Status s = impl_->sync(); !s) // The names, shapes and dtypes to check against.
    return s;
  std::map<std::string, Tensor> like = impl_->values;
  if (impl_->scaler)
    like[kScalerEntry] = scalerEntry(*impl_->scaler);
  Expected<compiler::Checkpoint> c = compiler::readCheckpoint(path, like);
  if (!c)
    return c.status();
  if (impl_->scaler) {
    const double *d = c->values[kScalerEntry].as<double>();
    if (!(d[0] > 0 && std::isfinite(d[0]) && d[1] >= 0 && d[2] >= 0))
      return Status::error(path + ": the loss scaler's state is corrupt");
    impl_->scaler->scale = d[0];
    impl_->scaler->goodSteps = int64_t(d[1]);
    impl_->scaler->skippedSteps = int64_t(d[2]);
    c->values.erase(kScalerEntry);
  }
  impl_->values = std::move(c->values);
  // The next step takes the loaded values to the step model.
  if (Status s = impl_->stepModel->setResident({}); !s)
    return s;
  impl_->steps = c->steps;
  impl_->lr = c->lr;
  return Status::ok();
}

} // namespace dlc
