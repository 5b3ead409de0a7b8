//===- ShapeExprTest.cpp - Shape expression evaluation tests --------------===//

#include "dlc/artifact.h"

#include <gtest/gtest.h>

using namespace dlc;
using namespace dlc::artifact;

namespace {

const std::vector<std::vector<int64_t>> kShapes = {{7, 3}, {-1}, {}};

int64_t eval(const std::vector<int64_t> &code) {
  Expected<int64_t> v = evalExpr(code, kShapes);
  EXPECT_TRUE(v) << v.message();
  return v ? *v : -999;
}

std::string evalError(const std::vector<int64_t> &code) {
  return evalExpr(code, kShapes).message();
}

TEST(ShapeExpr, Operands) {
  EXPECT_EQ(eval({Const, 5}), 5);
  EXPECT_EQ(eval({Const, -5}), -5);
  EXPECT_EQ(eval({InputDim, 0, 0}), 7);
  EXPECT_EQ(eval({InputDim, 0, 1}), 3);
}

TEST(ShapeExpr, Arithmetic) {
  EXPECT_EQ(eval({InputDim, 0, 0, InputDim, 0, 1, Add}), 10);
  EXPECT_EQ(eval({InputDim, 0, 0, InputDim, 0, 1, Sub}), 4);
  EXPECT_EQ(eval({InputDim, 0, 0, InputDim, 0, 1, Mul}), 21);
  EXPECT_EQ(eval({InputDim, 0, 0, InputDim, 0, 1, Min}), 3);
  EXPECT_EQ(eval({InputDim, 0, 0, InputDim, 0, 1, Max}), 7);
  // (7 + 3) * 2 - 1, checking the operand order of Sub.
  EXPECT_EQ(eval({InputDim, 0, 0, InputDim, 0, 1, Add, Const, 2, Mul, Const, 1, Sub}),
            19);
}

TEST(ShapeExpr, DivisionRounds) {
  EXPECT_EQ(eval({Const, 7, Const, 2, FloorDiv}), 3);
  EXPECT_EQ(eval({Const, -7, Const, 2, FloorDiv}), -4);
  EXPECT_EQ(eval({Const, 7, Const, 2, CeilDiv}), 4);
  EXPECT_EQ(eval({Const, -7, Const, 2, CeilDiv}), -3);
  EXPECT_EQ(eval({Const, 8, Const, 2, CeilDiv}), 4);
  EXPECT_EQ(eval({Const, 7, Const, 3, Mod}), 1);
  EXPECT_EQ(eval({Const, -7, Const, 3, Mod}), 2);
}

TEST(ShapeExpr, Errors) {
  EXPECT_EQ(evalError({Const, 1, Const, 0, FloorDiv}),
            "shape expression: division by zero");
  EXPECT_EQ(evalError({Const, 1, Const, 0, Mod}), "shape expression: division by zero");
  EXPECT_EQ(evalError({Const, 1, Const, -2, CeilDiv}),
            "shape expression: negative divisor -2");
  EXPECT_EQ(evalError({Const, 1, Add}), "shape expression: stack underflow at word 2");
  EXPECT_EQ(evalError({99}), "shape expression: unknown opcode 99 at word 0");
  EXPECT_EQ(evalError({Const}), "shape expression: missing constant at word 0");
  EXPECT_EQ(evalError({InputDim, 0}),
            "shape expression: missing input dim operands at word 0");
  EXPECT_EQ(evalError({InputDim, 0, 2}),
            "shape expression: input 0 dim 2 is out of range");
  EXPECT_EQ(evalError({InputDim, 3, 0}),
            "shape expression: input 3 dim 0 is out of range");
  EXPECT_EQ(evalError({InputDim, 2, 0}),
            "shape expression: input 2 dim 0 is out of range");
  EXPECT_EQ(evalError({}), "shape expression: leaves 0 values on the stack, not 1");
  EXPECT_EQ(evalError({Const, 1, Const, 2}),
            "shape expression: leaves 2 values on the stack, not 1");
  EXPECT_EQ(evalError({Const, INT64_MAX, Const, 2, Mul}), "shape expression: overflow");
}

TEST(ShapeExpr, ResolveDim) {
  ArtifactSpec spec;
  spec.exprs = {{InputDim, 0, 1}, {InputDim, 0, 0, Const, 2, Mul}};
  auto resolve = [&](int64_t encoded) { return resolveDim(spec, encoded, kShapes); };
  EXPECT_EQ(resolve(0).value(), 0);
  EXPECT_EQ(resolve(12).value(), 12);
  EXPECT_EQ(resolve(-1).value(), 3);
  EXPECT_EQ(resolve(-2).value(), 14);
  EXPECT_EQ(resolve(-3).message(),
            "shape expression: expression 2 does not exist (2 expressions)");
}

} // namespace
