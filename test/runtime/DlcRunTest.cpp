//===- DlcRunTest.cpp - The dlc-run command line, end to end --------------===//

#include "TestArtifacts.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <sys/wait.h>
#include <unistd.h>

using namespace dlc;
using namespace dlc::test;

namespace {

struct Result {
  int exitCode;
  std::string out, err;
};

std::string slurp(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

class DlcRun : public ::testing::Test {
protected:
  void SetUp() override {
    dir = ::testing::TempDir() + "dlc_run_" + std::to_string(::getpid()) + "_" +
          ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    artifact = dir + "/model.dlc";
    std::vector<uint8_t> bytes = artifact::serialize(addScaleSpec());
    std::ofstream(artifact, std::ios::binary)
        .write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
    ASSERT_TRUE(writeNpy(dir + "/x.npy", floats({4}, 1, 1)));
    ASSERT_TRUE(writeNpy(dir + "/y.npy", floats({4}, 10, 0)));
  }

  /// Runs dlc-run with `args` (shell words) in the test folder.
  Result run(const std::string &args) {
    std::string cmd =
        "cd '" + dir + "' && '" DLC_RUN_PATH "' " + args + " >stdout.txt 2>stderr.txt";
    int status = std::system(cmd.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir + "/stdout.txt"),
            slurp(dir + "/stderr.txt")};
  }

  std::string dir, artifact;
};

TEST_F(DlcRun, RunsAndWritesOutputs) {
  Result r = run("model.dlc x.npy --input y=y.npy --output-dir out");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(std::regex_match(r.out, std::regex("output 0 z: shape \\[1, 4\\] float32\n"
                                                 "output 1 t: shape \\[4\\] float32\n"
                                                 "time: [0-9]+\\.[0-9]{3} ms\n"
                                                 "memory: [0-9]+ bytes of intermediates "
                                                 "planned \\([0-9]+ without reuse\\)\n")))
      << r.out;
  Expected<Tensor> z = readTensorFile(dir + "/out/output_0.npy");
  ASSERT_TRUE(z) << z.message();
  EXPECT_EQ(z->shape, (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(z->as<float>()[3], (4 + 10) * kScale);
  EXPECT_TRUE(readTensorFile(dir + "/out/output_1.npy"));
}

TEST_F(DlcRun, ErrorsAreOneLine) {
  auto expectError = [&](const std::string &args, const std::string &message) {
    Result r = run(args);
    EXPECT_EQ(r.exitCode, 1) << args;
    EXPECT_EQ(r.err, "dlc-run: error: " + message + "\n") << args;
    EXPECT_EQ(r.out, "") << args;
  };
  expectError("model.dlc x.npy",
              "input 1 'y' is not bound (give its file in order, or --input y=PATH)");
  expectError("model.dlc x.npy y.npy x.npy",
              "expected 2 inputs, got 3 input files");
  expectError("", "no artifact given (see --help)");
  expectError("missing.dlc", "cannot open 'missing.dlc': No such file or directory");
  expectError("x.npy", "x.npy: not a dlc artifact (bad magic)");
  expectError("model.dlc --verbose", "unknown option '--verbose' (see --help)");
  expectError("model.dlc x.npy --input", "--input needs a value");
  expectError("model.dlc x.npy y.npy --paired-ceiling", "--paired-ceiling needs --profile");
  expectError("model.dlc x.npy --input y", "--input expects NAME=PATH, got 'y'");
  expectError("model.dlc x.npy model.dlc", "model.dlc: unknown tensor file type "
                                           "(expected .npy or .pb)");
}

// --paired-ceiling times a copy of the largest launch's bytes (at least 1 MiB) after
// every warm run and pairs each run's kernels with it.
TEST_F(DlcRun, ProfilesAgainstPairedCopies) {
  Result r = run("model.dlc x.npy y.npy --repeat 3 --profile --paired-ceiling");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("profile: median of 10 warm runs; copy ceiling "), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(" GB/s (1 MiB copied, read + write; median of a copy after each run, % "
                       "paired per run)\n"),
            std::string::npos)
      << r.out;
  r = run("model.dlc x.npy y.npy --profile");
  EXPECT_NE(r.out.find(" GB/s (256 MiB copied, read + write)\n"), std::string::npos) << r.out;
}

TEST_F(DlcRun, Help) {
  Result r = run("--help");
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_EQ(r.out.rfind("usage: dlc-run ART.dlc [INPUT...] [--input NAME=PATH]... "
                        "[--output-dir DIR]\n",
                        0),
            0u);
}

} // namespace
