//===- ApiTest.cpp - Tests of the public compiler API (dlc/dlc.h) ---------===//
#include "dlc/dlc.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <thread>
#include <cstring>

namespace {

const std::string kInputs = DLC_TEST_INPUTS;

dlc::Tensor floats(std::vector<int64_t> shape, std::vector<float> values) {
  dlc::Tensor t(dlc::DType::Float, std::move(shape));
  std::memcpy(t.data.data(), values.data(), values.size() * sizeof(float));
  return t;
}

TEST(Api, JitCompilesAndRunsAtTwoBatchSizes) {
  auto model = dlc::jitFile(kInputs + "/add_relu.onnxtxt");
  ASSERT_TRUE(model) << model.message();
  ASSERT_EQ((*model)->inputs().size(), 2u);
  EXPECT_EQ((*model)->inputs()[0].name, "x");
  EXPECT_EQ((*model)->inputs()[0].shape, (std::vector<int64_t>{-1, 4}));
  EXPECT_EQ((*model)->inputs()[0].dimNames[0], "N");
  dlc::Tensor bias = floats({4}, {1, -1, 0.5f, -0.5f});
  for (int64_t n : {1, 3}) {
    std::vector<float> xs;
    for (int64_t i = 0; i < n * 4; ++i)
      xs.push_back(float(i) - 5.0f);
    auto out = (*model)->run({floats({n, 4}, xs), bias});
    ASSERT_TRUE(out) << out.message();
    ASSERT_EQ((*out)[0].shape, (std::vector<int64_t>{n, 4}));
    const float *y = (*out)[0].as<float>();
    const float b[4] = {1, -1, 0.5f, -0.5f};
    for (int64_t i = 0; i < n * 4; ++i)
      EXPECT_FLOAT_EQ(y[i], std::max(0.0f, xs[i] + b[i % 4])) << "at " << i;
  }
}

// CPU kernels are linked in-process: a program that JIT-compiles models needs no C
// compiler or linker where it runs.
TEST(Api, JitNeedsNoToolchainOnPath) {
  const char *old = std::getenv("PATH");
  std::string saved = old ? old : "";
  ::setenv("PATH", "/nonexistent", 1);
  auto model = dlc::jitFile(kInputs + "/add_relu.onnxtxt");
  ::setenv("PATH", saved.c_str(), 1);
  ASSERT_TRUE(model) << model.message();
  auto out = (*model)->run({floats({1, 4}, {-1, 2, -3, 4}), floats({4}, {0, 0, 0, 0})});
  ASSERT_TRUE(out) << out.message();
  const float *y = (*out)[0].as<float>();
  EXPECT_EQ(std::vector<float>(y, y + 4), (std::vector<float>{0, 2, 0, 4}));
}

// One compiled model run from 8 threads at once, 200 runs each at changing batch
// sizes: every result equals the single-threaded one.
TEST(Api, RunsFromManyThreadsAtOnce) {
  auto model = dlc::jitFile(kInputs + "/add_relu.onnxtxt");
  ASSERT_TRUE(model) << model.message();
  dlc::Tensor bias = floats({4}, {1, -1, 0.5f, -0.5f});
  std::vector<std::vector<dlc::Tensor>> inputs, expected;
  for (int64_t n : {1, 3, 17, 64}) {
    std::vector<float> xs;
    for (int64_t i = 0; i < n * 4; ++i)
      xs.push_back(float(i % 11) - 5.0f);
    inputs.push_back({floats({n, 4}, xs), bias});
    auto out = (*model)->run(inputs.back());
    ASSERT_TRUE(out) << out.message();
    expected.push_back(std::move(*out));
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < 200; ++r) {
        size_t k = (t * 7 + r) % inputs.size();
        auto out = (*model)->run(inputs[k]);
        if (!out || (*out)[0].data != expected[k][0].data || (*out)[0].shape != expected[k][0].shape)
          ++wrong;
      }
    });
  for (std::thread &t : threads)
    t.join();
  EXPECT_EQ(wrong, 0);
}

TEST(Api, RunRejectsWrongInputs) {
  auto model = dlc::jitFile(kInputs + "/add_relu.onnxtxt");
  ASSERT_TRUE(model) << model.message();
  auto out = (*model)->run({floats({2, 4}, std::vector<float>(8, 0))});
  ASSERT_FALSE(out);
  EXPECT_NE(out.message().find("input"), std::string::npos) << out.message();
  auto wrongShape = (*model)->run(
      {floats({2, 5}, std::vector<float>(10, 0)), floats({4}, std::vector<float>(4, 0))});
  EXPECT_FALSE(wrongShape);
}

TEST(Api, CompileEmitsArtifactThatLoads) {
  auto compiled = dlc::compileFile(kInputs + "/add_relu.onnxtxt");
  ASSERT_TRUE(compiled) << compiled.message();
  EXPECT_EQ(compiled->numKernels, 1u); // Add and Relu fused
  EXPECT_EQ(compiled->numLaunches, 1u);
  dlc::CompileOptions unfused;
  unfused.fusion = false;
  auto reference = dlc::compileFile(kInputs + "/add_relu.onnxtxt", unfused);
  ASSERT_TRUE(reference) << reference.message();
  EXPECT_EQ(reference->numKernels, 2u);
  auto model = dlc::Model::loadBytes(compiled->bytes.data(), compiled->bytes.size());
  ASSERT_TRUE(model) << model.message();
  EXPECT_EQ((*model)->target(), "cpu");
  EXPECT_EQ((*model)->outputs()[0].name, "y");
}

TEST(Api, EmitsIRStages) {
  dlc::CompileOptions options;
  options.emit = dlc::EmitKind::Dlc;
  auto dlcIR = dlc::compileFile(kInputs + "/add_relu.onnxtxt", options);
  ASSERT_TRUE(dlcIR) << dlcIR.message();
  std::string text(dlcIR->bytes.begin(), dlcIR->bytes.end());
  EXPECT_NE(text.find("dlc.kernel"), std::string::npos);
  options.emit = dlc::EmitKind::Linalg;
  auto linalgIR = dlc::compileFile(kInputs + "/add_relu.onnxtxt", options);
  ASSERT_TRUE(linalgIR) << linalgIR.message();
  text.assign(linalgIR->bytes.begin(), linalgIR->bytes.end());
  EXPECT_NE(text.find("linalg.generic"), std::string::npos);
  EXPECT_NE(text.find("scf.forall"), std::string::npos);
}

// A returned output of 16 MiB is written with non-temporal stores; a 1 MiB one, one
// the kernel reads back (a pool accumulates into its output tile), or any with
// cpuStreamStores off, with cached ones.
// Denormal floats (below 1.2e-38) read and computed as zero by default on x86
// (LoadOptions::flushDenormals), kept on request; the caller's float mode is left as
// it was.
TEST(Api, DenormalsFlushedUnlessKept) {
  auto compiled = dlc::compileFile(kInputs + "/add_relu.onnxtxt");
  ASSERT_TRUE(compiled) << compiled.message();
  for (bool keep : {false, true}) {
    dlc::LoadOptions options;
    if (keep)
      options.flushDenormals = false;
    auto model = dlc::Model::loadBytes(compiled->bytes.data(), compiled->bytes.size(), options);
    ASSERT_TRUE(model) << model.message();
#if defined(__x86_64__)
    unsigned before = __builtin_ia32_stmxcsr() & ~0x3fu; // the mode, not the flags
#endif
    auto out =
        (*model)->run({floats({1, 4}, {1e-39f, 2e-39f, 1.0f, -1e-39f}), floats({4}, {0, 0, 0, 0})});
    ASSERT_TRUE(out) << out.message();
    const float *y = (*out)[0].as<float>();
#if defined(__x86_64__)
    float tiny = keep ? 1e-39f : 0.0f;
#else
    float tiny = 1e-39f;
#endif
    EXPECT_EQ(std::vector<float>(y, y + 4), (std::vector<float>{tiny, 2 * tiny, 1.0f, 0.0f}))
        << (keep ? "kept" : "flushed");
#if defined(__x86_64__)
    EXPECT_EQ(__builtin_ia32_stmxcsr() & ~0x3fu, before) << "float mode changed";
#endif
  }
}

TEST(Api, LargeOutputsStreamPastTheCaches) {
  dlc::CompileOptions options;
  options.emit = dlc::EmitKind::Llvm;
  options.fusion = false;
  auto kernelOf = [&](const std::string &name) {
    auto ir = dlc::compileFile(kInputs + "/stream_outputs.onnxtxt", options);
    EXPECT_TRUE(ir) << ir.message();
    std::string text = ir ? std::string(ir->bytes.begin(), ir->bytes.end()) : "";
    size_t begin = text.find("define void @" + name + "(");
    EXPECT_NE(begin, std::string::npos) << name;
    return begin == std::string::npos ? "" : text.substr(begin, text.find("\n}\n", begin) - begin);
  };
  std::string relu = kernelOf("k0_relu"), sigmoid = kernelOf("k1_sigmoid");
  EXPECT_NE(relu.find("\"dlc-nontemporal\""), std::string::npos);
#if defined(__x86_64__)
  EXPECT_NE(relu.find("!nontemporal"), std::string::npos);
  EXPECT_NE(relu.find("call void @llvm.x86.sse.sfence()"), std::string::npos);
#endif
  EXPECT_EQ(sigmoid.find("!nontemporal"), std::string::npos);
  // A pool written row by row (dlc-vectorize-pool-rows) writes each output once and
  // streams; one whose window loop fills its output and folds into it (a stride of 5,
  // which that pass leaves) reads every line back, so its stores stay cached.
  std::string rows = kernelOf("k2_max_pool"), pool = kernelOf("k3_max_pool");
  EXPECT_NE(rows.find("\"dlc-nontemporal\""), std::string::npos);
#if defined(__x86_64__)
  EXPECT_NE(rows.find("!nontemporal"), std::string::npos);
#endif
  EXPECT_NE(pool.find("\"dlc-nontemporal\""), std::string::npos);
  EXPECT_EQ(pool.find("!nontemporal"), std::string::npos);
  options.cpuStreamStores = false;
  EXPECT_EQ(kernelOf("k0_relu").find("!nontemporal"), std::string::npos);
}

TEST(Api, CudaTargetEmitsPtxAndArtifact) {
  dlc::CompileOptions options;
  options.target = dlc::TargetKind::Cuda;
  options.emit = dlc::EmitKind::Ptx;
  auto ptx = dlc::compileFile(kInputs + "/add_relu.onnxtxt", options);
  ASSERT_TRUE(ptx) << ptx.message();
  std::string text(ptx->bytes.begin(), ptx->bytes.end());
  EXPECT_NE(text.find(".target sm_80"), std::string::npos);
  EXPECT_NE(text.find(".entry k0_add_relu"), std::string::npos);
  options.emit = dlc::EmitKind::Artifact;
  options.cudaArch = "sm_90";
  auto artifact = dlc::compileFile(kInputs + "/add_relu.onnxtxt", options);
  ASSERT_TRUE(artifact) << artifact.message();
  auto model = dlc::Model::loadBytes(artifact->bytes.data(), artifact->bytes.size());
  if (dlc::cudaAvailable())
    EXPECT_TRUE(model) << model.message();
  else
    EXPECT_EQ(model.message(), dlc::cudaAvailable().message());
  // Volta and Turing are targets; Pascal is not.
  options.emit = dlc::EmitKind::Ptx;
  options.cudaArch = "sm_75";
  auto turing = dlc::compileFile(kInputs + "/add_relu.onnxtxt", options);
  ASSERT_TRUE(turing) << turing.message();
  EXPECT_NE(std::string(turing->bytes.begin(), turing->bytes.end()).find(".target sm_75"),
            std::string::npos);
  options.cudaArch = "sm_60";
  auto bad = dlc::compileFile(kInputs + "/add_relu.onnxtxt", options);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find("unknown CUDA architecture 'sm_60'"), std::string::npos);
}

// Below fp32 a MatMul tile runs on tensor cores: mma.sync of the precision's type from
// sm_80, f16 only (m16n8k8) on sm_75, none on sm_70; the CPU target refuses it.
TEST(Api, PrecisionModesUseTensorCores) {
  dlc::CompileOptions options;
  options.target = dlc::TargetKind::Cuda;
  options.emit = dlc::EmitKind::Ptx;
  auto ptxFor = [&](dlc::Precision p, const std::string &arch) {
    options.precision = p;
    options.cudaArch = arch;
    auto ptx = dlc::compileFile(kInputs + "/matmul.onnxtxt", options);
    EXPECT_TRUE(ptx) << ptx.message();
    return ptx ? std::string(ptx->bytes.begin(), ptx->bytes.end()) : std::string();
  };
  EXPECT_EQ(ptxFor(dlc::Precision::Fp32, "sm_80").find("mma.sync"), std::string::npos);
  EXPECT_NE(ptxFor(dlc::Precision::Fp16, "sm_80")
                .find("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32"),
            std::string::npos);
  EXPECT_NE(ptxFor(dlc::Precision::Bf16, "sm_90")
                .find("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"),
            std::string::npos);
  EXPECT_NE(ptxFor(dlc::Precision::Tf32, "sm_86")
                .find("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32"),
            std::string::npos);
  EXPECT_NE(ptxFor(dlc::Precision::Fp16, "sm_75")
                .find("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32"),
            std::string::npos);
  EXPECT_EQ(ptxFor(dlc::Precision::Bf16, "sm_75").find("mma.sync"), std::string::npos);
  EXPECT_EQ(ptxFor(dlc::Precision::Fp16, "sm_70").find("mma.sync"), std::string::npos);
  // A model in f16 takes f16 tensor cores in fp32 too (exact products).
  options.precision = dlc::Precision::Fp32;
  options.cudaArch = "sm_80";
  auto half = dlc::compileFile(kInputs + "/matmul_f16.onnxtxt", options);
  ASSERT_TRUE(half) << half.message();
  EXPECT_NE(std::string(half->bytes.begin(), half->bytes.end())
                .find("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32"),
            std::string::npos);
  EXPECT_EQ(dlc::parsePrecision("bf16"), dlc::Precision::Bf16);
  EXPECT_FALSE(dlc::parsePrecision("fp8"));
  dlc::CompileOptions cpu;
  cpu.precision = dlc::Precision::Fp16;
  auto refused = dlc::compileFile(kInputs + "/matmul.onnxtxt", cpu);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.message().find("--precision fp16 is for the CUDA target"), std::string::npos);
}

TEST(Api, BadModelsAreErrorValues) {
  auto garbage = dlc::compileBytes("this is not a protobuf");
  ASSERT_FALSE(garbage);
  EXPECT_NE(garbage.message().find("cannot parse"), std::string::npos) << garbage.message();
  auto missing = dlc::compileFile(kInputs + "/no_such_model.onnx");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.message().find("cannot open"), std::string::npos) << missing.message();
  auto corrupt = dlc::Model::loadBytes("DLCART", 6);
  EXPECT_FALSE(corrupt);
}

TEST(Api, ShapeTensorInputIsSpecializedOnlyWhenGiven) {
  auto aot = dlc::compileFile(kInputs + "/reshape_shape_input.onnxtxt");
  ASSERT_FALSE(aot);
  EXPECT_NE(aot.message().find("compile-time constant"), std::string::npos) << aot.message();
  dlc::CompileOptions options;
  dlc::Tensor shape(dlc::DType::Int64, {2});
  shape.as<int64_t>()[0] = 3;
  shape.as<int64_t>()[1] = 4;
  options.shapeTensorInputs["shape"] = shape;
  auto model = dlc::jitFile(kInputs + "/reshape_shape_input.onnxtxt", options);
  ASSERT_TRUE(model) << model.message();
  std::vector<float> xs(12);
  for (int i = 0; i < 12; ++i)
    xs[i] = float(i);
  auto out = (*model)->run({floats({2, 6}, xs), shape});
  ASSERT_TRUE(out) << out.message();
  EXPECT_EQ((*out)[0].shape, (std::vector<int64_t>{3, 4}));
  EXPECT_FLOAT_EQ((*out)[0].as<float>()[11], 11.0f);
}

// The JIT compiles a variant per value of the inputs a node needs as compile-time
// values, and reuses it: [3, 4], [2, 6], [3, 4] again compile twice, with a different
// batch of x too (a symbolic dim is not a signature change).
TEST(Api, JitModelCachesVariantsPerSpecializedValue) {
  auto jit = dlc::JitModel::open(kInputs + "/reshape_shape_input.onnxtxt");
  ASSERT_TRUE(jit) << jit.message();
  auto shapeOf = [](int64_t a, int64_t b) {
    dlc::Tensor shape(dlc::DType::Int64, {2});
    shape.as<int64_t>()[0] = a;
    shape.as<int64_t>()[1] = b;
    return shape;
  };
  std::vector<float> xs(12);
  for (int i = 0; i < 12; ++i)
    xs[i] = float(i);
  auto run = [&](int64_t a, int64_t b) {
    auto out = (*jit)->run({floats({2, 6}, xs), shapeOf(a, b)});
    EXPECT_TRUE(out) << out.message();
    return out ? (*out)[0].shape : std::vector<int64_t>{};
  };
  EXPECT_EQ(run(3, 4), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ((*jit)->compiles(), 1u);
  EXPECT_EQ((*jit)->specializedInputs(), std::vector<std::string>{"shape"});
  EXPECT_EQ(run(2, 6), (std::vector<int64_t>{2, 6}));
  EXPECT_EQ((*jit)->compiles(), 2u);
  EXPECT_EQ(run(3, 4), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ((*jit)->compiles(), 2u);
  auto bad = (*jit)->run({floats({2, 6}, xs), shapeOf(5, 5)});
  EXPECT_FALSE(bad);
}

TEST(Api, ListsInputsAndOps) {
  auto inputs = dlc::modelInputs(kInputs + "/add_relu.onnxtxt");
  ASSERT_TRUE(inputs) << inputs.message();
  ASSERT_EQ(inputs->size(), 2u);
  EXPECT_EQ((*inputs)[1].name, "bias");
  auto ops = dlc::supportedOps();
  EXPECT_NE(std::find(ops.begin(), ops.end(), "Conv"), ops.end());
}

} // namespace
