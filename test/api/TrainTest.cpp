//===- TrainTest.cpp - Tests of the training API (dlc/train.h) ------------===//
#include "dlc/train.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>

namespace {

const std::string kModel = std::string(DLC_TEST_INPUTS) + "/train_mlp.onnxtxt";

dlc::Tensor batchX() {
  dlc::Tensor t(dlc::DType::Float, {4, 3});
  const float v[] = {0.5f, -1, 2, 1, 0.25f, -0.5f, -2, 1, 0.5f, 0.1f, 0.2f, -0.3f};
  std::memcpy(t.data.data(), v, sizeof(v));
  return t;
}

dlc::Tensor batchLabels() {
  dlc::Tensor t(dlc::DType::Int64, {4});
  const int64_t v[] = {0, 1, 1, 0};
  std::memcpy(t.data.data(), v, sizeof(v));
  return t;
}

dlc::TrainOptions options(dlc::OptimizerKind kind) {
  dlc::TrainOptions o;
  o.batchSize = 4;
  o.optimizer.kind = kind;
  o.optimizer.lr = 0.1;
  return o;
}

dlc::Tensor param(dlc::TrainingSession &s, const std::string &name) {
  dlc::Expected<dlc::Tensor> t = s.parameter(name);
  EXPECT_TRUE(t) << t.message();
  return t ? *t : dlc::Tensor();
}

std::vector<float> values(const dlc::Tensor &t) {
  return std::vector<float>(t.as<float>(), t.as<float>() + t.numElements());
}

TEST(Train, StepsLowerTheLossAndEvaluateAgrees) {
  auto s = dlc::TrainingSession::create(kModel, options(dlc::OptimizerKind::Sgd));
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ((*s)->trainedParameters(), (std::vector<std::string>{"w1", "b1", "w2", "b2"}));
  EXPECT_EQ((*s)->labels().dtype, dlc::DType::Int64);
  auto before = (*s)->evaluate({batchX()}, batchLabels());
  ASSERT_TRUE(before) << before.message();
  auto first = (*s)->step({batchX()}, batchLabels());
  ASSERT_TRUE(first) << first.message();
  // The step's loss is the loss before the update, as evaluate computes it.
  EXPECT_NEAR(*first, before->loss, 1e-5);
  // Full-batch gradient descent with a small rate: the loss falls at every step.
  double last = *first;
  for (int i = 0; i < 30; ++i) {
    auto l = (*s)->step({batchX()}, batchLabels());
    ASSERT_TRUE(l) << l.message();
    EXPECT_LT(*l, last) << "step " << i + 2;
    last = *l;
  }
  EXPECT_LT(last, *first * 0.8);
  EXPECT_EQ((*s)->stepCount(), 31);
  auto after = (*s)->evaluate({batchX()}, batchLabels());
  ASSERT_TRUE(after) << after.message();
  EXPECT_EQ(after->count, 4);
  auto next = (*s)->step({batchX()}, batchLabels());
  ASSERT_TRUE(next);
  EXPECT_NEAR(after->loss, *next, 1e-5);
}

TEST(Train, LearningRateZeroLeavesParameters) {
  auto s = dlc::TrainingSession::create(kModel, options(dlc::OptimizerKind::Adam));
  ASSERT_TRUE(s) << s.message();
  (*s)->setLearningRate(0);
  EXPECT_EQ((*s)->learningRate(), 0);
  dlc::Tensor w = param(**s, "w1");
  ASSERT_TRUE((*s)->step({batchX()}, batchLabels()));
  EXPECT_EQ(values(param(**s, "w1")), values(w));
}

TEST(Train, CheckpointRestoresParametersAndState) {
  auto s = dlc::TrainingSession::create(kModel, options(dlc::OptimizerKind::AdamW));
  ASSERT_TRUE(s) << s.message();
  ASSERT_TRUE((*s)->step({batchX()}, batchLabels()));
  std::string path = ::testing::TempDir() + "/train_test.ckpt";
  ASSERT_TRUE((*s)->saveCheckpoint(path));
  dlc::Tensor saved = param(**s, "w2");
  auto l2 = (*s)->step({batchX()}, batchLabels());
  ASSERT_TRUE(l2);
  ASSERT_TRUE((*s)->loadCheckpoint(path));
  EXPECT_EQ((*s)->stepCount(), 1);
  EXPECT_EQ(values(param(**s, "w2")), values(saved));
  // The same step again: the same loss (Adam moments restored with the parameters).
  auto again = (*s)->step({batchX()}, batchLabels());
  ASSERT_TRUE(again);
  EXPECT_DOUBLE_EQ(*again, *l2);
  std::remove(path.c_str());
}

TEST(Train, ExportedModelHoldsTrainedValues) {
  auto s = dlc::TrainingSession::create(kModel, options(dlc::OptimizerKind::Sgd));
  ASSERT_TRUE(s) << s.message();
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE((*s)->step({batchX()}, batchLabels()));
  std::string path = ::testing::TempDir() + "/train_test.onnx";
  ASSERT_TRUE((*s)->exportOnnx(path));
  auto reloaded = dlc::TrainingSession::create(path, options(dlc::OptimizerKind::Sgd));
  ASSERT_TRUE(reloaded) << reloaded.message();
  for (const std::string &p : (*s)->trainedParameters())
    EXPECT_EQ(values(param(**reloaded, p)), values(param(**s, p))) << p;
  auto a = (*s)->predict({batchX()});
  auto b = dlc::jitFile(path);
  ASSERT_TRUE(a && b);
  auto c = (*b)->run({batchX()});
  ASSERT_TRUE(c);
  EXPECT_EQ(values((*a)[0]), values((*c)[0]));
  std::remove(path.c_str());
}

TEST(Train, ErrorsAreStatuses) {
  auto o = options(dlc::OptimizerKind::Sgd);
  o.freeze = {"nope"};
  auto bad = dlc::TrainingSession::create(kModel, o);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find("'nope'"), std::string::npos) << bad.message();
  auto s = dlc::TrainingSession::create(kModel, options(dlc::OptimizerKind::Sgd));
  ASSERT_TRUE(s);
  dlc::Tensor x(dlc::DType::Float, {2, 3});
  auto wrong = (*s)->step({x}, batchLabels());
  EXPECT_FALSE(wrong);
  EXPECT_FALSE((*s)->loadCheckpoint(kModel)); // not a checkpoint
  auto missing = dlc::TrainingSession::create("/nonexistent.onnx", o);
  EXPECT_FALSE(missing);
}

TEST(Train, FrozenParametersStay) {
  auto o = options(dlc::OptimizerKind::Sgd);
  o.freeze = {"w1", "b1"};
  auto s = dlc::TrainingSession::create(kModel, o);
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ((*s)->trainedParameters(), (std::vector<std::string>{"w2", "b2"}));
  dlc::Tensor w1 = param(**s, "w1"), w2 = param(**s, "w2");
  ASSERT_TRUE((*s)->step({batchX()}, batchLabels()));
  EXPECT_EQ(values(param(**s, "w1")), values(w1));
  EXPECT_NE(values(param(**s, "w2")), values(w2));
}

// Loss scaling multiplies the loss by the scale and the gradients by its inverse: with
// a power of two, every value in between is scaled exactly, so the steps equal those
// without scaling bit for bit (in fp32; in fp16 the scale also keeps small gradients).
TEST(Train, LossScalingByAPowerOfTwoIsExact) {
  // SGD with momentum: unlike Adam's, its update is not invariant to the gradients'
  // scale, so a missing or wrong unscale shows.
  auto o = options(dlc::OptimizerKind::Sgd);
  o.optimizer.momentum = 0.9;
  auto plain = dlc::TrainingSession::create(kModel, o);
  o.lossScaling = true;
  o.lossScaler.scale = 1024;
  auto scaled = dlc::TrainingSession::create(kModel, o);
  ASSERT_TRUE(plain && scaled) << plain.message() << scaled.message();
  EXPECT_EQ((*plain)->lossScaler(), nullptr);
  ASSERT_NE((*scaled)->lossScaler(), nullptr);
  for (int i = 0; i < 5; ++i) {
    auto a = (*plain)->step({batchX()}, batchLabels());
    auto b = (*scaled)->step({batchX()}, batchLabels());
    ASSERT_TRUE(a && b) << a.message() << b.message();
    EXPECT_EQ(*a, *b) << "step " << i + 1;
  }
  for (const std::string &p : (*plain)->trainedParameters())
    EXPECT_EQ(values(param(**plain, p)), values(param(**scaled, p))) << p;
  EXPECT_EQ((*scaled)->lossScaler()->scale, 1024);
  EXPECT_EQ((*scaled)->lossScaler()->skippedSteps, 0);
  EXPECT_EQ((*scaled)->stepCount(), 5);
}

// A batch whose gradients are not finite (a NaN input here; an overflow of the scaled
// gradients in fp16) leaves the parameters and the optimizer state as they were and
// halves the scale; `growthInterval` good steps in a row double it. The scaler's
// state survives a checkpoint.
TEST(Train, LossScalingSkipsNonFiniteSteps) {
  auto o = options(dlc::OptimizerKind::Adam);
  o.lossScaling = true;
  o.lossScaler.scale = 1024;
  o.lossScaler.growthInterval = 2;
  auto s = dlc::TrainingSession::create(kModel, o);
  ASSERT_TRUE(s) << s.message();
  dlc::Tensor w1 = param(**s, "w1");
  dlc::Tensor bad = batchX();
  bad.as<float>()[4] = NAN;
  auto l = (*s)->step({bad}, batchLabels());
  ASSERT_TRUE(l) << l.message();
  const dlc::LossScaler *ls = (*s)->lossScaler();
  EXPECT_TRUE(ls->lastSkipped);
  EXPECT_EQ(ls->skippedSteps, 1);
  EXPECT_EQ(ls->scale, 512);
  EXPECT_EQ((*s)->stepCount(), 0);
  EXPECT_EQ(values(param(**s, "w1")), values(w1));
  // The skipped step changed no Adam moment: the next step is the first of a fresh run.
  auto fresh = dlc::TrainingSession::create(kModel, options(dlc::OptimizerKind::Adam));
  ASSERT_TRUE(fresh);
  ASSERT_TRUE((*fresh)->step({batchX()}, batchLabels()));
  ASSERT_TRUE((*s)->step({batchX()}, batchLabels()));
  EXPECT_FALSE(ls->lastSkipped);
  EXPECT_EQ((*s)->stepCount(), 1);
  EXPECT_EQ(values(param(**s, "w1")), values(param(**fresh, "w1")));
  std::string path = ::testing::TempDir() + "/train_scaler.ckpt";
  ASSERT_TRUE((*s)->saveCheckpoint(path));
  ASSERT_TRUE((*s)->step({batchX()}, batchLabels()));
  EXPECT_EQ(ls->scale, 1024); // two good steps in a row
  ASSERT_TRUE((*s)->loadCheckpoint(path));
  EXPECT_EQ(ls->scale, 512);
  EXPECT_EQ(ls->goodSteps, 1);
  EXPECT_EQ(ls->skippedSteps, 1);
  std::remove(path.c_str());
}

} // namespace

namespace {

// The step model's resident inputs: they take each step's updated values in the model,
// as a plain run() that binds them and reads them back would; names that are not an
// updated input, or values of another shape, are refused.
TEST(Train, ResidentStateMatchesExplicitBinding) {
  std::map<std::string, dlc::Tensor> init;
  auto compiled = dlc::compileTrainingStep(kModel, options(dlc::OptimizerKind::Sgd),
                                           dlc::EmitKind::Artifact, &init);
  ASSERT_TRUE(compiled) << compiled.message();
  auto a = dlc::Model::loadBytes(compiled->bytes.data(), compiled->bytes.size());
  auto b = dlc::Model::loadBytes(compiled->bytes.data(), compiled->bytes.size());
  ASSERT_TRUE(a && b);

  // The signature: batch, label, the four parameters, the step size and SGD's two
  // momentum factors; the loss and the four updated parameters.
  const dlc::StepSignature *sig = (*a)->stepSignature();
  ASSERT_TRUE(sig);
  using R = dlc::StepRole;
  EXPECT_EQ(sig->inputs,
            (std::vector<R>{R::Batch, R::Label, R::Parameter, R::Parameter, R::Parameter,
                            R::Parameter, R::StepSize, R::MomentumInit, R::MomentumKeep}));
  EXPECT_EQ(sig->outputs,
            (std::vector<R>{R::Loss, R::Parameter, R::Parameter, R::Parameter, R::Parameter}));
  EXPECT_EQ((*a)->inputs()[6].name, "step_size");

  auto bad = init;
  bad["step_size"] = dlc::Tensor(dlc::DType::Float, {});
  dlc::Status s = (*a)->setResident(bad);
  EXPECT_FALSE(s);
  EXPECT_NE(s.message().find("'step_size' cannot stay resident"), std::string::npos) << s.message();
  bad = init;
  bad["w1"] = dlc::Tensor(dlc::DType::Float, {1});
  EXPECT_FALSE((*a)->setResident(bad));
  EXPECT_FALSE((*a)->hasResident());

  dlc::OptimizerOptions sgd;
  sgd.lr = 0.1;
  auto residentState = init, boundState = init;
  for (int t = 1; t <= 3; ++t) {
    auto l1 = dlc::runTrainingStep(**a, {batchX()}, batchLabels(), sgd, 0.1, t, residentState);
    ASSERT_TRUE(l1) << l1.message();
    // The same step with every input bound and every output read back.
    std::vector<dlc::Tensor> args = {batchX(), batchLabels()};
    for (size_t i = 2; i < (*b)->inputs().size(); ++i) {
      const std::string &name = (*b)->inputs()[i].name;
      dlc::Tensor v(dlc::DType::Float, {});
      R role = sig->inputs[i];
      *v.as<float>() = role == R::StepSize       ? 0.1f
                       : role == R::MomentumInit ? (t == 1 ? 1.f : 0.f)
                       : role == R::MomentumKeep ? (t == 1 ? 0.f : 1.f)
                                                 : 0.f;
      args.push_back(boundState.count(name) ? boundState[name] : v);
    }
    auto out = (*b)->run(args);
    ASSERT_TRUE(out) << out.message();
    EXPECT_FLOAT_EQ(static_cast<float>(*l1), *(*out)[0].as<float>());
    for (size_t o = 1; o < out->size(); ++o)
      boundState[(*b)->outputs()[o].name] = (*out)[o];
  }
  EXPECT_TRUE((*a)->hasResident());
  // residentState is as the first step found it until fetched.
  EXPECT_EQ(values(residentState["w1"]), values(init["w1"]));
  ASSERT_TRUE(dlc::fetchTrainingState(**a, residentState));
  for (const char *name : {"w1", "b1", "w2", "b2"})
    EXPECT_EQ(values(residentState[name]), values(boundState[name])) << name;
  ASSERT_TRUE((*a)->setResident({}));
  EXPECT_FALSE((*a)->hasResident());
}

} // namespace

namespace {

/// The dropout draw of dlc.random_uniform (passes/DlcToLinalg/DataMovement.cpp).
float uniform(uint32_t seed, uint32_t salt, uint32_t i) {
  auto fmix = [](uint32_t h) {
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    return h ^ (h >> 16);
  };
  uint32_t base = fmix(seed * 0x9E3779B9u + salt);
  return static_cast<float>(fmix(i * 0x9E3779B9u + base) >> 8) / 16777216.0f;
}

// Training Dropout (ratio 0.5): one MSE step of y = Dropout(x w) equals the step
// computed here with the same masks (seed = step number), and the masks of steps 1
// and 2 differ. The exported model keeps Dropout, which inference runs as identity.
TEST(Train, DropoutMasksTheStep) {
  dlc::TrainOptions o = options(dlc::OptimizerKind::Sgd);
  o.loss = dlc::LossKind::Mse;
  auto s = dlc::TrainingSession::create(std::string(DLC_TEST_INPUTS) + "/train_dropout.onnxtxt", o);
  ASSERT_TRUE(s) << s.message();
  dlc::Tensor x = batchX(), label(dlc::DType::Float, {4, 2});
  const float lv[] = {1, -1, 0.5f, 0.25f, -0.5f, 2, 0, 1};
  std::memcpy(label.data.data(), lv, sizeof(lv));
  std::vector<float> w = values(param(**s, "w"));
  const float *xv = x.as<float>();
  double expectLoss = 0;
  std::vector<double> grad(6, 0);
  int dropped = 0;
  for (int n = 0; n < 4; ++n)
    for (int j = 0; j < 2; ++j) {
      double h = 0;
      for (int k = 0; k < 3; ++k)
        h += xv[n * 3 + k] * w[k * 2 + j];
      double m = uniform(1, 0, n * 2 + j) >= 0.5f ? 2.0 : 0.0;
      dropped += m == 0;
      double d = h * m - lv[n * 2 + j];
      expectLoss += d * d / 8;
      for (int k = 0; k < 3; ++k)
        grad[k * 2 + j] += 2 * d / 8 * m * xv[n * 3 + k];
    }
  // The draw drops some but not all of the 8 elements.
  EXPECT_GT(dropped, 0);
  EXPECT_LT(dropped, 8);
  auto loss = (*s)->step({x}, label);
  ASSERT_TRUE(loss) << loss.message();
  EXPECT_NEAR(*loss, expectLoss, 1e-5);
  std::vector<float> after = values(param(**s, "w"));
  for (int i = 0; i < 6; ++i)
    EXPECT_NEAR(after[i], w[i] - 0.1 * grad[i], 1e-5) << i;
  // Step 2 draws other masks.
  int same = 0;
  for (uint32_t i = 0; i < 8; ++i)
    same += (uniform(1, 0, i) >= 0.5f) == (uniform(2, 0, i) >= 0.5f);
  EXPECT_LT(same, 8);
  // Inference: the exported model's Dropout is the identity.
  auto out = (*s)->predict({x});
  ASSERT_TRUE(out) << out.message();
  for (int n = 0; n < 4; ++n)
    for (int j = 0; j < 2; ++j) {
      double h = 0;
      for (int k = 0; k < 3; ++k)
        h += xv[n * 3 + k] * after[k * 2 + j];
      EXPECT_NEAR((*out)[0].as<float>()[n * 2 + j], h, 1e-5);
    }
}

} // namespace
