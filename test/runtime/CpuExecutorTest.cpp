//===- CpuExecutorTest.cpp - End-to-end runs of CPU artifacts -------------===//

#include "TestArtifacts.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <unistd.h>

using namespace dlc;
using namespace dlc::artifact;
using namespace dlc::test;

namespace {

std::unique_ptr<Model> load(const ArtifactSpec &spec) {
  std::vector<uint8_t> bytes = serialize(spec);
  Expected<std::unique_ptr<Model>> model = Model::loadBytes(bytes.data(), bytes.size());
  EXPECT_TRUE(model) << model.message();
  return model ? std::move(model).value() : nullptr;
}

std::string loadError(const ArtifactSpec &spec) {
  std::vector<uint8_t> bytes = serialize(spec);
  return Model::loadBytes(bytes.data(), bytes.size()).message();
}

/// Runs the add/scale model at size n and checks both outputs.
void expectAddScale(Model &model, int64_t n) {
  SCOPED_TRACE("N = " + std::to_string(n));
  Expected<std::vector<Tensor>> out = model.run({floats({n}, 1, 2), floats({n}, 0.5f, -1)});
  ASSERT_TRUE(out) << out.message();
  ASSERT_EQ(out->size(), 2u);
  const Tensor &z = (*out)[0], &t = (*out)[1];
  EXPECT_EQ(z.shape, (std::vector<int64_t>{1, n}));
  EXPECT_EQ(t.shape, std::vector<int64_t>{n});
  for (int64_t i = 0; i < n; ++i) {
    float sum = (1 + 2.0f * i) + (0.5f - i);
    ASSERT_EQ(t.as<float>()[i], sum) << "t[" << i << "]";
    ASSERT_EQ(z.as<float>()[i], sum * kScale) << "z[" << i << "]";
  }
}

TEST(CpuExecutor, RunsAtSeveralSizes) {
  ::setenv("DLC_NUM_THREADS", "4", 1);
  std::unique_ptr<Model> model = load(addScaleSpec());
  ::unsetenv("DLC_NUM_THREADS");
  ASSERT_TRUE(model);
  EXPECT_EQ(model->target(), "cpu");
  ASSERT_EQ(model->inputs().size(), 2u);
  EXPECT_EQ(model->inputs()[1].name, "y");
  EXPECT_EQ(model->outputs()[0].name, "z");
  // Sizes repeat so cached plans are reused; 0 checks empty tensors.
  for (int64_t n : {5, 1000, 1, 5, 0, 3, 1000})
    expectAddScale(*model, n);
}

// runInto writes each output whose buffer is an intermediate (t, read by the next
// kernel too) or a view of one (z) in its tensor in place: a second run at the same
// size keeps the tensors' storage; another size replaces them. Outputs that view an
// input or a weight are copied.
TEST(CpuExecutor, RunIntoKeepsOutputStorage) {
  std::unique_ptr<Model> model = load(addScaleSpec());
  ASSERT_TRUE(model);
  std::vector<Tensor> out;
  for (int64_t n : {1000, 1000, 7, 7}) {
    SCOPED_TRACE("N = " + std::to_string(n));
    std::vector<const uint8_t *> before;
    for (const Tensor &t : out)
      before.push_back(t.data.data());
    bool sameSize = !out.empty() && out[1].shape == std::vector<int64_t>{n};
    ASSERT_TRUE(model->runInto({floats({n}, 1, 2), floats({n}, 0.5f, -1)}, out));
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].shape, (std::vector<int64_t>{1, n}));
    if (sameSize)
      for (size_t o = 0; o < out.size(); ++o)
        EXPECT_EQ(out[o].data.data(), before[o]) << "output " << o;
    for (int64_t i = 0; i < n; ++i) {
      float sum = (1 + 2.0f * i) + (0.5f - i);
      ASSERT_EQ(out[1].as<float>()[i], sum) << "t[" << i << "]";
      ASSERT_EQ(out[0].as<float>()[i], sum * kScale) << "z[" << i << "]";
    }
  }
  // A tensor of the wrong dtype or shape in `outputs` is replaced, not written into.
  // (A default Tensor, float of shape [] without bytes, for a scalar output: the edge
  // cases' matmul_1d_1d and reduce*_nan through dlc-run.)
  out = {Tensor(DType::Int32, {1, 7}), Tensor(DType::Float, {8})};
  ASSERT_TRUE(model->runInto({floats({7}, 1, 2), floats({7}, 0.5f, -1)}, out));
  EXPECT_EQ(out[0].dtype, DType::Float);
  EXPECT_EQ(out[1].shape, std::vector<int64_t>{7});
}

// The kernels write outputs in place and take their buffers as noalias pointers: the
// inputs' own vector as `outputs` is refused, not overwritten while read.
TEST(CpuExecutor, RunIntoRefusesItsInputsAsOutputs) {
  std::unique_ptr<Model> model = load(addScaleSpec());
  ASSERT_TRUE(model);
  std::vector<Tensor> io = {floats({7}, 1, 2), floats({7}, 0.5f, -1)};
  Status s = model->runInto(io, io);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("another vector"), std::string::npos) << s.message();
  EXPECT_EQ(io[0].as<float>()[3], 7.0f); // untouched
}

/// The add/scale artifact loaded with a pool of `threads`.
Expected<std::unique_ptr<Model>> loadAddScale(int threads) {
  LoadOptions options;
  options.threads = threads;
  std::vector<uint8_t> bytes = serialize(addScaleSpec());
  return Model::loadBytes(bytes.data(), bytes.size(), options);
}

// Model::run is thread-safe: 8 threads x 200 runs on one model, at sizes that change
// the plan and the arena, give exactly the single-threaded results (run under
// ThreadSanitizer by scripts/sanitize.sh tsan).
TEST(CpuExecutor, RunsFromManyThreadsAtOnce) {
  Expected<std::unique_ptr<Model>> model = loadAddScale(3);
  ASSERT_TRUE(model) << model.message();
  const std::vector<int64_t> sizes = {1, 7, 64, 1000, 4097};
  std::vector<std::vector<Tensor>> expected;
  for (int64_t n : sizes) {
    Expected<std::vector<Tensor>> out = (*model)->run({floats({n}, 1, 2), floats({n}, 0.5f, -1)});
    ASSERT_TRUE(out) << out.message();
    expected.push_back(std::move(*out));
  }
  std::atomic<int> wrong{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < 200; ++r) {
        size_t k = (t + r) % sizes.size();
        int64_t n = sizes[k];
        Expected<std::vector<Tensor>> out =
            (*model)->run({floats({n}, 1, 2), floats({n}, 0.5f, -1)});
        if (!out) {
          ++failed;
          continue;
        }
        for (size_t o = 0; o < out->size(); ++o)
          if ((*out)[o].shape != expected[k][o].shape || (*out)[o].data != expected[k][o].data)
            ++wrong;
      }
    });
  for (std::thread &t : threads)
    t.join();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(wrong, 0);
}

// LoadOptions::threads sets the pool as DLC_NUM_THREADS does.
TEST(CpuExecutor, ThreadsFromLoadOptions) {
  Expected<std::unique_ptr<Model>> model = loadAddScale(2);
  ASSERT_TRUE(model) << model.message();
  expectAddScale(**model, 1000);
}

TEST(CpuExecutor, LoadsFiles) {
  std::string path = ::testing::TempDir() + "dlc_cpu_" + std::to_string(::getpid()) + ".dlc";
  std::vector<uint8_t> bytes = serialize(addScaleSpec());
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
  Expected<std::unique_ptr<Model>> model = Model::loadFile(path);
  ASSERT_TRUE(model) << model.message();
  expectAddScale(**model, 7);

  std::ofstream(path, std::ios::binary | std::ios::trunc) << "DLCART";
  EXPECT_EQ(Model::loadFile(path).message(),
            path + ": artifact is truncated (6 bytes, need at least 24)");
}

TEST(CpuExecutor, SeveralModelsAtOnce) {
  // Each model loads its own copy of the kernels from its own in-memory file.
  std::unique_ptr<Model> a = load(addScaleSpec());
  std::unique_ptr<Model> b = load(addScaleSpec());
  ASSERT_TRUE(a && b);
  a.reset();
  std::unique_ptr<Model> c = load(addScaleSpec());
  ASSERT_TRUE(c);
  expectAddScale(*b, 9);
  expectAddScale(*c, 11);
}

TEST(CpuExecutor, RunsWithoutKernels) {
  // Output 0 is input x under another shape, output 1 a constant.
  ArtifactSpec spec;
  spec.inputs = {{"x", DType::Int32, {2, -1}, {"", "M"}}};
  spec.outputs = {{"flat", DType::Int32, {-1}, {""}}, {"c", DType::Int64, {2}, {"", ""}}};
  spec.exprs = {{InputDim, 0, 1}, {InputDim, 0, 1, Const, 2, Mul}};
  spec.inputBuffers = {0};
  spec.outputBuffers = {1, 2};
  spec.buffers = {{"x", BufferKind::Input, DType::Int32, {2, -1}, 0, 0, 0},
                  {"flat", BufferKind::Alias, DType::Int32, {-2}, 0, 0, 0},
                  {"c", BufferKind::Weight, DType::Int64, {2}, -1, 64, 16}};
  spec.weights.resize(80);
  int64_t constant[2] = {-4, 1ll << 40};
  std::memcpy(spec.weights.data() + 64, constant, 16);
  std::unique_ptr<Model> model = load(spec);
  ASSERT_TRUE(model);
  Tensor x(DType::Int32, {2, 3});
  for (int i = 0; i < 6; ++i)
    x.as<int32_t>()[i] = i * i;
  Expected<std::vector<Tensor>> out = model->run({x});
  ASSERT_TRUE(out) << out.message();
  EXPECT_EQ((*out)[0].shape, std::vector<int64_t>{6});
  EXPECT_EQ((*out)[0].data, x.data);
  EXPECT_EQ((*out)[1].as<int64_t>()[0], -4);
  EXPECT_EQ((*out)[1].as<int64_t>()[1], 1ll << 40);
  std::vector<Tensor> into(2, Tensor(DType::Int32, {6}));
  ASSERT_TRUE(model->runInto({x}, into));
  EXPECT_EQ(into[0].data, x.data);
  EXPECT_EQ(into[1].as<int64_t>()[1], 1ll << 40);
}

TEST(CpuExecutor, ChecksInputs) {
  ArtifactSpec spec = addScaleSpec();
  spec.inputs[0].shape = {3};
  spec.inputs[0].dimNames = {""};
  std::unique_ptr<Model> model = load(spec);
  ASSERT_TRUE(model);
  auto runError = [&](std::vector<Tensor> inputs) { return model->run(inputs).message(); };
  EXPECT_EQ(runError({floats({3}, 0, 1)}), "expected 2 inputs, got 1");
  EXPECT_EQ(runError({Tensor(DType::Int64, {3}), floats({3}, 0, 1)}),
            "input 0 'x': wrong dtype: expected float32, got int64");
  EXPECT_EQ(runError({floats({4}, 0, 1), floats({4}, 0, 1)}),
            "input 0 'x': expected shape [3], got [4]");
  EXPECT_EQ(runError({floats({3}, 0, 1), floats({3, 1}, 0, 1)}),
            "input 1 'y': expected shape [N], got [3, 1]");
  Tensor shortData = floats({3}, 0, 1);
  shortData.data.resize(8);
  EXPECT_EQ(runError({floats({3}, 0, 1), shortData}),
            "input 1 'y': holds 8 bytes, which does not match its shape [3]");
  // Buffer y takes its size from x's dim: a different y is caught, not read past.
  ArtifactSpec unnamed = addScaleSpec();
  unnamed.inputs[1].dimNames = {""};
  model = load(unnamed);
  ASSERT_TRUE(model);
  EXPECT_EQ(runError({floats({3}, 0, 1), floats({4}, 0, 1)}),
            "buffer 1 'y' has shape [3], but input 1 has shape [4]");
}

TEST(CpuExecutor, DimNamesBindOneSize) {
  std::unique_ptr<Model> model = load(addScaleSpec());
  ASSERT_TRUE(model);
  EXPECT_EQ(model->run({floats({3}, 0, 1), floats({4}, 0, 1)}).message(),
            "input 1 'y': dim 0 ('N') is 4, but input 0 has N = 3");
}

TEST(CpuExecutor, ShapeErrorsAtRunTime) {
  ArtifactSpec spec = addScaleSpec();
  spec.exprs.push_back({InputDim, 0, 0, Const, 10, Sub});
  spec.buffers[2].dims = {-3};
  std::unique_ptr<Model> model = load(spec);
  ASSERT_TRUE(model);
  EXPECT_EQ(model->run({floats({5}, 0, 1), floats({5}, 0, 1)}).message(),
            "buffer 2 't' dim 0 resolves to -5");

  spec = addScaleSpec();
  spec.exprs[1] = {InputDim, 0, 0, Const, 4, FloorDiv, Const, 1, Sub, Const, 0, FloorDiv};
  model = load(spec);
  ASSERT_TRUE(model);
  EXPECT_EQ(model->run({floats({5}, 0, 1), floats({5}, 0, 1)}).message(),
            "launch 0 grid: shape expression: division by zero");

  spec = addScaleSpec();
  spec.buffers[5].dims = {2, -1};
  spec.outputs[0].shape = {2, -1};
  model = load(spec);
  ASSERT_TRUE(model);
  EXPECT_EQ(model->run({floats({5}, 0, 1), floats({5}, 0, 1)}).message(),
            "buffer 5 'z' of shape [2, 5] (40 bytes) cannot alias buffer 4 of 20 bytes");
}

TEST(CpuExecutor, KernelLoadErrors) {
  ArtifactSpec spec = addScaleSpec();
  spec.kernels[1].symbol = "no_such_kernel";
  EXPECT_EQ(loadError(spec),
            "artifact: kernel 'scale' has no symbol 'no_such_kernel' in the code section");
  // A table that points a kernel at code compiled for other buffers (here the add's
  // code for the scale, whose second input is a scalar).
  spec = addScaleSpec();
  spec.kernels[1].symbol = "add_f32";
  EXPECT_EQ(loadError(spec), "artifact: the code of kernel 'scale' (symbol 'add_f32') was not "
                             "compiled for the buffers the artifact gives it");
  spec.code = {'n', 'o', 't', ' ', 'E', 'L', 'F'};
  EXPECT_EQ(loadError(spec), "artifact: the code section is not an ELF shared object");
  spec.code = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0};
  EXPECT_EQ(loadError(spec).rfind("artifact: cannot load the code section: ", 0), 0u);
}

} // namespace
