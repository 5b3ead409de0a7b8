//===- dlc.cpp - The dlc command: compile, run and inspect models ---------===//
#include "Environment.h"
#include "Inspect.h"
#include "Train.h"

#include "RunUtil.h"
#include "dlc/dlc.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sys/stat.h>

namespace {

constexpr const char *kUsage = R"(usage: dlc <command> [options]

dlc compiles ONNX models into fused, tiled kernels and runs them.

commands:
  compile MODEL.onnx [-o OUT] [--target cpu|cuda] [--cuda-arch ARCH] [--emit KIND]
          [--precision P] [--specialize NAME=PATH]... [--input-shape NAME=DxDx...]...
          [--no-fusion] [--qdq-as-float] [--synthetic-weights]
          [--print-ir-after-all]
          [--print-ir-after=PASS] [--remarks]
      Compiles a model. --emit artifact (default) writes a .dlc artifact (default
      OUT: the model's name with .dlc); --emit import prints the IR the importer
      produces, before any pass; --emit dlc|linalg prints the IR after that stage,
      --emit llvm (CPU) the kernels' LLVM IR, --emit ptx (CUDA) one PTX module with
      every kernel and --emit dot a Graphviz picture of the graph with ops clustered
      and coloured by kernel (to OUT, or stdout; -o - writes any kind to stdout).
      --cuda-arch sm_70, sm_75, sm_80 (default), sm_86, sm_89, sm_90 or sm_90a: the
      PTX target; the driver JIT-compiles it for the card at load, and newer cards
      run older PTX. --precision fp32 (default), tf32, fp16 or bf16 (CUDA target and
      its emulation): below fp32, MatMul/Gemm/BatchMatMul/Conv tiles run on tensor cores
      (mma.sync; tf32 and bf16 from sm_80, fp16 from sm_75) with their operands
      rounded to that precision and f32 accumulation, and fp16/bf16 store their
      weights in that type; everything else stays f32 (docs/cuda.md).
      --specialize NAME=PATH bakes the value of input NAME (.npy or .pb) into
      nodes that need it at compile time (Reshape's shape, ...), as
      `dlc run` does: the artifact is then only valid for that value;
      for a sequence or optional input (a SequenceProto/OptionalProto .pb) it fixes
      what the input holds (the artifact takes its tensors as inputs NAME[i]).
      --input-shape NAME=1x3x64x128 fixes the symbolic dims of input NAME (the
      artifact then serves that shape only): for models whose control flow or
      recurrences need static dims (an If on a dim, an LSTM over a symbolic length),
      which `dlc run` specializes by itself.
      --print-ir-after-all / --print-ir-after=PASS print the IR after every pass /
      the named pass (e.g. dlc-form-kernels) to stderr. --remarks prints the
      compiler's remarks (a CUDA kernel that runs on one thread, and why; one that
      computes a contraction one thread per output element) to stderr.
      --synthetic-weights (artifact) stores each float, float16, bfloat16 and int8
      weight of 64 KiB or more as zeros, which the runtime replaces with seeded
      uniform noise of the weight's root mean square when it loads the artifact:
      the outputs are no longer the model's, the file compresses to what the rest
      of it needs. For timing models whose weights are too large to carry.
  run MODEL.onnx|ART.dlc [INPUT...] [--input NAME=PATH]... [--output-dir DIR]
          [--target auto|cpu|cuda] [--cuda-arch ARCH] [--precision P] [--no-fusion]
          [--qdq-as-float] [--remarks]
      Compiles the model in-process (JIT), or loads an artifact, and runs it.
      --target auto (default) uses a CUDA device when one is found, else the CPU.
      INPUT is a .npy or ONNX TensorProto .pb file; positional inputs bind to the
      graph's inputs in order; a sequence or optional input takes an ONNX
      SequenceProto or OptionalProto .pb file. Writes DIR/output_<i>.npy and prints one
      line per output (sequence and optional outputs flattened: one file per
      element). Small inputs that feed compile-time parameters (Reshape's shape,
      Clip's bounds, ...) are specialized to the given values; a model whose symbolic
      compile fails for want of static dims is compiled for the given input shapes.
      numpy has no bfloat16: a bfloat16 input takes uint16 data as its bits, and a
      bfloat16 output is written as uint16 bits.
  inspect ART.dlc [--json]
      Shows an artifact's target, inputs, outputs, kernels and the ONNX nodes each
      covers, launches, weight bytes and arena bytes.
  train MODEL.onnx --data TRAIN.npz [--eval EVAL.npz] --loss cross_entropy|mse
          --optimizer sgd|adam|adamw [--lr X] [--momentum X] [--dampening X]
          [--nesterov] [--weight-decay X] [--batch-size N] [--epochs N] [--seed N]
          [--freeze NAME,...] [--label-key KEY] [--target auto|cpu|cuda]
          [--cuda-arch ARCH] [--precision P] [--loss-scale S|off] [--no-fusion]
          [--emit-step KIND] -o TRAINED.onnx
      Trains the model's float initializers (all but --freeze and BatchNorm running
      statistics) and writes the same graph with the trained values. The forward
      pass, the loss, the backward pass (dlc-autodiff) and the optimizer update are
      compiled into one fused step function, for one static batch size (default 32).
      The .npz (numpy.savez) holds one array per graph input, samples along dim 0,
      and the labels under "label" (int64 class ids for cross_entropy, which is the
      mean softmax cross-entropy of the first output [N, classes]; a float target
      for mse). Optimizers follow torch.optim (defaults: lr 0.01 for sgd, 0.001 for
      adam/adamw; weight decay 0, 0.01 for adamw; Adam betas 0.9, 0.999, eps 1e-8).
      Each epoch reshuffles the samples (reproducibly for a --seed, default 0) and
      drops the last partial batch; BatchNorm uses batch statistics and updates its
      running statistics with momentum 0.1. Prints one line per epoch (train loss,
      eval loss and accuracy, samples/s) and writes the loss curve beside the
      output as OUT.loss.csv and OUT.loss.svg. Default 10 epochs. --precision P
      (CUDA) runs the contractions of the forward and backward passes on tensor
      cores as compile does; parameters, gradients and the optimizer stay f32. fp16
      scales the loss dynamically (torch.amp.GradScaler's rule): the loss is
      multiplied by a scale (--loss-scale, default 65536) before the backward pass
      and the gradients divided by it; a step with an inf or NaN gradient is
      skipped and halves the scale, 2000 steps in a row without one double it.
      --loss-scale S|off sets the initial scale or turns it off. --emit-step
      artifact|dlc|linalg|llvm|ptx|dot writes only the compiled step function (that
      stage, as --emit of compile) to -o and stops: no data or device needed. With
      artifact it also writes OUT.init.npz (initial parameters, zero optimizer state,
      the optimizer settings and, with loss scaling, the scaler's), which
      `dlc-run --train` takes on a machine without the compiler.
  ops
      Lists the ONNX op types dlc imports.

Options common to compile and run:
  --no-fusion   one kernel per op (the reference for fused kernels; see docs/fusion.md)
  --qdq-as-float  QDQ models: compute each DequantizeLinear -> op -> QuantizeLinear unit
                as the float arithmetic the model states. By default the units that
                onnxruntime runs as its integer QLinear kernels (Conv, MatMul, Gemm, Add,
                Mul, pools, Concat, ...) compile as those kernels and round as it does
                (results a quantization step apart from the float arithmetic on a few
                elements; docs/models.md). DLC_QDQ_UNITS=0 does the same.

Errors are one line on stderr with exit code 1. CPU kernels are linked in-process: no
compiler or linker is needed at run time.

Environment: DLC_NUM_THREADS sets the number of CPU threads; DLC_CPU_DENORMALS=keep
computes with denormal floats instead of reading and writing them as zero (x86). For checks of the CUDA
code path without a GPU: DLC_EMULATE_GPU=1 compiles for the CPU with the CUDA tiling
and block/thread mapping, run as loops; DLC_EMULATE_GPU=simt compiles the CUDA kernel
code itself for the CPU and runs each GPU thread as a fiber (barriers, warp shuffles,
ldmatrix, mma.sync and cp.async emulated; DLC_CUDA_ARCH=sm_90a, or --cuda-arch, emulates
that architecture's code, wgmma included); DLC_STRICT_GPU_BLOCKS=1 makes a cooperative
block that would run on one thread an error; DLC_GPU_CONTRACTION_TILES=0 computes
contractions without shared-memory tiles; DLC_GPU_COPY_STAGES=N gives a contraction's
steps N shared buffers (default 3; 1: copies staged in registers one step ahead, no
cp.async); DLC_GPU_SWIZZLE=0 keeps the shared tiles ldmatrix reads unpermuted (by
default their 16-byte chunks are XOR-swizzled against bank conflicts);
DLC_HALF_ACTIVATIONS=0 keeps activations f32 between kernels in fp16/bf16 (by default
those that only contraction factors read cross in half precision); DLC_FOLD_PAD=0|1
forces guarded loads for padded inputs off or on. DLC_CPU_UKERNELS=0 compiles the plain-loop CPU path (no
micro-kernels, no merged epilogues), for comparisons. DLC_UNROLL_LIMIT=N unrolls a Loop
or Scan whose iteration count is known only while the unrolled copies of its body have
at most N nodes (default 4096); the others run in the runtime, their body compiled once
(0: every Loop and Scan). DLC_PRECISION=P is --precision P where none is given. CUDA_HOME or CUDA_PATH names the CUDA toolkit (libdevice).
)";

/// Inputs up to this many elements may be specialized as shape tensors in JIT mode.
constexpr int64_t kMaxShapeTensorElements = 4096;

int fail(const std::string &message) {
  std::cerr << "dlc: error: " << message << "\n";
  return 1;
}

/// Splits the command line into flags with values, switches and positionals.
struct Args {
  std::vector<std::string> positional;
  std::multimap<std::string, std::string> values;
  std::vector<std::string> switches;

  bool has(const std::string &s) const {
    return std::find(switches.begin(), switches.end(), s) != switches.end();
  }
  std::string get(const std::string &k, const std::string &dflt = "") const {
    auto it = values.find(k);
    return it == values.end() ? dflt : it->second;
  }
};

dlc::Status parseArgs(int argc, char **argv, const std::vector<std::string> &valueFlags,
                      const std::vector<std::string> &switchFlags, Args &out) {
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-') {
      out.positional.push_back(arg);
      continue;
    }
    std::string flag = arg.substr(0, arg.find('='));
    if (std::find(valueFlags.begin(), valueFlags.end(), flag) != valueFlags.end()) {
      std::string value;
      if (flag.size() < arg.size())
        value = arg.substr(flag.size() + 1);
      else if (i + 1 < argc)
        value = argv[++i];
      if (value.empty())
        return dlc::Status::error(flag + " needs a value");
      out.values.emplace(flag, value);
    } else if (std::find(switchFlags.begin(), switchFlags.end(), arg) != switchFlags.end()) {
      out.switches.push_back(arg);
    } else {
      return dlc::Status::error("unknown option '" + arg + "' (see dlc --help)");
    }
  }
  return dlc::Status::ok();
}

dlc::Expected<dlc::TargetKind> parseTarget(const std::string &s, bool allowAuto) {
  if (s == "cpu" || (allowAuto && s == "auto"))
    return dlc::TargetKind::Cpu;
  if (s == "cuda")
    return dlc::TargetKind::Cuda;
  return dlc::Status::error("unknown target '" + s + "' (expected " + (allowAuto ? "auto, " : "") +
                            "cpu or cuda)");
}

bool isArtifact(const std::string &path) {
  // Only a regular file is opened: opening a FIFO would wait for a writer. Anything
  // else goes to the importer, which refuses it with its reason.
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return false;
  std::ifstream f(path, std::ios::binary);
  char magic[6] = {};
  f.read(magic, sizeof(magic));
  return f && std::memcmp(magic, "DLCART", 6) == 0;
}

std::string stem(const std::string &path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  return base.substr(0, base.find_last_of('.'));
}

int compileCommand(int argc, char **argv) {
  Args args;
  if (dlc::Status s = parseArgs(argc, argv,
                                {"-o", "--target", "--cuda-arch", "--emit", "--print-ir-after",
                                 "--specialize", "--input-shape", "--precision"},
                                {"--no-fusion", "--qdq-as-float", "--print-ir-after-all",
                                 "--remarks", "--synthetic-weights"},
                                args);
      !s)
    return fail(s.message());
  if (args.positional.size() != 1)
    return fail("compile needs exactly one model file (see dlc --help)");
  const std::string &model = args.positional[0];
  dlc::CompileOptions options;
  dlc::tools::applyEnvironment(options);
  auto target = parseTarget(args.get("--target", "cpu"), false);
  if (!target)
    return fail(target.message());
  options.target = *target;
  options.cudaArch = args.get("--cuda-arch", options.cudaArch);
  if (dlc::Status s = dlc::tools::applyPrecision(options, args.get("--precision", "")); !s)
    return fail(s.message());
  options.fusion = !args.has("--no-fusion");
  if (args.has("--qdq-as-float"))
    options.qdqUnits = false;
  options.remarks = args.has("--remarks");
  options.syntheticWeights = args.has("--synthetic-weights");
  std::string emit = args.get("--emit", "artifact");
  static const std::map<std::string, dlc::EmitKind> kinds{{"artifact", dlc::EmitKind::Artifact},
                                                          {"import", dlc::EmitKind::Import},
                                                          {"dlc", dlc::EmitKind::Dlc},
                                                          {"linalg", dlc::EmitKind::Linalg},
                                                          {"llvm", dlc::EmitKind::Llvm},
                                                          {"ptx", dlc::EmitKind::Ptx},
                                                          {"dot", dlc::EmitKind::Dot}};
  auto kind = kinds.find(emit);
  if (kind == kinds.end())
    return fail("unknown --emit kind '" + emit +
                "' (expected artifact, import, dlc, linalg, llvm, ptx, dot)");
  options.emit = kind->second;
  std::vector<dlc::TensorInfo> declared;
  if (args.values.count("--specialize")) {
    auto inputs = dlc::modelInputs(model);
    if (!inputs)
      return fail(inputs.message());
    declared = std::move(*inputs);
  }
  for (auto [it, end] = args.values.equal_range("--specialize"); it != end; ++it) {
    auto named = dlc::cli::parseNamedInput(it->second);
    if (!named)
      return fail(named.message());
    // A sequence or optional input: its file gives the shapes of what it holds.
    auto in = std::find_if(declared.begin(), declared.end(),
                           [&](const dlc::TensorInfo &i) { return i.name == named->first; });
    if (in != declared.end() && in->kind != dlc::ValueKind::Tensor) {
      auto list = dlc::readTensorListFile(named->second, in->kind == dlc::ValueKind::Optional);
      if (!list)
        return fail(list.message());
      if (!list->present) {
        options.absentOptionalInputs.insert(named->first);
        continue;
      }
      std::vector<std::vector<int64_t>> shapes;
      for (const dlc::Tensor &t : list->tensors)
        shapes.push_back(t.shape);
      options.listInputs[named->first] = shapes;
      continue;
    }
    auto tensor = dlc::readTensorFile(named->second);
    if (!tensor)
      return fail(tensor.message());
    options.shapeTensorInputs[named->first] = std::move(*tensor);
  }
  for (auto [it, end] = args.values.equal_range("--input-shape"); it != end; ++it) {
    size_t eq = it->second.find('=');
    std::vector<int64_t> dims;
    bool ok = eq != std::string::npos && eq > 0;
    std::string text = ok ? it->second.substr(eq + 1) : "";
    for (size_t pos = 0; ok && !text.empty();) {
      size_t x = text.find('x', pos);
      std::string part = text.substr(pos, x == std::string::npos ? std::string::npos : x - pos);
      char *endp = nullptr;
      long long v = part.empty() ? -1 : std::strtoll(part.c_str(), &endp, 10);
      ok = !part.empty() && *endp == '\0' && v >= 0 && v <= (1LL << 40);
      dims.push_back(v);
      if (x == std::string::npos)
        break;
      pos = x + 1;
    }
    if (!ok)
      return fail("--input-shape expects NAME=DIMS with DIMS like 1x3x64x64 (or NAME= for a "
                  "scalar), got '" +
                  it->second + "'");
    options.inputShapes[it->second.substr(0, eq)] = dims;
  }
  options.printIRAfterAll = args.has("--print-ir-after-all");
  for (auto [it, end] = args.values.equal_range("--print-ir-after"); it != end; ++it)
    options.printIRAfter.push_back(it->second);

  auto start = std::chrono::steady_clock::now();
  auto result = dlc::compileFile(model, options);
  if (!result)
    return fail(result.message());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string out = args.get("-o");
  // `-o -` is stdout, for any kind (an artifact piped on).
  if ((options.emit != dlc::EmitKind::Artifact && out.empty()) || out == "-") {
    std::cout.write(reinterpret_cast<const char *>(result->bytes.data()), result->bytes.size());
    return 0;
  }
  if (out.empty())
    out = stem(model) + ".dlc";
  std::ofstream f(out, std::ios::binary);
  f.write(reinterpret_cast<const char *>(result->bytes.data()), result->bytes.size());
  if (!f)
    return fail("cannot write " + out);
  if (options.emit == dlc::EmitKind::Artifact)
    std::cout << "compiled " << model << " -> " << out << ": " << result->numKernels
              << (result->numKernels == 1 ? " kernel, " : " kernels, ") << result->numLaunches
              << (result->numLaunches == 1 ? " launch, " : " launches, ") << result->bytesMoved
              << " bytes moved per run (symbolic dims = 1), " << result->weightBytes
              << " weight bytes, " << result->bytes.size() << " bytes, " << seconds << " s\n";
  return 0;
}

int runCommand(int argc, char **argv) {
  Args args;
  if (dlc::Status s = parseArgs(
          argc, argv, {"--input", "--output-dir", "--target", "--cuda-arch", "--precision"},
          {"--no-fusion", "--qdq-as-float", "--remarks"}, args);
      !s)
    return fail(s.message());
  if (args.positional.empty())
    return fail("run needs a model or artifact (see dlc --help)");
  std::string path = args.positional[0];
  std::vector<std::string> positional(args.positional.begin() + 1, args.positional.end());
  std::vector<dlc::cli::NamedInput> named;
  for (auto [it, end] = args.values.equal_range("--input"); it != end; ++it) {
    auto n = dlc::cli::parseNamedInput(it->second);
    if (!n)
      return fail(n.message());
    named.push_back(*n);
  }
  auto target = parseTarget(args.get("--target", "auto"), true);
  if (!target)
    return fail(target.message());
  if (args.get("--target", "auto") == "auto" && dlc::cudaAvailable())
    *target = dlc::TargetKind::Cuda;

  std::unique_ptr<dlc::Model> model;
  std::vector<dlc::Tensor> inputs;
  if (isArtifact(path)) {
    if (args.values.count("--precision"))
      return fail("--precision applies when compiling; an artifact keeps the precision it "
                  "was compiled with");
    auto loaded = dlc::Model::loadFile(path);
    if (!loaded)
      return fail(loaded.message());
    model = std::move(*loaded);
    if (dlc::Status s = dlc::cli::bindInputs(model->inputs(), positional, named, inputs); !s)
      return fail(s.message());
  } else {
    // Bind the tensors first: integer inputs may be needed at compile time.
    auto declared = dlc::modelInputs(path);
    if (!declared)
      return fail(declared.message());
    std::map<std::string, dlc::TensorList> lists;
    if (dlc::Status s = dlc::cli::bindInputs(*declared, positional, named, inputs, &lists); !s)
      return fail(s.message());
    // Sequence and optional inputs are flattened: the compile learns their contents'
    // shapes. `tensorInputs` pairs the other inputs' names with their tensors.
    std::vector<std::pair<std::string, const dlc::Tensor *>> tensorInputs;
    dlc::CompileOptions options;
    for (size_t i = 0, next = 0; i < declared->size(); ++i) {
      const dlc::TensorInfo &in = (*declared)[i];
      if (in.kind == dlc::ValueKind::Tensor) {
        tensorInputs.push_back({in.name, &inputs[next++]});
        continue;
      }
      const dlc::TensorList &list = lists[in.name];
      if (!list.present)
        options.absentOptionalInputs.insert(in.name);
      std::vector<std::vector<int64_t>> shapes;
      for (const dlc::Tensor &t : list.tensors)
        shapes.push_back(t.shape);
      if (list.present)
        options.listInputs[in.name] = shapes;
      next += list.tensors.size();
    }
    // Small inputs may stand in for compile-time parameters (shape tensors); the
    // importer specializes only those a node needs as constants.
    dlc::tools::applyEnvironment(options);
    options.target = *target;
    options.cudaArch = args.get("--cuda-arch", options.cudaArch);
    if (dlc::Status s = dlc::tools::applyPrecision(options, args.get("--precision", "")); !s)
      return fail(s.message());
    options.fusion = !args.has("--no-fusion");
    if (args.has("--qdq-as-float"))
      options.qdqUnits = false;
    options.remarks = args.has("--remarks");
    for (const auto &[name, tensor] : tensorInputs)
      if (tensor->numElements() <= kMaxShapeTensorElements)
        options.shapeTensorInputs[name] = *tensor;
    auto jit = dlc::jitFile(path, options);
    if (!jit) {
      // Control flow or a recurrence that needs static dims: compile for these shapes
      // (as dlc::JitModel does). If that fails too, its error is the one that stops
      // this run (it got past what the shapes decide).
      for (const auto &[name, tensor] : tensorInputs)
        options.inputShapes[name] = tensor->shape;
      jit = dlc::jitFile(path, options);
    }
    if (!jit)
      return fail(jit.message());
    model = std::move(*jit);
  }
  std::cout << "target: " << model->target() << "\n";
  auto start = std::chrono::steady_clock::now();
  auto outputs = model->run(inputs);
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!outputs)
    return fail(outputs.message());
  if (dlc::Status s =
          dlc::cli::reportOutputs(model->outputs(), *outputs, args.get("--output-dir"), std::cout);
      !s)
    return fail(s.message());
  dlc::cli::reportTime(ms, std::cout);
  dlc::cli::reportMemory(model->memoryStats(), std::cout);
  return 0;
}

int inspectCommand(int argc, char **argv) {
  Args args;
  if (dlc::Status s = parseArgs(argc, argv, {}, {"--json"}, args); !s)
    return fail(s.message());
  if (args.positional.size() != 1)
    return fail("inspect needs exactly one artifact (see dlc --help)");
  if (dlc::Status s = dlc::tools::inspect(args.positional[0], args.has("--json"), std::cout); !s)
    return fail(s.message());
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2)
    return fail("no command given (see dlc --help)");
  std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (cmd == "--version") {
    std::cout << "dlc 0.1.0\n";
    return 0;
  }
  for (int i = 2; i < argc; ++i)
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::cout << kUsage;
      return 0;
    }
  if (cmd == "compile")
    return compileCommand(argc, argv);
  if (cmd == "run")
    return runCommand(argc, argv);
  if (cmd == "inspect")
    return inspectCommand(argc, argv);
  if (cmd == "train")
    return dlc::tools::trainCommand(argc, argv);
  if (cmd == "ops") {
    for (const std::string &op : dlc::supportedOps())
      std::cout << op << "\n";
    return 0;
  }
  return fail("unknown command '" + cmd + "' (expected compile, run, inspect, train or ops)");
}
