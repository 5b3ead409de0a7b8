//===- RunUtil.cpp - Pieces shared by `dlc-run` and `dlc run` -------------===//

#include "RunUtil.h"

#include "Support.h"

#include <filesystem>
#include <iomanip>
#include <sstream>

namespace dlc::cli {

Expected<NamedInput> parseNamedInput(const std::string &value) {
  size_t eq = value.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == value.size())
    return Status::error("--input expects NAME=PATH, got '" + value + "'");
  return NamedInput(value.substr(0, eq), value.substr(eq + 1));
}

Status bindInputs(const std::vector<TensorInfo> &inputs,
                  const std::vector<std::string> &positional,
                  const std::vector<NamedInput> &named, std::vector<Tensor> &out) {
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
  for (const std::string &path : paths) {
    Expected<Tensor> t = readTensorFile(path);
    if (!t)
      return t.status();
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
      if (Status s = writeNpy(file.string(), t); !s)
        return s;
    }
    os << "output " << i << " " << outputs[i].name << ": shape " << shapeStr(t.shape)
       << " " << dtypeName(t.dtype) << "\n";
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
