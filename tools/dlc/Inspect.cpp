//===- Inspect.cpp - `dlc inspect`: describe an artifact ------------------===//
#include "Inspect.h"

#include "FileIO.h"

#include "dlc/artifact.h"

#include <fstream>
#include <iterator>
#include <sstream>

namespace dlc::tools {
namespace {

std::string jsonString(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    if ((unsigned char)c < 0x20) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string shapeText(const TensorInfo &t) {
  std::string s = "[";
  for (size_t i = 0; i < t.shape.size(); ++i) {
    if (i)
      s += ", ";
    s += t.shape[i] < 0 ? (t.dimNames[i].empty() ? "?" : t.dimNames[i])
                        : std::to_string(t.shape[i]);
  }
  return s + "]";
}

/// Arena bytes when every intermediate has static dims; -1 otherwise.
/// A shape expression in infix form over the inputs' dim names: "ceildiv(N, 2)".
std::string exprText(const artifact::ArtifactSpec &spec, const std::vector<int64_t> &code) {
  using namespace artifact;
  std::vector<std::string> stack;
  for (size_t pc = 0; pc < code.size(); ++pc) {
    int64_t op = code[pc];
    if (op == Const && pc + 1 < code.size()) {
      stack.push_back(std::to_string(code[++pc]));
    } else if (op == InputDim && pc + 2 < code.size()) {
      size_t input = code[pc + 1], dim = code[pc + 2];
      pc += 2;
      if (input >= spec.inputs.size()) { // a data dim, decided by a host launch
        stack.push_back("data" + std::to_string(input - spec.inputs.size()));
        continue;
      }
      const TensorInfo &t = spec.inputs.at(input);
      stack.push_back(dim < t.dimNames.size() && !t.dimNames[dim].empty()
                          ? t.dimNames[dim]
                          : t.name + ".shape[" + std::to_string(dim) + "]");
    } else if (op >= Add && op <= Max && stack.size() >= 2) {
      std::string b = stack.back();
      stack.pop_back();
      std::string a = stack.back();
      static const char *infix[] = {"", "", " + ", " - ", " * "};
      static const char *call[] = {"floordiv", "ceildiv", "mod", "min", "max"};
      stack.back() = op <= Mul ? "(" + a + infix[op] + b + ")"
                               : std::string(call[op - FloorDiv]) + "(" + a + ", " + b + ")";
    } else {
      return "?";
    }
  }
  return stack.size() == 1 ? stack[0] : "?";
}

int64_t staticArenaBytes(const artifact::ArtifactSpec &spec, uint64_t &naive) {
  std::vector<uint64_t> bytes;
  for (const artifact::Buffer &b : spec.buffers) {
    uint64_t n = dtypeSize(b.dtype);
    for (int64_t d : b.dims) {
      if (d < 0 && b.kind == artifact::BufferKind::Intermediate)
        return -1;
      n *= d < 0 ? 0 : d;
    }
    bytes.push_back(b.kind == artifact::BufferKind::Intermediate ? n : 0);
  }
  artifact::MemoryPlan plan = artifact::planMemory(spec, bytes);
  naive = plan.naiveBytes;
  return plan.arenaBytes;
}

} // namespace

Status inspect(const std::string &path, bool json, std::ostream &os) {
  Expected<std::vector<uint8_t>> file = readFileBytes(path);
  if (!file)
    return file.status();
  const std::vector<uint8_t> &data = *file;
  auto parsed = artifact::parse(data.data(), data.size());
  if (!parsed)
    return Status::error(path + ": " + parsed.message());
  const artifact::ArtifactSpec &spec = *parsed;
  uint64_t syntheticBytes = 0;
  for (const artifact::SyntheticRange &r : spec.synthetic)
    syntheticBytes += r.size;
  uint64_t naive = 0;
  int64_t arena = staticArenaBytes(spec, naive);
  std::string target = spec.target == artifact::Target::Cpu ? "cpu" : "cuda";
  if (json) {
    os << "{\n  \"target\": " << jsonString(target)
       << ",\n  \"target_triple\": " << jsonString(spec.targetTriple);
    if (!spec.precision.empty())
      os << ",\n  \"precision\": " << jsonString(spec.precision);
    if (spec.simt)
      os << ",\n  \"simt\": true";
    for (auto [key, list] : {std::pair{"inputs", &spec.inputs}, std::pair{"outputs", &spec.outputs}}) {
      os << ",\n  \"" << key << "\": [";
      for (size_t i = 0; i < list->size(); ++i) {
        const TensorInfo &t = (*list)[i];
        os << (i ? ", " : "") << "{\"name\": " << jsonString(t.name)
           << ", \"dtype\": " << jsonString(dtypeName(t.dtype)) << ", \"shape\": [";
        for (size_t d = 0; d < t.shape.size(); ++d)
          os << (d ? ", " : "")
             << (t.shape[d] < 0 ? jsonString(t.dimNames[d].empty() ? "?" : t.dimNames[d])
                                : std::to_string(t.shape[d]));
        os << "]}";
      }
      os << "]";
    }
    os << ",\n  \"kernels\": [";
    for (size_t i = 0; i < spec.kernels.size(); ++i) {
      const artifact::Kernel &k = spec.kernels[i];
      os << (i ? ",\n    " : "\n    ") << "{\"name\": " << jsonString(k.name)
         << ", \"symbol\": " << jsonString(k.symbol) << ", \"nodes\": [";
      for (size_t n = 0; n < k.nodes.size(); ++n)
        os << (n ? ", " : "") << jsonString(k.nodes[n]);
      os << "]}";
    }
    os << "\n  ],\n  \"launches\": [";
    for (size_t i = 0; i < spec.launches.size(); ++i) {
      const artifact::Launch &l = spec.launches[i];
      os << (i ? ",\n    " : "\n    ") << "{\"kernel\": " << l.kernel;
      if (l.isHost()) {
        os << ", \"host_op\": " << jsonString(l.hostOp) << ", \"data_dims\": [";
        for (size_t k = 0; k < l.dataDims.size(); ++k)
          os << (k ? ", " : "") << l.dataDims[k];
        os << "]";
      }
      os << ", \"grid\": "
         << jsonString(l.grid < 0 ? exprText(spec, spec.exprs[-(l.grid + 1)])
                                  : std::to_string(l.grid))
         << ", \"block\": " << (l.block.empty() ? 1 : l.block[0])
         << ", \"shared_memory\": " << l.sharedMemory
         << ", \"static_shared_memory\": " << l.staticSharedMemory << "}";
    }
    os << "\n  ]"
       << ",\n  \"weight_bytes\": " << spec.weights.size()
       << ",\n  \"synthetic_weight_bytes\": " << syntheticBytes
       << ",\n  \"code_bytes\": " << spec.code.size()
       << ",\n  \"nested_artifacts\": " << spec.subModels.size()
       << ",\n  \"arena_bytes\": " << (arena < 0 ? "null" : std::to_string(arena))
       << ",\n  \"naive_bytes\": " << (arena < 0 ? "null" : std::to_string(naive)) << "\n}\n";
    return Status::ok();
  }
  os << "artifact: " << path << " (" << data.size() << " bytes, " << spec.producer << ")\n"
     << "target: " << target << " (" << spec.targetTriple << ")\n";
  if (!spec.precision.empty())
    os << "precision: " << spec.precision << "\n";
  if (spec.simt)
    os << "kernels: CUDA kernel code, run by the SIMT emulator\n";
  for (const TensorInfo &t : spec.inputs)
    os << "input  " << t.name << ": " << shapeText(t) << " " << dtypeName(t.dtype) << "\n";
  for (const TensorInfo &t : spec.outputs)
    os << "output " << t.name << ": " << shapeText(t) << " " << dtypeName(t.dtype) << "\n";
  os << "kernels: " << spec.kernels.size() << "\n";
  for (const artifact::Kernel &k : spec.kernels) {
    os << "  " << k.name << ":";
    for (const std::string &n : k.nodes)
      os << " " << n;
    os << "\n";
  }
  os << "launches: " << spec.launches.size() << "\n";
  bool cuda = spec.target == artifact::Target::Cuda;
  for (const artifact::Launch &l : spec.launches) {
    if (l.isHost()) {
      os << "  host " << l.hostOp << " (decides data dims";
      for (int32_t d : l.dataDims)
        os << " " << d;
      os << ") buffers";
      for (int32_t b : l.bindings)
        os << " " << b;
      os << "\n";
      continue;
    }
    os << "  " << spec.kernels[l.kernel].name << " grid "
       << (l.grid < 0 ? exprText(spec, spec.exprs[-(l.grid + 1)]) : std::to_string(l.grid));
    if (cuda)
      os << " block " << (l.block.empty() ? 1 : l.block[0]) << " shared "
         << l.sharedMemory + l.staticSharedMemory;
    os << " buffers";
    for (int32_t b : l.bindings)
      os << " " << b;
    os << "\n";
  }
  os << "code: " << (cuda ? "PTX" : "shared object") << ", " << spec.code.size()
     << " bytes\n";
  os << "weight bytes: " << spec.weights.size() << "\n";
  if (!spec.synthetic.empty())
    os << "synthetic weights: " << spec.synthetic.size() << " weights, " << syntheticBytes
       << " bytes of seeded noise (dlc compile --synthetic-weights: not the model's "
          "outputs)\n";
  if (!spec.subModels.empty()) {
    os << "nested artifacts (loop bodies, branches): " << spec.subModels.size() << ",";
    for (const std::vector<uint8_t> &m : spec.subModels)
      os << " " << m.size();
    os << " bytes\n";
  }
  if (arena < 0)
    os << "arena bytes: depends on input shapes\n";
  else
    os << "arena bytes: " << arena << " (" << naive << " without reuse)\n";
  return Status::ok();
}

} // namespace dlc::tools
