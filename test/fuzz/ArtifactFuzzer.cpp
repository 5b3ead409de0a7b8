//===- ArtifactFuzzer.cpp - libFuzzer target: the artifact loader ---------===//
//
// Any bytes as a .dlc artifact. The checksum would refuse nearly every mutation, so the
// target seals it first, as an attacker who rewrites the file would: what is fuzzed is
// the verification of everything behind it (dlc::artifact::parse), then loading.
//
// Only artifacts whose code section is one of the seed artifacts' (DLC_FUZZ_SEEDS: a
// folder of .dlc files) are loaded: a shared object is trusted as the checksum makes it
// (the dynamic loader cannot load arbitrary bytes safely, and a forged one runs what it
// likes); the tables around it are not. With DLC_FUZZ_RUN=1 a model that loads also
// runs, on inputs of the declared dtypes with every dynamic dim 2.
//
//===----------------------------------------------------------------------===//
#include "dlc/artifact.h"
#include "dlc/runtime.h"

#include "FileIO.h"

#include <cstdint>
#include <cstdlib>
#include <dirent.h>
#include <set>
#include <string>
#include <vector>

namespace {

/// The code sections of the seed artifacts.
std::set<std::vector<uint8_t>> seedCode() {
  std::set<std::vector<uint8_t>> code;
  const char *dir = std::getenv("DLC_FUZZ_SEEDS");
  DIR *d = dir ? opendir(dir) : nullptr;
  if (!d)
    return code;
  while (dirent *e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".dlc") != 0)
      continue;
    dlc::Expected<std::vector<uint8_t>> bytes = dlc::readFileBytes(std::string(dir) + "/" + name);
    if (!bytes)
      continue;
    dlc::Expected<dlc::artifact::ArtifactSpec> spec =
        dlc::artifact::parse(bytes->data(), bytes->size());
    if (spec && spec->target == dlc::artifact::Target::Cpu)
      code.insert(spec->code);
  }
  closedir(d);
  return code;
}

void runOnSmallInputs(dlc::Model &model) {
  std::vector<dlc::Tensor> inputs;
  for (const dlc::TensorInfo &info : model.inputs()) {
    std::vector<int64_t> shape;
    uint64_t bytes = dlc::dtypeSize(info.dtype);
    for (int64_t d : info.shape) {
      shape.push_back(d < 0 ? 2 : d);
      // A model of huge static inputs is fine; it is not run here.
      if (shape.back() > 0 && bytes > (uint64_t(64) << 20) / shape.back())
        return;
      bytes *= shape.back();
    }
    inputs.push_back(dlc::Tensor(info.dtype, shape));
  }
  (void)model.run(inputs);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const bool run = [] {
    const char *r = std::getenv("DLC_FUZZ_RUN");
    return r && *r && *r != '0';
  }();
  static const std::set<std::vector<uint8_t>> trusted = seedCode();
  std::vector<uint8_t> bytes(data, data + size);
  dlc::artifact::sealChecksum(bytes);
  dlc::Expected<dlc::artifact::ArtifactSpec> spec = dlc::artifact::parse(bytes.data(), bytes.size());
  if (!spec || spec->target != dlc::artifact::Target::Cpu)
    return 0;
  if (!trusted.count(spec->code))
    return 0;
  dlc::Expected<std::unique_ptr<dlc::Model>> model = dlc::Model::loadBytes(bytes.data(), bytes.size());
  // The seeds' code is CPU kernels. A mutation that marks it SIMT code has the emulator
  // run each kernel once per thread of its blocks (the same signature): right answers
  // at a block's threads times the work, minutes under ASAN (past the fuzzer's
  // timeout) for what runs in 0.6 s without it. It is loaded, not run.
  if (model && run && !spec->simt)
    runOnSmallInputs(**model);
  return 0;
}
