//===- Tensor.cpp - Element types and host tensors ------------------------===//

#include "dlc/runtime.h"

namespace dlc {

size_t dtypeSize(DType t) {
  switch (t) {
  case DType::UInt8:
  case DType::Int8:
  case DType::Bool:
  case DType::Float8E4M3FN:
  case DType::Float8E4M3FNUZ:
  case DType::Float8E5M2:
  case DType::Float8E5M2FNUZ:
  case DType::Float8E8M0:
  case DType::UInt4:
  case DType::Int4:
  case DType::Float4E2M1:
  case DType::UInt2:
  case DType::Int2:
    return 1;
  case DType::UInt16:
  case DType::Int16:
  case DType::Float16:
  case DType::BFloat16:
    return 2;
  case DType::Float:
  case DType::Int32:
  case DType::UInt32:
    return 4;
  case DType::Int64:
  case DType::Double:
  case DType::UInt64:
    return 8;
  case DType::Undefined:
  case DType::String:
    return 0;
  }
  return 0;
}

const char *dtypeName(DType t) {
  switch (t) {
  case DType::Float:
    return "float32";
  case DType::UInt8:
    return "uint8";
  case DType::Int8:
    return "int8";
  case DType::UInt16:
    return "uint16";
  case DType::Int16:
    return "int16";
  case DType::Int32:
    return "int32";
  case DType::Int64:
    return "int64";
  case DType::String:
    return "string";
  case DType::Bool:
    return "bool";
  case DType::Float16:
    return "float16";
  case DType::Double:
    return "float64";
  case DType::UInt32:
    return "uint32";
  case DType::UInt64:
    return "uint64";
  case DType::BFloat16:
    return "bfloat16";
  case DType::Float8E4M3FN:
    return "float8_e4m3fn";
  case DType::Float8E4M3FNUZ:
    return "float8_e4m3fnuz";
  case DType::Float8E5M2:
    return "float8_e5m2";
  case DType::Float8E5M2FNUZ:
    return "float8_e5m2fnuz";
  case DType::Float8E8M0:
    return "float8_e8m0fnu";
  case DType::UInt4:
    return "uint4";
  case DType::Int4:
    return "int4";
  case DType::Float4E2M1:
    return "float4_e2m1fn";
  case DType::UInt2:
    return "uint2";
  case DType::Int2:
    return "int2";
  case DType::Undefined:
    break;
  }
  return "unknown";
}

unsigned dtypeBits(DType t) {
  switch (t) {
  case DType::UInt4:
  case DType::Int4:
  case DType::Float4E2M1:
    return 4;
  case DType::UInt2:
  case DType::Int2:
    return 2;
  default:
    return 8 * dtypeSize(t);
  }
}

Tensor::Tensor(DType t, std::vector<int64_t> s) : dtype(t), shape(std::move(s)) {
  data.resize(numElements() * dtypeSize(dtype));
}

int64_t Tensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

} // namespace dlc
