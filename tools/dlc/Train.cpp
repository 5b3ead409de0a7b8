//===- Train.cpp - `dlc train`: train an ONNX model on .npz data ----------===//
#include "Train.h"

#include "Environment.h"

#include "RunUtil.h"

#include "dlc/train.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <sstream>

namespace dlc::tools {
namespace {

using cli::Dataset;

struct EpochRow {
  int epoch;
  double trainLoss, evalLoss, evalAccuracy, samplesPerSecond;
};

void writeCsv(const std::string &path, const std::vector<EpochRow> &rows, bool eval) {
  std::ofstream os(path);
  os << "epoch,train_loss" << (eval ? ",eval_loss,eval_accuracy" : "") << ",samples_per_s\n";
  for (const EpochRow &r : rows) {
    os << r.epoch << "," << std::setprecision(8) << r.trainLoss;
    if (eval)
      os << "," << r.evalLoss << "," << r.evalAccuracy;
    os << "," << r.samplesPerSecond << "\n";
  }
}

void writeSvg(const std::string &path, const std::vector<EpochRow> &rows, bool eval) {
  const double w = 640, h = 400, l = 60, r = 20, t = 30, b = 50;
  double maxLoss = 0;
  for (const EpochRow &row : rows)
    maxLoss = std::max({maxLoss, row.trainLoss, eval ? row.evalLoss : 0.0});
  if (maxLoss <= 0)
    maxLoss = 1;
  size_t n = rows.size();
  auto x = [&](size_t i) { return l + (n > 1 ? (w - l - r) * i / (n - 1) : 0); };
  auto y = [&](double v) { return h - b - (h - t - b) * v / maxLoss; };
  std::ofstream os(path);
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w << "\" height=\"" << h
     << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
     << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
     << "<text x=\"" << w / 2 << "\" y=\"18\" text-anchor=\"middle\">loss per epoch</text>\n"
     << "<line x1=\"" << l << "\" y1=\"" << h - b << "\" x2=\"" << w - r << "\" y2=\"" << h - b
     << "\" stroke=\"black\"/>\n"
     << "<line x1=\"" << l << "\" y1=\"" << t << "\" x2=\"" << l << "\" y2=\"" << h - b
     << "\" stroke=\"black\"/>\n"
     << "<text x=\"" << l - 5 << "\" y=\"" << t + 4 << "\" text-anchor=\"end\">"
     << std::setprecision(3) << maxLoss << "</text>\n"
     << "<text x=\"" << l - 5 << "\" y=\"" << h - b << "\" text-anchor=\"end\">0</text>\n"
     << "<text x=\"" << (w + l - r) / 2 << "\" y=\"" << h - 15
     << "\" text-anchor=\"middle\">epoch (1 to " << n << ")</text>\n";
  auto line = [&](auto value, const char *colour, const char *label, int slot) {
    os << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"2\" points=\"";
    for (size_t i = 0; i < n; ++i)
      os << x(i) << "," << y(value(rows[i])) << " ";
    os << "\"/>\n<text x=\"" << w - r - 5 << "\" y=\"" << t + 15 * slot
       << "\" text-anchor=\"end\" fill=\"" << colour << "\">" << label << "</text>\n";
  };
  line([](const EpochRow &e) { return e.trainLoss; }, "#1f77b4", "train loss", 1);
  if (eval)
    line([](const EpochRow &e) { return e.evalLoss; }, "#d62728", "eval loss", 2);
  os << "</svg>\n";
}

std::vector<std::string> splitList(const std::string &s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty())
      out.push_back(item);
  return out;
}

Expected<double> number(const std::string &flag, const std::string &v) {
  char *end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !std::isfinite(d))
    return Status::error(flag + " needs a number, got '" + v + "'");
  return d;
}

} // namespace

int trainCommand(int argc, char **argv) {
  auto fail = [](const std::string &m) {
    std::cerr << "dlc: error: " << m << "\n";
    return 1;
  };
  std::map<std::string, std::string> v;
  std::vector<std::string> positional;
  bool nesterov = false, noFusion = false;
  const std::vector<std::string> valueFlags = {
      "--data",     "--eval",      "--loss",         "--optimizer",  "--lr",
      "--momentum", "--dampening", "--weight-decay", "--batch-size", "--epochs",
      "--seed",     "--target",    "--cuda-arch",    "--freeze",     "--label-key",
      "-o",         "--emit-step", "--precision",    "--loss-scale"};
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    std::string flag = a.substr(0, a.find('='));
    if (a == "--nesterov") {
      nesterov = true;
    } else if (a == "--no-fusion") {
      noFusion = true;
    } else if (std::find(valueFlags.begin(), valueFlags.end(), flag) != valueFlags.end()) {
      if (flag.size() < a.size())
        v[flag] = a.substr(flag.size() + 1);
      else if (i + 1 < argc)
        v[flag] = argv[++i];
      else
        return fail(flag + " needs a value");
    } else if (a.size() > 1 && a[0] == '-') {
      return fail("unknown option '" + a + "' for train (see dlc --help)");
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 1)
    return fail("train needs one MODEL.onnx (see dlc --help)");
  bool emitOnly = v.count("--emit-step") > 0;
  for (const char *req : {"--data", "--loss", "--optimizer", "-o"})
    if (!v.count(req) && !(emitOnly && std::string(req) == "--data"))
      return fail(std::string("train needs ") + req + " (see dlc --help)");

  TrainOptions o;
  applyEnvironment(o.compile);
  const std::string &loss = v["--loss"], &optName = v["--optimizer"];
  if (loss == "cross_entropy")
    o.loss = LossKind::CrossEntropy;
  else if (loss == "mse")
    o.loss = LossKind::Mse;
  else
    return fail("--loss must be cross_entropy or mse, got '" + loss + "'");
  if (optName == "sgd")
    o.optimizer.kind = OptimizerKind::Sgd;
  else if (optName == "adam")
    o.optimizer.kind = OptimizerKind::Adam;
  else if (optName == "adamw")
    o.optimizer.kind = OptimizerKind::AdamW;
  else
    return fail("--optimizer must be sgd, adam or adamw, got '" + optName + "'");
  o.optimizer.lr = o.optimizer.kind == OptimizerKind::Sgd ? 0.01 : 0.001;
  o.optimizer.weightDecay = o.optimizer.kind == OptimizerKind::AdamW ? 0.01 : 0;
  int64_t epochs = 10, seed = 0;
  for (auto [flag, field] :
       {std::pair{"--lr", &o.optimizer.lr}, std::pair{"--momentum", &o.optimizer.momentum},
        std::pair{"--dampening", &o.optimizer.dampening},
        std::pair{"--weight-decay", &o.optimizer.weightDecay}}) {
    if (!v.count(flag))
      continue;
    auto d = number(flag, v[flag]);
    if (!d)
      return fail(d.message());
    *field = *d;
  }
  if (o.optimizer.lr <= 0)
    return fail("--lr must be positive");
  o.optimizer.nesterov = nesterov;
  o.compile.fusion = !noFusion;
  if (nesterov && (o.optimizer.kind != OptimizerKind::Sgd || o.optimizer.momentum <= 0 ||
                   o.optimizer.dampening != 0))
    return fail("--nesterov needs --optimizer sgd, a positive --momentum and no dampening");
  for (auto [flag, field] : {std::pair{"--batch-size", &o.batchSize},
                             std::pair{"--epochs", &epochs}, std::pair{"--seed", &seed}}) {
    if (!v.count(flag))
      continue;
    auto d = number(flag, v[flag]);
    if (!d || *d < (std::string(flag) == "--seed" ? 0 : 1) || *d != std::floor(*d) || *d > 1e9)
      return fail(std::string(flag) + " needs a whole number" +
                  (std::string(flag) == "--seed" ? "" : " of at least 1") + ", got '" + v[flag] +
                  "'");
    *field = static_cast<int64_t>(*d);
  }
  std::string target = v.count("--target") ? v["--target"] : "auto";
  if (target == "auto")
    o.compile.target = cudaAvailable() ? TargetKind::Cuda : TargetKind::Cpu;
  else if (target == "cpu")
    o.compile.target = TargetKind::Cpu;
  else if (target == "cuda")
    o.compile.target = TargetKind::Cuda;
  else
    return fail("--target must be auto, cpu or cuda, got '" + target + "'");
  if (o.compile.target == TargetKind::Cuda && !emitOnly)
    if (Status s = cudaAvailable(); !s)
      return fail(s.message());
  if (v.count("--cuda-arch"))
    o.compile.cudaArch = v["--cuda-arch"];
  if (Status s = applyPrecision(o.compile, v.count("--precision") ? v["--precision"] : ""); !s)
    return fail(s.message());
  // Dynamic loss scaling: on by default in fp16; --loss-scale S starts it at S (in any
  // precision), --loss-scale off turns it off.
  if (v.count("--loss-scale")) {
    if (v["--loss-scale"] == "off") {
      o.lossScaling = false;
    } else {
      auto d = number("--loss-scale", v["--loss-scale"]);
      if (!d || *d <= 0)
        return fail("--loss-scale needs a positive number or off, got '" + v["--loss-scale"] + "'");
      o.lossScaling = true;
      o.lossScaler.scale = *d;
    }
  }
  if (v.count("--freeze"))
    o.freeze = splitList(v["--freeze"]);
  std::string labelKey = v.count("--label-key") ? v["--label-key"] : "label";
  const std::string &out = v["-o"];

  if (emitOnly) {
    static const std::map<std::string, EmitKind> kinds = {
        {"artifact", EmitKind::Artifact}, {"dlc", EmitKind::Dlc}, {"linalg", EmitKind::Linalg},
        {"llvm", EmitKind::Llvm},         {"ptx", EmitKind::Ptx}, {"dot", EmitKind::Dot}};
    auto kind = kinds.find(v["--emit-step"]);
    if (kind == kinds.end())
      return fail("--emit-step must be artifact, dlc, linalg, llvm, ptx or dot, got '" +
                  v["--emit-step"] + "'");
    std::map<std::string, Tensor> initial;
    bool artifact = kind->second == EmitKind::Artifact;
    auto compiled =
        compileTrainingStep(positional[0], o, kind->second, artifact ? &initial : nullptr);
    if (!compiled)
      return fail(compiled.message());
    if (artifact) {
      // Beside the step: its starting state and the optimizer, for dlc-run --train.
      std::vector<std::pair<std::string, Tensor>> arrays(initial.begin(), initial.end());
      Tensor config(DType::Double, {9});
      const OptimizerOptions &op = o.optimizer;
      double values[9] = {double(static_cast<int>(op.kind)),
                          op.lr,
                          op.momentum,
                          op.dampening,
                          op.nesterov ? 1.0 : 0.0,
                          op.weightDecay,
                          op.beta1,
                          op.beta2,
                          op.eps};
      std::memcpy(config.data.data(), values, sizeof(values));
      arrays.emplace_back("optimizer", std::move(config));
      if (o.scalesLoss()) {
        // The loss scaler's initial scale, growth and backoff factors, growth interval.
        Tensor scaler(DType::Double, {4});
        const LossScaler &ls = o.lossScaler;
        double sv[4] = {ls.scale, ls.growthFactor, ls.backoffFactor, double(ls.growthInterval)};
        std::memcpy(scaler.data.data(), sv, sizeof(sv));
        arrays.emplace_back("loss_scaler", std::move(scaler));
      }
      std::string init =
          (out.size() > 4 && out.substr(out.size() - 4) == ".dlc" ? out.substr(0, out.size() - 4)
                                                                  : out) +
          ".init.npz";
      if (Status st = writeNpz(init, arrays); !st)
        return fail(st.message());
      std::cout << "wrote the step's initial state and optimizer to " << init << std::endl;
    }
    std::ofstream os(out, std::ios::binary);
    os.write(reinterpret_cast<const char *>(compiled->bytes.data()),
             static_cast<std::streamsize>(compiled->bytes.size()));
    if (!os)
      return fail("cannot write " + out);
    std::cout << "wrote the training step (" << v["--emit-step"] << ") to " << out << ", "
              << compiled->bytes.size() << " bytes" << std::endl;
    return 0;
  }

  auto t0 = std::chrono::steady_clock::now();
  std::cout << "compiling the training step of " << positional[0] << " for "
            << (o.compile.target == TargetKind::Cuda ? "cuda" : "cpu") << " (batch " << o.batchSize
            << ")" << std::endl;
  auto session = TrainingSession::create(positional[0], o);
  if (!session)
    return fail(session.message());
  TrainingSession &s = **session;
  std::cout << "compiled in " << std::fixed << std::setprecision(2)
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
            << " s; training " << s.trainedParameters().size() << " parameters" << std::endl;
  DType labelType = s.labels().dtype;
  auto train = cli::loadDataset(v["--data"], s.inputs(), labelKey, labelType);
  if (!train)
    return fail(train.message());
  std::optional<Dataset> evalData;
  if (v.count("--eval")) {
    auto e = cli::loadDataset(v["--eval"], s.inputs(), labelKey, labelType);
    if (!e)
      return fail(e.message());
    evalData = std::move(*e);
  }
  if (train->count < o.batchSize)
    return fail("the training data has " + std::to_string(train->count) +
                " samples, fewer than one batch of " + std::to_string(o.batchSize));

  std::mt19937_64 rng(static_cast<uint64_t>(seed));
  std::vector<int64_t> order(train->count);
  for (int64_t i = 0; i < train->count; ++i)
    order[i] = i;
  int64_t batches = train->count / o.batchSize;
  std::vector<EpochRow> rows;
  double totalSeconds = 0;
  for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
    auto e0 = std::chrono::steady_clock::now();
    Expected<double> mean = cli::runEpoch(
        *train, o.batchSize, order, rng,
        [&](const std::vector<Tensor> &in, const Tensor &labels) { return s.step(in, labels); });
    if (!mean)
      return fail(mean.message());
    if (!std::isfinite(*mean))
      return fail("the loss became " + std::to_string(*mean) + " at epoch " +
                  std::to_string(epoch) + "; try a smaller --lr");
    double sum = *mean * batches;
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - e0).count();
    totalSeconds += secs;
    EpochRow row{static_cast<int>(epoch), sum / batches, 0, 0,
                 batches * o.batchSize / std::max(secs, 1e-9)};
    std::cout << "epoch " << epoch << "/" << epochs << ": train loss " << std::setprecision(4)
              << row.trainLoss;
    if (evalData) {
      auto r = s.evaluate(evalData->inputs, evalData->labels);
      if (!r)
        return fail(r.message());
      row.evalLoss = r->loss;
      row.evalAccuracy = r->accuracy;
      std::cout << ", eval loss " << r->loss;
      if (o.loss == LossKind::CrossEntropy)
        std::cout << ", eval accuracy " << std::setprecision(2) << 100 * r->accuracy << "%";
    }
    if (const LossScaler *ls = s.lossScaler())
      std::cout << ", loss scale " << std::defaultfloat << std::setprecision(6) << ls->scale
                << std::fixed << " (" << ls->skippedSteps << " steps skipped)";
    std::cout << ", " << std::setprecision(0) << row.samplesPerSecond << " samples/s" << std::endl;
    rows.push_back(row);
  }
  if (Status st = s.exportOnnx(out); !st)
    return fail(st.message());
  std::string stem =
      out.size() > 5 && out.substr(out.size() - 5) == ".onnx" ? out.substr(0, out.size() - 5) : out;
  writeCsv(stem + ".loss.csv", rows, evalData.has_value());
  writeSvg(stem + ".loss.svg", rows, evalData.has_value());
  int64_t steps = epochs * batches;
  std::cout << "trained " << steps << " steps (" << epochs << " epochs of " << batches
            << " batches; the last " << train->count % o.batchSize
            << " samples of each shuffled epoch are left out) in " << std::setprecision(2)
            << totalSeconds << " s, " << std::setprecision(0)
            << steps * o.batchSize / std::max(totalSeconds, 1e-9) << " samples/s; wrote " << out
            << ", " << stem << ".loss.csv and " << stem << ".loss.svg" << std::endl;
  return 0;
}

} // namespace dlc::tools
