//===- ArtifactTest.cpp - Artifact serialization and verification tests ---===//

#include "dlc/artifact.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <tuple>

using namespace dlc;
using namespace dlc::artifact;

namespace {

/// A spec that sets every field, with one buffer of each kind.
ArtifactSpec makeSpec() {
  ArtifactSpec spec;
  spec.targetTriple = "x86_64-unknown-linux-gnu";
  spec.producer = "dlc test";
  spec.inputs = {{"x", DType::Float, {-1, 4}, {"N", ""}}};
  spec.outputs = {{"y", DType::Float, {-1, 4}, {"N", ""}}, {"flat", DType::Float, {-1}, {""}}};
  spec.inputBuffers = {0};
  spec.outputBuffers = {2, 3};
  spec.exprs = {{InputDim, 0, 0}, {InputDim, 0, 0, Const, 4, Mul}};
  spec.buffers = {
      {"x", BufferKind::Input, DType::Float, {-1, 4}, 0, 0, 0},
      {"w", BufferKind::Weight, DType::Float, {4}, -1, 64, 16},
      {"y", BufferKind::Intermediate, DType::Float, {-1, 4}, -1, 0, 0},
      {"flat", BufferKind::Alias, DType::Float, {-2}, 2, 0, 0},
  };
  spec.kernels = {{"add_0",
                   "add_0_kernel",
                   {"Add_0", "Relu_1"},
                   2,
                   {{"", DType::Float, {-1, 4}, {"", ""}},
                    {"", DType::Float, {4}, {""}},
                    {"", DType::Float, {-1, 4}, {"", ""}}}}};
  spec.launches = {{0, {0, 1, 2}, 2, -2, {128, 1, 1}, 256}};
  spec.weights.assign(128, 0);
  for (size_t i = 0; i < spec.weights.size(); ++i)
    spec.weights[i] = static_cast<uint8_t>(i * 7);
  spec.code = {0x7f, 'E', 'L', 'F', 1, 2, 3, 4, 5};
  return spec;
}

void expectSameInfos(const std::vector<TensorInfo> &a, const std::vector<TensorInfo> &b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(std::tie(a[i].name, a[i].dtype, a[i].shape, a[i].dimNames),
              std::tie(b[i].name, b[i].dtype, b[i].shape, b[i].dimNames));
}

void expectSameSpec(const ArtifactSpec &a, const ArtifactSpec &b) {
  EXPECT_EQ(a.target, b.target);
  EXPECT_EQ(a.targetTriple, b.targetTriple);
  EXPECT_EQ(a.producer, b.producer);
  expectSameInfos(a.inputs, b.inputs);
  expectSameInfos(a.outputs, b.outputs);
  EXPECT_EQ(a.inputBuffers, b.inputBuffers);
  EXPECT_EQ(a.outputBuffers, b.outputBuffers);
  ASSERT_EQ(a.buffers.size(), b.buffers.size());
  for (size_t i = 0; i < a.buffers.size(); ++i) {
    const Buffer &x = a.buffers[i], &y = b.buffers[i];
    EXPECT_EQ(std::tie(x.name, x.kind, x.dtype, x.dims, x.index, x.weightOffset, x.weightSize),
              std::tie(y.name, y.kind, y.dtype, y.dims, y.index, y.weightOffset, y.weightSize));
  }
  EXPECT_EQ(a.exprs, b.exprs);
  ASSERT_EQ(a.kernels.size(), b.kernels.size());
  for (size_t i = 0; i < a.kernels.size(); ++i)
    EXPECT_EQ(std::tie(a.kernels[i].name, a.kernels[i].symbol, a.kernels[i].nodes),
              std::tie(b.kernels[i].name, b.kernels[i].symbol, b.kernels[i].nodes));
  ASSERT_EQ(a.launches.size(), b.launches.size());
  for (size_t i = 0; i < a.launches.size(); ++i) {
    const Launch &x = a.launches[i], &y = b.launches[i];
    EXPECT_EQ(std::tie(x.kernel, x.bindings, x.numInputs, x.grid, x.block, x.sharedMemory),
              std::tie(y.kernel, y.bindings, y.numInputs, y.grid, y.block, y.sharedMemory));
  }
  EXPECT_EQ(a.weights, b.weights);
  EXPECT_EQ(a.code, b.code);
}

/// The error parse gives for `spec` ("" if it parses).
std::string parseError(const ArtifactSpec &spec) {
  std::vector<uint8_t> bytes = serialize(spec);
  return parse(bytes.data(), bytes.size()).message();
}

TEST(Artifact, RoundTrip) {
  ArtifactSpec spec = makeSpec();
  std::vector<uint8_t> bytes = serialize(spec);
  Expected<ArtifactSpec> parsed = parse(bytes.data(), bytes.size());
  ASSERT_TRUE(parsed) << parsed.message();
  expectSameSpec(spec, *parsed);
}

TEST(Artifact, RoundTripCudaAndEmpty) {
  ArtifactSpec spec;
  spec.target = Target::Cuda;
  std::vector<uint8_t> bytes = serialize(spec);
  Expected<ArtifactSpec> parsed = parse(bytes.data(), bytes.size());
  ASSERT_TRUE(parsed) << parsed.message();
  expectSameSpec(spec, *parsed);
}

/// A training step's signature survives the round trip; roles that disagree with
/// the signature of the model are refused.
TEST(Artifact, StepSignature) {
  ArtifactSpec spec = makeSpec();
  spec.inputs.push_back({"label", DType::Int64, {2}, {""}});
  spec.inputBuffers.push_back(4);
  spec.buffers.push_back({"label", BufferKind::Input, DType::Int64, {2}, 1, 0, 0});
  spec.outputs[1].name = "x";
  spec.step.inputs = {StepRole::Parameter, StepRole::Label};
  spec.step.outputs = {StepRole::Loss, StepRole::Parameter};
  std::vector<uint8_t> bytes = serialize(spec);
  Expected<ArtifactSpec> parsed = parse(bytes.data(), bytes.size());
  ASSERT_TRUE(parsed) << parsed.message();
  EXPECT_EQ(parsed->step.inputs, spec.step.inputs);
  EXPECT_EQ(parsed->step.outputs, spec.step.outputs);
  EXPECT_TRUE(makeSpec().step.empty());

  ArtifactSpec bad = spec;
  bad.step.inputs.pop_back();
  EXPECT_NE(parseError(bad).find("the training step has 1 input and 2 output roles"),
            std::string::npos);
  bad = spec;
  bad.step.inputs[1] = StepRole::Batch;
  EXPECT_NE(parseError(bad).find("0 label inputs"), std::string::npos);
  bad = spec;
  bad.step.outputs = {StepRole::Parameter, StepRole::Loss};
  EXPECT_NE(parseError(bad).find("first output, and only it, is the loss"), std::string::npos);
  bad = spec;
  bad.step.outputs[1] = StepRole::OptimizerState;
  EXPECT_NE(parseError(bad).find("updates no input of its name and role"), std::string::npos);
  bad = spec;
  bad.step.inputs[0] = static_cast<StepRole>(42);
  EXPECT_NE(parseError(bad).find("input 0 has no valid role"), std::string::npos);
  // Loss scaling: a LossScale input comes with a NonFinite output, and neither alone.
  bad = spec;
  bad.step.outputs[1] = StepRole::NonFinite;
  EXPECT_NE(parseError(bad).find("0 loss-scale inputs and 1 non-finite-gradient outputs"),
            std::string::npos);
  bad = spec;
  bad.step.inputs[0] = StepRole::NonFinite;
  EXPECT_NE(parseError(bad).find("input 0 has no valid role"), std::string::npos);
  ArtifactSpec scaled = spec;
  scaled.step.inputs[0] = StepRole::LossScale;
  scaled.step.outputs[1] = StepRole::NonFinite;
  bytes = serialize(scaled);
  parsed = parse(bytes.data(), bytes.size());
  ASSERT_TRUE(parsed) << parsed.message();
  EXPECT_EQ(parsed->step.inputs, scaled.step.inputs);
}

TEST(Artifact, FileLayout) {
  ArtifactSpec spec = makeSpec();
  std::vector<uint8_t> bytes = serialize(spec);
  ASSERT_GT(bytes.size(), 24u);
  EXPECT_EQ(std::memcmp(bytes.data(), "DLCART\0\1", 8), 0);
  uint32_t version, tableSize;
  std::memcpy(&version, bytes.data() + 8, 4);
  std::memcpy(&tableSize, bytes.data() + 12, 4);
  EXPECT_EQ(version, kFormatVersion);
  EXPECT_EQ(std::memcmp(bytes.data() + 28, "DLCM", 4), 0);
  // The checksum at offset 16 covers the rest: any change is caught.
  std::vector<uint8_t> changed = bytes;
  changed.back() ^= 1;
  EXPECT_EQ(parse(changed.data(), changed.size()).message(),
            "the artifact is corrupt (its checksum does not match its contents)");
  // Code last, weights right before it, both at 64-aligned offsets past the table.
  size_t codeOffset = bytes.size() - spec.code.size();
  size_t weightsOffset = codeOffset - spec.weights.size();
  EXPECT_EQ(codeOffset % 64, 0u);
  EXPECT_EQ(weightsOffset % 64, 0u);
  EXPECT_GE(weightsOffset, 24 + tableSize);
  EXPECT_EQ(std::memcmp(bytes.data() + weightsOffset, spec.weights.data(), spec.weights.size()), 0);
}

TEST(Artifact, PadsMissingDimNames) {
  ArtifactSpec spec = makeSpec();
  spec.inputs[0].dimNames.clear();
  std::vector<uint8_t> bytes = serialize(spec);
  Expected<ArtifactSpec> parsed = parse(bytes.data(), bytes.size());
  ASSERT_TRUE(parsed) << parsed.message();
  EXPECT_EQ(parsed->inputs[0].dimNames, (std::vector<std::string>{"", ""}));
}

TEST(Artifact, RejectsEmpty) {
  EXPECT_EQ(parse(nullptr, 0).message(), "the artifact file is empty");
  uint8_t one = 0;
  EXPECT_EQ(parse(&one, 1).message(), "artifact is truncated (1 bytes, need at least 24)");
}

TEST(Artifact, RejectsEveryTruncation) {
  std::vector<uint8_t> bytes = serialize(makeSpec());
  for (size_t len = 0; len < bytes.size(); ++len) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + len);
    EXPECT_FALSE(parse(prefix.data(), prefix.size())) << "prefix of " << len << " bytes";
  }
  // A truncation that kept a valid checksum still misses the code section's end.
  std::vector<uint8_t> noLastByte(bytes.begin(), bytes.end() - 1);
  sealChecksum(noLastByte);
  EXPECT_NE(parse(noLastByte.data(), noLastByte.size()).message().find("code section"),
            std::string::npos);
}

TEST(Artifact, SurvivesRandomBytes) {
  std::mt19937 rng(42);
  std::vector<uint8_t> valid = serialize(makeSpec());
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<uint8_t> bytes(rng() % 600);
    for (uint8_t &b : bytes)
      b = static_cast<uint8_t>(rng());
    // Half the trials keep a valid header, so the bytes reach the FlatBuffer verifier.
    if (trial % 2 && bytes.size() >= 24) {
      std::memcpy(bytes.data(), valid.data(), 24);
      sealChecksum(bytes);
    }
    EXPECT_FALSE(parse(bytes.data(), bytes.size()));
  }
}

TEST(Artifact, SurvivesEveryByteFlip) {
  std::vector<uint8_t> valid = serialize(makeSpec());
  for (size_t i = 0; i < valid.size(); ++i) {
    for (uint8_t flip : {0x01, 0x80, 0xff}) {
      std::vector<uint8_t> bytes = valid;
      bytes[i] ^= flip;
      EXPECT_FALSE(parse(bytes.data(), bytes.size())) << "flip at byte " << i;
      // Past the checksum (a corruption that kept a valid checksum): either outcome is
      // fine, but whatever parses is valid: it serializes and parses again.
      sealChecksum(bytes);
      Expected<ArtifactSpec> parsed = parse(bytes.data(), bytes.size());
      if (parsed) {
        EXPECT_EQ(parseError(*parsed), "") << "flip " << int(flip) << " at byte " << i;
      }
    }
  }
}

TEST(Artifact, RejectsBadMagic) {
  std::vector<uint8_t> bytes = serialize(makeSpec());
  bytes[3] = 'X';
  EXPECT_EQ(parse(bytes.data(), bytes.size()).message(), "not a dlc artifact (bad magic)");
}

TEST(Artifact, RejectsBadVersion) {
  std::vector<uint8_t> bytes = serialize(makeSpec());
  bytes[8] = 7;
  EXPECT_EQ(parse(bytes.data(), bytes.size()).message(),
            "artifact format version 7 is not supported (this runtime reads version 5)");
}

TEST(Artifact, RejectsOversizedTable) {
  std::vector<uint8_t> bytes = serialize(makeSpec());
  bytes[15] = 0x7f;
  EXPECT_NE(parse(bytes.data(), bytes.size()).message().find("model table"), std::string::npos);
}

TEST(Artifact, RejectsCorruptTable) {
  std::vector<uint8_t> bytes = serialize(makeSpec());
  std::memcpy(bytes.data() + 28, "XXXX", 4); // the FlatBuffer file identifier
  EXPECT_EQ(parse(bytes.data(), bytes.size()).message(),
            "the artifact is corrupt (its checksum does not match its contents)");
  sealChecksum(bytes);
  EXPECT_EQ(parse(bytes.data(), bytes.size()).message(), "artifact: the model table is corrupt");
}

TEST(Artifact, RejectsBadBinding) {
  ArtifactSpec spec = makeSpec();
  spec.launches[0].bindings[1] = 99;
  EXPECT_EQ(parseError(spec), "artifact: launch 0 binds buffer 99 of 4");
  spec.launches[0].bindings[1] = -1;
  EXPECT_EQ(parseError(spec), "artifact: launch 0 binds buffer -1 of 4");
}

TEST(Artifact, RejectsBadLaunch) {
  ArtifactSpec spec = makeSpec();
  spec.launches[0].kernel = 1;
  EXPECT_EQ(parseError(spec), "artifact: launch 0 runs kernel 1 of 1");
  spec = makeSpec();
  spec.launches[0].numInputs = 4;
  EXPECT_EQ(parseError(spec), "artifact: launch 0 has 4 inputs among 3 bindings");
  spec = makeSpec();
  spec.launches[0].numInputs = 1; // now it writes the weight
  spec.kernels[0].numInputs = 1;
  EXPECT_EQ(parseError(spec),
            "artifact: launch 0 writes buffer 1 'w', which is not an intermediate");
  spec = makeSpec();
  spec.launches[0].grid = 0;
  EXPECT_EQ(parseError(spec), "artifact: launch 0 grid is 0");
  spec.launches[0].grid = -3;
  EXPECT_EQ(parseError(spec), "artifact: launch 0 grid refers to expression 2 of 2");
  // Shared memory: never negative, never more than any card has for a block.
  spec = makeSpec();
  spec.launches[0].sharedMemory = -1;
  EXPECT_EQ(parseError(spec),
            "artifact: launch 0 asks for -1 bytes of dynamic and 0 of static shared memory");
  spec.launches[0].sharedMemory = 200 * 1024;
  spec.launches[0].staticSharedMemory = 48 * 1024;
  EXPECT_EQ(parseError(spec), "artifact: launch 0 asks for 204800 bytes of dynamic and 49152 "
                              "of static shared memory");
  spec.launches[0].sharedMemory = 56832;
  EXPECT_EQ(parseError(spec), "");
}

/// A launch's dim checks survive the round trip; a check without its node, or naming
/// an expression the artifact lacks, is refused.
TEST(Artifact, DimChecks) {
  ArtifactSpec spec = makeSpec();
  spec.launches[0].dimChecks = {-1, 4};
  spec.launches[0].dimCheckNodes = {"Add_0 (Add)"};
  std::vector<uint8_t> bytes = serialize(spec);
  Expected<ArtifactSpec> parsed = parse(bytes.data(), bytes.size());
  ASSERT_TRUE(parsed) << parsed.message();
  EXPECT_EQ(parsed->launches[0].dimChecks, spec.launches[0].dimChecks);
  EXPECT_EQ(parsed->launches[0].dimCheckNodes, spec.launches[0].dimCheckNodes);
  spec.launches[0].dimCheckNodes.clear();
  EXPECT_EQ(parseError(spec), "artifact: launch 0 has 2 checked dims for 0 nodes");
  spec.launches[0].dimCheckNodes = {"Add_0 (Add)"};
  spec.launches[0].dimChecks = {-1, -3};
  EXPECT_EQ(parseError(spec), "artifact: launch 0 checked dim 1 refers to expression 2 of 2");
}

/// makeSpec() with a host launch first: NonZero of x writes `idx` [2, data0], which the
/// kernel's launch does not read.
ArtifactSpec hostSpec() {
  ArtifactSpec spec = makeSpec();
  spec.numDataDims = 1;
  spec.exprs.push_back({InputDim, 1, 0});
  spec.buffers.push_back({"idx", BufferKind::Intermediate, DType::Int64, {2, -3}, -1, 0, 0});
  Launch host;
  host.kernel = -1;
  host.hostOp = "NonZero";
  host.bindings = {0, 4};
  host.numInputs = 1;
  host.dataDims = {0};
  spec.launches.insert(spec.launches.begin(), host);
  spec.outputs.push_back({"idx", DType::Int64, {2, -1}, {"", ""}});
  spec.outputBuffers.push_back(4);
  return spec;
}

TEST(Artifact, HostLaunches) {
  ArtifactSpec spec = hostSpec();
  std::vector<uint8_t> bytes = serialize(spec);
  Expected<ArtifactSpec> back = parse(bytes.data(), bytes.size());
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(back->numDataDims, 1);
  EXPECT_EQ(back->launches[0].hostOp, "NonZero");
  EXPECT_EQ(back->launches[0].dataDims, (std::vector<int32_t>{0}));
  EXPECT_EQ(back->launches[0].kernel, -1);

  spec = hostSpec();
  spec.launches[0].hostOp = "Sort";
  EXPECT_EQ(parseError(spec), "artifact: launch 0 (host op 'Sort'): unknown host op");
  spec = hostSpec();
  spec.launches[0].kernel = 0;
  EXPECT_EQ(parseError(spec), "artifact: launch 0 (host op 'NonZero') names kernel 0");
  spec = hostSpec();
  spec.launches[0].dataDims = {1};
  EXPECT_EQ(parseError(spec), "artifact: launch 0 (host op 'NonZero') decides data dim 1 of 1");
  spec = hostSpec();
  spec.launches[0].bindings = {0, 1};
  EXPECT_EQ(parseError(spec), "artifact: launch 0 (host op 'NonZero') writes buffer 1 'w', "
                              "which is not an intermediate");
  // A runtime loop: its body must be one of the nested artifacts, its parameters must
  // name outputs for the data dims.
  spec = hostSpec();
  spec.launches[0].hostOp = "Loop";
  spec.launches[0].hostInts = {0, 0, 1, 0, 1};
  spec.launches[0].bindings = {0, 0, 4};
  spec.launches[0].numInputs = 2;
  EXPECT_EQ(parseError(spec), "artifact: launch 0 (host op 'Loop') runs body 0 of 0");
  spec.subModels.push_back({1, 2, 3});
  bytes = serialize(spec);
  back = parse(bytes.data(), bytes.size());
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(back->subModels, spec.subModels);
  spec.launches[0].hostInts = {0, 0, 1, 1, 1};
  EXPECT_EQ(parseError(spec), "artifact: launch 0 (host op 'Loop'): decides a data dim from "
                              "output 1 dim 1");
  spec.launches[0].hostInts = {0, 0, 1};
  EXPECT_EQ(parseError(spec), "artifact: launch 0 (host op 'Loop'): has 3 parameters, 1 data "
                              "dims, 2 inputs and 1 outputs");
  spec = hostSpec();
  spec.numDataDims = 0;
  spec.launches[0].dataDims = {};
  EXPECT_EQ(parseError(spec), "artifact: expression 2 refers to input 1 of 1");
}

// Tables the FlatBuffers verifier accepts but that disagree with each other or with
// the kernels the code was compiled for (found by fuzzing the loader).
TEST(Artifact, RejectsLaunchesThatDisagreeWithTheirKernel) {
  ArtifactSpec spec = makeSpec();
  spec.launches[0].bindings.pop_back(); // shortened
  spec.launches[0].numInputs = 2;
  EXPECT_EQ(parseError(spec),
            "artifact: launch 0 binds 2 buffers (2 inputs); kernel 'add_0' takes 3 (2 inputs)");
  spec = makeSpec();
  spec.buffers[1].dims = {2}; // a weight's dims shrunk
  spec.buffers[1].weightSize = 8;
  EXPECT_EQ(parseError(spec), "artifact: launch 0 binding 1 (buffer 1 'w') has dim 0 = 2, not "
                              "the 4 of kernel 'add_0'");
  spec = makeSpec();
  spec.launches[0].bindings[0] = 1; // retargeted to a buffer of another rank
  EXPECT_EQ(parseError(spec), "artifact: launch 0 binding 0 (buffer 1 'w') is not of the dtype "
                              "and rank of kernel 'add_0'");
  spec = makeSpec();
  spec.kernels[0].signature[2].shape = {-1, 5};
  EXPECT_EQ(parseError(spec), "artifact: launch 0 binding 2 (buffer 2 'y') has dim 1 = 4, not "
                              "the 5 of kernel 'add_0'");
}

TEST(Artifact, RejectsUnwrittenReadsAndOutputs) {
  ArtifactSpec spec = makeSpec();
  spec.launches.clear();
  EXPECT_EQ(parseError(spec), "artifact: output 0 is buffer 2 'y', which no launch writes");
  spec = makeSpec();
  // A second launch of the kernel, before the first, reading what it writes.
  spec.kernels[0].signature[0] = spec.kernels[0].signature[2];
  spec.launches[0].bindings = {2, 1, 2};
  spec.buffers.push_back({"x2", BufferKind::Intermediate, DType::Float, {-1, 4}, -1, 0, 0});
  spec.launches.insert(spec.launches.begin(), spec.launches[0]);
  spec.launches[0].bindings = {4, 1, 2};
  EXPECT_EQ(parseError(spec), "artifact: launch 0 reads buffer 4 'x2' before any launch writes it");
}

TEST(Artifact, RejectsOutputDimsThatDisagreeWithTheirBuffer) {
  ArtifactSpec spec = makeSpec();
  spec.outputs[0].shape = {-1, 8}; // grown
  EXPECT_EQ(parseError(spec), "artifact: output 0 dim 1 is 8, its buffer's 4");
  spec = makeSpec();
  spec.outputs[0].shape = {3, 4}; // a dynamic dim made static
  EXPECT_EQ(parseError(spec), "artifact: output 0 dim 0 is 3, its buffer's -1");
}

TEST(Artifact, RejectsBadExprReference) {
  ArtifactSpec spec = makeSpec();
  spec.buffers[2].dims[0] = -10;
  EXPECT_EQ(parseError(spec), "artifact: buffer 2 'y' dim 0 refers to expression 9 of 2");
}

TEST(Artifact, RejectsMalformedExprs) {
  ArtifactSpec spec = makeSpec();
  auto errorFor = [&](std::vector<int64_t> code) {
    spec.exprs[1] = std::move(code);
    return parseError(spec);
  };
  EXPECT_EQ(errorFor({Const, 2, Add}), "artifact: expression 1 underflows the stack at word 2");
  EXPECT_EQ(errorFor({Const, 2, Const, 3}),
            "artifact: expression 1 leaves 2 values on the stack, not 1");
  EXPECT_EQ(errorFor({}), "artifact: expression 1 leaves 0 values on the stack, not 1");
  EXPECT_EQ(errorFor({42}), "artifact: expression 1 has unknown opcode 42 at word 0");
  EXPECT_EQ(errorFor({InputDim, 0}),
            "artifact: expression 1 lacks the operands of opcode 1 at word 0");
  EXPECT_EQ(errorFor({InputDim, 1, 0}), "artifact: expression 1 refers to input 1 of 1");
  EXPECT_EQ(errorFor({InputDim, 0, 2}),
            "artifact: expression 1 refers to dim 2 of input 0 (rank 2)");
}

TEST(Artifact, RejectsBadBuffers) {
  ArtifactSpec spec = makeSpec();
  spec.buffers[1].weightOffset = 128;
  EXPECT_EQ(parseError(spec), "artifact: buffer 1 'w' weight of 16 bytes at offset 128 "
                              "lies outside the weights section (128 bytes)");
  spec.buffers[1].weightOffset = 8;
  EXPECT_EQ(parseError(spec), "artifact: buffer 1 'w' weight offset 8 is not 64-byte aligned");
  spec = makeSpec();
  spec.buffers[1].weightSize = 12;
  EXPECT_EQ(parseError(spec), "artifact: buffer 1 'w' weight has 12 bytes, its shape needs 16");
  spec = makeSpec();
  spec.buffers[1].dims = {-1};
  EXPECT_EQ(parseError(spec), "artifact: buffer 1 'w' is a weight with a dynamic shape");
  spec = makeSpec();
  spec.buffers[2].dtype = DType::String;
  EXPECT_EQ(parseError(spec), "artifact: buffer 2 'y' has unsupported dtype 8");
  spec = makeSpec();
  spec.buffers[2].dims = {INT64_MAX / 2, 4};
  EXPECT_EQ(parseError(spec), "artifact: buffer 2 'y' is too large");
  spec = makeSpec();
  spec.buffers[0].index = 3;
  EXPECT_EQ(parseError(spec), "artifact: buffer 0 'x' is input 3 of 1");
  spec = makeSpec();
  spec.buffers[3].index = 3;
  EXPECT_EQ(parseError(spec), "artifact: buffer 3 'flat' has a broken or cyclic alias chain");
  spec.buffers[3].index = 4;
  EXPECT_EQ(parseError(spec), "artifact: buffer 3 'flat' aliases buffer 4 of 4");
}

TEST(Artifact, RejectsBadSignature) {
  ArtifactSpec spec = makeSpec();
  spec.inputBuffers = {2};
  EXPECT_EQ(parseError(spec),
            "artifact: input 0 is held by buffer 2, which is not that input's buffer");
  spec = makeSpec();
  spec.outputBuffers = {2};
  EXPECT_EQ(parseError(spec), "artifact: 2 outputs but 1 output buffers");
  spec = makeSpec();
  spec.outputBuffers = {2, 7};
  EXPECT_EQ(parseError(spec), "artifact: output 1 is buffer 7 of 4");
  spec = makeSpec();
  spec.outputs[0].dtype = DType::Int64;
  EXPECT_EQ(parseError(spec), "artifact: output 0 does not match the type of buffer 2");
  spec = makeSpec();
  spec.inputs[0].shape[1] = -5;
  EXPECT_EQ(parseError(spec), "artifact: input 0 has dim -5");
  spec = makeSpec();
  spec.inputs[0].dtype = DType::Undefined;
  EXPECT_EQ(parseError(spec), "artifact: input 0 has unsupported dtype 0");
}

} // namespace

namespace {

float halfValue(uint16_t h) {
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v =
      exp == 0 ? std::ldexp(float(mant), -24) : std::ldexp(float(mant | 0x400), int(exp) - 25);
  return h & 0x8000 ? -v : v;
}

/// makeSpec() with a float16 weight of 80000 bytes (every element 0.5: 0x3800) after
/// its small float one.
ArtifactSpec specWithLargeWeight() {
  ArtifactSpec spec = makeSpec();
  spec.buffers.push_back({"big", BufferKind::Weight, DType::Float16, {40000}, -1, 128, 80000});
  spec.weights.resize(128 + 80000);
  for (size_t i = 0; i < 40000; ++i) {
    spec.weights[128 + 2 * i] = 0x00;
    spec.weights[128 + 2 * i + 1] = 0x38;
  }
  return spec;
}

} // namespace

/// --synthetic-weights: large weights travel as zeros and come back from parse() as
/// seeded noise of their root mean square; small ones keep their bytes.
TEST(Artifact, SyntheticWeights) {
  ArtifactSpec spec = specWithLargeWeight();
  std::vector<uint8_t> small(spec.weights.begin() + 64, spec.weights.begin() + 80);
  makeSynthetic(spec);
  ASSERT_EQ(spec.synthetic.size(), 1u);
  EXPECT_EQ(spec.synthetic[0].offset, 128u);
  EXPECT_EQ(spec.synthetic[0].size, 80000u);
  EXPECT_NEAR(spec.synthetic[0].scale, 0.5f * std::sqrt(3.0f), 1e-5f);
  EXPECT_TRUE(std::all_of(spec.weights.begin() + 128, spec.weights.end(),
                          [](uint8_t b) { return b == 0; }));
  std::vector<uint8_t> bytes = serialize(spec);
  Expected<ArtifactSpec> parsed = parse(bytes.data(), bytes.size());
  ASSERT_TRUE(parsed) << parsed.message();
  EXPECT_EQ(std::vector<uint8_t>(parsed->weights.begin() + 64, parsed->weights.begin() + 80),
            small);
  double sum = 0, sumSq = 0;
  float lo = 1, hi = -1;
  for (size_t i = 0; i < 40000; ++i) {
    float v = halfValue(uint16_t(parsed->weights[128 + 2 * i] | parsed->weights[129 + 2 * i] << 8));
    sum += v;
    sumSq += double(v) * v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_NEAR(sum / 40000, 0.0, 0.02);
  EXPECT_NEAR(std::sqrt(sumSq / 40000), 0.5, 0.01);
  EXPECT_GE(lo, -0.8665f); // the scale rounded to float16
  EXPECT_LE(hi, 0.8665f);
  EXPECT_LT(lo, -0.85f);
  EXPECT_GT(hi, 0.85f);
  // The same noise on every load.
  Expected<ArtifactSpec> again = parse(bytes.data(), bytes.size());
  ASSERT_TRUE(again) << again.message();
  EXPECT_EQ(again->weights, parsed->weights);
}

TEST(Artifact, RejectsBadSyntheticWeights) {
  ArtifactSpec spec = specWithLargeWeight();
  makeSynthetic(spec);
  ArtifactSpec bad = spec;
  bad.synthetic[0].offset = 192;
  EXPECT_EQ(parseError(bad), "artifact: synthetic weights 0 (80000 bytes at 192) lie outside the "
                             "weights section (80128 bytes) or split an element");
  bad = spec;
  bad.synthetic[0].size = 79999;
  EXPECT_EQ(parseError(bad), "artifact: synthetic weights 0 (79999 bytes at 128) lie outside the "
                             "weights section (80128 bytes) or split an element");
  bad = spec;
  bad.synthetic[0].dtype = DType::Int64;
  EXPECT_EQ(parseError(bad), "artifact: synthetic weights 0 have dtype 7 (float, float16, "
                             "bfloat16 or int8 expected)");
  bad = spec;
  bad.synthetic[0].scale = std::nanf("");
  EXPECT_EQ(parseError(bad), "artifact: synthetic weights 0 have scale nan");
}
