//===- artifact.h - The dlc artifact as plain C++ data ---------*- C++ -*-===//
//
// The contents of a .dlc file as plain structs: the compiler fills an ArtifactSpec and
// serializes it; the runtime parses a file back into one (verifying everything) before it
// builds an executor. The FlatBuffers schema is runtime/artifact.fbs; the file layout is in
// docs/architecture.md. No LLVM, MLIR or ONNX here.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_ARTIFACT_H
#define DLC_ARTIFACT_H

#include "dlc/runtime.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dlc::artifact {

constexpr uint32_t kFormatVersion = 5;

enum class Target : int8_t { Cpu = 0, Cuda = 1 };
enum class BufferKind : int8_t { Input = 0, Weight = 1, Intermediate = 2, Alias = 3 };

/// Shape-expression opcodes (docs/architecture.md).
enum ExprOp : int64_t {
  Const = 0,
  InputDim = 1,
  Add = 2,
  Sub = 3,
  Mul = 4,
  FloorDiv = 5,
  CeilDiv = 6,
  Mod = 7,
  Min = 8,
  Max = 9,
};

struct Buffer {
  std::string name;
  BufferKind kind = BufferKind::Intermediate;
  DType dtype = DType::Float;
  std::vector<int64_t> dims; // d >= 0 static; d < 0: expression -(d + 1)
  int32_t index = -1;        // Input: graph input index; Alias: aliased buffer
  uint64_t weightOffset = 0; // Weight: offset in weights
  uint64_t weightSize = 0;
};

/// A range of the weights section that the file holds as zeros and the loader fills
/// with seeded uniform noise (`dlc compile --synthetic-weights`): `size` bytes at
/// `offset` of `dtype` (float, float16, bfloat16: uniform in [-scale, scale]; int8: in
/// [-127, 127]).
struct SyntheticRange {
  uint64_t offset = 0;
  uint64_t size = 0;
  DType dtype = DType::Float;
  float scale = 0;
};

struct Kernel {
  std::string name;
  std::string symbol;
  std::vector<std::string> nodes;
  /// The buffers the kernel was compiled for, in binding order (inputs, then outputs):
  /// dtype and dims, -1 where dynamic (the kernel reads that dim from its descriptor,
  /// every other one is built into its code). The loader checks each launch against it.
  int32_t numInputs = 0;
  std::vector<TensorInfo> signature;
};

struct Launch {
  int32_t kernel = 0;
  std::vector<int32_t> bindings; // inputs, then outputs
  int32_t numInputs = 0;
  int64_t grid = 1; // >= 1 static; < 0: expression -(grid + 1)
  std::vector<int32_t> block;
  int32_t sharedMemory = 0;
  /// Shared memory the kernel itself declares (static; for inspect).
  int32_t staticSharedMemory = 0;
  /// A host launch (kernel -1): an op the runtime runs between kernels because its
  /// output size depends on data (runtime/HostOps.cpp), with its parameters.
  std::string hostOp;
  std::vector<int64_t> hostInts;
  std::vector<double> hostFloats;
  /// The data-dependent dims the host op decides, in the order its HostResult gives
  /// their values.
  std::vector<int32_t> dataDims;
  /// Dims the kernel was compiled to take as equal (a dynamic dim broadcast against
  /// another, a contraction's reduced extents): pairs of encoded dims (as Buffer::dims),
  /// checked before the launch, and per pair the ONNX node that assumed it.
  std::vector<int64_t> dimChecks;
  std::vector<std::string> dimCheckNodes;

  bool isHost() const { return !hostOp.empty(); }
};

struct ArtifactSpec {
  Target target = Target::Cpu;
  std::string targetTriple;
  std::string producer;
  /// The arithmetic of its contractions (--precision: "fp32", "tf32", "fp16", "bf16");
  /// empty for the CPU target.
  std::string precision;
  /// CPU target: the kernels are CUDA kernels (one call per GPU thread, wg = block id,
  /// nwg = grid) that the runtime's SIMT emulator runs, a fiber per thread of a block
  /// (DLC_EMULATE_GPU=simt, docs/cuda.md).
  bool simt = false;
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  std::vector<int32_t> inputBuffers;
  std::vector<int32_t> outputBuffers;
  std::vector<Buffer> buffers;
  std::vector<std::vector<int64_t>> exprs;
  std::vector<Kernel> kernels;
  std::vector<Launch> launches;
  std::vector<uint8_t> weights; // each weight 64-byte aligned within
  std::vector<uint8_t> code;    // CPU shared object or PTX text
  /// A training step's input and output roles (empty for other models).
  StepSignature step;
  /// Dims that host launches decide at run time. Shape expressions read data dim k as
  /// dim 0 of input `inputs.size() + k` (InputDim opcode), so a run evaluates them over
  /// the input shapes followed by one [value] entry per data dim known so far.
  int32_t numDataDims = 0;
  /// Nested artifacts, complete .dlc files of the same target: the bodies of runtime
  /// loops (host op "Loop", whose first parameter indexes them), each compiled once.
  std::vector<std::vector<uint8_t>> subModels;
  /// Weights replaced by noise: zeros in the file, filled by parse().
  std::vector<SyntheticRange> synthetic;
};

/// The smallest weight `makeSynthetic` replaces (smaller ones, scalars, biases and
/// normalization parameters, keep their values).
constexpr uint64_t kMinSyntheticBytes = 64 * 1024;

/// Replaces each float, float16, bfloat16 and int8 weight of kMinSyntheticBytes or more
/// by a synthetic range: its bytes become zeros and the range records the uniform
/// noise of the same root mean square that parse() puts there (float weights without
/// finite values keep theirs). The model's outputs are no longer its own: for timing
/// models whose weights are too large to ship (the zeros compress away).
void makeSynthetic(ArtifactSpec &spec);

/// Serializes a spec into the bytes of a .dlc file.
std::vector<uint8_t> serialize(const ArtifactSpec &spec);
/// Parses and fully verifies the bytes of a .dlc file.
Expected<ArtifactSpec> parse(const uint8_t *data, size_t size);

/// Rewrites the checksum of the artifact bytes `file` for its contents (tests that
/// corrupt an artifact on purpose use it to reach the checks behind the checksum).
void sealChecksum(std::vector<uint8_t> &file);

/// The text a CPU code section holds, as the NUL-terminated global
/// `<symbol>_signature`, for each kernel: its number of inputs and each binding's dtype
/// and dims. The loader compares it with the table's kernel, so that a table cannot
/// point a kernel at code compiled for other buffers (a renamed symbol).
std::string kernelSignatureText(const Kernel &kernel);

/// Evaluates shape expression `code` given the graph inputs' actual shapes.
Expected<int64_t> evalExpr(const std::vector<int64_t> &code,
                           const std::vector<std::vector<int64_t>> &inputShapes);
/// Resolves an encoded dim (static or expression reference) of `spec`.
Expected<int64_t> resolveDim(const ArtifactSpec &spec, int64_t encoded,
                             const std::vector<std::vector<int64_t>> &inputShapes);

/// Per-buffer arena placement for given concrete sizes (bytes; 0 for non-intermediates).
struct MemoryPlan {
  std::vector<uint64_t> offsets; // per buffer; meaningful for Intermediate only
  uint64_t arenaBytes = 0;       // planned (liveness-packed) arena size
  uint64_t naiveBytes = 0;       // sum of all intermediate sizes, each aligned
};
/// Liveness-based best-fit packing of intermediate buffers by launch order.
MemoryPlan planMemory(const ArtifactSpec &spec, const std::vector<uint64_t> &bufferBytes);

} // namespace dlc::artifact

#endif // DLC_ARTIFACT_H
