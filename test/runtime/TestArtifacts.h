//===- TestArtifacts.h - Runnable artifacts for runtime tests ---*- C++ -*-===//
//
// The kernels come from add_kernel.c, built as a shared object next to the tests: an
// artifact's code section holds that object's bytes, as the compiler would produce.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_TEST_RUNTIME_TESTARTIFACTS_H
#define DLC_TEST_RUNTIME_TESTARTIFACTS_H

#include "dlc/artifact.h"

#include <cstring>
#include <fstream>
#include <iterator>

namespace dlc::test {

/// The weight the add/scale model multiplies by.
constexpr float kScale = 0.5f;

/// The bytes of the shared object built from add_kernel.c.
inline std::vector<uint8_t> kernelCode() {
  std::ifstream f(DLC_TEST_ADD_KERNEL_PATH, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

/// Inputs x[N], y[N]; t = x + y; z = reshape(t * s, [1, N]) with s a rank-0 weight;
/// outputs z and t.
inline artifact::ArtifactSpec addScaleSpec() {
  using namespace artifact;
  ArtifactSpec spec;
  spec.targetTriple = "x86_64-unknown-linux-gnu";
  spec.producer = "dlc test";
  spec.inputs = {{"x", DType::Float, {-1}, {"N"}}, {"y", DType::Float, {-1}, {"N"}}};
  spec.outputs = {{"z", DType::Float, {1, -1}, {"", "N"}},
                  {"t", DType::Float, {-1}, {"N"}}};
  spec.inputBuffers = {0, 1};
  spec.outputBuffers = {5, 2};
  // N, and ceil(N / 4) workgroups for the add.
  spec.exprs = {{InputDim, 0, 0}, {InputDim, 0, 0, Const, 4, CeilDiv}};
  spec.buffers = {
      {"x", BufferKind::Input, DType::Float, {-1}, 0, 0, 0},
      {"y", BufferKind::Input, DType::Float, {-1}, 1, 0, 0},
      {"t", BufferKind::Intermediate, DType::Float, {-1}, -1, 0, 0},
      {"s", BufferKind::Weight, DType::Float, {}, -1, 0, 4},
      {"zt", BufferKind::Intermediate, DType::Float, {-1}, -1, 0, 0},
      {"z", BufferKind::Alias, DType::Float, {1, -1}, 4, 0, 0},
  };
  TensorInfo vec{"", DType::Float, {-1}, {""}}, scalar{"", DType::Float, {}, {}};
  spec.kernels = {{"add", "add_f32", {"Add_0"}, 2, {vec, vec, vec}},
                  {"scale", "scale_f32", {"Mul_1"}, 2, {vec, scalar, vec}}};
  spec.launches = {{0, {0, 1, 2}, 2, -2, {}, 0}, {1, {2, 3, 4}, 2, 8, {}, 0}};
  spec.weights.resize(4);
  std::memcpy(spec.weights.data(), &kScale, 4);
  spec.code = kernelCode();
  return spec;
}

/// A float tensor holding first, first + step, ...
inline Tensor floats(std::vector<int64_t> shape, float first, float step) {
  Tensor t(DType::Float, std::move(shape));
  for (int64_t i = 0; i < t.numElements(); ++i)
    t.as<float>()[i] = first + step * i;
  return t;
}

} // namespace dlc::test

#endif // DLC_TEST_RUNTIME_TESTARTIFACTS_H
