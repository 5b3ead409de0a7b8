//===- TensorIO.h - Tensor file formats from bytes (internal) ---*- C++ -*-===//
//
// The parsers behind readTensorFile() and readNpz(), on bytes already read: every size
// and offset in them is checked against the bytes (the fuzz target test/fuzz/
// TensorFuzzer.cpp feeds them arbitrary input).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_TENSORIO_H
#define DLC_RUNTIME_TENSORIO_H

#include "dlc/runtime.h"

#include <string>
#include <utility>
#include <vector>

namespace dlc {

/// A .npy file (format 1.0-3.0, little-endian numeric and bool types, C order).
Expected<Tensor> parseNpy(const std::vector<uint8_t> &bytes);
/// An ONNX TensorProto (raw_data or the typed fields).
Expected<Tensor> parseTensorProto(const std::vector<uint8_t> &bytes);
/// An ONNX SequenceProto of tensors, or an OptionalProto (of a tensor or such a sequence).
Expected<TensorList> parseSequenceProto(const std::vector<uint8_t> &bytes);
Expected<TensorList> parseOptionalProto(const std::vector<uint8_t> &bytes);
/// A .npz file (numpy.savez: an uncompressed zip of .npy files), its arrays in order.
Expected<std::vector<std::pair<std::string, Tensor>>> parseNpz(const std::vector<uint8_t> &bytes);

} // namespace dlc

#endif // DLC_RUNTIME_TENSORIO_H
