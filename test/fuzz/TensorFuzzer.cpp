//===- TensorFuzzer.cpp - libFuzzer target: .npy, .pb and .npz parsers ---===//
//
// The first byte picks the format (0: .npy, 1: ONNX TensorProto .pb, 2: .npz), the
// rest is the file. A bad file is an error, never a crash or an unbounded allocation.
//
//===----------------------------------------------------------------------===//
#include "TensorIO.h"

#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  std::vector<uint8_t> bytes(data + 1, data + size);
  switch (data[0] % 3) {
  case 0:
    (void)dlc::parseNpy(bytes);
    break;
  case 1:
    (void)dlc::parseTensorProto(bytes);
    break;
  default:
    (void)dlc::parseNpz(bytes);
    break;
  }
  return 0;
}
