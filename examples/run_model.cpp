//===- run_model.cpp - Example: compile an ONNX model in-process and run it ---===//
//
// usage: run_model MODEL.onnx [BATCH]
// Feeds every float input with a ramp (dynamic dims set to BATCH, default 2) and prints
// each output's shape and first values.
//
//===----------------------------------------------------------------------===//
#include "dlc/dlc.h"

#include <cstdlib>
#include <iostream>

int main(int argc, char **argv) {
  if (argc < 2) {
    std::cerr << "usage: run_model MODEL.onnx [BATCH]\n";
    return 1;
  }
  int64_t batch = argc > 2 ? std::atoll(argv[2]) : 2;
  auto model = dlc::jitFile(argv[1]);
  if (!model) {
    std::cerr << "error: " << model.message() << "\n";
    return 1;
  }
  std::vector<dlc::Tensor> inputs;
  for (const dlc::TensorInfo &info : (*model)->inputs()) {
    if (info.dtype != dlc::DType::Float) {
      std::cerr << "error: this example feeds float inputs only\n";
      return 1;
    }
    std::vector<int64_t> shape;
    for (int64_t d : info.shape)
      shape.push_back(d < 0 ? batch : d);
    dlc::Tensor t(info.dtype, shape);
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.as<float>()[i] = 0.01f * float(i % 100);
    inputs.push_back(std::move(t));
  }
  auto outputs = (*model)->run(inputs);
  if (!outputs) {
    std::cerr << "error: " << outputs.message() << "\n";
    return 1;
  }
  for (size_t i = 0; i < outputs->size(); ++i) {
    const dlc::Tensor &t = (*outputs)[i];
    std::cout << (*model)->outputs()[i].name << ": [";
    for (size_t d = 0; d < t.shape.size(); ++d)
      std::cout << (d ? ", " : "") << t.shape[d];
    std::cout << "]";
    if (t.dtype == dlc::DType::Float)
      for (int64_t k = 0; k < std::min<int64_t>(4, t.numElements()); ++k)
        std::cout << " " << t.as<float>()[k];
    std::cout << "\n";
  }
  return 0;
}
