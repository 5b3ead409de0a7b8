//===- Checkpoint.cpp - The training checkpoint file format ---------------===//
#include "Checkpoint.h"

#include <cstring>
#include <fstream>

namespace dlc::compiler {
namespace {

constexpr char kCheckpointMagic[8] = {'D', 'L', 'C', 'C', 'K', 'P', 'T', '1'};

template <typename T> void put(std::ostream &os, T v) {
  os.write(reinterpret_cast<const char *>(&v), sizeof(T));
}
template <typename T> bool get(std::istream &is, T &v) {
  return bool(is.read(reinterpret_cast<char *>(&v), sizeof(T)));
}

} // namespace

Status writeCheckpoint(const std::string &path, const Checkpoint &c) {
  std::ofstream os(path, std::ios::binary);
  if (!os)
    return Status::error("cannot write " + path);
  os.write(kCheckpointMagic, sizeof(kCheckpointMagic));
  put<int64_t>(os, c.steps);
  put<double>(os, c.lr);
  put<uint64_t>(os, c.values.size());
  for (const auto &[name, t] : c.values) {
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

Expected<Checkpoint> readCheckpoint(const std::string &path,
                                    const std::map<std::string, Tensor> &like) {
  std::ifstream is(path, std::ios::binary);
  if (!is)
    return Status::error("cannot read " + path);
  char magic[8];
  Checkpoint c;
  uint64_t count;
  if (!is.read(magic, 8) || std::memcmp(magic, kCheckpointMagic, 8) != 0)
    return Status::error(path + " is not a dlc checkpoint");
  if (!get(is, c.steps) || !get(is, c.lr) || !get(is, count))
    return Status::error(path + ": truncated checkpoint");
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
    auto it = like.find(name);
    if (it == like.end() || it->second.shape != shape ||
        static_cast<int32_t>(it->second.dtype) != dtype || it->second.data.size() != bytes)
      return Status::error(path + ": tensor '" + name + "' does not match this model's parameters");
    Tensor t(it->second.dtype, shape);
    if (!is.read(reinterpret_cast<char *>(t.data.data()), bytes))
      return Status::error(path + ": truncated checkpoint");
    c.values[name] = std::move(t);
  }
  if (c.values.size() != like.size())
    return Status::error(path + ": the checkpoint lacks some of this model's tensors");
  return c;
}

} // namespace dlc::compiler
