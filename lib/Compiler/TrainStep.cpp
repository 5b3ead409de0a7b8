//===- TrainStep.cpp - The training step function, built in the dlc dialect ===//
//
// The step function of a TrainingSession, built from the imported model:
//   1. float initializers become arguments (parameters); inputs get the batch size;
//   2. BatchNormalization runs in training mode: batch statistics from primitives, and
//      the updated running statistics become results; Dropout masks from a seed;
//   3. the loss of the first output against a label argument;
//   4. dlc-autodiff's gradients of the trained parameters;
//   5. the optimizer update (torch.optim's formulas), with the learning rate and the
//      step-dependent factors computed on the host (stepScalar) as scalar arguments;
//   6. with loss scaling (fp16): the loss multiplied by a scale argument before step 4,
//      the gradients divided by it, and the update skipped when one is inf or NaN
//      (torch.amp.GradScaler's unscale and skip; the host adjusts the scale).
// Arguments: batch, label, parameters, [seed,] [loss scale,] step size and two
// optimizer factors, optimizer state. Results: loss, trained parameters, optimizer
// state, running statistics, [count of non-finite gradient elements]. The
// StepSignature records each one's role, and the artifact carries it. The step
// compiles like any model (fusion, tiling, codegen).
//
//===----------------------------------------------------------------------===//
#include "TrainStep.h"

#include "Compiler.h"

#include "dialects/DlcDialect.h"
#include "lib/Importer/Importer.h"
#include "passes/Autodiff.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>
#include <set>

using namespace mlir;

namespace dlc::compiler {
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

/// The roles of the optimizer's two factors after the step size (stepScalar).
std::pair<StepRole, StepRole> factorRoles(OptimizerKind kind) {
  if (kind == OptimizerKind::Sgd)
    return {StepRole::MomentumInit, StepRole::MomentumKeep};
  return {StepRole::InvSqrtBiasCorrection, StepRole::DecoupledDecay};
}

/// Builds the step function from an imported @main (parameters as arguments).
class StepBuilder {
public:
  StepBuilder(const TrainOptions &o, StepLayout &layout) : o(o), layout(layout) {}

  LogicalResult build(func::FuncOp func, size_t numGraphInputs) {
    Block &body = func.getBody().front();
    if (failed(collectParameters(func, numGraphInputs)))
      return failure();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    OpBuilder b(ret);
    GraphBuilder g(b, func.getLoc());
    SmallVector<std::pair<std::string, Value>> newBuffers;
    for (BatchNormOp bn : llvm::to_vector(body.getOps<BatchNormOp>()))
      if (failed(trainingBatchNorm(g, bn, newBuffers)))
        return failure();
    for (auto &[n, v] : newBuffers)
      layout.buffers.push_back(n);
    if (failed(trainingDropouts(func, g)))
      return failure();
    b.setInsertionPoint(ret);
    g.loc = func.getLoc();
    FailureOr<Value> loss = addLoss(func, g, ret, numGraphInputs);
    if (failed(loss))
      return failure();
    // With loss scaling the backward pass starts from loss * scale: every gradient,
    // and every contraction operand of the backward pass, is scaled by it.
    Value objective = *loss;
    if (o.scalesLoss()) {
      lossScale = body.addArgument(RankedTensorType::get({}, b.getF32Type()), func.getLoc());
      argNames.push_back(stepRoleName(StepRole::LossScale));
      func.setFunctionType(b.getFunctionType(body.getArgumentTypes(), func.getResultTypes()));
      Type et = cast<ShapedType>(objective.getType()).getElementType();
      objective = g.mul(objective, g.castTo(lossScale, et));
    }
    FailureOr<SmallVector<Value>> grads = differentiateTrained(func, objective, newBuffers);
    if (failed(grads))
      return failure();
    addOptimizer(func, g, *loss, *grads, newBuffers);
    finishSignature(func, numGraphInputs);
    return success();
  }

private:
  /// Step 1: the float initializers after the graph inputs are the parameters.
  LogicalResult collectParameters(func::FuncOp func, size_t numGraphInputs) {
    auto names = func->getAttrOfType<ArrayAttr>(attrs::kInputNames);
    for (Attribute n : names)
      argNames.push_back(cast<StringAttr>(n).str());
    for (size_t i = numGraphInputs; i < func.getNumArguments(); ++i) {
      layout.params.push_back(argNames[i]);
      paramArg[argNames[i]] = func.getArgument(i);
    }
    for (const std::string &f : o.freeze)
      if (!paramArg.count(f))
        return func.emitError("--freeze names '")
                   << f << "', which is not a float initializer of the model",
               failure();
    return success();
  }

  /// Step 2: BatchNormalization with batch statistics; the updated running statistics
  /// go to `buffers`.
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
    Value inv =
        g.div(g.scalar(1, et), g.sqrt(g.add(var, g.scalar(bn.getEpsilon().convertToFloat(), et))));
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

  /// Step 2b: Dropout in training mode: y = x * (u >= ratio) / (1 - ratio), u uniform in
  /// [0, 1) from a counter-based hash of the step's seed argument (the step number), so
  /// every target draws the same masks.
  LogicalResult trainingDropouts(func::FuncOp func, GraphBuilder &g) {
    Block &body = func.getBody().front();
    OpBuilder &b = g.b;
    int64_t salt = 0;
    for (DropoutOp d : llvm::to_vector(body.getOps<DropoutOp>())) {
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
        return d.emitError("training Dropout needs a float input of static shape, got ") << xt,
               failure();
      if (!seed) {
        seed = body.addArgument(RankedTensorType::get({}, b.getI64Type()), func.getLoc());
        argNames.push_back(stepRoleName(StepRole::Seed));
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
    return success();
  }

  /// Step 3: the loss of the first output; the label becomes the argument after the
  /// graph inputs. The function returns the loss, then the new running statistics.
  FailureOr<Value> addLoss(func::FuncOp func, GraphBuilder &g, func::ReturnOp ret,
                           size_t numGraphInputs) {
    Block &body = func.getBody().front();
    OpBuilder &b = g.b;
    if (ret.getNumOperands() == 0)
      return func.emitError("the model has no output to train"), failure();
    Value out = ret.getOperand(0);
    auto outType = cast<RankedTensorType>(out.getType());
    Type et = outType.getElementType();
    if (!isa<FloatType>(et))
      return func.emitError("the first output is ") << et << "; training needs a float output",
             failure();
    Value loss;
    if (o.loss == LossKind::CrossEntropy) {
      if (outType.getRank() != 2)
        return func.emitError("cross-entropy needs the first output to be logits "
                              "[batch, classes], got ")
                   << outType,
               failure();
      int64_t n = outType.getDimSize(0), c = outType.getDimSize(1);
      layout.numClasses = c;
      Value label = body.insertArgument(numGraphInputs, RankedTensorType::get({n}, b.getI64Type()),
                                        func.getLoc());
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
      Value label = body.insertArgument(numGraphInputs, outType, func.getLoc());
      Value d = g.sub(out, label);
      loss = g.reduceMean(g.mul(d, d), {}, false);
    }
    argNames.insert(argNames.begin() + numGraphInputs, stepRoleName(StepRole::Label));
    func.setFunctionType(b.getFunctionType(body.getArgumentTypes(), func.getResultTypes()));
    return loss;
  }

  /// Step 4: marks the trained parameters and appends their gradients (dlc-autodiff).
  FailureOr<SmallVector<Value>>
  differentiateTrained(func::FuncOp func, Value loss,
                       ArrayRef<std::pair<std::string, Value>> newBuffers) {
    Block &body = func.getBody().front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    OpBuilder b(ret);
    SmallVector<Value> results{loss};
    for (auto &[n, v] : newBuffers)
      results.push_back(v);
    func::ReturnOp::create(b, ret.getLoc(), results);
    ret.erase();
    std::set<std::string> frozen(o.freeze.begin(), o.freeze.end());
    std::set<std::string> isBuffer(layout.buffers.begin(), layout.buffers.end());
    for (const std::string &n : layout.params) {
      if (frozen.count(n) || isBuffer.count(n))
        continue;
      layout.trained.push_back(n);
      func.setArgAttr(cast<BlockArgument>(paramArg[n]).getArgNumber(), attrs::kTrainable,
                      b.getUnitAttr());
    }
    if (layout.trained.empty())
      return func.emitError("no parameter is left to train"), failure();
    func.setFunctionType(
        b.getFunctionType(body.getArgumentTypes(), TypeRange(ValueRange(results))));
    if (failed(differentiate(func)))
      return failure();
    ret = cast<func::ReturnOp>(body.getTerminator());
    return SmallVector<Value>(ret.getOperands().drop_front(1 + newBuffers.size()));
  }

  /// Step 5: the optimizer update of each trained parameter, from its gradient; the
  /// function returns loss, new parameters, new state, new running statistics.
  void addOptimizer(func::FuncOp func, GraphBuilder &g, Value loss, ArrayRef<Value> grads,
                    ArrayRef<std::pair<std::string, Value>> newBuffers) {
    Block &body = func.getBody().front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    g.b.setInsertionPoint(ret);
    auto scalarType = RankedTensorType::get({}, g.b.getF32Type());
    Value lr = body.addArgument(scalarType, func.getLoc());
    Value s1 = body.addArgument(scalarType, func.getLoc());
    Value s2 = body.addArgument(scalarType, func.getLoc());
    SmallVector<Value> unscaled(grads);
    Value nonFinite;
    if (lossScale) {
      // torch.amp.GradScaler's unscale_: the gradients divided by the scale, and the
      // number of their elements that are inf or NaN (then the update is skipped).
      Type i1 = g.b.getI1Type(), f32 = g.b.getF32Type();
      BoolAttr yes = g.b.getBoolAttr(true);
      for (Value grad : grads) {
        Value bad =
            g.make<OrOp>(i1, g.make<IsNaNOp>(i1, grad), g.make<IsInfOp>(i1, grad, yes, yes));
        Value count = g.reduceSum(g.castTo(bad, f32), {}, false);
        nonFinite = nonFinite ? g.add(nonFinite, count) : count;
      }
      // Built before the updates, so that each update's kernel takes in its where:
      // dlc-form-kernels joins an op to the kernel of its latest producer.
      skip = g.make<GreaterOp>(i1, nonFinite, g.scalar(0, f32));
      Value inv = g.div(g.scalar(1, f32), lossScale);
      for (Value &grad : unscaled)
        grad = g.mul(grad, g.castTo(inv, cast<ShapedType>(grad.getType()).getElementType()));
    }
    SmallVector<Value> newParams, newState;
    for (auto [n, grad] : llvm::zip(layout.trained, unscaled))
      updateParameter(func, g, n, grad, lr, s1, s2, newParams, newState);
    if (skip) {
      // A skipped step keeps every parameter and its optimizer state.
      auto keep = [&](Value old, Value updated) {
        return g.make<WhereOp>(cast<ShapedType>(old.getType()).getElementType(), skip, old,
                               updated);
      };
      for (auto [n, v] : llvm::zip(layout.trained, newParams))
        v = keep(paramArg[n], v);
      for (auto [old, v] : llvm::zip(stateArgs, newState))
        v = keep(old, v);
    }
    SmallVector<Value> results{loss};
    results.append(newParams);
    results.append(newState);
    for (auto &[n, v] : newBuffers)
      results.push_back(v);
    if (nonFinite)
      results.push_back(nonFinite);
    func::ReturnOp::create(g.b, ret.getLoc(), results);
    ret.erase();
    func.setFunctionType(
        g.b.getFunctionType(body.getArgumentTypes(), TypeRange(ValueRange(results))));
  }

  /// torch.optim's update of parameter `n`. SGD: lr is the learning rate; s1 = 1 on
  /// the first step, else 0 (the momentum buffer starts at the gradient), s2 = 1 - s1.
  /// Adam/AdamW: lr = lr / (1 - beta1^t), s1 = 1 / sqrt(1 - beta2^t), s2 = 1 - lr *
  /// weight decay (AdamW's decoupled decay). New optimizer state arguments are
  /// appended as "<n>.<slot>".
  void updateParameter(func::FuncOp func, GraphBuilder &g, const std::string &n, Value grad,
                       Value lr, Value s1, Value s2, SmallVectorImpl<Value> &newParams,
                       SmallVectorImpl<Value> &newState) {
    Block &body = func.getBody().front();
    const OptimizerOptions &opt = o.optimizer;
    Value p = paramArg[n];
    Type pt = cast<ShapedType>(p.getType()).getElementType();
    auto ptype = cast<RankedTensorType>(p.getType());
    Value lrp = g.castTo(lr, pt), s1p = g.castTo(s1, pt), s2p = g.castTo(s2, pt);
    auto c = [&](double v) { return g.scalar(v, pt); };
    auto addState = [&](const std::string &slot) {
      layout.state.push_back(n + "." + slot);
      stateArgs.push_back(body.addArgument(ptype, func.getLoc()));
      return stateArgs.back();
    };
    if (opt.kind == OptimizerKind::Sgd) {
      Value d = opt.weightDecay ? g.add(grad, g.mul(p, c(opt.weightDecay))) : grad;
      if (opt.momentum != 0) {
        Value buf = addState("momentum_buffer");
        Value later = g.add(g.mul(buf, c(opt.momentum)), g.mul(d, c(1 - opt.dampening)));
        Value nb = g.add(g.mul(s1p, d), g.mul(s2p, later));
        newState.push_back(nb);
        d = opt.nesterov ? g.add(d, g.mul(nb, c(opt.momentum))) : nb;
      }
      newParams.push_back(g.sub(p, g.mul(lrp, d)));
      return;
    }
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

  /// The step's names and roles: arguments batch, label, parameters, [seed,] step size,
  /// the two optimizer factors, state; results loss, trained parameters, state,
  /// running statistics. Clears the attributes autodiff used.
  void finishSignature(func::FuncOp func, size_t numGraphInputs) {
    Builder b(func.getContext());
    Block &body = func.getBody().front();
    StepSignature &sig = layout.signature;
    std::set<std::string> trained(layout.trained.begin(), layout.trained.end());
    std::set<std::string> buffers(layout.buffers.begin(), layout.buffers.end());
    sig.inputs.assign(numGraphInputs, StepRole::Batch);
    sig.inputs.push_back(StepRole::Label);
    for (const std::string &p : layout.params)
      sig.inputs.push_back(buffers.count(p)   ? StepRole::Buffer
                           : trained.count(p) ? StepRole::Parameter
                                              : StepRole::Frozen);
    if (seed)
      sig.inputs.push_back(StepRole::Seed);
    if (lossScale)
      sig.inputs.push_back(StepRole::LossScale);
    // The scalar arguments follow the parameters (and seed); argNames holds the names
    // of the arguments before them so far.
    auto [first, second] = factorRoles(o.optimizer.kind);
    for (StepRole r : {StepRole::StepSize, first, second}) {
      sig.inputs.push_back(r);
      argNames.push_back(stepRoleName(r));
    }
    sig.inputs.insert(sig.inputs.end(), layout.state.size(), StepRole::OptimizerState);
    argNames.insert(argNames.end(), layout.state.begin(), layout.state.end());

    SmallVector<Attribute> inNames, outNames{b.getStringAttr(stepRoleName(StepRole::Loss))};
    for (const std::string &n : argNames)
      inNames.push_back(b.getStringAttr(n));
    sig.outputs = {StepRole::Loss};
    for (const std::string &n : layout.trained) {
      outNames.push_back(b.getStringAttr(n));
      sig.outputs.push_back(StepRole::Parameter);
    }
    for (const std::string &n : layout.state) {
      outNames.push_back(b.getStringAttr(n));
      sig.outputs.push_back(StepRole::OptimizerState);
    }
    for (const std::string &n : layout.buffers) {
      outNames.push_back(b.getStringAttr(n));
      sig.outputs.push_back(StepRole::Buffer);
    }
    if (lossScale) {
      outNames.push_back(b.getStringAttr(stepRoleName(StepRole::NonFinite)));
      sig.outputs.push_back(StepRole::NonFinite);
    }
    SmallVector<Attribute> dimNames;
    for (BlockArgument a : body.getArguments())
      dimNames.push_back(b.getArrayAttr(SmallVector<Attribute>(
          cast<RankedTensorType>(a.getType()).getRank(), b.getStringAttr(""))));
    func->setAttr(attrs::kInputNames, b.getArrayAttr(inNames));
    func->setAttr(attrs::kOutputNames, b.getArrayAttr(outNames));
    func->setAttr(attrs::kInputDimNames, b.getArrayAttr(dimNames));
    SmallVector<DictionaryAttr> noAttrs(func.getNumResults(), b.getDictionaryAttr({}));
    func.setAllResultAttrs(noAttrs);
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      func.setArgAttrs(i, b.getDictionaryAttr({}));
  }

  const TrainOptions &o;
  StepLayout &layout;
  std::map<std::string, Value> paramArg;
  /// The argument names so far, in argument order.
  std::vector<std::string> argNames;
  Value seed;
  /// Loss scaling: the scale argument, and whether the step skips its update.
  Value lossScale, skip;
  /// The optimizer state arguments, in layout.state's order.
  SmallVector<Value> stateArgs;
};

/// What a first step reads besides the batch: the initializers' values and zero
/// optimizer state ("<param>.<slot>", shaped as its parameter).
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

/// Imports the model and builds its step function; null (with a diagnostic) on error.
OwningOpRef<ModuleOp> buildStepModule(MLIRContext &ctx, const std::string &onnxPath,
                                      const TrainOptions &options, StepLayout &layout,
                                      std::map<std::string, Attribute> &initial) {
  importer::ImportOptions io;
  io.initializersAsArguments = true;
  io.initializerValues = &initial;
  io.dynamicDimValue = options.batchSize;
  io.training = true;
  io.maxModelBytes = options.compile.maxModelBytes;
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

} // namespace

CompileOptions compileOptionsFor(const TrainOptions &o) {
  CompileOptions c = o.compile;
  c.emit = EmitKind::Artifact;
  c.shapeTensorInputs.clear();
  return c;
}

Expected<CompileResult> compileStep(const std::string &onnxPath, const TrainOptions &options,
                                    EmitKind emit, StepLayout &layout,
                                    std::map<std::string, Tensor> &state) {
  if (options.batchSize < 1)
    return Status::error("the batch size must be at least 1");
  CompileOptions copts = compileOptionsFor(options);
  copts.emit = emit;
  if (Status s = checkTarget(copts); !s)
    return s;
  auto ctx = makeContext();
  ErrorCollector errors(*ctx);
  std::map<std::string, Attribute> initial;
  OwningOpRef<ModuleOp> module = buildStepModule(*ctx, onnxPath, options, layout, initial);
  if (!module)
    return errors.status("cannot build the training step of " + onnxPath);
  if (Status st = initialState(initial, layout, state); !st)
    return st;
  return compileImported(*ctx, *module, copts, &layout.signature);
}

} // namespace dlc::compiler

namespace dlc {

Expected<CompileResult> compileTrainingStep(const std::string &onnxPath,
                                            const TrainOptions &options, EmitKind emit,
                                            std::map<std::string, Tensor> *state) {
  compiler::StepLayout layout;
  std::map<std::string, Tensor> unused;
  return compiler::compileStep(onnxPath, options, emit, layout, state ? *state : unused);
}

} // namespace dlc
