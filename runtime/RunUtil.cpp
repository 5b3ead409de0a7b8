//===- RunUtil.cpp - Pieces shared by `dlc-run` and `dlc run` -------------===//

#include "RunUtil.h"

#include "Support.h"

#include <cstring>
#include <filesystem>
#include <map>
#include <iomanip>
#include <sstream>

namespace dlc::cli {
namespace {


/// `t` converted to `want` where numpy's defaults differ from the model's (float64
/// data for a float32 input, int32 labels for int64).
Expected<Tensor> convert(const Tensor &t, DType want, const std::string &what) {
  if (t.dtype == want)
    return t;
  Tensor out(want, t.shape);
  int64_t n = t.numElements();
  if (want == DType::Float && t.dtype == DType::Double) {
    for (int64_t i = 0; i < n; ++i)
      out.as<float>()[i] = static_cast<float>(t.as<double>()[i]);
    return out;
  }
  if (want == DType::Int64 && t.dtype == DType::Int32) {
    for (int64_t i = 0; i < n; ++i)
      out.as<int64_t>()[i] = t.as<int32_t>()[i];
    return out;
  }
  return Status::error(what + " is " + dtypeName(t.dtype) + "; the model needs " +
                       dtypeName(want));
}

/// numpy has no bfloat16, float8, float4 or sub-byte integers: .npy files hold them as
/// the unsigned integers of their bits (uint16 for bfloat16, uint8 for the float8 and
/// float4 types), int4/int2 as int8 and uint4/uint2 as uint8 values. The type a tensor
/// of `t` has in a .npy file, or `t` itself.
DType npyStorage(DType t) {
  switch (t) {
  case DType::BFloat16:
    return DType::UInt16;
  case DType::Float8E4M3FN:
  case DType::Float8E4M3FNUZ:
  case DType::Float8E5M2:
  case DType::Float8E5M2FNUZ:
  case DType::Float8E8M0:
  case DType::Float4E2M1:
  case DType::UInt4:
  case DType::UInt2:
    return DType::UInt8;
  case DType::Int4:
  case DType::Int2:
    return DType::Int8;
  default:
    return t;
  }
}

bool isSubByteInt(DType t) {
  return t == DType::Int4 || t == DType::UInt4 || t == DType::Int2 || t == DType::UInt2;
}

/// `t` (of npyStorage(want)) as a tensor of `want`; a sub-byte value out of its range is
/// an error.
Expected<Tensor> fromNpyStorage(Tensor t, DType want, const std::string &what) {
  unsigned bits = dtypeBits(want);
  if (bits < 8) {
    bool isSigned = t.dtype == DType::Int8;
    int lo = isSigned ? -(1 << (bits - 1)) : 0,
        hi = isSigned ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
    for (uint8_t &byte : t.data) {
      int v = isSigned ? static_cast<int8_t>(byte) : byte;
      if (v < lo || v > hi)
        return Status::error(
            strCat(what, " holds ", v, ", outside the range of ", dtypeName(want)));
      byte &= static_cast<uint8_t>((1u << bits) - 1);
    }
  }
  t.dtype = want;
  return t;
}

/// `t` as the type numpy stores it in (npyStorage): sub-byte integers sign-extended.
Tensor toNpyStorage(Tensor t) {
  DType to = npyStorage(t.dtype);
  if (to == DType::Int8) {
    unsigned shift = 8 - dtypeBits(t.dtype);
    for (uint8_t &byte : t.data)
      byte = static_cast<uint8_t>(static_cast<int8_t>(byte << shift) >> shift);
  }
  t.dtype = to;
  return t;
}

} // namespace

Expected<Dataset> loadDataset(const std::string &path, const std::vector<TensorInfo> &inputs,
                           const std::string &labelKey, DType labelType) {
  auto arrays = readNpz(path);
  if (!arrays)
    return arrays.status();
  std::map<std::string, Tensor> byName(arrays->begin(), arrays->end());
  Dataset d;
  auto take = [&](const std::string &key, DType dt) -> Expected<Tensor> {
    auto it = byName.find(key);
    if (it == byName.end()) {
      std::string have;
      for (const auto &[k, v] : byName)
        have += (have.empty() ? "" : ", ") + k;
      return Status::error(path + " has no array '" + key + "' (it has " + have + ")");
    }
    if (it->second.shape.empty())
      return Status::error(path + ": '" + key + "' must have a sample dim");
    return convert(it->second, dt, path + ": '" + key + "'");
  };
  for (const TensorInfo &in : inputs) {
    auto t = take(in.name, in.dtype);
    if (!t)
      return t.status();
    std::vector<int64_t> want(in.shape.begin() + 1, in.shape.end());
    std::vector<int64_t> have(t->shape.begin() + 1, t->shape.end());
    if (t->shape.size() != in.shape.size() || have != want) {
      std::ostringstream os;
      os << path << ": '" << in.name << "' has samples of shape [";
      for (size_t i = 0; i < have.size(); ++i)
        os << (i ? ", " : "") << have[i];
      os << "]; the model takes [";
      for (size_t i = 0; i < want.size(); ++i)
        os << (i ? ", " : "") << want[i];
      os << "]";
      return Status::error(os.str());
    }
    d.inputs.push_back(std::move(*t));
  }
  auto labels = take(labelKey, labelType);
  if (!labels)
    return labels.status();
  d.labels = std::move(*labels);
  d.count = d.labels.shape[0];
  for (const Tensor &t : d.inputs)
    if (t.shape[0] != d.count)
      return Status::error(path + ": the arrays have different sample counts");
  return d;
}

/// Rows `idx` of `t` (samples along dim 0).
static Tensor gather(const Tensor &t, const std::vector<int64_t> &idx, size_t from, size_t n) {
  std::vector<int64_t> shape = t.shape;
  shape[0] = static_cast<int64_t>(n);
  Tensor out(t.dtype, shape);
  size_t row = t.shape[0] ? t.data.size() / t.shape[0] : 0;
  for (size_t i = 0; i < n; ++i)
    copyBytes(out.data.data() + i * row, t.data.data() + idx[from + i] * row, row);
  return out;
}

/// Fisher-Yates with a 64-bit Mersenne Twister: the same order for a seed everywhere
/// (std::shuffle's distribution is the library's choice).
static void shuffle(std::vector<int64_t> &v, std::mt19937_64 &rng) {
  for (size_t i = v.size(); i > 1; --i)
    std::swap(v[i - 1], v[rng() % i]);
}


Expected<double>
runEpoch(const Dataset &data, int64_t batch, std::vector<int64_t> &order, std::mt19937_64 &rng,
         const std::function<Expected<double>(const std::vector<Tensor> &, const Tensor &)> &step) {
  shuffle(order, rng);
  int64_t batches = data.count / batch;
  if (batches == 0)
    return Status::error(strCat("the data has ", data.count, " samples, fewer than one batch of ",
                                batch));
  double sum = 0;
  for (int64_t b = 0; b < batches; ++b) {
    std::vector<Tensor> in;
    for (const Tensor &t : data.inputs)
      in.push_back(gather(t, order, b * batch, batch));
    Tensor labels = gather(data.labels, order, b * batch, batch);
    Expected<double> l = step(in, labels);
    if (!l)
      return l.status();
    sum += *l;
  }
  return sum / batches;
}

Expected<NamedInput> parseNamedInput(const std::string &value) {
  size_t eq = value.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == value.size())
    return Status::error("--input expects NAME=PATH, got '" + value + "'");
  return NamedInput(value.substr(0, eq), value.substr(eq + 1));
}

Status bindInputs(const std::vector<TensorInfo> &inputs, const std::vector<std::string> &positional,
                  const std::vector<NamedInput> &named, std::vector<Tensor> &out,
                  std::map<std::string, TensorList> *lists) {
  if (positional.size() > inputs.size())
    return Status::error(strCat("expected ", inputs.size(),
                                inputs.size() == 1 ? " input" : " inputs", ", got ",
                                positional.size(), " input files"));
  std::vector<std::string> paths(positional);
  paths.resize(inputs.size());
  for (const auto &[name, path] : named) {
    size_t i = 0;
    while (i < inputs.size() && inputs[i].name != name)
      ++i;
    if (i == inputs.size())
      return Status::error("the model has no input named '" + name + "'");
    if (!paths[i].empty())
      return Status::error(strCat("input ", i, " '", name, "' is bound twice"));
    paths[i] = path;
  }
  for (size_t i = 0; i < inputs.size(); ++i)
    if (paths[i].empty())
      return Status::error(strCat("input ", i, " '", inputs[i].name,
                                  "' is not bound (give its file in order, or --input ",
                                  inputs[i].name, "=PATH)"));
  out.clear();
  for (size_t i = 0; i < paths.size(); ++i) {
    if (inputs[i].kind != ValueKind::Tensor) {
      if (!lists)
        return Status::error(strCat("input ", i, " '", inputs[i].name,
                                    "' is a sequence or optional, which this tool does not take"));
      Expected<TensorList> list =
          readTensorListFile(paths[i], inputs[i].kind == ValueKind::Optional);
      if (!list)
        return list.status();
      for (Tensor &t : list->tensors) {
        if (t.dtype != inputs[i].dtype && t.dtype == npyStorage(inputs[i].dtype)) {
          Expected<Tensor> cast = fromNpyStorage(std::move(t), inputs[i].dtype, paths[i]);
          if (!cast)
            return cast.status();
          t = std::move(cast).value();
        }
        out.push_back(t);
      }
      (*lists)[inputs[i].name] = std::move(list).value();
      continue;
    }
    Expected<Tensor> t = readTensorFile(paths[i]);
    if (!t)
      return t.status();
    // Types numpy lacks come as npyStorage() data (old ONNX test data stores bfloat16
    // as uint16 too).
    if (t->dtype != inputs[i].dtype && t->dtype == npyStorage(inputs[i].dtype)) {
      t = fromNpyStorage(std::move(t).value(), inputs[i].dtype, paths[i]);
      if (!t)
        return t.status();
    }
    out.push_back(std::move(t).value());
  }
  return Status::ok();
}

Status reportOutputs(const std::vector<TensorInfo> &outputs,
                     const std::vector<Tensor> &values, const std::string &outputDir,
                     std::ostream &os) {
  if (outputs.size() != values.size())
    return Status::error(strCat("the model has ", outputs.size(), " outputs, got ",
                                values.size(), " values"));
  if (!outputDir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(outputDir, ec);
    if (ec)
      return Status::error("cannot create directory '" + outputDir +
                           "': " + ec.message());
  }
  for (size_t i = 0; i < values.size(); ++i) {
    const Tensor &t = values[i];
    if (!outputDir.empty()) {
      std::filesystem::path file =
          std::filesystem::path(outputDir) / strCat("output_", i, ".npy");
      // Types numpy lacks go out as npyStorage() data.
      Status s = npyStorage(t.dtype) == t.dtype ? writeNpy(file.string(), t)
                                                : writeNpy(file.string(), toNpyStorage(t));
      if (!s)
        return s;
    }
    DType stored = npyStorage(t.dtype);
    os << "output " << i << " " << outputs[i].name << ": shape " << shapeStr(t.shape) << " "
       << dtypeName(t.dtype);
    if (stored != t.dtype && !outputDir.empty())
      os << " (written as " << dtypeName(stored) << (isSubByteInt(t.dtype) ? " values)" : " bits)");
    os << "\n";
  }
  return Status::ok();
}

void reportTime(double milliseconds, std::ostream &os) {
  std::ostringstream ms;
  ms << std::fixed << std::setprecision(3) << milliseconds;
  os << "time: " << ms.str() << " ms\n";
}

void reportMemory(const MemoryStats &stats, std::ostream &os) {
  os << "memory: " << stats.arenaBytes << " bytes of intermediates planned ("
     << stats.naiveBytes << " without reuse)\n";
}

} // namespace dlc::cli
