//===- FileIO.h - Whole-file reads for the runtime --------------*- C++ -*-===//
#ifndef DLC_RUNTIME_FILEIO_H
#define DLC_RUNTIME_FILEIO_H

#include "dlc/status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dlc {

/// The most bytes a file the runtime reads may have unless told otherwise (artifacts,
/// tensors): 64 GiB.
constexpr uint64_t kDefaultMaxFileBytes = uint64_t(64) << 30;

/// Reads the whole regular file at `path`, of at most `maxBytes` bytes: directories,
/// FIFOs and devices are refused before anything is read, and the size is checked
/// first. The error names the file and the reason.
Expected<std::vector<uint8_t>> readFileBytes(const std::string &path,
                                             uint64_t maxBytes = kDefaultMaxFileBytes);

} // namespace dlc

#endif // DLC_RUNTIME_FILEIO_H
