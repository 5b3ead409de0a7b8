//===- Train.cpp - Training step construction and the training session ----===//
//
// The step function of a TrainingSession, built in the dlc dialect from the imported
// model:
//   1. float initializers become arguments (parameters); inputs get the batch size;
//   2. BatchNormalization runs in training mode: batch statistics from primitives, and
//      the updated running statistics become results;
//   3. the loss of the first output against a `label` argument;
//   4. dlc-autodiff's gradients of the trained parameters;
//   5. the optimizer update (torch.optim's formulas), with the learning rate and the
//      step-dependent factors computed on the host as scalar arguments.
// Arguments: graph inputs, label, parameters, optimizer state, lr, s1, s2.
// Results: loss, new trained parameters, new optimizer state, new running statistics.
// It compiles like any model (fusion, tiling, codegen) to an artifact the runtime runs.
//
//===----------------------------------------------------------------------===//
#include "Compiler.h"
#include "dlc/train.h"

#include "dialects/DlcDialect.h"
#include "lib/Importer/Importer.h"
#include "passes/Autodiff.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include "onnx/defs/parser.h"
#include "onnx/onnx_pb.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>

using namespace mlir;

namespace dlc {
namespace {

/// Host tensor of an f32/f64 ElementsAttr (dense or resource blob).
Expected<Tensor> toTensor(ElementsAttr attr) {
  auto type = cast<RankedTensorType>(attr.getType());
  Type et = type.getElementType();
  DType dt = et.isF32() ? DType::Float : et.isF64() ? DType::Double : DType::Undefined;
  if (dt == DType::Undefined)
    return Status::error("only float32 and float64 parameters can be trained");
  Tensor t(dt, std::vector<int64_t>(type.getShape().begin(), type.getShape().end()));
  size_t bytes = t.data.size();
  if (auto r = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = r.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != bytes)
      return Status::error("a parameter's data is missing");
    std::memcpy(t.data.data(), blob->getData().data(), bytes);
    return t;
  }
  auto dense = cast<DenseElementsAttr>(attr);
  ArrayRef<char> raw = dense.getRawData();
  size_t eb = dtypeSize(dt);
  for (size_t i = 0; i < bytes; i += eb)
    std::memcpy(t.data.data() + i, raw.data() + (dense.isSplat() ? 0 : i), eb);
  return t;
}

/// What the step artifact's arguments and results hold, by name.
struct StepLayout {
  std::vector<std::string> params;  ///< float initializers, graph order
  std::vector<std::string> trained; ///< parameters updated by the optimizer
  std::vector<std::string> buffers; ///< BatchNorm running statistics
  std::vector<std::string> state;   ///< optimizer state ("<param>.momentum_buffer", ...)
  int64_t numClasses = 0;           ///< cross-entropy: classes of the logits
  bool hasSeed = false;             ///< a "seed" input (training Dropout)
};

class StepBuilder {
public:
  StepBuilder(const TrainOptions &o, StepLayout &layout) : o(o), layout(layout) {}

  LogicalResult build(func::FuncOp func, size_t numGraphInputs) {
    Block &body = func.getBody().front();
    auto names = func->getAttrOfType<ArrayAttr>(attrs::kInputNames);
    SmallVector<Attribute> inNames(names.begin(), names.end());
    std::set<std::string> frozen(o.freeze.begin(), o.freeze.end());
    for (size_t i = numGraphInputs; i < func.getNumArguments(); ++i) {
      std::string n = cast<StringAttr>(names[i]).str();
      layout.params.push_back(n);
      paramArg[n] = func.getArgument(i);
    }
    for (const std::string &f : o.freeze)
      if (!paramArg.count(f))
        return func.emitError("--freeze names '")
                   << f << "', which is not a float initializer of the model",
               failure();

    auto ret = cast<func::ReturnOp>(body.getTerminator());
    OpBuilder b(ret);
    GraphBuilder g(b, func.getLoc());

    // 2. BatchNormalization in training mode.
    SmallVector<std::pair<std::string, Value>> newBuffers;
    SmallVector<BatchNormOp> bns(body.getOps<BatchNormOp>());
    for (BatchNormOp bn : bns) {
      if (failed(trainingBatchNorm(g, bn, newBuffers)))
        return failure();
    }
    for (auto &[n, v] : newBuffers)
      layout.buffers.push_back(n);

    // 2b. Dropout in training mode: y = x * (u >= ratio) / (1 - ratio), u uniform in
    // [0, 1) from a counter-based hash of the step's "seed" input (the step number, set
    // by runTrainingStep), so every target draws the same masks.
    SmallVector<DropoutOp> dropouts(body.getOps<DropoutOp>());
    Value seed;
    int64_t salt = 0;
    for (DropoutOp d : dropouts) {
      b.setInsertionPoint(d);
      g.loc = d.getLoc();
      auto xt = cast<RankedTensorType>(d.getX().getType());
      double ratio = d.getRatio().convertToFloat();
      if (ratio == 0) {
        d.getY().replaceAllUsesWith(d.getX());
        d.erase();
        continue;
      }
      if (!xt.hasStaticShape() || !isa<FloatType>(xt.getElementType()))
        return d.emitError("training Dropout needs a float input of static shape, got ")
                   << xt,
               failure();
      if (!seed) {
        seed = body.addArgument(RankedTensorType::get({}, b.getI64Type()), func.getLoc());
        inNames.push_back(b.getStringAttr("seed"));
      }
      auto ut = RankedTensorType::get(xt.getShape(), b.getF32Type());
      Value u = RandomUniformOp::create(b, g.loc, ut, seed, b.getDenseI64ArrayAttr(xt.getShape()),
                                        b.getI64IntegerAttr(salt++));
      Type et = xt.getElementType();
      Value keep = g.make<GreaterOrEqualOp>(b.getI1Type(), u, g.scalar(ratio, b.getF32Type()));
      Value mask = g.mul(g.castTo(keep, et), g.scalar(1.0 / (1.0 - ratio), et));
      d.getY().replaceAllUsesWith(g.mul(d.getX(), mask));
      d.erase();
    }
    layout.hasSeed = static_cast<bool>(seed);

    // 3. The loss; the label becomes an argument after the graph inputs.
    b.setInsertionPoint(ret);
    g.loc = func.getLoc();
    if (ret.getNumOperands() == 0)
      return func.emitError("the model has no output to train"), failure();
    Value out = ret.getOperand(0);
    auto outType = cast<RankedTensorType>(out.getType());
    Type et = outType.getElementType();
    if (!isa<FloatType>(et))
      return func.emitError("the first output is ")
                 << et << "; training needs a float output",
             failure();
    Value loss;
    BlockArgument label;
    if (o.loss == LossKind::CrossEntropy) {
      if (outType.getRank() != 2)
        return func.emitError("cross-entropy needs the first output to be logits "
                              "[batch, classes], got ")
                   << outType,
               failure();
      int64_t n = outType.getDimSize(0), c = outType.getDimSize(1);
      layout.numClasses = c;
      label = body.insertArgument(numGraphInputs,
                                  RankedTensorType::get({n}, b.getI64Type()), func.getLoc());
      Value logp = g.make<LogSoftmaxOp>(et, out, (int64_t)1);
      SmallVector<int64_t> iota(c);
      for (int64_t i = 0; i < c; ++i)
        iota[i] = i;
      auto iotaType = RankedTensorType::get({1, c}, b.getI64Type());
      Value range =
          ConstantOp::create(b, g.loc, iotaType, DenseElementsAttr::get(iotaType, ArrayRef(iota)));
      Value hit = g.make<EqualOp>(b.getI1Type(), g.reshape(label, {n, 1}), range);
      Value picked = g.mul(g.castTo(hit, et), logp);
      loss = g.mul(g.reduceSum(picked, {}, false), g.scalar(-1.0 / n, et));
    } else {
      label = body.insertArgument(numGraphInputs, outType, func.getLoc());
      Value d = g.sub(out, label);
      loss = g.reduceMean(g.mul(d, d), {}, false);
    }
    inNames.insert(inNames.begin() + numGraphInputs, b.getStringAttr("label"));
    func.setFunctionType(b.getFunctionType(body.getArgumentTypes(), func.getResultTypes()));

    // 4. Gradients of the trained parameters.
    SmallVector<Value> results{loss};
    for (auto &[n, v] : newBuffers)
      results.push_back(v);
    auto newRet = func::ReturnOp::create(b, ret.getLoc(), results);
    ret.erase();
    ret = newRet;
    std::set<std::string> isBuffer(layout.buffers.begin(), layout.buffers.end());
    for (const std::string &n : layout.params) {
      if (frozen.count(n) || isBuffer.count(n))
        continue;
      layout.trained.push_back(n);
      Value arg = paramArg[n];
      func.setArgAttr(cast<BlockArgument>(arg).getArgNumber(), attrs::kTrainable,
                      b.getUnitAttr());
    }
    if (layout.trained.empty())
      return func.emitError("no parameter is left to train"), failure();
    func.setFunctionType(b.getFunctionType(body.getArgumentTypes(), TypeRange(ValueRange(results))));
    if (failed(differentiate(func)))
      return failure();
    ret = cast<func::ReturnOp>(body.getTerminator());
    SmallVector<Value> grads(ret.getOperands().drop_front(1 + newBuffers.size()));

    // 5. The optimizer update.
    b.setInsertionPoint(ret);
    auto scalarType = RankedTensorType::get({}, b.getF32Type());
    Value lr = body.addArgument(scalarType, func.getLoc());
    Value s1 = body.addArgument(scalarType, func.getLoc());
    Value s2 = body.addArgument(scalarType, func.getLoc());
    SmallVector<Value> newParams, newState, stateArgs;
    const OptimizerOptions &opt = o.optimizer;
    for (auto [n, grad] : llvm::zip(layout.trained, grads)) {
      Value p = paramArg[n];
      Type pt = cast<ShapedType>(p.getType()).getElementType();
      auto ptype = cast<RankedTensorType>(p.getType());
      Value lrp = g.castTo(lr, pt), s1p = g.castTo(s1, pt), s2p = g.castTo(s2, pt);
      auto c = [&](double v) { return g.scalar(v, pt); };
      auto addState = [&](const std::string &suffix) {
        layout.state.push_back(n + "." + suffix);
        Value a = body.addArgument(ptype, func.getLoc());
        stateArgs.push_back(a);
        return a;
      };
      if (opt.kind == OptimizerKind::Sgd) {
        Value d = opt.weightDecay ? g.add(grad, g.mul(p, c(opt.weightDecay))) : grad;
        if (opt.momentum != 0) {
          // buf = g on the first step (s1 = 1, s2 = 0), else momentum * buf +
          // (1 - dampening) * g (s1 = 0, s2 = 1).
          Value buf = addState("momentum_buffer");
          Value later = g.add(g.mul(buf, c(opt.momentum)), g.mul(d, c(1 - opt.dampening)));
          Value nb = g.add(g.mul(s1p, d), g.mul(s2p, later));
          newState.push_back(nb);
          d = opt.nesterov ? g.add(d, g.mul(nb, c(opt.momentum))) : nb;
        }
        newParams.push_back(g.sub(p, g.mul(lrp, d)));
        continue;
      }
      // Adam / AdamW: lr = step size lr / (1 - beta1^t), s1 = 1 / sqrt(1 - beta2^t),
      // s2 = 1 - lr * weight decay (AdamW).
      Value m = addState("exp_avg");
      Value v = addState("exp_avg_sq");
      Value d = grad, p1 = p;
      if (opt.weightDecay != 0) {
        if (opt.kind == OptimizerKind::AdamW)
          p1 = g.mul(p, s2p);
        else
          d = g.add(grad, g.mul(p, c(opt.weightDecay)));
      }
      Value nm = g.add(g.mul(m, c(opt.beta1)), g.mul(d, c(1 - opt.beta1)));
      Value nv = g.add(g.mul(v, c(opt.beta2)), g.mul(g.mul(d, d), c(1 - opt.beta2)));
      Value denom = g.add(g.mul(g.sqrt(nv), s1p), c(opt.eps));
      newParams.push_back(g.sub(p1, g.mul(lrp, g.div(nm, denom))));
      newState.push_back(nm);
      newState.push_back(nv);
    }

    SmallVector<Value> finalResults{loss};
    finalResults.append(newParams);
    finalResults.append(newState);
    for (auto &[n, v] : newBuffers)
      finalResults.push_back(v);
    func::ReturnOp::create(b, ret.getLoc(), finalResults);
    ret.erase();

    // Argument order: graph inputs, label, parameters, [seed,] lr, s1, s2, state.
    for (const std::string &s : layout.state)
      inNames.push_back(b.getStringAttr(s));
    SmallVector<Attribute> ordered(inNames.begin(), inNames.end());
    // Names so far are for: inputs, label, params, [seed,] state (appended). The block
    // has inputs, label, params, [seed,] lr, s1, s2, state: insert the scalar names.
    size_t scalarsAt = numGraphInputs + 1 + layout.params.size() + (layout.hasSeed ? 1 : 0);
    ordered.insert(ordered.begin() + scalarsAt,
                   {b.getStringAttr("lr"), b.getStringAttr("s1"), b.getStringAttr("s2")});
    SmallVector<Attribute> outNames{b.getStringAttr("loss")};
    for (const std::string &n : layout.trained)
      outNames.push_back(b.getStringAttr(n));
    for (const std::string &n : layout.state)
      outNames.push_back(b.getStringAttr(n));
    for (const std::string &n : layout.buffers)
      outNames.push_back(b.getStringAttr(n));
    SmallVector<Attribute> dimNames;
    for (BlockArgument a : body.getArguments())
      dimNames.push_back(b.getArrayAttr(SmallVector<Attribute>(
          cast<RankedTensorType>(a.getType()).getRank(), b.getStringAttr(""))));
    func->setAttr(attrs::kInputNames, b.getArrayAttr(ordered));
    func->setAttr(attrs::kOutputNames, b.getArrayAttr(outNames));
    func->setAttr(attrs::kInputDimNames, b.getArrayAttr(dimNames));
    func.setFunctionType(
        b.getFunctionType(body.getArgumentTypes(), TypeRange(ValueRange(finalResults))));
    SmallVector<DictionaryAttr> noAttrs(finalResults.size(), b.getDictionaryAttr({}));
    func.setAllResultAttrs(noAttrs);
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      func.setArgAttrs(i, b.getDictionaryAttr({}));
    return success();
  }

private:
  LogicalResult trainingBatchNorm(GraphBuilder &g, BatchNormOp bn,
                                  SmallVectorImpl<std::pair<std::string, Value>> &buffers) {
    std::string meanName, varName;
    for (auto &[n, v] : paramArg) {
      if (v == bn.getMean())
        meanName = n;
      if (v == bn.getVar())
        varName = n;
    }
    if (meanName.empty() || varName.empty())
      return bn.emitOpError("in training needs its running mean and variance to be "
                            "initializers"),
             failure();
    g.b.setInsertionPoint(bn);
    g.loc = bn.getLoc();
    Value x = bn.getX();
    auto xt = cast<RankedTensorType>(x.getType());
    Type et = xt.getElementType();
    int64_t rank = xt.getRank(), ch = xt.getDimSize(1), count = 1;
    SmallVector<int64_t> axes{0}, bshape(rank, 1);
    bshape[1] = ch;
    count *= xt.getDimSize(0);
    for (int64_t i = 2; i < rank; ++i) {
      axes.push_back(i);
      count *= xt.getDimSize(i);
    }
    Value mean = g.reduceMean(x, axes, true);
    Value centered = g.sub(x, mean);
    Value var = g.reduceMean(g.mul(centered, centered), axes, true);
    Value inv = g.div(g.scalar(1, et),
                      g.sqrt(g.add(var, g.scalar(bn.getEpsilon().convertToFloat(), et))));
    Value y = g.add(g.mul(g.mul(centered, inv), g.reshape(bn.getScale(), bshape)),
                    g.reshape(bn.getBias(), bshape));
    bn.getY().replaceAllUsesWith(y);
    double m = o.batchNormMomentum;
    double unbias = count > 1 ? double(count) / double(count - 1) : 1.0;
    Value newMean = g.add(g.mul(bn.getMean(), g.scalar(1 - m, et)),
                          g.mul(g.reshape(mean, {ch}), g.scalar(m, et)));
    Value newVar = g.add(g.mul(bn.getVar(), g.scalar(1 - m, et)),
                         g.mul(g.reshape(var, {ch}), g.scalar(m * unbias, et)));
    // Results are built at the end of the function; the values dominate the return.
    buffers.push_back({meanName, newMean});
    buffers.push_back({varName, newVar});
    bn.erase();
    return success();
  }

  const TrainOptions &o;
  StepLayout &layout;
  std::map<std::string, Value> paramArg;
};

/// What a first step reads besides the batch: the initializers' values and zero
/// optimizer state ("<param>.<suffix>", shaped as its parameter).
Status initialState(const std::map<std::string, Attribute> &initial, const StepLayout &layout,
                    std::map<std::string, Tensor> &out) {
  for (const auto &[name, attr] : initial) {
    Expected<Tensor> t = toTensor(cast<ElementsAttr>(attr));
    if (!t)
      return Status::error("initializer '" + name + "': " + t.message());
    out[name] = std::move(*t);
  }
  for (const std::string &s : layout.state) {
    const Tensor &p = out.at(s.substr(0, s.rfind('.')));
    Tensor z(p.dtype, p.shape);
    std::fill(z.data.begin(), z.data.end(), 0);
    out[s] = std::move(z);
  }
  return Status::ok();
}

CompileOptions compileOptionsFor(const TrainOptions &o) {
  CompileOptions c = o.compile;
  c.emit = EmitKind::Artifact;
  c.shapeTensorInputs.clear();
  return c;
}

/// Imports the model and builds its step function; null (with a diagnostic) on error.
OwningOpRef<ModuleOp> buildStepModule(MLIRContext &ctx, const std::string &onnxPath,
                                      const TrainOptions &options, StepLayout &layout,
                                      std::map<std::string, Attribute> &initial) {
  importer::ImportOptions io;
  io.initializersAsArguments = true;
  io.initializerValues = &initial;
  io.dynamicDimValue = options.batchSize;
  io.training = true;
  OwningOpRef<ModuleOp> module = importer::importModelFile(ctx, onnxPath, io);
  if (!module)
    return nullptr;
  auto main = module->lookupSymbol<func::FuncOp>("main");
  size_t numGraphInputs = main.getNumArguments() - initial.size();
  StepBuilder builder(options, layout);
  if (failed(builder.build(main, numGraphInputs)))
    return nullptr;
  return module;
}

/// Builds and compiles the step function to the stage `emit`; fills `layout` and the
/// state a first step reads (initial parameters, zero optimizer state).
Expected<CompileResult> compileStep(const std::string &onnxPath, const TrainOptions &options,
                                    EmitKind emit, StepLayout &layout,
                                    std::map<std::string, Tensor> &state) {
  if (options.batchSize < 1)
    return Status::error("the batch size must be at least 1");
  CompileOptions copts = compileOptionsFor(options);
  copts.emit = emit;
  if (Status s = compiler::checkTarget(copts); !s)
    return s;
  auto ctx = compiler::makeContext();
  compiler::ErrorCollector errors(*ctx);
  std::map<std::string, Attribute> initial;
  OwningOpRef<ModuleOp> module = buildStepModule(*ctx, onnxPath, options, layout, initial);
  if (!module)
    return errors.status("cannot build the training step of " + onnxPath);
  if (Status st = initialState(initial, layout, state); !st)
    return st;
  return compiler::compileImported(*ctx, *module, copts);
}

} // namespace

struct TrainingSession::Impl {
  TrainOptions options;
  std::string path;
  StepLayout layout;
  std::unique_ptr<Model> stepModel, evalModel;
  std::vector<TensorInfo> inputs; // graph inputs as the step takes them
  /// Parameters, buffers and optimizer state. After the first step they live in the
  /// step model (on the device for CUDA); `values` holds them again after sync().
  std::map<std::string, Tensor> values;
  bool stale = false;
  int64_t steps = 0;
  double lr = 0;

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

Expected<std::unique_ptr<TrainingSession>>
TrainingSession::create(const std::string &onnxPath, const TrainOptions &options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->path = onnxPath;
  impl->lr = options.optimizer.lr;

  // The step function.
  auto compiled =
      compileStep(onnxPath, options, EmitKind::Artifact, impl->layout, impl->values);
  if (!compiled)
    return compiled.status();
  auto step = Model::loadBytes(compiled->bytes.data(), compiled->bytes.size());
  if (!step)
    return step.status();
  impl->stepModel = std::move(*step);
  for (const TensorInfo &in : impl->stepModel->inputs()) {
    if (in.name == "label")
      break;
    impl->inputs.push_back(in);
  }
  CompileOptions copts = compileOptionsFor(options);
  // The forward pass for evaluation, any batch size, parameters as inputs.
  {
    auto ctx = compiler::makeContext();
    compiler::ErrorCollector errors(*ctx);
    importer::ImportOptions io;
    io.initializersAsArguments = true;
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

Expected<CompileResult> compileTrainingStep(const std::string &onnxPath,
                                            const TrainOptions &options, EmitKind emit,
                                            std::map<std::string, Tensor> *state) {
  StepLayout layout;
  std::map<std::string, Tensor> unused;
  return compileStep(onnxPath, options, emit, layout, state ? *state : unused);
}

const std::vector<TensorInfo> &TrainingSession::inputs() const { return impl_->inputs; }

const TensorInfo &TrainingSession::labels() const {
  return impl_->stepModel->inputs()[impl_->inputs.size()];
}

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

Expected<double> TrainingSession::step(const std::vector<Tensor> &inputs,
                                       const Tensor &labels) {
  Impl &m = *impl_;
  if (m.options.loss == LossKind::CrossEntropy && labels.dtype == DType::Int64) {
    // A label outside the classes would silently count as no class at all.
    int64_t c = m.layout.numClasses;
    for (int64_t i = 0; i < labels.numElements(); ++i) {
      int64_t l = labels.as<int64_t>()[i];
      if (l < 0 || l >= c)
        return Status::error("label " + std::to_string(l) + " of sample " +
                             std::to_string(i) + " is not a class of the model's " +
                             std::to_string(c) + " outputs");
    }
  }
  Expected<double> loss =
      runTrainingStep(*m.stepModel, inputs, labels, m.options.optimizer, m.lr, m.steps + 1,
                      m.values);
  m.stale = true;
  if (loss)
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
    if (y.shape.size() != 2 || labels.dtype != DType::Int64 ||
        labels.numElements() != y.shape[0])
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
    double t = labels.dtype == DType::Double ? labels.as<double>()[i]
                                             : double(labels.as<float>()[i]);
    total += (at(i) - t) * (at(i) - t);
  }
  r.count = y.shape.empty() ? 1 : y.shape[0];
  r.loss = y.numElements() ? total / y.numElements() : 0;
  return r;
}

void TrainingSession::setLearningRate(double lr) { impl_->lr = lr; }
double TrainingSession::learningRate() const { return impl_->lr; }
int64_t TrainingSession::stepCount() const { return impl_->steps; }

Status TrainingSession::exportOnnx(const std::string &path) const {
  onnx::ModelProto model;
  {
    std::ifstream in(impl_->path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bool text = impl_->path.size() > 8 &&
                impl_->path.compare(impl_->path.size() - 8, 8, ".onnxtxt") == 0;
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
constexpr char kCheckpointMagic[8] = {'D', 'L', 'C', 'C', 'K', 'P', 'T', '1'};
template <typename T> void put(std::ostream &os, T v) {
  os.write(reinterpret_cast<const char *>(&v), sizeof(T));
}
template <typename T> bool get(std::istream &is, T &v) {
  return bool(is.read(reinterpret_cast<char *>(&v), sizeof(T)));
}
} // namespace

Status TrainingSession::saveCheckpoint(const std::string &path) const {
  if (Status s = impl_->sync(); !s)
    return s;
  std::ofstream os(path, std::ios::binary);
  if (!os)
    return Status::error("cannot write " + path);
  os.write(kCheckpointMagic, sizeof(kCheckpointMagic));
  put<int64_t>(os, impl_->steps);
  put<double>(os, impl_->lr);
  put<uint64_t>(os, impl_->values.size());
  for (const auto &[name, t] : impl_->values) {
    put<uint32_t>(os, name.size());
    os.write(name.data(), name.size());
    put<int32_t>(os, static_cast<int32_t>(t.dtype));
    put<uint32_t>(os, t.shape.size());
    for (int64_t d : t.shape)
      put<int64_t>(os, d);
    put<uint64_t>(os, t.data.size());
    os.write(reinterpret_cast<const char *>(t.data.data()), t.data.size());
  }
  return os ? Status::ok() : Status::error("cannot write " + path);
}

Status TrainingSession::loadCheckpoint(const std::string &path) {
  std::ifstream is(path, std::ios::binary);
  if (!is)
    return Status::error("cannot read " + path);
  char magic[8];
  int64_t steps;
  double lr;
  uint64_t count;
  if (!is.read(magic, 8) || std::memcmp(magic, kCheckpointMagic, 8) != 0)
    return Status::error(path + " is not a dlc checkpoint");
  if (!get(is, steps) || !get(is, lr) || !get(is, count))
    return Status::error(path + ": truncated checkpoint");
  if (Status s = impl_->sync(); !s) // The names, shapes and dtypes to check against.
    return s;
  std::map<std::string, Tensor> loaded;
  for (uint64_t i = 0; i < count; ++i) {
    uint32_t len, rank;
    int32_t dtype;
    uint64_t bytes;
    if (!get(is, len) || len > (1u << 16))
      return Status::error(path + ": corrupt checkpoint");
    std::string name(len, '\0');
    if (!is.read(name.data(), len) || !get(is, dtype) || !get(is, rank) || rank > 16)
      return Status::error(path + ": corrupt checkpoint");
    std::vector<int64_t> shape(rank);
    for (int64_t &d : shape)
      if (!get(is, d) || d < 0)
        return Status::error(path + ": corrupt checkpoint");
    if (!get(is, bytes))
      return Status::error(path + ": corrupt checkpoint");
    auto it = impl_->values.find(name);
    if (it == impl_->values.end() || it->second.shape != shape ||
        static_cast<int32_t>(it->second.dtype) != dtype || it->second.data.size() != bytes)
      return Status::error(path + ": tensor '" + name +
                           "' does not match this model's parameters");
    Tensor t(it->second.dtype, shape);
    if (!is.read(reinterpret_cast<char *>(t.data.data()), bytes))
      return Status::error(path + ": truncated checkpoint");
    loaded[name] = std::move(t);
  }
  if (loaded.size() != impl_->values.size())
    return Status::error(path + ": the checkpoint lacks some of this model's tensors");
  impl_->values = std::move(loaded);
  // The next step takes the loaded values to the step model.
  if (Status s = impl_->stepModel->setResident({}); !s)
    return s;
  impl_->steps = steps;
  impl_->lr = lr;
  return Status::ok();
}

} // namespace dlc
