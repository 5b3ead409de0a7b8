//===- Artifact.cpp - Write and verify .dlc artifact files ----------------===//

#include "dlc/artifact.h"

#include "HostOps.h"
#include "Support.h"
#include "artifact_generated.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace dlc::artifact {
namespace {

namespace fbs = flatbuffers;

constexpr char kMagic[8] = {'D', 'L', 'C', 'A', 'R', 'T', '\0', '\1'};
/// magic, format version, FlatBuffer size, checksum (docs/architecture.md).
constexpr size_t kHeaderSize = 24;
constexpr size_t kChecksumOffset = 16;
constexpr uint64_t kAlign = 64;

void putU32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<uint8_t>(v >> (8 * i));
}

uint32_t getU32(const uint8_t *p) {
  return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24;
}

void putU64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    p[i] = static_cast<uint8_t>(v >> (8 * i));
}

uint64_t getU64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = v << 8 | p[i];
  return v;
}

/// XXH3-64 of the whole file but its checksum field.
uint64_t fileChecksum(const uint8_t *data, size_t size) {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, data, kChecksumOffset);
  XXH3_64bits_update(&state, data + kHeaderSize, size - kHeaderSize);
  return XXH3_64bits_digest(&state);
}

Status fail(const std::string &what) { return Status::error("artifact: " + what); }

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

fbs::Offset<fb::TensorInfo> writeTensorInfo(fbs::FlatBufferBuilder &fbb, const TensorInfo &info) {
  std::vector<std::string> dimNames(info.shape.size());
  for (size_t i = 0; i < dimNames.size() && i < info.dimNames.size(); ++i)
    dimNames[i] = info.dimNames[i];
  return fb::CreateTensorInfo(fbb, fbb.CreateString(info.name), static_cast<int32_t>(info.dtype),
                              fbb.CreateVector(info.shape), fbb.CreateVectorOfStrings(dimNames));
}

template <typename T, typename F>
auto writeTables(fbs::FlatBufferBuilder &fbb, const std::vector<T> &items, F write) {
  std::vector<decltype(write(fbb, items.front()))> offsets;
  for (const T &item : items)
    offsets.push_back(write(fbb, item));
  return fbb.CreateVector(offsets);
}

fbs::Offset<fb::Buffer> writeBuffer(fbs::FlatBufferBuilder &fbb, const Buffer &b) {
  return fb::CreateBuffer(fbb, fbb.CreateString(b.name), static_cast<fb::BufferKind>(b.kind),
                          static_cast<int32_t>(b.dtype), fbb.CreateVector(b.dims), b.index,
                          b.weightOffset, b.weightSize);
}

fbs::Offset<fb::Expr> writeExpr(fbs::FlatBufferBuilder &fbb, const std::vector<int64_t> &code) {
  return fb::CreateExpr(fbb, fbb.CreateVector(code));
}

fbs::Offset<fb::Kernel> writeKernel(fbs::FlatBufferBuilder &fbb, const Kernel &k) {
  std::vector<fbs::Offset<fb::TensorInfo>> signature;
  for (const TensorInfo &t : k.signature)
    signature.push_back(writeTensorInfo(fbb, t));
  auto sig = fbb.CreateVector(signature);
  auto name = fbb.CreateString(k.name), symbol = fbb.CreateString(k.symbol);
  auto nodes = fbb.CreateVectorOfStrings(k.nodes);
  return fb::CreateKernel(fbb, name, symbol, nodes, k.numInputs, sig);
}

fbs::Offset<fb::Launch> writeLaunch(fbs::FlatBufferBuilder &fbb, const Launch &l) {
  return fb::CreateLaunch(
      fbb, l.kernel, fbb.CreateVector(l.bindings), l.numInputs, l.grid, fbb.CreateVector(l.block),
      l.sharedMemory, l.staticSharedMemory, l.hostOp.empty() ? 0 : fbb.CreateString(l.hostOp),
      fbb.CreateVector(l.hostInts), fbb.CreateVector(l.hostFloats), fbb.CreateVector(l.dataDims),
      l.dimChecks.empty() ? 0 : fbb.CreateVector(l.dimChecks),
      l.dimCheckNodes.empty() ? 0 : fbb.CreateVectorOfStrings(l.dimCheckNodes));
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

/// Copies a vector of scalars bytewise: the verifier only guarantees 4-byte alignment
/// of vector data, which a corrupt file can violate for 8-byte elements. (FlatBuffers
/// are little-endian, like every host the runtime supports.)
template <typename T> std::vector<T> readVector(const fbs::Vector<T> *v) {
  std::vector<T> out(v ? v->size() : 0);
  if (!out.empty())
    copyBytes(out.data(), v->Data(), out.size() * sizeof(T));
  return out;
}

std::string readString(const fbs::String *s) { return s ? s->str() : std::string(); }

std::vector<std::string> readStrings(const fbs::Vector<fbs::Offset<fbs::String>> *v) {
  std::vector<std::string> out;
  if (v)
    for (const fbs::String *s : *v)
      out.push_back(s->str());
  return out;
}

template <typename T, typename F> auto readTables(const fbs::Vector<fbs::Offset<T>> *v, F read) {
  std::vector<decltype(read(static_cast<const T *>(nullptr)))> out;
  if (v)
    for (const T *t : *v)
      out.push_back(read(t));
  return out;
}

TensorInfo readTensorInfo(const fb::TensorInfo *t) {
  TensorInfo info;
  info.name = readString(t->name());
  info.dtype = static_cast<DType>(t->dtype());
  info.shape = readVector(t->dims());
  info.dimNames = readStrings(t->dim_names());
  if (info.dimNames.empty())
    info.dimNames.resize(info.shape.size());
  return info;
}

Buffer readBuffer(const fb::Buffer *b) {
  Buffer buf;
  buf.name = readString(b->name());
  buf.kind = static_cast<BufferKind>(b->kind());
  buf.dtype = static_cast<DType>(b->dtype());
  buf.dims = readVector(b->dims());
  buf.index = b->index();
  buf.weightOffset = b->weight_offset();
  buf.weightSize = b->weight_size();
  return buf;
}

Kernel readKernel(const fb::Kernel *k) {
  Kernel kernel;
  kernel.name = readString(k->name());
  kernel.symbol = readString(k->symbol());
  kernel.nodes = readStrings(k->nodes());
  kernel.numInputs = k->num_inputs();
  kernel.signature = readTables(k->signature(), readTensorInfo);
  return kernel;
}

Launch readLaunch(const fb::Launch *l) {
  Launch launch;
  launch.kernel = l->kernel();
  launch.bindings = readVector(l->bindings());
  launch.numInputs = l->num_inputs();
  launch.grid = l->grid();
  launch.block = readVector(l->block());
  launch.sharedMemory = l->shared_memory();
  launch.staticSharedMemory = l->static_shared_memory();
  launch.hostOp = readString(l->host_op());
  launch.hostInts = readVector(l->host_ints());
  launch.hostFloats = readVector(l->host_floats());
  launch.dataDims = readVector(l->data_dims());
  launch.dimChecks = readVector(l->dim_checks());
  if (const auto *nodes = l->dim_check_nodes())
    for (const auto *n : *nodes)
      launch.dimCheckNodes.push_back(n ? n->str() : std::string());
  return launch;
}

std::vector<StepRole> readRoles(const fbs::Vector<int8_t> *v) {
  std::vector<StepRole> roles;
  if (v)
    for (int8_t r : *v)
      roles.push_back(static_cast<StepRole>(r));
  return roles;
}

/// Copies section `name` out of the file after checking it lies within it.
Status readSection(const char *name, uint64_t offset, uint64_t bytes, uint64_t tableEnd,
                   const uint8_t *data, size_t size, std::vector<uint8_t> &out) {
  if (offset % kAlign)
    return fail(strCat(name, " section offset ", offset, " is not ", kAlign, "-byte aligned"));
  if (offset < tableEnd)
    return fail(strCat(name, " section at offset ", offset, " overlaps the model table (ends at ",
                       tableEnd, ")"));
  if (offset > size || bytes > size - offset)
    return Status::error(strCat("artifact is truncated (", name, " section of ", bytes,
                                " bytes at offset ", offset, ", file has ", size, " bytes)"));
  out.assign(data + offset, data + offset + bytes);
  return Status::ok();
}

//===----------------------------------------------------------------------===//
// Verification of the decoded spec
//===----------------------------------------------------------------------===//

/// Checks the stack discipline and operands of a shape-expression program.
Status verifyExpr(const std::vector<int64_t> &code, const std::vector<TensorInfo> &inputs,
                  int32_t numDataDims) {
  size_t depth = 0;
  for (size_t pc = 0; pc < code.size();) {
    int64_t op = code[pc];
    if (op < Const || op > Max)
      return Status::error(strCat("has unknown opcode ", op, " at word ", pc));
    size_t operands = op == Const ? 1 : op == InputDim ? 2 : 0;
    if (code.size() - pc - 1 < operands)
      return Status::error(strCat("lacks the operands of opcode ", op, " at word ", pc));
    if (op == InputDim) {
      int64_t input = code[pc + 1], dim = code[pc + 2];
      int64_t numInputs = inputs.size();
      if (input < 0 || input >= numInputs + numDataDims)
        return Status::error(
            strCat("refers to input ", input, " of ", inputs.size(),
                   numDataDims ? strCat(" (and ", numDataDims, " data dims)") : std::string()));
      if (input >= numInputs) { // a data dim: dim 0 of a pseudo-input
        if (dim != 0)
          return Status::error(strCat("refers to dim ", dim, " of data dim ", input - numInputs));
      } else if (dim < 0 || static_cast<uint64_t>(dim) >= inputs[input].shape.size())
        return Status::error(strCat("refers to dim ", dim, " of input ", input, " (rank ",
                                    inputs[input].shape.size(), ")"));
    }
    if (op == Const || op == InputDim)
      ++depth;
    else if (depth-- < 2)
      return Status::error(strCat("underflows the stack at word ", pc));
    pc += 1 + operands;
  }
  if (depth != 1)
    return Status::error(strCat("leaves ", depth, " values on the stack, not 1"));
  return Status::ok();
}

/// Checks an encoded dim or grid: static values must be >= `minStatic`, expression
/// references must name an existing expression.
Status verifyEncoded(const ArtifactSpec &spec, int64_t encoded, int64_t minStatic,
                     const std::string &what) {
  if (encoded >= minStatic)
    return Status::ok();
  if (encoded >= 0)
    return fail(strCat(what, " is ", encoded));
  uint64_t expr = static_cast<uint64_t>(-(encoded + 1));
  if (expr >= spec.exprs.size())
    return fail(strCat(what, " refers to expression ", expr, " of ", spec.exprs.size()));
  return Status::ok();
}

Status verifyTensorInfo(const TensorInfo &info, const std::string &what) {
  if (dtypeSize(info.dtype) == 0)
    return fail(strCat(what, " has unsupported dtype ", static_cast<int>(info.dtype)));
  for (int64_t d : info.shape)
    if (d < -1)
      return fail(strCat(what, " has dim ", d));
  if (info.dimNames.size() != info.shape.size())
    return fail(
        strCat(what, " has ", info.dimNames.size(), " dim names for rank ", info.shape.size()));
  return Status::ok();
}

bool isValidBuffer(const ArtifactSpec &spec, int64_t b) {
  return b >= 0 && static_cast<uint64_t>(b) < spec.buffers.size();
}

/// Follows aliases from buffer `b` to the buffer that owns the bytes.
int32_t rootBuffer(const ArtifactSpec &spec, int32_t b) {
  while (spec.buffers[b].kind == BufferKind::Alias)
    b = spec.buffers[b].index;
  return b;
}

Status verifyBuffer(const ArtifactSpec &spec, size_t i) {
  const Buffer &b = spec.buffers[i];
  std::string what = strCat("buffer ", i, " '", b.name, "'");
  if (static_cast<int>(b.kind) < 0 || b.kind > BufferKind::Alias)
    return fail(strCat(what, " has unknown kind ", static_cast<int>(b.kind)));
  size_t elemSize = dtypeSize(b.dtype);
  if (elemSize == 0)
    return fail(strCat(what, " has unsupported dtype ", static_cast<int>(b.dtype)));
  std::vector<int64_t> staticDims;
  for (size_t d = 0; d < b.dims.size(); ++d) {
    if (Status s = verifyEncoded(spec, b.dims[d], 0, strCat(what, " dim ", d)); !s)
      return s;
    if (b.dims[d] >= 0)
      staticDims.push_back(b.dims[d]);
  }
  int64_t staticBytes;
  if (!denseBytes(staticDims, elemSize, staticBytes))
    return fail(strCat(what, " is too large"));

  switch (b.kind) {
  case BufferKind::Input: {
    if (b.index < 0 || static_cast<uint64_t>(b.index) >= spec.inputs.size())
      return fail(strCat(what, " is input ", b.index, " of ", spec.inputs.size()));
    const TensorInfo &input = spec.inputs[b.index];
    if (input.dtype != b.dtype || input.shape.size() != b.dims.size())
      return fail(strCat(what, " does not match the type of input ", b.index));
    break;
  }
  case BufferKind::Weight:
    if (staticDims.size() != b.dims.size())
      return fail(strCat(what, " is a weight with a dynamic shape"));
    if (b.weightOffset % kAlign)
      return fail(
          strCat(what, " weight offset ", b.weightOffset, " is not ", kAlign, "-byte aligned"));
    if (b.weightOffset > spec.weights.size() || b.weightSize > spec.weights.size() - b.weightOffset)
      return fail(strCat(what, " weight of ", b.weightSize, " bytes at offset ", b.weightOffset,
                         " lies outside the weights section (", spec.weights.size(), " bytes)"));
    if (b.weightSize != static_cast<uint64_t>(staticBytes))
      return fail(
          strCat(what, " weight has ", b.weightSize, " bytes, its shape needs ", staticBytes));
    break;
  case BufferKind::Alias: {
    if (!isValidBuffer(spec, b.index))
      return fail(strCat(what, " aliases buffer ", b.index, " of ", spec.buffers.size()));
    // An alias chain longer than the buffer count must be a cycle.
    int64_t target = b.index;
    for (size_t steps = 0; spec.buffers[target].kind == BufferKind::Alias; ++steps) {
      if (steps == spec.buffers.size() || !isValidBuffer(spec, spec.buffers[target].index))
        return fail(strCat(what, " has a broken or cyclic alias chain"));
      target = spec.buffers[target].index;
    }
    break;
  }
  case BufferKind::Intermediate:
    break;
  }
  return Status::ok();
}

/// A training step's signature: one known role per input and output, one Label, the
/// Loss first and alone, every updated output named as an input of its role.
Status verifyStep(const ArtifactSpec &spec) {
  const StepSignature &step = spec.step;
  if (step.empty())
    return Status::ok();
  if (step.inputs.size() != spec.inputs.size() || step.outputs.size() != spec.outputs.size())
    return fail(strCat("the training step has ", step.inputs.size(), " input and ",
                       step.outputs.size(), " output roles for ", spec.inputs.size(),
                       " inputs and ", spec.outputs.size(), " outputs"));
  auto known = [](StepRole r) { return static_cast<int8_t>(r) >= 0 && r <= StepRole::NonFinite; };
  size_t labels = 0, scales = 0, counts = 0;
  for (size_t i = 0; i < step.inputs.size(); ++i) {
    StepRole r = step.inputs[i];
    if (!known(r) || r == StepRole::Loss || r == StepRole::NonFinite)
      return fail(strCat("training step input ", i, " has no valid role"));
    labels += r == StepRole::Label;
    scales += r == StepRole::LossScale;
  }
  if (labels != 1)
    return fail(strCat("the training step has ", labels, " label inputs, not one"));
  for (size_t o = 0; o < step.outputs.size(); ++o) {
    StepRole r = step.outputs[o];
    if ((o == 0) != (r == StepRole::Loss))
      return fail("a training step's first output, and only it, is the loss");
    if (o == 0)
      continue;
    if (r == StepRole::NonFinite) {
      ++counts;
      continue;
    }
    if (r != StepRole::Parameter && r != StepRole::Buffer && r != StepRole::OptimizerState)
      return fail(strCat("training step output ", o, " has no valid role"));
    bool matched = false;
    for (size_t i = 0; i < spec.inputs.size(); ++i)
      matched |= spec.inputs[i].name == spec.outputs[o].name && step.inputs[i] == r;
    if (!matched)
      return fail(strCat("training step output '", spec.outputs[o].name,
                         "' updates no input of its name and role"));
  }
  if (scales > 1 || scales != counts)
    return fail(strCat("the training step has ", scales, " loss-scale inputs and ", counts,
                       " non-finite-gradient outputs; a loss-scaled step has one of each"));
  return Status::ok();
}

/// Whether `buffer` is what a kernel compiled for `expected` may be bound to: the same
/// dtype and rank, and each static dim of the kernel's the buffer's own, statically.
Status verifyBinding(const Buffer &buffer, const TensorInfo &expected) {
  if (buffer.dtype != expected.dtype || buffer.dims.size() != expected.shape.size())
    return Status::error("is not of the dtype and rank");
  for (size_t d = 0; d < buffer.dims.size(); ++d)
    if (expected.shape[d] >= 0 && buffer.dims[d] != expected.shape[d])
      return Status::error(strCat("has dim ", d, " = ", buffer.dims[d], ", not the ",
                                  expected.shape[d]));
  return Status::ok();
}

/// Every binding of launch `l` names a buffer, and every output binding an
/// intermediate's bytes.
Status verifyBindingTargets(const ArtifactSpec &spec, const Launch &l, const std::string &what) {
  for (size_t j = 0; j < l.bindings.size(); ++j) {
    int32_t b = l.bindings[j];
    if (!isValidBuffer(spec, b))
      return fail(strCat(what, " binds buffer ", b, " of ", spec.buffers.size()));
    if (j >= static_cast<size_t>(l.numInputs) &&
        spec.buffers[rootBuffer(spec, b)].kind != BufferKind::Intermediate)
      return fail(strCat(what, " writes buffer ", b, " '", spec.buffers[b].name,
                         "', which is not an intermediate"));
  }
  return Status::ok();
}

/// A host launch: a known op, valid bindings, intermediates written, a data dim of the
/// spec's.
Status verifyHostLaunch(const ArtifactSpec &spec, size_t i) {
  const Launch &l = spec.launches[i];
  std::string what = strCat("launch ", i, " (host op '", l.hostOp, "')");
  if (l.kernel != -1)
    return fail(strCat(what, " names kernel ", l.kernel));
  if (Status s = checkHostOp(l); !s)
    return fail(strCat(what, ": ", s.message()));
  for (int32_t d : l.dataDims)
    if (d < 0 || d >= spec.numDataDims)
      return fail(strCat(what, " decides data dim ", d, " of ", spec.numDataDims));
  for (int k = 0; k < (l.hostOp == "Loop" ? 1 : l.hostOp == "If" ? 2 : 0); ++k)
    if (static_cast<uint64_t>(l.hostInts[k]) >= spec.subModels.size())
      return fail(strCat(what, " runs body ", l.hostInts[k], " of ", spec.subModels.size()));
  return verifyBindingTargets(spec, l, what);
}

Status verifyLaunch(const ArtifactSpec &spec, size_t i) {
  const Launch &l = spec.launches[i];
  std::string what = strCat("launch ", i);
  if (l.numInputs < 0 || static_cast<uint64_t>(l.numInputs) > l.bindings.size())
    return fail(
        strCat(what, " has ", l.numInputs, " inputs among ", l.bindings.size(), " bindings"));
  if (l.isHost())
    return verifyHostLaunch(spec, i);
  if (l.kernel < 0 || static_cast<uint64_t>(l.kernel) >= spec.kernels.size())
    return fail(strCat(what, " runs kernel ", l.kernel, " of ", spec.kernels.size()));
  const Kernel &k = spec.kernels[l.kernel];
  if (k.signature.size() != l.bindings.size() || k.numInputs != l.numInputs)
    return fail(strCat(what, " binds ", l.bindings.size(), " buffers (", l.numInputs,
                       " inputs); kernel '", k.name, "' takes ", k.signature.size(), " (",
                       k.numInputs, " inputs)"));
  if (Status s = verifyBindingTargets(spec, l, what); !s)
    return s;
  // Shared memory: what any CUDA card allows a block at most (228 KiB on sm_90).
  constexpr int32_t kMaxSharedMemory = 228 * 1024;
  if (l.sharedMemory < 0 || l.staticSharedMemory < 0 ||
      l.sharedMemory > kMaxSharedMemory - std::max(l.staticSharedMemory, 0))
    return fail(strCat(what, " asks for ", l.sharedMemory, " bytes of dynamic and ",
                       l.staticSharedMemory, " of static shared memory"));
  for (size_t j = 0; j < l.bindings.size(); ++j) {
    int32_t b = l.bindings[j];
    if (Status s = verifyBinding(spec.buffers[b], k.signature[j]); !s)
      return fail(strCat(what, " binding ", j, " (buffer ", b, " '", spec.buffers[b].name,
                         "') ", s.message(), " of kernel '", k.name, "'"));
  }
  if (l.dimChecks.size() != 2 * l.dimCheckNodes.size())
    return fail(strCat(what, " has ", l.dimChecks.size(), " checked dims for ",
                       l.dimCheckNodes.size(), " nodes"));
  for (size_t c = 0; c < l.dimChecks.size(); ++c)
    if (Status s = verifyEncoded(spec, l.dimChecks[c], 0, strCat(what, " checked dim ", c)); !s)
      return s;
  return verifyEncoded(spec, l.grid, 1, strCat(what, " grid"));
}

/// Every intermediate a launch reads, and every output, is written by an earlier
/// launch (else a run would read uninitialized memory).
Status verifyDataflow(const ArtifactSpec &spec) {
  std::vector<bool> written(spec.buffers.size(), false);
  for (size_t i = 0; i < spec.launches.size(); ++i) {
    const Launch &l = spec.launches[i];
    for (size_t j = 0; j < l.bindings.size(); ++j) {
      int32_t root = rootBuffer(spec, l.bindings[j]);
      if (j >= static_cast<size_t>(l.numInputs))
        written[root] = true;
      else if (spec.buffers[root].kind == BufferKind::Intermediate && !written[root])
        return fail(strCat("launch ", i, " reads buffer ", root, " '", spec.buffers[root].name,
                           "' before any launch writes it"));
    }
  }
  for (size_t o = 0; o < spec.outputBuffers.size(); ++o) {
    int32_t root = rootBuffer(spec, spec.outputBuffers[o]);
    if (spec.buffers[root].kind == BufferKind::Intermediate && !written[root])
      return fail(strCat("output ", o, " is buffer ", root, " '", spec.buffers[root].name,
                         "', which no launch writes"));
  }
  return Status::ok();
}

// Synthetic weights (`dlc compile --synthetic-weights`).

bool syntheticDType(DType t) {
  return t == DType::Float || t == DType::Float16 || t == DType::BFloat16 || t == DType::Int8;
}

/// Element `i` of a synthetic range as a float (SplitMix64 of its position).
double noise(uint64_t offset, uint64_t i) {
  uint64_t z = offset * 0x9e3779b97f4a7c15ull + i + 0x632be59bd9b4e019ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53 * 2.0 - 1.0; // [-1, 1)
}

void fillSynthetic(ArtifactSpec &spec) {
  for (const SyntheticRange &r : spec.synthetic) {
    uint8_t *p = spec.weights.data() + r.offset;
    uint64_t n = r.size / dtypeSize(r.dtype);
    for (uint64_t i = 0; i < n; ++i) {
      double u = noise(r.offset, i);
      float v = static_cast<float>(u * r.scale);
      switch (r.dtype) {
      case DType::Float:
        std::memcpy(p + 4 * i, &v, 4);
        break;
      case DType::Float16:
      case DType::BFloat16: {
        uint16_t h = r.dtype == DType::Float16 ? floatToHalf(v) : floatToBf16(v);
        std::memcpy(p + 2 * i, &h, 2);
        break;
      }
      default: // Int8
        p[i] = static_cast<uint8_t>(static_cast<int8_t>(std::lround(u * 127.0)));
        break;
      }
    }
  }
}

Status verifySynthetic(const ArtifactSpec &spec) {
  for (size_t i = 0; i < spec.synthetic.size(); ++i) {
    const SyntheticRange &r = spec.synthetic[i];
    if (!syntheticDType(r.dtype))
      return fail(strCat("synthetic weights ", i, " have dtype ", static_cast<int>(r.dtype),
                         " (float, float16, bfloat16 or int8 expected)"));
    if (r.offset > spec.weights.size() || r.size > spec.weights.size() - r.offset ||
        r.size % dtypeSize(r.dtype) != 0)
      return fail(strCat("synthetic weights ", i, " (", r.size, " bytes at ", r.offset,
                         ") lie outside the weights section (", spec.weights.size(),
                         " bytes) or split an element"));
    if (!std::isfinite(r.scale) || r.scale < 0 || r.scale > 1e30f)
      return fail(strCat("synthetic weights ", i, " have scale ", r.scale));
  }
  return Status::ok();
}

Status verifySpec(const ArtifactSpec &spec) {
  if (spec.target != Target::Cpu && spec.target != Target::Cuda)
    return fail(strCat("unknown target ", static_cast<int>(spec.target)));
  if (spec.numDataDims < 0 || spec.numDataDims > (1 << 20))
    return fail(strCat("has ", spec.numDataDims, " data dims"));
  for (size_t i = 0; i < spec.inputs.size(); ++i)
    if (Status s = verifyTensorInfo(spec.inputs[i], strCat("input ", i)); !s)
      return s;
  for (size_t i = 0; i < spec.outputs.size(); ++i)
    if (Status s = verifyTensorInfo(spec.outputs[i], strCat("output ", i)); !s)
      return s;
  for (size_t i = 0; i < spec.exprs.size(); ++i)
    if (Status s = verifyExpr(spec.exprs[i], spec.inputs, spec.numDataDims); !s)
      return fail(strCat("expression ", i, " ", s.message()));
  // Buffers first: launch checks follow alias chains, which must be sound.
  for (size_t i = 0; i < spec.buffers.size(); ++i)
    if (Status s = verifyBuffer(spec, i); !s)
      return s;
  if (spec.inputBuffers.size() != spec.inputs.size())
    return fail(
        strCat(spec.inputs.size(), " inputs but ", spec.inputBuffers.size(), " input buffers"));
  for (size_t i = 0; i < spec.inputBuffers.size(); ++i) {
    int32_t b = spec.inputBuffers[i];
    if (!isValidBuffer(spec, b) || spec.buffers[b].kind != BufferKind::Input ||
        static_cast<size_t>(spec.buffers[b].index) != i)
      return fail(
          strCat("input ", i, " is held by buffer ", b, ", which is not that input's buffer"));
  }
  if (spec.outputBuffers.size() != spec.outputs.size())
    return fail(
        strCat(spec.outputs.size(), " outputs but ", spec.outputBuffers.size(), " output buffers"));
  for (size_t i = 0; i < spec.outputBuffers.size(); ++i) {
    int32_t b = spec.outputBuffers[i];
    if (!isValidBuffer(spec, b))
      return fail(strCat("output ", i, " is buffer ", b, " of ", spec.buffers.size()));
    const Buffer &buf = spec.buffers[b];
    if (buf.dtype != spec.outputs[i].dtype || buf.dims.size() != spec.outputs[i].shape.size())
      return fail(strCat("output ", i, " does not match the type of buffer ", b));
    for (size_t d = 0; d < buf.dims.size(); ++d)
      if (buf.dims[d] != spec.outputs[i].shape[d] &&
          (buf.dims[d] >= 0 || spec.outputs[i].shape[d] != -1))
        return fail(strCat("output ", i, " dim ", d, " is ", spec.outputs[i].shape[d],
                           ", its buffer's ", buf.dims[d]));
  }
  for (size_t k = 0; k < spec.kernels.size(); ++k)
    for (size_t j = 0; j < spec.kernels[k].signature.size(); ++j)
      if (Status s = verifyTensorInfo(spec.kernels[k].signature[j],
                                      strCat("kernel ", k, " binding ", j));
          !s)
        return s;
  for (size_t i = 0; i < spec.launches.size(); ++i)
    if (Status s = verifyLaunch(spec, i); !s)
      return s;
  if (Status s = verifyDataflow(spec); !s)
    return s;
  return verifyStep(spec);
}

} // namespace

std::string kernelSignatureText(const Kernel &kernel) {
  std::string text = strCat(kernel.numInputs, ":");
  for (const TensorInfo &binding : kernel.signature) {
    text += strCat(" ", static_cast<int>(binding.dtype), "[");
    for (size_t d = 0; d < binding.shape.size(); ++d)
      text += strCat(d ? "," : "", binding.shape[d]);
    text += "]";
  }
  return text;
}

void sealChecksum(std::vector<uint8_t> &file) {
  if (file.size() >= kHeaderSize)
    putU64(file.data() + kChecksumOffset, fileChecksum(file.data(), file.size()));
}

std::vector<uint8_t> serialize(const ArtifactSpec &spec) {
  fbs::FlatBufferBuilder fbb;
  // Store every scalar, so the section offsets can be patched in once the table's size
  // is known.
  fbb.ForceDefaults(true);
  auto inputs = writeTables(fbb, spec.inputs, writeTensorInfo);
  auto outputs = writeTables(fbb, spec.outputs, writeTensorInfo);
  auto buffers = writeTables(fbb, spec.buffers, writeBuffer);
  auto exprs = writeTables(fbb, spec.exprs, writeExpr);
  auto kernels = writeTables(fbb, spec.kernels, writeKernel);
  auto launches = writeTables(fbb, spec.launches, writeLaunch);
  auto subModels = writeTables(fbb, spec.subModels,
                               [](fbs::FlatBufferBuilder &fbb, const std::vector<uint8_t> &bytes) {
                                 return fb::CreateSubModel(fbb, fbb.CreateVector(bytes));
                               });
  fbs::Offset<fb::TrainStep> step;
  if (!spec.step.empty()) {
    auto roles = [&](const std::vector<StepRole> &r) {
      std::vector<int8_t> bytes;
      for (StepRole role : r)
        bytes.push_back(static_cast<int8_t>(role));
      return fbb.CreateVector(bytes);
    };
    auto in = roles(spec.step.inputs), out = roles(spec.step.outputs);
    step = fb::CreateTrainStep(fbb, in, out);
  }
  auto synthetic =
      writeTables(fbb, spec.synthetic, [](fbs::FlatBufferBuilder &fbb, const SyntheticRange &r) {
        return fb::CreateSyntheticRange(fbb, r.offset, r.size, static_cast<int32_t>(r.dtype),
                                        r.scale);
      });
  auto model = fb::CreateModel(
      fbb, kFormatVersion, static_cast<fb::Target>(spec.target),
      fbb.CreateString(spec.targetTriple), fbb.CreateString(spec.producer), inputs, outputs,
      fbb.CreateVector(spec.inputBuffers), fbb.CreateVector(spec.outputBuffers), buffers, exprs,
      kernels, launches, /*weights_offset=*/0, /*weights_size=*/0,
      /*code_offset=*/0, /*code_size=*/0, step, spec.numDataDims, subModels,
      spec.precision.empty() ? flatbuffers::Offset<flatbuffers::String>()
                             : fbb.CreateString(spec.precision),
      spec.simt, synthetic);
  fb::FinishModelBuffer(fbb, model);

  uint64_t weightsOffset = alignUp(kHeaderSize + fbb.GetSize(), kAlign);
  uint64_t codeOffset = alignUp(weightsOffset + spec.weights.size(), kAlign);
  fb::Model *table = fb::GetMutableModel(fbb.GetBufferPointer());
  table->mutate_weights_offset(weightsOffset);
  table->mutate_weights_size(spec.weights.size());
  table->mutate_code_offset(codeOffset);
  table->mutate_code_size(spec.code.size());

  std::vector<uint8_t> out(codeOffset + spec.code.size());
  std::memcpy(out.data(), kMagic, sizeof(kMagic));
  putU32(out.data() + 8, kFormatVersion);
  putU32(out.data() + 12, fbb.GetSize());
  std::memcpy(out.data() + kHeaderSize, fbb.GetBufferPointer(), fbb.GetSize());
  std::copy(spec.weights.begin(), spec.weights.end(), out.begin() + weightsOffset);
  std::copy(spec.code.begin(), spec.code.end(), out.begin() + codeOffset);
  putU64(out.data() + kChecksumOffset, fileChecksum(out.data(), out.size()));
  return out;
}

Expected<ArtifactSpec> parse(const uint8_t *data, size_t size) {
  if (size == 0)
    return Status::error("the artifact file is empty");
  if (size < kHeaderSize)
    return Status::error(
        strCat("artifact is truncated (", size, " bytes, need at least ", kHeaderSize, ")"));
  if (std::memcmp(data, kMagic, sizeof(kMagic)) != 0)
    return Status::error("not a dlc artifact (bad magic)");
  if (uint32_t version = getU32(data + 8); version != kFormatVersion)
    return Status::error(strCat("artifact format version ", version,
                                " is not supported (this runtime reads version ", kFormatVersion,
                                ")"));
  uint32_t tableSize = getU32(data + 12);
  if (tableSize > size - kHeaderSize)
    return Status::error(strCat("artifact is truncated (model table of ", tableSize,
                                " bytes, file has ", size, " bytes)"));
  if (uint64_t sum = fileChecksum(data, size); sum != getU64(data + kChecksumOffset))
    return Status::error("the artifact is corrupt (its checksum does not match its contents)");

  // FlatBuffers reads scalars in place: give the table 8-byte alignment.
  std::vector<uint64_t> table(tableSize / 8 + 1);
  std::memcpy(table.data(), data + kHeaderSize, tableSize);
  const auto *bytes = reinterpret_cast<const uint8_t *>(table.data());
  fbs::Verifier verifier(bytes, tableSize);
  if (!fb::VerifyModelBuffer(verifier))
    return fail("the model table is corrupt");
  const fb::Model *m = fb::GetModel(bytes);
  if (m->format_version() != kFormatVersion)
    return fail(strCat("the model table has format version ", m->format_version(), ", the header ",
                       kFormatVersion));

  ArtifactSpec spec;
  spec.target = static_cast<Target>(m->target());
  spec.targetTriple = readString(m->target_triple());
  spec.producer = readString(m->producer());
  spec.precision = readString(m->precision());
  spec.simt = m->simt();
  spec.inputs = readTables(m->inputs(), readTensorInfo);
  spec.outputs = readTables(m->outputs(), readTensorInfo);
  spec.inputBuffers = readVector(m->input_buffers());
  spec.outputBuffers = readVector(m->output_buffers());
  spec.buffers = readTables(m->buffers(), readBuffer);
  spec.exprs = readTables(m->exprs(), [](const fb::Expr *e) { return readVector(e->code()); });
  spec.kernels = readTables(m->kernels(), readKernel);
  spec.launches = readTables(m->launches(), readLaunch);
  spec.numDataDims = m->data_dims();
  spec.subModels = readTables(m->sub_models(), [](const fb::SubModel *s) {
    const fbs::Vector<uint8_t> *a = s->artifact();
    return a ? std::vector<uint8_t>(a->begin(), a->end()) : std::vector<uint8_t>();
  });
  if (const fb::TrainStep *step = m->train_step()) {
    spec.step.inputs = readRoles(step->input_roles());
    spec.step.outputs = readRoles(step->output_roles());
  }

  uint64_t tableEnd = kHeaderSize + tableSize;
  if (Status s = readSection("weights", m->weights_offset(), m->weights_size(), tableEnd, data,
                             size, spec.weights);
      !s)
    return s;
  if (Status s =
          readSection("code", m->code_offset(), m->code_size(), tableEnd, data, size, spec.code);
      !s)
    return s;
  spec.synthetic = readTables(m->synthetic_weights(), [](const fb::SyntheticRange *r) {
    return SyntheticRange{r->offset(), r->size(), static_cast<DType>(r->dtype()), r->scale()};
  });
  if (Status s = verifySpec(spec); !s)
    return s;
  if (Status s = verifySynthetic(spec); !s)
    return s;
  fillSynthetic(spec);
  return spec;
}

void makeSynthetic(ArtifactSpec &spec) {
  for (const Buffer &b : spec.buffers) {
    if (b.kind != BufferKind::Weight || !syntheticDType(b.dtype) ||
        b.weightSize < kMinSyntheticBytes || b.weightOffset > spec.weights.size() ||
        b.weightSize > spec.weights.size() - b.weightOffset)
      continue;
    // Buffers over the bytes of one weight: replaced once.
    if (std::any_of(spec.synthetic.begin(), spec.synthetic.end(), [&](const SyntheticRange &r) {
          return r.offset < b.weightOffset + b.weightSize && b.weightOffset < r.offset + r.size;
        }))
      continue;
    uint8_t *p = spec.weights.data() + b.weightOffset;
    uint64_t n = b.weightSize / dtypeSize(b.dtype);
    float scale = 0;
    if (b.dtype != DType::Int8) {
      // The same root mean square: uniform noise in [-s, s] has s / sqrt(3).
      double sum = 0;
      uint64_t finite = 0;
      for (uint64_t i = 0; i < n; ++i) {
        float v;
        if (b.dtype == DType::Float) {
          std::memcpy(&v, p + 4 * i, 4);
        } else {
          uint16_t h;
          std::memcpy(&h, p + 2 * i, 2);
          v = b.dtype == DType::Float16 ? halfToFloat(h) : bitsToFloat(uint32_t(h) << 16);
        }
        if (std::isfinite(v)) {
          sum += static_cast<double>(v) * v;
          ++finite;
        }
      }
      double s = finite ? std::sqrt(3.0 * sum / static_cast<double>(finite)) : 0.0;
      if (!finite || !std::isfinite(s) || s > 1e30)
        continue;
      scale = static_cast<float>(s);
    }
    std::fill(p, p + b.weightSize, uint8_t(0));
    spec.synthetic.push_back({b.weightOffset, b.weightSize, b.dtype, scale});
  }
}

} // namespace dlc::artifact
