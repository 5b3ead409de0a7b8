//===- RunUtilTest.cpp - Tests of the shared run-command pieces -----------===//

#include "RunUtil.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace dlc;
using namespace dlc::cli;

namespace {

/// A fresh folder in the test temp folder, unique to this process and test.
std::string tempDir(const std::string &name) {
  std::string dir =
      ::testing::TempDir() + "dlc_runutil_" + std::to_string(::getpid()) + "_" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

Tensor floatTensor(std::vector<int64_t> shape, float first) {
  Tensor t(DType::Float, std::move(shape));
  for (int64_t i = 0; i < t.numElements(); ++i)
    t.as<float>()[i] = first + i;
  return t;
}

const std::vector<TensorInfo> kInputs = {{"x", DType::Float, {2}, {""}},
                                         {"y", DType::Float, {-1}, {"N"}}};

class BindInputs : public ::testing::Test {
protected:
  void SetUp() override {
    dir = tempDir("bind");
    xPath = dir + "/x.npy";
    yPath = dir + "/y.npy";
    ASSERT_TRUE(writeNpy(xPath, floatTensor({2}, 1)));
    ASSERT_TRUE(writeNpy(yPath, floatTensor({3}, 10)));
  }
  std::string bindError(const std::vector<std::string> &positional,
                        const std::vector<NamedInput> &named) {
    std::vector<Tensor> out;
    return bindInputs(kInputs, positional, named, out).message();
  }
  std::string dir, xPath, yPath;
};

TEST(ParseNamedInput, SplitsAtFirstEquals) {
  EXPECT_EQ(parseNamedInput("x=a.npy").value(), NamedInput("x", "a.npy"));
  EXPECT_EQ(parseNamedInput("x=a=b.pb").value(), NamedInput("x", "a=b.pb"));
  for (const char *bad : {"x", "=a.npy", "x=", ""})
    EXPECT_EQ(parseNamedInput(bad).message(),
              std::string("--input expects NAME=PATH, got '") + bad + "'");
}

TEST_F(BindInputs, PositionalAndNamed) {
  std::vector<Tensor> out;
  ASSERT_TRUE(bindInputs(kInputs, {xPath}, {{"y", yPath}}, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].shape, std::vector<int64_t>{2});
  EXPECT_EQ(out[1].shape, std::vector<int64_t>{3});
  EXPECT_EQ(out[1].as<float>()[2], 12.0f);

  ASSERT_TRUE(bindInputs(kInputs, {}, {{"y", yPath}, {"x", xPath}}, out));
  EXPECT_EQ(out[0].as<float>()[1], 2.0f);
}

TEST_F(BindInputs, Errors) {
  EXPECT_EQ(bindError({xPath}, {}),
            "input 1 'y' is not bound (give its file in order, or --input y=PATH)");
  EXPECT_EQ(bindError({xPath, yPath, xPath}, {}),
            "expected 2 inputs, got 3 input files");
  EXPECT_EQ(bindError({xPath}, {{"z", yPath}}), "the model has no input named 'z'");
  EXPECT_EQ(bindError({xPath, yPath}, {{"x", xPath}}), "input 0 'x' is bound twice");
  std::string missing = dir + "/missing.npy";
  EXPECT_EQ(bindError({xPath, missing}, {}),
            "cannot open '" + missing + "': No such file or directory");
}

TEST(ReportOutputs, PrintsAndWrites) {
  std::vector<TensorInfo> infos = {{"y", DType::Float, {2, 3}, {"", ""}},
                                   {"count", DType::Int64, {}, {}}};
  std::vector<Tensor> values = {floatTensor({2, 3}, 0), Tensor(DType::Int64, {})};
  values[1].as<int64_t>()[0] = 7;
  std::string dir = tempDir("report") + "/nested/out";
  std::ostringstream os;
  ASSERT_TRUE(reportOutputs(infos, values, dir, os));
  EXPECT_EQ(os.str(), "output 0 y: shape [2, 3] float32\n"
                      "output 1 count: shape [] int64\n");
  Expected<Tensor> y = readTensorFile(dir + "/output_0.npy");
  ASSERT_TRUE(y) << y.message();
  EXPECT_EQ(y->data, values[0].data);
  Expected<Tensor> count = readTensorFile(dir + "/output_1.npy");
  ASSERT_TRUE(count) << count.message();
  EXPECT_EQ(count->as<int64_t>()[0], 7);

  // Without a folder nothing is written.
  std::ostringstream plain;
  ASSERT_TRUE(reportOutputs(infos, values, "", plain));
  EXPECT_EQ(plain.str(), os.str());
}

TEST(ReportOutputs, Errors) {
  std::string file = tempDir("report_errors") + "/file";
  std::ofstream(file) << "x";
  std::vector<TensorInfo> infos = {{"y", DType::Float, {1}, {""}}};
  std::vector<Tensor> values = {floatTensor({1}, 0)};
  std::ostringstream os;
  EXPECT_EQ(reportOutputs(infos, values, file, os)
                .message()
                .rfind("cannot create directory '" + file + "': ", 0),
            0u);
  EXPECT_EQ(reportOutputs(infos, {}, "", os).message(),
            "the model has 1 outputs, got 0 values");
  EXPECT_EQ(os.str(), "");
}

TEST(ReportTime, Milliseconds) {
  std::ostringstream os;
  reportTime(1.5, os);
  EXPECT_EQ(os.str(), "time: 1.500 ms\n");
}

} // namespace
