//===- dlc.h - Compile ONNX models and run them -----------------*- C++ -*-===//
//
// The compiler API: compile an ONNX model (file or bytes) in-process for a target, to an
// artifact in memory or on disk, or straight to a runnable Model (JIT). Errors are values.
// Running compiled models is the runtime API in dlc/runtime.h.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_DLC_H
#define DLC_DLC_H

#include "dlc/runtime.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dlc {

enum class TargetKind { Cpu, Cuda };

/// The stage whose output `compile` returns.
enum class EmitKind {
  Artifact, ///< the .dlc file
  Import,   ///< dlc dialect straight out of the importer, before any pass
  Dlc,      ///< dlc dialect after graph passes and kernel formation
  Linalg,   ///< kernels lowered to linalg and tiled over workgroups
  Llvm,     ///< LLVM IR of the kernels (CPU target)
  Ptx,      ///< one PTX module with every kernel (CUDA target)
  Dot,      ///< Graphviz picture of the graph, ops clustered and coloured by kernel
};

/// The CUDA architectures `--cuda-arch` accepts, oldest first.
std::vector<std::string> cudaArchitectures();

/// The arithmetic of contractions on the CUDA target (`--precision`, docs/cuda.md).
enum class Precision {
  Fp32, ///< f32 FMAs: results as the reference
  Tf32, ///< operands rounded to TF32, tensor cores (sm_80+), f32 accumulation
  Fp16, ///< operands rounded to f16, tensor cores (sm_75+), f32 accumulation
  Bf16, ///< operands rounded to bf16, tensor cores (sm_80+), f32 accumulation
};
/// "fp32", "tf32", "fp16", "bf16".
const char *precisionName(Precision precision);
/// The precision named `name`, or nothing.
std::optional<Precision> parsePrecision(const std::string &name);

struct CompileOptions {
  TargetKind target = TargetKind::Cpu;
  EmitKind emit = EmitKind::Artifact;
  /// CUDA target: the PTX target architecture (one of cudaArchitectures()). PTX for an
  /// older architecture runs on newer cards, JIT-compiled by the driver at load. The
  /// SIMT emulation (emulateSimt) runs that architecture's kernel code.
  std::string cudaArch = "sm_80";
  /// CUDA target and its emulation: the arithmetic of contractions. Below fp32, a
  /// MatMul/Gemm/BatchMatMul tile runs on tensor cores where the architecture has the
  /// instruction, its operands rounded to the precision, accumulating in f32; other
  /// ops (and contractions that do not fit) compute in f32. The CPU target computes in
  /// f32 and refuses anything else.
  Precision precision = Precision::Fp32;
  /// Fuse ops into shared kernels (docs/fusion.md); false: one kernel per op, the
  /// reference that fused results are checked against.
  bool fusion = true;
  /// Store large weights as zeros that the runtime fills with seeded noise at load
  /// (artifact::makeSynthetic): an artifact for timing only.
  bool syntheticWeights = false;
  /// Print the IR after every pass (to stderr).
  bool printIRAfterAll = false;
  /// Print the IR after the passes with these command-line names (to stderr).
  std::vector<std::string> printIRAfter;
  /// JIT specialization: values of graph inputs that feed compile-time parameters
  /// (e.g. Reshape's shape). Only inputs that need it are baked in.
  std::map<std::string, Tensor> shapeTensorInputs;
  /// Shape specialization: fixed shapes of graph inputs, by name, replacing their
  /// symbolic dims (the artifact serves these shapes only). For models whose control
  /// flow or recurrences need static dims (an If on a dim, an LSTM over a symbolic
  /// length); JitModel applies it by itself when a symbolic compile fails.
  std::map<std::string, std::vector<int64_t>> inputShapes;
  /// Sequence and optional graph inputs, flattened into tensor inputs: per input, the
  /// shapes of its tensors (a sequence's elements become inputs NAME[0], NAME[1], ...;
  /// an optional tensor input NAME). Absent optionals are named in
  /// absentOptionalInputs and take no input. `dlc run` fills both from the input files.
  std::map<std::string, std::vector<std::vector<int64_t>>> listInputs;
  std::set<std::string> absentOptionalInputs;

  // Checks and comparisons of the CUDA code path (the tools set these from
  // DLC_EMULATE_GPU, DLC_STRICT_GPU_BLOCKS, DLC_GPU_CONTRACTION_TILES, DLC_GPU_COPY_STAGES,
  // DLC_GPU_SWIZZLE,
  // DLC_FOLD_PAD, DLC_CPU_UKERNELS).

  /// CPU target: compile the kernels with the CUDA target's tiling and block/thread
  /// mapping, blocks and threads run as loops (a check of that mapping without a GPU).
  bool emulateGpu = false;
  /// With emulateGpu: the CUDA kernel code itself (after the kernel-code passes:
  /// tensor-core lane code, register epilogues, unrolled thread loops, pipelined steps),
  /// compiled for the CPU and run by the runtime's SIMT emulator, a fiber per GPU thread,
  /// barriers and warp operations (shuffles, ldmatrix, mma.sync; sm_90a's wgmma per
  /// warpgroup) exchanged between them.
  bool emulateSimt = false;
  /// CUDA target and emulation: a cooperative block (a row reduction's, a contraction
  /// tile's) that cannot be mapped and would run on one thread is an error.
  bool strictGpuBlocks = false;
  /// CUDA target and emulation: contractions through shared-memory tiles; false: one
  /// thread per output element, from global memory (for comparisons).
  bool gpuContractionTiles = true;
  /// CUDA target and SIMT emulation, sm_80 on: shared buffers per operand of a
  /// contraction tile's reduction steps, copied from global memory with cp.async up to
  /// this many steps minus one ahead (dlc-gpu-async-copies); fewer where shared memory
  /// runs out. 1: copies staged in registers one step ahead instead.
  int64_t gpuCopyStages = 3;
  /// CUDA target and SIMT emulation: the shared tiles ldmatrix reads permute their
  /// 16-byte chunks against bank conflicts (dlc-gpu-swizzle-shared); false: plain
  /// row-major tiles, for comparisons.
  bool gpuSwizzleShared = true;
  /// CUDA target and emulation, --precision fp16|bf16: activations that every reader
  /// rounds to the precision (contraction factors) pass between kernels in it
  /// (dlc-half-activations); false: they stay f32, for comparisons.
  bool gpuHalfActivations = true;
  /// Read padded inputs (Conv, pooling) with guarded loads instead of a padded copy
  /// (dlc-fold-pad-into-loads). Unset: on for the CUDA target and emulation, off on
  /// the CPU, where a padded copy per tile vectorizes better.
  std::optional<bool> foldPadIntoLoads;
  /// CPU target: f32 and i32 contractions call the runtime's packed, vectorized
  /// micro-kernels and elementwise epilogues merge into one loop nest (docs/cpu.md);
  /// false: the plain-loop CPU path, for comparisons.
  bool cpuUkernels = true;
  /// CPU target: kernel outputs past the caches (16 MiB a returned output, 32 MiB one
  /// that later kernels read) are written with non-temporal stores (docs/cpu.md);
  /// false: cached stores everywhere, for comparisons.
  bool cpuStreamStores = true;
  /// CUDA target: the toolkit folder holding nvvm/libdevice (math functions); empty:
  /// /usr/local/cuda or /usr/lib/cuda. `dlc` takes it from CUDA_HOME/CUDA_PATH.
  std::string cudaToolkit;
  /// Print the compiler's remarks (e.g. a kernel that runs on one thread, and why)
  /// to stderr.
  bool remarks = false;
  /// The most bytes the model file may have (protobuf's own limit is 2 GiB); a larger
  /// file is refused before it is read. External data is bounded by its tensors.
  uint64_t maxModelBytes = uint64_t(2) << 30;
  /// Loop and Scan are unrolled when their iteration count is known at compile time and
  /// the unrolled copies of the body have at most this many nodes in all; otherwise the
  /// runtime runs them, the body compiled once as a nested model (0: always).
  int64_t unrollLimit = 4096;
  /// QDQ models: the DequantizeLinear -> op -> QuantizeLinear units onnxruntime runs as
  /// its QLinear kernels (Conv, MatMul, Gemm, Add, Mul, pools, Concat, ...) compile as
  /// those kernels, rounding as onnxruntime does (docs/models.md); false: as the float
  /// arithmetic between the DQ and Q nodes that the model states (`--qdq-as-float`).
  bool qdqUnits = true;
};

struct CompileResult {
  /// The artifact bytes (EmitKind::Artifact) or the IR text of the requested stage.
  std::vector<uint8_t> bytes;
  /// Number of kernels and of weight bytes, for reports.
  size_t numKernels = 0;
  size_t numLaunches = 0;
  size_t weightBytes = 0;
  /// Bytes the launches read and write in one run (each kernel's inputs and outputs),
  /// with symbolic dims taken as 1: an estimate of the memory traffic.
  uint64_t bytesMoved = 0;
  /// The shapeTensorInputs a node took as compile-time values (the artifact is valid
  /// for those values only), sorted.
  std::vector<std::string> specializedInputs;
};

/// Compiles an ONNX model file (`.onnx`, or ONNX text `.onnxtxt`).
Expected<CompileResult> compileFile(const std::string &path, const CompileOptions &options = {});
/// Compiles a serialized ONNX ModelProto; external data is refused (no model folder).
Expected<CompileResult> compileBytes(const std::string &bytes, const CompileOptions &options = {});
/// Compiles a model file and loads it, ready to run (JIT).
Expected<std::unique_ptr<Model>> jitFile(const std::string &path,
                                         const CompileOptions &options = {});

/// A model compiled for the inputs it runs with (JIT). Inputs of at most
/// kMaxSpecializedElements elements are offered to the compiler as compile-time values;
/// those a node needs (a Reshape's shape that depends on data, not on shapes) are baked
/// into the compiled variant, which is cached under their values. A run whose values of
/// those inputs differ compiles (and caches) another variant; symbolic dims cause no
/// recompile, except for a model whose first, symbolic compile fails and compiles for
/// the actual input shapes (control flow or a recurrence that needs static dims): its
/// variants are then per input shapes too. Thread-safe.
class JitModel {
public:
  static constexpr int64_t kMaxSpecializedElements = 4096;
  /// Reads the model's inputs; compiles at the first run.
  static Expected<std::unique_ptr<JitModel>> open(const std::string &path,
                                                  const CompileOptions &options = {});
  ~JitModel();
  /// Runs with `inputs` (bound to inputs() in order), compiling a variant if needed.
  Expected<std::vector<Tensor>> run(const std::vector<Tensor> &inputs);
  /// The graph inputs (names and dtypes; shapes empty).
  const std::vector<TensorInfo> &inputs() const;
  /// Variants compiled so far (1 after the first run of a model that needs none).
  size_t compiles() const;
  /// The inputs the latest compile specialized on.
  std::vector<std::string> specializedInputs() const;

private:
  JitModel();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Names and dtypes of an ONNX model's graph inputs (initializers excluded), in order,
/// read without compiling; shapes are left empty.
Expected<std::vector<TensorInfo>> modelInputs(const std::string &path);

/// The ONNX op types dlc can import, sorted.
std::vector<std::string> supportedOps();

} // namespace dlc

#endif // DLC_DLC_H
