//===- CudaRuntimeTest.cpp - CUDA executor pieces testable without a GPU ----===//
//
// The driver is dlopen'ed at run time, so on a machine without one a CUDA artifact must
// be refused with one line. The stub libcuda of the CUDA toolkit (every call fails)
// exercises the path where the driver loads but cannot work. Kernel arguments are memref
// descriptors, checked here word by word. Running kernels needs a GPU: test/gpu/.
//
//===----------------------------------------------------------------------===//
#include "ShapePlan.h"
#include "TestArtifacts.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

using namespace dlc;
using namespace dlc::test;
using artifact::ArtifactSpec;

namespace {

std::string slurp(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

ArtifactSpec cudaSpec() {
  ArtifactSpec spec = addScaleSpec();
  spec.target = artifact::Target::Cuda;
  spec.targetTriple = "sm_80";
  std::string ptx = ".version 7.0\n.target sm_80\n.address_size 64\n";
  spec.code.assign(ptx.begin(), ptx.end());
  spec.code.push_back(0);
  for (artifact::Launch &l : spec.launches)
    l.block = {256, 1, 1};
  return spec;
}

class CudaRuntime : public ::testing::Test {
protected:
  void SetUp() override {
    dir = ::testing::TempDir() + "dlc_cuda_" + std::to_string(::getpid()) + "_" +
          ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::vector<uint8_t> bytes = artifact::serialize(cudaSpec());
    std::ofstream(dir + "/model.dlc", std::ios::binary)
        .write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
    ASSERT_TRUE(writeNpy(dir + "/x.npy", floats({4}, 1, 1)));
    ASSERT_TRUE(writeNpy(dir + "/y.npy", floats({4}, 10, 0)));
  }

  /// Runs dlc-run on the CUDA artifact with `env` prefixed; returns the exit code.
  int run(const std::string &env) {
    std::string cmd = "cd '" + dir + "' && " + env + " '" DLC_RUN_PATH
                      "' model.dlc x.npy y.npy >stdout.txt 2>stderr.txt";
    int status = std::system(cmd.c_str());
    out = slurp(dir + "/stdout.txt");
    err = slurp(dir + "/stderr.txt");
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string dir, out, err;
};

TEST_F(CudaRuntime, MissingDriverIsOneLineError) {
  EXPECT_EQ(run("DLC_CUDA_DRIVER=/nonexistent/libcuda.so.1"), 1);
  EXPECT_EQ(out, "");
  EXPECT_EQ(err, "dlc-run: error: model.dlc: no CUDA driver (/nonexistent/libcuda.so.1) "
                 "found\n");
}

TEST_F(CudaRuntime, NoGpuIsOneLineError) {
  if (cudaAvailable())
    GTEST_SKIP() << "a CUDA device is present; test/gpu/ runs the GPU checks";
  EXPECT_EQ(run("env -u DLC_CUDA_DRIVER"), 1);
  EXPECT_EQ(err, "dlc-run: error: model.dlc: " + cudaAvailable().message() + "\n");
  EXPECT_TRUE(err.find("no CUDA driver (libcuda.so.1) found") != std::string::npos ||
              err.find("no CUDA device") != std::string::npos)
      << err;
}

TEST_F(CudaRuntime, FailingDriverCallsAreNamed) {
#ifndef DLC_CUDA_STUB_PATH
  GTEST_SKIP() << "no stub libcuda.so in the CUDA toolkit";
#else
  EXPECT_EQ(run("DLC_CUDA_DRIVER='" DLC_CUDA_STUB_PATH "'"), 1);
  // The stub fails every call: cuInit is the first, named with its error.
  EXPECT_EQ(err.rfind("dlc-run: error: model.dlc: cuInit failed: CUDA_ERROR_STUB_LIBRARY", 0),
            0u)
      << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
#endif
}

TEST(CudaArtifact, RoundTripsLaunchGeometryAndPtx) {
  ArtifactSpec spec = cudaSpec();
  spec.launches[0].grid = 7;
  spec.launches[0].sharedMemory = 1024;
  std::vector<uint8_t> bytes = artifact::serialize(spec);
  Expected<ArtifactSpec> back = artifact::parse(bytes.data(), bytes.size());
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(back->target, artifact::Target::Cuda);
  EXPECT_EQ(back->targetTriple, "sm_80");
  EXPECT_EQ(back->code, spec.code);
  EXPECT_EQ(back->launches[0].block, (std::vector<int32_t>{256, 1, 1}));
  EXPECT_EQ(back->launches[0].grid, 7);
  EXPECT_EQ(back->launches[0].sharedMemory, 1024);
}

TEST(CudaArtifact, KernelArgumentsAreMemrefDescriptors) {
  // Buffers: a [2, 3] at 0x1000 and a scalar at 0x2000.
  ShapePlan plan;
  plan.dims = {{2, 3}, {}};
  artifact::Launch launch;
  launch.bindings = {0, 1};
  launch.numInputs = 1;
  std::vector<size_t> starts;
  std::vector<int64_t> words = packDescriptors(launch, plan, {0x1000, 0x2000}, starts);
  // allocated, aligned, offset, sizes, strides; then allocated, aligned, offset.
  EXPECT_EQ(words, (std::vector<int64_t>{0x1000, 0x1000, 0, 2, 3, 3, 1, 0x2000, 0x2000, 0}));
  EXPECT_EQ(starts, (std::vector<size_t>{0, 7}));
}

} // namespace
