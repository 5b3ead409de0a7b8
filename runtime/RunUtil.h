//===- RunUtil.h - Pieces shared by `dlc-run` and `dlc run` -----*- C++ -*-===//
#ifndef DLC_RUNTIME_RUNUTIL_H
#define DLC_RUNTIME_RUNUTIL_H

#include "dlc/runtime.h"

#include <functional>
#include <map>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace dlc::cli {

/// A `--input NAME=PATH` binding: input name and tensor file.
using NamedInput = std::pair<std::string, std::string>;

/// Splits the value of `--input` ("NAME=PATH") at its first '='.
Expected<NamedInput> parseNamedInput(const std::string &value);

/// Reads the tensor files and binds them to the model's `inputs`: `positional[i]` to
/// input i, each named pair to the input of that name. Every input must be bound
/// exactly once; on success `out` holds one tensor per input, in order. Inputs whose
/// kind is a sequence or optional (dlc::modelInputs) take SequenceProto / OptionalProto
/// files: their tensors are flattened into `out`, and `lists` receives their contents
/// by name (without `lists` they are an error).
Status bindInputs(const std::vector<TensorInfo> &inputs, const std::vector<std::string> &positional,
                  const std::vector<NamedInput> &named, std::vector<Tensor> &out,
                  std::map<std::string, TensorList> *lists = nullptr);

/// Prints "output <i> <name>: shape [2, 3] float32" for each output to `os`; when
/// `outputDir` is not empty, first writes output i to `outputDir`/output_<i>.npy,
/// creating the folder if needed.
Status reportOutputs(const std::vector<TensorInfo> &outputs,
                     const std::vector<Tensor> &values, const std::string &outputDir,
                     std::ostream &os);

/// Prints "time: <ms> ms", the wall time of one run.
void reportTime(double milliseconds, std::ostream &os);
/// Prints the planned arena size of the last run against the size without reuse.
void reportMemory(const MemoryStats &stats, std::ostream &os);

/// Training data from a .npz file: one array per graph input (samples along dim 0,
/// converted where numpy's default types differ: float64 data for float32 inputs,
/// int32 labels for int64) and the labels under `labelKey`.
struct Dataset {
  std::vector<Tensor> inputs;
  Tensor labels;
  int64_t count = 0;
};
Expected<Dataset> loadDataset(const std::string &path, const std::vector<TensorInfo> &inputs,
                              const std::string &labelKey, DType labelType);

/// One training epoch: reshuffles `order` from `rng` (Fisher-Yates on a 64-bit Mersenne
/// Twister, the same order for a seed everywhere), then runs `step` on each full batch
/// of `batch` samples (the last partial batch is left out). Returns the mean loss.
Expected<double>
runEpoch(const Dataset &data, int64_t batch, std::vector<int64_t> &order, std::mt19937_64 &rng,
         const std::function<Expected<double>(const std::vector<Tensor> &, const Tensor &)> &step);

} // namespace dlc::cli

#endif // DLC_RUNTIME_RUNUTIL_H
