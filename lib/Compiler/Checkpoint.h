//===- Checkpoint.h - The training checkpoint file format (internal) -*- C++ -*-===//
//
// A TrainingSession's state on disk: the step count, the learning rate and every named
// tensor (parameters, optimizer state, running statistics).
//
//   char magic[8] = "DLCCKPT1"; int64 steps; double lr; uint64 count;
//   count x { uint32 name_len; char name[name_len]; int32 dtype (ONNX);
//             uint32 rank; int64 dims[rank]; uint64 bytes; byte data[bytes] }
//
// Little-endian, as the host writes it.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_COMPILER_CHECKPOINT_H
#define DLC_LIB_COMPILER_CHECKPOINT_H

#include "dlc/runtime.h"

#include <map>
#include <string>

namespace dlc::compiler {

struct Checkpoint {
  int64_t steps = 0;
  double lr = 0;
  std::map<std::string, Tensor> values;
};

/// Writes `c` to `path`.
Status writeCheckpoint(const std::string &path, const Checkpoint &c);

/// Reads a checkpoint whose tensors must be exactly those of `like` (same names,
/// dtypes and shapes); a corrupt or mismatched file is an error naming what is wrong.
Expected<Checkpoint> readCheckpoint(const std::string &path,
                                    const std::map<std::string, Tensor> &like);

} // namespace dlc::compiler

#endif // DLC_LIB_COMPILER_CHECKPOINT_H
