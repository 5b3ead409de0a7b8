//===- dlc-run.cpp - Run a compiled dlc artifact on tensor files ----------===//

#include "RunUtil.h"
#include "dlc/runtime.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <sys/stat.h>

namespace {

constexpr const char *kUsage =
    R"(usage: dlc-run ART.dlc [INPUT...] [--input NAME=PATH]... [--output-dir DIR]

Runs a compiled dlc artifact on input tensors and reports its outputs.

  INPUT               a .npy file or an ONNX TensorProto .pb file; positional inputs
                      bind to the model's inputs in order (a bfloat16 input takes
                      uint16 data as its bits)
  --input NAME=PATH   binds the file PATH to the model input named NAME
  --output-dir DIR    writes output i to DIR/output_<i>.npy (DIR is created if missing;
                      bfloat16 as uint16 bits)
  --repeat N          runs N times (default 1) and also reports the median and the
                      fastest time of runs 2..N (warm: plans cached, CUDA Graphs
                      replayed, outputs written into the previous run's tensors)
  --profile           times every launch (median over the warm runs; at least 10
                      runs) and prints each kernel's time, bytes and bandwidth
                      against the measured copy ceiling of the target's memory
  --paired-ceiling    with --profile: times a copy of as many bytes as the largest
                      launch moves after every warm run, and gives each launch's % of
                      the ceiling as the median over runs of its bandwidth against
                      that run's copy (on a shared machine a ceiling measured once
                      can fall in a quiet or a busy moment, and a 256 MiB copy sees
                      other caches than the kernels)
  --cuda-check        only checks for a usable CUDA driver and device: prints the
                      device check's result, exit status 0 when one is usable
  --batch FILE        runs many artifacts in this one process (one CUDA context for
                      all): each line of FILE is ART.dlc, DIR and the INPUT files,
                      separated by tabs; each artifact runs once, writes its outputs
                      to DIR and prints "batch <line>: ok" or "batch <line>: error:
                      <message>". Exit status 0 when the file was read; 1 when a
                      kernel fault left the CUDA context unusable (later lines
                      are not run)
  --train             ART.dlc is a training step (dlc train --emit-step artifact):
                      dlc-run --train STEP.dlc STEP.init.npz DATA.npz [--epochs N]
                      [--seed N] [--label-key KEY] [--save STATE.npz] trains from the
                      initial state and optimizer in the .init.npz on the .npz data
                      (as dlc train: one array per graph input, labels under
                      "label"), reshuffling each epoch as dlc train does for the same
                      seed, and prints each epoch's mean loss. No compiler needed.
                      Parameters and optimizer state stay in the step model between
                      steps (in device memory on CUDA). With --profile the last
                      epoch's steps are timed per launch (slower: no CUDA Graphs)
  --help              shows this help

Every model input must be bound. Prints one line per output, such as
"output 0 y: shape [2, 3] float32", then the run's wall time. DLC_NUM_THREADS sets
the number of threads (default: the hardware concurrency); DLC_CPU_DENORMALS=keep
computes with denormal floats (below 1.2e-38) instead of as zero (the default, x86).
)";

struct Options {
  std::string artifact;
  std::vector<std::string> positional;
  std::vector<dlc::cli::NamedInput> named;
  std::string outputDir;
  std::string batch;
  std::string labelKey = "label", save;
  int repeat = 1;
  int64_t epochs = 1, seed = 0;
  bool train = false;
  bool help = false;
  bool cudaCheck = false;
  bool profile = false;
  bool pairedCeiling = false;
};

/// Parses the command line; an option's value is the next argument or follows '='.
dlc::Status parseArgs(int argc, char **argv, Options &opts) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      opts.help = true;
      return dlc::Status::ok();
    }
    if (arg == "--cuda-check") {
      opts.cudaCheck = true;
      continue;
    }
    if (arg == "--profile") {
      opts.profile = true;
      continue;
    }
    if (arg == "--paired-ceiling") {
      opts.pairedCeiling = true;
      continue;
    }
    if (arg == "--train") {
      opts.train = true;
      continue;
    }
    std::string flag = arg.substr(0, arg.find('='));
    if (flag == "--input" || flag == "--output-dir" || flag == "--repeat" || flag == "--batch" ||
        flag == "--epochs" || flag == "--seed" || flag == "--label-key" || flag == "--save") {
      std::string value;
      if (flag.size() < arg.size())
        value = arg.substr(flag.size() + 1);
      else if (i + 1 < argc)
        value = argv[++i];
      if (value.empty())
        return dlc::Status::error(flag + " needs a value");
      if (flag == "--output-dir") {
        opts.outputDir = value;
        continue;
      }
      if (flag == "--batch") {
        opts.batch = value;
        continue;
      }
      if (flag == "--label-key" || flag == "--save") {
        (flag == "--save" ? opts.save : opts.labelKey) = value;
        continue;
      }
      if (flag == "--epochs" || flag == "--seed") {
        char *end = nullptr;
        long long n = std::strtoll(value.c_str(), &end, 10);
        if (*end != '\0' || n < (flag == "--seed" ? 0 : 1) || n > 1000000000)
          return dlc::Status::error(flag + " needs a whole number" +
                                    (flag == "--seed" ? "" : " of at least 1") + ", got '" + value +
                                    "'");
        (flag == "--seed" ? opts.seed : opts.epochs) = n;
        continue;
      }
      if (flag == "--repeat") {
        char *end = nullptr;
        long n = std::strtol(value.c_str(), &end, 10);
        if (*end != '\0' || n < 1 || n > 1000000)
          return dlc::Status::error("--repeat needs a count from 1 to 1000000, got '" + value +
                                    "'");
        opts.repeat = static_cast<int>(n);
        continue;
      }
      dlc::Expected<dlc::cli::NamedInput> named = dlc::cli::parseNamedInput(value);
      if (!named)
        return named.status();
      opts.named.push_back(*named);
    } else if (arg.size() > 1 && arg[0] == '-') {
      return dlc::Status::error("unknown option '" + arg + "' (see --help)");
    } else if (opts.artifact.empty()) {
      opts.artifact = arg;
    } else {
      opts.positional.push_back(arg);
    }
  }
  return dlc::Status::ok();
}

/// Per launch: the median time over the warm runs, bytes, GB/s and % of the ceiling.
/// With `paired` (one copy ceiling per run), % of the ceiling is the median over runs
/// of the launch's bandwidth against its own run's ceiling.
void printProfile(const std::vector<std::vector<dlc::KernelTiming>> &runs, double ceiling,
                  std::ostream &os, const std::vector<double> &paired = {},
                  uint64_t copied = 256ull << 20) {
  if (runs.empty())
    return;
  size_t n = runs.front().size();
  os << "profile: median of " << runs.size() << " warm runs; copy ceiling " << std::fixed
     << std::setprecision(1) << ceiling / 1e9 << " GB/s (" << (copied >> 20)
     << " MiB copied, read + write"
     << (paired.empty() ? "" : "; median of a copy after each run, % paired per run") << ")\n";
  os << "  launch  kernel                               ms          MB    GB/s  %ceil\n";
  double total = 0;
  for (size_t l = 0; l < n; ++l) {
    std::vector<double> ms;
    for (const auto &run : runs)
      if (l < run.size())
        ms.push_back(run[l].milliseconds);
    std::sort(ms.begin(), ms.end());
    double median = ms[ms.size() / 2];
    total += median;
    const dlc::KernelTiming &k = runs.front()[l];
    double gbs = median > 0 ? k.bytes / (median * 1e-3) / 1e9 : 0;
    double percent = 100.0 * gbs * 1e9 / ceiling;
    if (paired.size() == runs.size()) {
      std::vector<double> ratios;
      for (size_t r = 0; r < runs.size(); ++r)
        if (l < runs[r].size() && runs[r][l].milliseconds > 0)
          ratios.push_back(100.0 * k.bytes / (runs[r][l].milliseconds * 1e-3) / paired[r]);
      std::sort(ratios.begin(), ratios.end());
      if (!ratios.empty())
        percent = ratios[ratios.size() / 2];
    }
    os << "  " << std::setw(6) << l << "  " << std::left << std::setw(32) << k.kernel.substr(0, 32)
       << std::right << std::setw(9) << std::setprecision(4) << median << std::setw(12)
       << std::setprecision(3) << k.bytes / 1e6 << std::setw(8) << std::setprecision(1) << gbs
       << std::setw(7) << std::setprecision(1) << percent << "\n";
  }
  os << "  total " << std::setprecision(4) << total << " ms in " << n << " launches\n";
}

int fail(const std::string &message) {
  std::cerr << "dlc-run: error: " << message << "\n";
  return 1;
}

/// Runs one artifact of a batch once and writes its outputs to `outputDir`.
dlc::Status runOnce(const std::string &artifact, const std::vector<std::string> &inputFiles,
                    const std::string &outputDir) {
  dlc::Expected<std::unique_ptr<dlc::Model>> model = dlc::Model::loadFile(artifact);
  if (!model)
    return model.status();
  std::vector<dlc::Tensor> inputs;
  if (dlc::Status s = dlc::cli::bindInputs((*model)->inputs(), inputFiles, {}, inputs); !s)
    return s;
  dlc::Expected<std::vector<dlc::Tensor>> outputs = (*model)->run(inputs);
  if (!outputs)
    return outputs.status();
  std::ostringstream quiet;
  return dlc::cli::reportOutputs((*model)->outputs(), *outputs, outputDir, quiet);
}

int runBatch(const std::string &path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return fail("the batch file '" + path + "' is not a regular file");
  std::ifstream in(path);
  if (!in)
    return fail("cannot read the batch file '" + path + "'");
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::vector<std::string> fields;
    std::stringstream ss(line);
    for (std::string f; std::getline(ss, f, '\t');)
      fields.push_back(f);
    if (fields.empty())
      continue;
    dlc::Status s = fields.size() < 2
                        ? dlc::Status::error("a line needs ART.dlc and DIR")
                        : runOnce(fields[0], {fields.begin() + 2, fields.end()}, fields[1]);
    std::cout << "batch " << number << ": " << (s ? std::string("ok") : "error: " + s.message())
              << std::endl;
    // A fault in a kernel poisons the CUDA context for every later run: stop, so the
    // caller runs the rest in fresh processes.
    for (const char *sticky :
         {"CUDA_ERROR_ILLEGAL", "CUDA_ERROR_LAUNCH_FAILED", "CUDA_ERROR_MISALIGNED",
          "CUDA_ERROR_HARDWARE", "CUDA_ERROR_ASSERT", "CUDA_ERROR_LAUNCH_TIMEOUT"})
      if (!s && s.message().find(sticky) != std::string::npos)
        return fail("stopping the batch: the CUDA context is unusable after line " +
                    std::to_string(number));
  }
  return 0;
}

/// dlc-run --train STEP.dlc INIT.npz DATA.npz: the training loop of dlc train, on a
/// compiled step.
int runTrain(const Options &opts) {
  if (opts.positional.size() != 2)
    return fail("--train needs STEP.dlc, STEP.init.npz and DATA.npz (see --help)");
  auto model = dlc::Model::loadFile(opts.artifact);
  if (!model)
    return fail(model.message());
  dlc::Model &step = **model;
  auto init = dlc::readNpz(opts.positional[0]);
  if (!init)
    return fail(init.message());
  std::map<std::string, dlc::Tensor> state(init->begin(), init->end());
  auto config = state.find("optimizer");
  if (config == state.end() || config->second.dtype != dlc::DType::Double ||
      config->second.numElements() != 9)
    return fail(opts.positional[0] + " has no optimizer settings (write it with dlc train "
                                     "--emit-step artifact)");
  const double *c = config->second.as<double>();
  dlc::OptimizerOptions opt;
  if (c[0] < 0 || c[0] > 2)
    return fail(opts.positional[0] + ": unknown optimizer");
  opt.kind = static_cast<dlc::OptimizerKind>(static_cast<int>(c[0]));
  opt.lr = c[1], opt.momentum = c[2], opt.dampening = c[3], opt.nesterov = c[4] != 0;
  opt.weightDecay = c[5], opt.beta1 = c[6], opt.beta2 = c[7], opt.eps = c[8];
  state.erase(config);
  // A loss-scaled (fp16) step: the scaler's settings, written beside the optimizer's.
  std::optional<dlc::LossScaler> scaler;
  if (auto it = state.find("loss_scaler"); it != state.end()) {
    const dlc::Tensor &ls = it->second;
    if (ls.dtype != dlc::DType::Double || ls.numElements() != 4)
      return fail(opts.positional[0] + ": loss_scaler must hold 4 float64 values");
    const double *d = ls.as<double>();
    scaler = dlc::LossScaler{d[0], d[1], d[2], static_cast<int64_t>(d[3])};
    if (dlc::Status s = dlc::checkLossScaler(*scaler); !s)
      return fail(opts.positional[0] + ": " + s.message());
    state.erase(it);
  }
  const dlc::StepSignature *sig = step.stepSignature();
  if (!sig)
    return fail(opts.artifact + " is not a training step (dlc train --emit-step artifact)");
  const auto &in = step.inputs();
  std::vector<dlc::TensorInfo> graphInputs;
  dlc::DType labelType = dlc::DType::Undefined;
  for (size_t i = 0; i < in.size(); ++i) {
    if (sig->inputs[i] == dlc::StepRole::Batch)
      graphInputs.push_back(in[i]);
    if (sig->inputs[i] == dlc::StepRole::Label)
      labelType = in[i].dtype;
  }
  if (graphInputs.empty() || graphInputs[0].shape.empty())
    return fail(opts.artifact + " is a training step without a batched input");
  auto data = dlc::cli::loadDataset(opts.positional[1], graphInputs, opts.labelKey, labelType);
  if (!data)
    return fail(data.message());
  int64_t batch = graphInputs[0].shape[0];
  std::mt19937_64 rng(static_cast<uint64_t>(opts.seed));
  std::vector<int64_t> order(data->count);
  for (int64_t i = 0; i < data->count; ++i)
    order[i] = i;
  int64_t t = 0;
  std::cout << "training " << opts.artifact << " (" << step.target() << ", batch " << batch
            << ") on " << data->count << " samples" << std::endl;
  std::vector<std::vector<dlc::KernelTiming>> profiles;
  for (int64_t epoch = 1; epoch <= opts.epochs; ++epoch) {
    bool profile = opts.profile && epoch == opts.epochs;
    step.setProfiling(profile);
    auto e0 = std::chrono::steady_clock::now();
    auto mean =
        dlc::cli::runEpoch(*data, batch, order, rng,
                           [&](const std::vector<dlc::Tensor> &x, const dlc::Tensor &labels) {
                             auto loss = dlc::runTrainingStep(step, x, labels, opt, opt.lr, t + 1,
                                                              state, scaler ? &*scaler : nullptr);
                             // A step skipped by loss scaling is not an optimizer step.
                             if (loss && !(scaler && scaler->lastSkipped))
                               ++t;
                             if (profile)
                               profiles.push_back(step.lastProfile());
                             return loss;
                           });
    if (!mean)
      return fail(mean.message());
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - e0).count();
    int64_t steps = data->count / batch;
    std::cout << "epoch " << epoch << "/" << opts.epochs << ": train loss " << std::setprecision(8)
              << *mean << ", " << std::fixed << std::setprecision(3) << 1e3 * secs / steps
              << " ms/step, " << std::setprecision(0) << steps * batch / std::max(secs, 1e-9)
              << " samples/s";
    std::cout.unsetf(std::ios::fixed);
    if (scaler)
      std::cout << ", loss scale " << std::setprecision(6) << scaler->scale << " ("
                << scaler->skippedSteps << " steps skipped)";
    std::cout << std::endl;
  }
  if (opts.profile) {
    constexpr uint64_t kCopyBytes = 256ull << 20;
    dlc::Expected<double> ceiling = step.copyBandwidth(kCopyBytes);
    if (!ceiling)
      return fail(ceiling.message());
    printProfile(profiles, *ceiling, std::cout);
  }
  if (!opts.save.empty()) {
    if (dlc::Status s = dlc::fetchTrainingState(step, state); !s)
      return fail(s.message());
    std::vector<std::pair<std::string, dlc::Tensor>> arrays(state.begin(), state.end());
    if (dlc::Status s = dlc::writeNpz(opts.save, arrays); !s)
      return fail(s.message());
    std::cout << "wrote the trained state to " << opts.save << std::endl;
  }
  return 0;
}

int runMain(int argc, char **argv) {
  Options opts;
  if (dlc::Status s = parseArgs(argc, argv, opts); !s)
    return fail(s.message());
  if (opts.help) {
    std::cout << kUsage;
    return 0;
  }
  if (opts.pairedCeiling && !opts.profile)
    return fail("--paired-ceiling needs --profile");
  if (opts.cudaCheck) {
    if (dlc::Status s = dlc::cudaAvailable(); !s)
      return fail(s.message());
    std::cout << "CUDA driver and device found\n";
    return 0;
  }
  if (!opts.batch.empty())
    return runBatch(opts.batch);
  if (opts.train)
    return runTrain(opts);
  if (opts.artifact.empty())
    return fail("no artifact given (see --help)");

  dlc::Expected<std::unique_ptr<dlc::Model>> model = dlc::Model::loadFile(opts.artifact);
  if (!model)
    return fail(model.message());
  std::vector<dlc::Tensor> inputs;
  if (dlc::Status s = dlc::cli::bindInputs((*model)->inputs(), opts.positional, opts.named, inputs);
      !s)
    return fail(s.message());

  if (opts.profile) {
    (*model)->setProfiling(true);
    opts.repeat = std::max(opts.repeat, 11);
  }
  auto start = std::chrono::steady_clock::now();
  dlc::Expected<std::vector<dlc::Tensor>> outputs = (*model)->run(inputs);
  std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
  if (!outputs)
    return fail(outputs.message());
  std::vector<double> warm;
  std::vector<std::vector<dlc::KernelTiming>> profiles;
  // Warm runs write into the previous warm run's output tensors (Model::runInto), as a
  // serving loop would, rather than allocating fresh pages for every output.
  std::vector<dlc::Tensor> again;
  constexpr uint64_t kCopyBytes = 256ull << 20;
  // Paired: a copy of as many bytes as the largest launch moves (half of its read +
  // write), in the same cache state as the kernels' repeated runs; this machine's
  // 260 MiB L3 holds much of a 256 MiB copy's source between its repetitions.
  uint64_t pairedBytes = 1ull << 20;
  std::vector<double> ceilings;
  for (int i = 1; i < opts.repeat; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    dlc::Status ran = (*model)->runInto(inputs, again);
    warm.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (!ran)
      return fail(ran.message());
    if (opts.profile)
      profiles.push_back((*model)->lastProfile());
    if (opts.profile && opts.pairedCeiling) {
      for (const dlc::KernelTiming &k : profiles.back())
        pairedBytes = std::max<uint64_t>(pairedBytes, (k.bytes / 2 + (1 << 20) - 1) >> 20 << 20);
      pairedBytes = std::min(pairedBytes, kCopyBytes);
      dlc::Expected<double> ceiling = (*model)->copyBandwidth(pairedBytes);
      if (!ceiling)
        return fail(ceiling.message());
      ceilings.push_back(*ceiling);
    }
  }

  if (dlc::Status s =
          dlc::cli::reportOutputs((*model)->outputs(), *outputs, opts.outputDir, std::cout);
      !s)
    return fail(s.message());
  dlc::cli::reportTime(elapsed.count(), std::cout);
  if (!warm.empty()) {
    std::sort(warm.begin(), warm.end());
    std::cout << "warm median: ";
    dlc::cli::reportTime(warm[warm.size() / 2], std::cout);
    // The fastest run: on a shared machine, the least disturbed by neighbours.
    std::cout << "warm min: ";
    dlc::cli::reportTime(warm.front(), std::cout);
  }
  dlc::cli::reportMemory((*model)->memoryStats(), std::cout);
  if (opts.profile) {
    double ceiling;
    if (!ceilings.empty()) {
      std::vector<double> sorted = ceilings;
      std::sort(sorted.begin(), sorted.end());
      ceiling = sorted[sorted.size() / 2];
    } else {
      dlc::Expected<double> measured = (*model)->copyBandwidth(kCopyBytes);
      if (!measured)
        return fail(measured.message());
      ceiling = *measured;
    }
    printProfile(profiles, ceiling, std::cout, ceilings,
                 ceilings.empty() ? kCopyBytes : pairedBytes);
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  try {
    return runMain(argc, argv);
  } catch (const std::exception &e) {
    return fail(e.what());
  }
}
