//===- FileIO.h - Whole-file reads for the runtime --------------*- C++ -*-===//
#ifndef DLC_RUNTIME_FILEIO_H
#define DLC_RUNTIME_FILEIO_H

#include "dlc/status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dlc {

/// Reads the whole file at `path`; the error names the file and the system's reason.
Expected<std::vector<uint8_t>> readFileBytes(const std::string &path);

} // namespace dlc

#endif // DLC_RUNTIME_FILEIO_H
