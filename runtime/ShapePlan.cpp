//===- ShapePlan.cpp - Input checks, resolved shapes, descriptors ---------===//
#include "ShapePlan.h"

#include "Support.h"

#include <algorithm>
#include <map>

namespace dlc {

using artifact::ArtifactSpec;
using artifact::BufferKind;

namespace {

/// "[N, 3]": a declared shape, dynamic dims shown by name (or "?").
std::string declaredShape(const TensorInfo &info) {
  std::string s = "[";
  for (size_t i = 0; i < info.shape.size(); ++i) {
    s += i ? ", " : "";
    if (info.shape[i] >= 0)
      s += std::to_string(info.shape[i]);
    else
      s += info.dimNames[i].empty() ? "?" : info.dimNames[i];
  }
  return s + "]";
}

} // namespace

Status checkInputs(const ArtifactSpec &spec_, const std::vector<Tensor> &inputs) {
  if (inputs.size() != spec_.inputs.size())
    return Status::error(
        strCat("expected ", spec_.inputs.size(),
               spec_.inputs.size() == 1 ? " input" : " inputs", ", got ", inputs.size()));
  std::map<std::string, std::pair<size_t, int64_t>> named; // dim name -> (input, size)
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorInfo &info = spec_.inputs[i];
    const Tensor &t = inputs[i];
    // Built only for an error: a loop body's run checks its inputs every iteration.
    auto what = [&] { return strCat("input ", i, " '", info.name, "'"); };
    if (t.dtype != info.dtype)
      return Status::error(strCat(what(), ": wrong dtype: expected ", dtypeName(info.dtype),
                                  ", got ", dtypeName(t.dtype)));
    bool shapeOk = t.shape.size() == info.shape.size();
    for (size_t d = 0; shapeOk && d < t.shape.size(); ++d)
      shapeOk = t.shape[d] >= 0 && (info.shape[d] < 0 || t.shape[d] == info.shape[d]);
    if (!shapeOk)
      return Status::error(
          strCat(what(), ": expected shape ", declaredShape(info), ", got ", shapeStr(t.shape)));
    int64_t bytes;
    if (!denseBytes(t.shape, dtypeSize(t.dtype), bytes) ||
        static_cast<uint64_t>(bytes) != t.data.size())
      return Status::error(strCat(what(), ": holds ", t.data.size(),
                                  " bytes, which does not match its shape ", shapeStr(t.shape)));
    // Dims that share a name are one symbol: kernels were compiled assuming so.
    for (size_t d = 0; d < t.shape.size(); ++d) {
      if (info.shape[d] >= 0 || info.dimNames[d].empty())
        continue;
      auto [it, fresh] = named.try_emplace(info.dimNames[d], i, t.shape[d]);
      if (!fresh && it->second.second != t.shape[d])
        return Status::error(strCat(what(), ": dim ", d, " ('", info.dimNames[d], "') is ",
                                    t.shape[d], ", but input ", it->second.first, " has ",
                                    info.dimNames[d], " = ", it->second.second));
    }
  }
  return Status::ok();
}

namespace {

/// Whether encoded dim `encoded` is an expression that reads a data dim.
bool usesDataDims(const ArtifactSpec &spec, int64_t encoded) {
  if (encoded >= 0 || spec.numDataDims == 0)
    return false;
  uint64_t e = static_cast<uint64_t>(-(encoded + 1));
  if (e >= spec.exprs.size())
    return false;
  const std::vector<int64_t> &code = spec.exprs[e];
  for (size_t pc = 0; pc < code.size(); ++pc) {
    if (code[pc] == artifact::Const) {
      ++pc;
    } else if (code[pc] == artifact::InputDim) {
      if (pc + 1 < code.size() && code[pc + 1] >= static_cast<int64_t>(spec.inputs.size()))
        return true;
      pc += 2;
    }
  }
  return false;
}

/// Resolves buffer `i`'s dims and bytes into `plan`.
Status resolveBuffer(const ArtifactSpec &spec, ShapePlan &plan, const InputShapes &known,
                     size_t i) {
  const artifact::Buffer &b = spec.buffers[i];
  auto what = [&] { return strCat("buffer ", i, " '", b.name, "'"); };
  plan.dims[i].clear();
  for (size_t d = 0; d < b.dims.size(); ++d) {
    Expected<int64_t> dim = artifact::resolveDim(spec, b.dims[d], known);
    if (!dim)
      return Status::error(strCat(what(), " dim ", d, ": ", dim.message()));
    if (*dim < 0)
      return Status::error(strCat(what(), " dim ", d, " resolves to ", *dim));
    plan.dims[i].push_back(*dim);
  }
  int64_t bytes;
  if (!denseBytes(plan.dims[i], dtypeSize(b.dtype), bytes))
    return Status::error(strCat(what(), " of shape ", shapeStr(plan.dims[i]), " is too large"));
  plan.bytes[i] = bytes;
  return Status::ok();
}

/// Checks that the dims launch `l`'s kernel was compiled to take as equal are equal
/// (a model that broadcasts a dynamic dim of extent 1 against a larger one, which the
/// compiled code does not do): the pairs that read data dims, or those that do not.
Status checkLaunchDims(const ArtifactSpec &spec, const InputShapes &known, size_t l,
                       bool withDataDims) {
  const artifact::Launch &launch = spec.launches[l];
  for (size_t c = 0; c + 1 < launch.dimChecks.size(); c += 2) {
    bool data =
        usesDataDims(spec, launch.dimChecks[c]) || usesDataDims(spec, launch.dimChecks[c + 1]);
    if (data != withDataDims)
      continue;
    Expected<int64_t> a = artifact::resolveDim(spec, launch.dimChecks[c], known);
    Expected<int64_t> b = artifact::resolveDim(spec, launch.dimChecks[c + 1], known);
    if (!a || !b)
      return Status::error(strCat("launch ", l, " dim check: ", (!a ? a : b).message()));
    if (*a != *b) {
      const std::string &node =
          c / 2 < launch.dimCheckNodes.size() ? launch.dimCheckNodes[c / 2] : std::string();
      return Status::error(strCat(
          node.empty() ? std::string("a node") : "node " + node, ": dims ", *a, " and ", *b,
          " were compiled as one symbolic dim (dlc does not broadcast a dynamic dim of extent "
          "1)",
          withDataDims ? "; both are decided at run time"
                       : "; compile for these shapes (dlc run, or dlc compile --input-shape)"));
    }
  }
  return Status::ok();
}

bool checksUseDataDims(const ArtifactSpec &spec, size_t l) {
  return std::any_of(spec.launches[l].dimChecks.begin(), spec.launches[l].dimChecks.end(),
                     [&](int64_t d) { return usesDataDims(spec, d); });
}

} // namespace

InputShapes knownShapes(const ArtifactSpec &spec, const InputShapes &inputs) {
  InputShapes known = inputs;
  known.resize(inputs.size() + spec.numDataDims);
  return known;
}

Status resolvePending(const ArtifactSpec &spec, ShapePlan &plan, const InputShapes &known,
                      int32_t b, std::vector<int32_t> &resolved) {
  if (!plan.pending[b])
    return Status::ok();
  const artifact::Buffer &buf = spec.buffers[b];
  if (buf.kind == BufferKind::Alias)
    if (Status s = resolvePending(spec, plan, known, buf.index, resolved); !s)
      return s;
  if (Status s = resolveBuffer(spec, plan, known, b); !s)
    return s;
  if (buf.kind == BufferKind::Alias && plan.bytes[b] != plan.bytes[buf.index])
    return Status::error(strCat("buffer ", b, " '", buf.name, "' of shape ", shapeStr(plan.dims[b]),
                                " cannot alias buffer ", buf.index, " of ", plan.bytes[buf.index],
                                " bytes"));
  plan.pending[b] = false;
  resolved.push_back(b);
  return Status::ok();
}

Status resolvePendingGrid(const ArtifactSpec &spec, ShapePlan &plan, const InputShapes &known,
                          size_t l) {
  if (l < plan.pendingChecks.size() && plan.pendingChecks[l]) {
    if (Status s = checkLaunchDims(spec, known, l, /*withDataDims=*/true); !s)
      return s;
    plan.pendingChecks[l] = false;
  }
  if (!plan.pendingGrid[l])
    return Status::ok();
  Expected<int64_t> grid = artifact::resolveDim(spec, spec.launches[l].grid, known);
  if (!grid)
    return Status::error(strCat("launch ", l, " grid: ", grid.message()));
  plan.grids[l] = std::max<int64_t>(*grid, 0);
  plan.pendingGrid[l] = false;
  return Status::ok();
}

Expected<ShapePlan> planShapes(const ArtifactSpec &spec_, const InputShapes &shapes) {
  ShapePlan plan;
  size_t numBuffers = spec_.buffers.size();
  plan.dims.resize(numBuffers);
  plan.bytes.resize(numBuffers);
  plan.pending.assign(numBuffers, false);
  plan.pendingGrid.assign(spec_.launches.size(), false);
  for (size_t i = 0; i < numBuffers; ++i) {
    const artifact::Buffer &b = spec_.buffers[i];
    bool pending = false;
    for (int64_t d : b.dims)
      pending |= usesDataDims(spec_, d);
    // An alias of a pending buffer waits for it.
    for (int32_t r = i; !pending && spec_.buffers[r].kind == BufferKind::Alias;) {
      r = spec_.buffers[r].index;
      if (r < 0 || static_cast<size_t>(r) >= numBuffers)
        break;
      for (int64_t d : spec_.buffers[r].dims)
        pending |= usesDataDims(spec_, d);
    }
    if (pending) {
      plan.pending[i] = plan.hasPending = true;
      continue;
    }
    if (Status s = resolveBuffer(spec_, plan, shapes, i); !s)
      return s;
    if (b.kind == BufferKind::Input && plan.dims[i] != shapes[b.index])
      return Status::error(strCat("buffer ", i, " '", b.name, "' has shape ",
                                  shapeStr(plan.dims[i]), ", but input ", b.index, " has shape ",
                                  shapeStr(shapes[b.index])));
  }
  // An alias (reshape, squeeze, ...) has exactly the aliased bytes: a kernel reading it
  // stays within them, and a symbolic reshape whose sizes do not fit is an error.
  for (size_t i = 0; i < numBuffers; ++i) {
    const artifact::Buffer &b = spec_.buffers[i];
    if (plan.pending[i])
      continue;
    if (b.kind == BufferKind::Alias && plan.bytes[i] != plan.bytes[b.index])
      return Status::error(strCat("buffer ", i, " '", b.name, "' of shape ",
                                  shapeStr(plan.dims[i]), " (", plan.bytes[i],
                                  " bytes) cannot alias buffer ", b.index, " of ",
                                  plan.bytes[b.index], " bytes"));
  }
  plan.pendingChecks.assign(spec_.launches.size(), false);
  for (size_t l = 0; l < spec_.launches.size(); ++l) {
    if (Status s = checkLaunchDims(spec_, shapes, l, /*withDataDims=*/false); !s)
      return s;
    if (checksUseDataDims(spec_, l))
      plan.pendingChecks[l] = plan.hasPending = true;
    if (usesDataDims(spec_, spec_.launches[l].grid)) {
      plan.pendingGrid[l] = plan.hasPending = true;
      plan.grids.push_back(0);
      continue;
    }
    Expected<int64_t> grid = artifact::resolveDim(spec_, spec_.launches[l].grid, shapes);
    if (!grid)
      return Status::error(strCat("launch ", l, " grid: ", grid.message()));
    if (*grid < 0)
      return Status::error(strCat("launch ", l, " grid resolves to ", *grid));
    plan.grids.push_back(*grid);
  }
  plan.memory = artifact::planMemory(spec_, plan.bytes);
  return plan;
}

std::vector<int32_t> aliasRoots(const ArtifactSpec &spec) {
  std::vector<int32_t> roots(spec.buffers.size());
  for (size_t i = 0; i < roots.size(); ++i) {
    size_t root = i;
    while (spec.buffers[root].kind == BufferKind::Alias)
      root = spec.buffers[root].index;
    roots[i] = static_cast<int32_t>(root);
  }
  return roots;
}

std::vector<uint64_t> bufferAddresses(const ArtifactSpec &spec,
                                      const artifact::MemoryPlan &memory,
                                      const std::function<uint64_t(size_t)> &inputAddress,
                                      uint64_t weights, uint64_t arena) {
  size_t n = spec.buffers.size();
  std::vector<uint64_t> address(n);
  for (size_t i = 0; i < n; ++i) {
    const artifact::Buffer &b = spec.buffers[i];
    switch (b.kind) {
    case BufferKind::Input:
      address[i] = inputAddress(i);
      break;
    case BufferKind::Weight:
      address[i] = weights + b.weightOffset;
      break;
    case BufferKind::Intermediate:
      address[i] = arena + memory.offsets[i];
      break;
    case BufferKind::Alias:
      break;
    }
  }
  std::vector<int32_t> roots = aliasRoots(spec);
  for (size_t i = 0; i < n; ++i)
    address[i] = address[roots[i]];
  return address;
}

std::vector<int64_t> packDescriptors(const artifact::Launch &l, const ShapePlan &plan,
                                     const std::vector<uint64_t> &address,
                                     std::vector<size_t> &starts) {
  size_t words = 0;
  for (int32_t b : l.bindings)
    words += 3 + 2 * plan.dims[b].size();
  std::vector<int64_t> out(words);
  starts.clear();
  size_t at = 0;
  for (int32_t b : l.bindings) {
    const std::vector<int64_t> &dims = plan.dims[b];
    size_t rank = dims.size();
    starts.push_back(at);
    int64_t *desc = out.data() + at;
    desc[0] = desc[1] = static_cast<int64_t>(address[b]);
    desc[2] = 0;
    int64_t stride = 1;
    for (size_t d = rank; d-- > 0;) {
      desc[3 + d] = dims[d];
      desc[3 + rank + d] = stride;
      stride *= dims[d];
    }
    at += 3 + 2 * rank;
  }
  return out;
}

} // namespace dlc
