//===- Inspect.h - `dlc inspect`: describe an artifact ----------*- C++ -*-===//
#ifndef DLC_TOOLS_DLC_INSPECT_H
#define DLC_TOOLS_DLC_INSPECT_H

#include "dlc/status.h"

#include <ostream>
#include <string>

namespace dlc::tools {

/// Prints the artifact at `path`: target, signature, kernels with their ONNX nodes,
/// launches, weight and arena bytes; as JSON when `json`.
Status inspect(const std::string &path, bool json, std::ostream &os);

} // namespace dlc::tools

#endif // DLC_TOOLS_DLC_INSPECT_H
