//===- ImportFuzzer.cpp - libFuzzer target: ONNX bytes to dlc IR ----------===//
//
// Any bytes as a serialized ModelProto, through the importer and the graph passes and
// kernel formation (dlc::compileBytes, EmitKind::Dlc). Every outcome but a crash, a
// hang, a sanitizer report or running out of memory is fine: bad models are errors.
// DLC_FUZZ_EMIT=linalg goes on through the lowering and tiling (slower).
//
//===----------------------------------------------------------------------===//
#include "dlc/dlc.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const dlc::EmitKind emit = [] {
    const char *e = std::getenv("DLC_FUZZ_EMIT");
    return e && std::strcmp(e, "linalg") == 0 ? dlc::EmitKind::Linalg : dlc::EmitKind::Dlc;
  }();
  dlc::CompileOptions options;
  options.emit = emit;
  std::string bytes(reinterpret_cast<const char *>(data), size);
  (void)dlc::compileBytes(bytes, options);
  return 0;
}
