//===- ShapeExpr.cpp - Evaluate symbolic shape expressions ----------------===//

#include "dlc/artifact.h"

#include "Support.h"

#include <algorithm>

namespace dlc::artifact {
namespace {

Status exprError(const std::string &what) {
  return Status::error("shape expression: " + what);
}

/// Applies binary opcode `op` to `a` and `b`.
Expected<int64_t> apply(int64_t op, int64_t a, int64_t b) {
  int64_t r;
  switch (op) {
  case Add:
    if (__builtin_add_overflow(a, b, &r))
      return exprError("overflow");
    return r;
  case Sub:
    if (__builtin_sub_overflow(a, b, &r))
      return exprError("overflow");
    return r;
  case Mul:
    if (__builtin_mul_overflow(a, b, &r))
      return exprError("overflow");
    return r;
  case Min:
    return std::min(a, b);
  case Max:
    return std::max(a, b);
  }
  // FloorDiv, CeilDiv, Mod: rounding toward -inf/+inf for a positive divisor.
  if (b == 0)
    return exprError("division by zero");
  if (b < 0)
    return exprError(strCat("negative divisor ", b));
  int64_t q = a / b, m = a % b;
  if (op == FloorDiv)
    return m < 0 ? q - 1 : q;
  if (op == CeilDiv)
    return m > 0 ? q + 1 : q;
  return m < 0 ? m + b : m;
}

} // namespace

Expected<int64_t> evalExpr(const std::vector<int64_t> &code,
                           const std::vector<std::vector<int64_t>> &inputShapes) {
  std::vector<int64_t> stack;
  for (size_t pc = 0; pc < code.size(); ++pc) {
    int64_t op = code[pc];
    if (op == Const) {
      if (pc + 1 >= code.size())
        return exprError(strCat("missing constant at word ", pc));
      stack.push_back(code[++pc]);
    } else if (op == InputDim) {
      if (pc + 2 >= code.size())
        return exprError(strCat("missing input dim operands at word ", pc));
      int64_t input = code[pc + 1], dim = code[pc + 2];
      pc += 2;
      if (input < 0 || static_cast<uint64_t>(input) >= inputShapes.size() || dim < 0 ||
          static_cast<uint64_t>(dim) >= inputShapes[input].size())
        return exprError(strCat("input ", input, " dim ", dim, " is out of range"));
      stack.push_back(inputShapes[input][dim]);
    } else if (op >= Add && op <= Max) {
      if (stack.size() < 2)
        return exprError(strCat("stack underflow at word ", pc));
      int64_t b = stack.back();
      stack.pop_back();
      Expected<int64_t> r = apply(op, stack.back(), b);
      if (!r)
        return r.status();
      stack.back() = r.value();
    } else {
      return exprError(strCat("unknown opcode ", op, " at word ", pc));
    }
  }
  if (stack.size() != 1)
    return exprError(strCat("leaves ", stack.size(), " values on the stack, not 1"));
  return stack.back();
}

Expected<int64_t> resolveDim(const ArtifactSpec &spec, int64_t encoded,
                             const std::vector<std::vector<int64_t>> &inputShapes) {
  if (encoded >= 0)
    return encoded;
  uint64_t expr = static_cast<uint64_t>(-(encoded + 1));
  if (expr >= spec.exprs.size())
    return exprError(strCat("expression ", expr, " does not exist (", spec.exprs.size(),
                            " expressions)"));
  return evalExpr(spec.exprs[expr], inputShapes);
}

} // namespace dlc::artifact
