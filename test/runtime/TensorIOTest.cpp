//===- TensorIOTest.cpp - .npy and TensorProto file tests -----------------===//

#include "dlc/runtime.h"

#include "../../runtime/TensorIO.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <unistd.h>

using namespace dlc;

namespace {

/// A path in the test temp folder, unique to this process.
std::string tempPath(const std::string &name) {
  return ::testing::TempDir() + "dlc_tensorio_" + std::to_string(::getpid()) + "_" + name;
}

std::string writeFile(const std::string &name, const std::string &bytes) {
  std::string path = tempPath(name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string readFile(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

/// A .npy file with the given version and header dict (padded with a newline only).
std::string npyBytes(int major, const std::string &dict, const std::string &data) {
  std::string header = dict + "\n";
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(major);
  out += '\0';
  for (int i = 0; i < (major == 1 ? 2 : 4); ++i)
    out += static_cast<char>(header.size() >> (8 * i));
  return out + header + data;
}

std::string floats(std::initializer_list<float> values) {
  std::string s(values.size() * 4, '\0');
  std::memcpy(s.data(), values.begin(), s.size());
  return s;
}

Tensor tensorOf(DType dtype, std::vector<int64_t> shape) {
  Tensor t(dtype, std::move(shape));
  for (size_t i = 0; i < t.data.size(); ++i)
    t.data[i] = static_cast<uint8_t>(i * 13 + 1);
  if (dtype == DType::Bool)
    for (uint8_t &b : t.data)
      b &= 1;
  return t;
}

std::string readError(const std::string &path) { return readTensorFile(path).message(); }

TEST(Npy, RoundTripsEveryType) {
  for (DType dtype : {DType::Float, DType::Double, DType::Float16, DType::Int8,
                      DType::Int16, DType::Int32, DType::Int64, DType::UInt8,
                      DType::UInt16, DType::UInt32, DType::UInt64, DType::Bool}) {
    for (std::vector<int64_t> shape :
         {std::vector<int64_t>{2, 3}, {5}, {}, {0, 4}, {2, 1, 3}}) {
      Tensor t = tensorOf(dtype, shape);
      std::string path = tempPath(std::string("rt_") + dtypeName(dtype) + ".npy");
      ASSERT_TRUE(writeNpy(path, t)) << dtypeName(dtype);
      // The data starts 64-byte aligned after a version 1.0 header.
      std::string bytes = readFile(path);
      EXPECT_EQ(bytes[6], 1);
      EXPECT_EQ((bytes.size() - t.data.size()) % 64, 0u);
      Expected<Tensor> back = readTensorFile(path);
      ASSERT_TRUE(back) << back.message();
      EXPECT_EQ(back->dtype, dtype);
      EXPECT_EQ(back->shape, shape);
      EXPECT_EQ(back->data, t.data);
    }
  }
}

TEST(Npy, WritesNumpyHeader) {
  std::string path = tempPath("header.npy");
  ASSERT_TRUE(writeNpy(path, tensorOf(DType::Float, {2, 3})));
  std::string bytes = readFile(path);
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  EXPECT_EQ(bytes.substr(10, dict.size()), dict);
  ASSERT_TRUE(writeNpy(path, tensorOf(DType::Bool, {5})));
  EXPECT_NE(readFile(path).find("'descr': '|b1'"), std::string::npos);
  EXPECT_NE(readFile(path).find("'shape': (5,)"), std::string::npos);
}

TEST(Npy, ReadsHandWrittenFiles) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  for (int major : {1, 2, 3}) {
    Expected<Tensor> t = readTensorFile(writeFile(
        "v" + std::to_string(major) + ".npy", npyBytes(major, dict, floats({1.5f, -2}))));
    ASSERT_TRUE(t) << t.message();
    EXPECT_EQ(t->shape, std::vector<int64_t>{2});
    EXPECT_EQ(t->as<float>()[0], 1.5f);
    EXPECT_EQ(t->as<float>()[1], -2.0f);
  }
  // Double quotes, no trailing comma, keys in another order, a 0-d array.
  Expected<Tensor> scalar = readTensorFile(writeFile(
      "scalar.npy",
      npyBytes(1, "{\"shape\": (), \"fortran_order\": False, \"descr\": \"<f4\"}",
               floats({3.25f}))));
  ASSERT_TRUE(scalar) << scalar.message();
  EXPECT_TRUE(scalar->shape.empty());
  EXPECT_EQ(scalar->as<float>()[0], 3.25f);
  // numpy writes one-byte types with '|'; '<' is accepted as well.
  Expected<Tensor> bytes = readTensorFile(writeFile(
      "i1.npy",
      npyBytes(1, "{'descr': '<i1', 'fortran_order': False, 'shape': (1,)}", "\xfe")));
  ASSERT_TRUE(bytes) << bytes.message();
  EXPECT_EQ(bytes->dtype, DType::Int8);
  EXPECT_EQ(bytes->as<int8_t>()[0], -2);
}

TEST(Npy, RejectsMalformedFiles) {
  auto errorFor = [](const std::string &name, const std::string &bytes) {
    std::string path = writeFile(name, bytes);
    std::string message = readError(path);
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
    return message.substr(path.size() + 2);
  };
  std::string f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  EXPECT_EQ(errorFor("magic.npy", "PK\x03\x04 not numpy"), "not a .npy file (bad magic)");
  EXPECT_EQ(errorFor("empty.npy", ""), "not a .npy file (bad magic)");
  EXPECT_EQ(errorFor("version.npy", npyBytes(4, f4, floats({1, 2}))),
            "unsupported .npy version 4.0");
  EXPECT_EQ(errorFor("short.npy", npyBytes(1, f4, floats({1, 2})).substr(0, 30)),
            "truncated .npy header");
  EXPECT_EQ(errorFor("size.npy", npyBytes(1, f4, floats({1, 2, 3}))),
            "trailing bytes: data has 12 bytes, shape [2] of float32 needs 8");
  EXPECT_EQ(
      errorFor("fortran.npy",
               npyBytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }",
                        floats({1, 2}))),
      "Fortran-order arrays are not supported (save in C order)");
  EXPECT_EQ(
      errorFor("big.npy",
               npyBytes(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
                        floats({1, 2}))),
      "big-endian data ('>f4') is not supported");
  EXPECT_EQ(
      errorFor("complex.npy",
               npyBytes(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }",
                        floats({1, 2}))),
      "unsupported dtype '<c8'");
  EXPECT_EQ(errorFor("key.npy", npyBytes(1, "{'descr': '<f4', 'extra': 1}", "")),
            "unexpected key 'extra' in .npy header");
  for (std::string dict : {"{'descr': '<f4', 'fortran_order': False}",
                           "{'descr': '<f4', 'fortran_order': False, 'shape': (2,3}",
                           "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}",
                           "{'descr': '<f4', 'fortran_order': maybe, 'shape': (2,)}",
                           "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x",
                           "{'descr: '<f4'", "[]"})
    EXPECT_EQ(errorFor("dict.npy", npyBytes(1, dict, floats({1, 2}))),
              "malformed .npy header")
        << dict;
  EXPECT_EQ(
      errorFor("huge.npy", npyBytes(1,
                                    "{'descr': '<f4', 'fortran_order': False, 'shape': "
                                    "(4611686018427387904, 4), }",
                                    "")),
      "shape [4611686018427387904, 4] is too large");
}

TEST(TensorFile, ReportsFileProblems) {
  std::string missing = tempPath("missing.npy");
  EXPECT_EQ(readError(missing),
            "cannot open '" + missing + "': No such file or directory");
  EXPECT_EQ(readError("data.csv"),
            "data.csv: unknown tensor file type (expected .npy or .pb)");
}

TEST(Npy, WriteRejectsUnrepresentableTensors) {
  std::string path = tempPath("bad_write.npy");
  EXPECT_EQ(writeNpy(path, Tensor(DType::BFloat16, {2})).message(),
            path + ": cannot write bfloat16 tensors as .npy");
  Tensor t(DType::Float, {2});
  t.data.pop_back();
  EXPECT_EQ(writeNpy(path, t).message(),
            path + ": tensor has 7 bytes, which does not match its shape [2]");
  EXPECT_EQ(writeNpy("/nonexistent-dir/x.npy", Tensor(DType::Float, {1})).message(),
            "cannot create '/nonexistent-dir/x.npy': No such file or directory");
}

//===----------------------------------------------------------------------===//
// TensorProto
//===----------------------------------------------------------------------===//

std::string varint(uint64_t v) {
  std::string s;
  for (; v >= 0x80; v >>= 7)
    s += static_cast<char>(v | 0x80);
  return s + static_cast<char>(v);
}

std::string key(int field, int wireType) { return varint(field << 3 | wireType); }

std::string bytesField(int field, const std::string &bytes) {
  return key(field, 2) + varint(bytes.size()) + bytes;
}

std::string fixed(uint64_t v, int n) {
  std::string s;
  for (int i = 0; i < n; ++i)
    s += static_cast<char>(v >> (8 * i));
  return s;
}

/// dims as unpacked varints, then data_type, as onnx's serializer writes them.
std::string header(std::vector<int64_t> dims, uint64_t dataType) {
  std::string s;
  for (int64_t d : dims)
    s += key(1, 0) + varint(d);
  return s + key(2, 0) + varint(dataType);
}

Expected<Tensor> readPb(const std::string &name, const std::string &bytes) {
  return readTensorFile(writeFile(name + ".pb", bytes));
}

std::string pbError(const std::string &bytes) {
  std::string path = writeFile("bad.pb", bytes);
  std::string message = readError(path);
  EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
  return message.substr(path.size() + 2);
}

TEST(TensorProto, RawData) {
  std::string pb =
      header({2, 3}, 1) + bytesField(8, "x") + bytesField(9, floats({1, 2, 3, 4, 5, 6}));
  Expected<Tensor> t = readPb("raw", pb);
  ASSERT_TRUE(t) << t.message();
  EXPECT_EQ(t->dtype, DType::Float);
  EXPECT_EQ(t->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(t->as<float>()[5], 6.0f);
}

TEST(TensorProto, FloatDataPackedAndUnpacked) {
  std::string packed = key(1, 2) + varint(1) + varint(3) + key(2, 0) + varint(1) +
                       bytesField(4, floats({0.5f, -1, 8}));
  Expected<Tensor> t = readPb("packed", packed);
  ASSERT_TRUE(t) << t.message();
  EXPECT_EQ(t->shape, std::vector<int64_t>{3});
  EXPECT_EQ(t->as<float>()[0], 0.5f);
  EXPECT_EQ(t->as<float>()[2], 8.0f);

  std::string unpacked = header({2}, 1);
  for (float f : {7.0f, -3.0f}) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    unpacked += key(4, 5) + fixed(bits, 4);
  }
  t = readPb("unpacked", unpacked);
  ASSERT_TRUE(t) << t.message();
  EXPECT_EQ(t->as<float>()[1], -3.0f);
}

TEST(TensorProto, SubByteTypesArePackedInFiles) {
  // int4: two to a byte, the first in the low nibble; 3 elements take 2 bytes. In memory
  // each takes a byte of its own (low bits, high bits zero).
  Expected<Tensor> i4 = readPb("i4", header({3}, 22) + bytesField(9, std::string("\x8f\x07", 2)));
  ASSERT_TRUE(i4) << i4.message();
  EXPECT_EQ(i4->dtype, DType::Int4);
  EXPECT_EQ(i4->data, (std::vector<uint8_t>{0xf, 0x8, 0x7}));
  // uint2 in int32_data: four to a value.
  Expected<Tensor> u2 = readPb("u2", header({5}, 25) + bytesField(5, varint(0xe4) + varint(2)));
  ASSERT_TRUE(u2) << u2.message();
  EXPECT_EQ(u2->data, (std::vector<uint8_t>{0, 1, 2, 3, 2}));
  // float8: one byte each.
  Expected<Tensor> f8 = readPb("f8", header({2}, 17) + bytesField(9, "\x38\xff"));
  ASSERT_TRUE(f8) << f8.message();
  EXPECT_EQ(f8->dtype, DType::Float8E4M3FN);
  EXPECT_EQ(f8->data, (std::vector<uint8_t>{0x38, 0xff}));
  EXPECT_EQ(pbError(header({3}, 21) + bytesField(9, "\x01")),
            "truncated: raw_data has 1 bytes, shape [3] of uint4 needs 2");
  EXPECT_EQ(pbError(header({3}, 26) + bytesField(5, varint(1) + varint(2))),
            "int32_data has 2 values, shape [3] needs 1");
}

TEST(TensorProto, TypedFields) {
  // int8 in int32_data: negative values are 10-byte varints.
  Expected<Tensor> i8 =
      readPb("i8", header({2}, 3) + bytesField(5, varint(uint64_t(-5)) + varint(100)));
  ASSERT_TRUE(i8) << i8.message();
  EXPECT_EQ(i8->as<int8_t>()[0], -5);
  EXPECT_EQ(i8->as<int8_t>()[1], 100);

  Expected<Tensor> b =
      readPb("bool", header({3}, 9) + bytesField(5, varint(1) + varint(0) + varint(1)));
  ASSERT_TRUE(b) << b.message();
  EXPECT_EQ(b->data, (std::vector<uint8_t>{1, 0, 1}));

  Expected<Tensor> f16 = readPb("f16", header({1}, 10) + key(5, 0) + varint(0x3c00));
  ASSERT_TRUE(f16) << f16.message();
  EXPECT_EQ(f16->as<uint16_t>()[0], 0x3c00);

  Expected<Tensor> i64 = readPb(
      "i64", header({2}, 7) + bytesField(7, varint(uint64_t(-3)) + varint(1ull << 40)));
  ASSERT_TRUE(i64) << i64.message();
  EXPECT_EQ(i64->as<int64_t>()[0], -3);
  EXPECT_EQ(i64->as<int64_t>()[1], int64_t(1) << 40);

  double d = -0.125;
  uint64_t dbits;
  std::memcpy(&dbits, &d, 8);
  Expected<Tensor> f64 = readPb("f64", header({1}, 11) + key(10, 1) + fixed(dbits, 8));
  ASSERT_TRUE(f64) << f64.message();
  EXPECT_EQ(f64->as<double>()[0], -0.125);

  Expected<Tensor> u32 =
      readPb("u32", header({1}, 12) + bytesField(11, varint(4000000000u)));
  ASSERT_TRUE(u32) << u32.message();
  EXPECT_EQ(u32->as<uint32_t>()[0], 4000000000u);

  // A scalar (no dims) and an empty tensor.
  Expected<Tensor> scalar = readPb("scalar", header({}, 6) + key(5, 0) + varint(42));
  ASSERT_TRUE(scalar) << scalar.message();
  EXPECT_TRUE(scalar->shape.empty());
  EXPECT_EQ(scalar->as<int32_t>()[0], 42);
  Expected<Tensor> empty = readPb("empty", header({0, 3}, 1));
  ASSERT_TRUE(empty) << empty.message();
  EXPECT_EQ(empty->numElements(), 0);
}

TEST(TensorProto, SkipsUnknownFields) {
  std::string pb = bytesField(12, "a doc string") + header({1}, 6) +
                   bytesField(3, key(1, 0) + varint(0)) + key(99, 5) + fixed(1, 4) +
                   key(98, 1) + fixed(2, 8) + key(97, 0) + varint(300) + key(5, 0) +
                   varint(9) + key(14, 0) + varint(0);
  Expected<Tensor> t = readPb("unknown", pb);
  ASSERT_TRUE(t) << t.message();
  EXPECT_EQ(t->as<int32_t>()[0], 9);
}

TEST(TensorProto, RejectsMalformed) {
  std::string good = header({2}, 1) + bytesField(9, floats({1, 2}));
  EXPECT_EQ(pbError(good.substr(0, good.size() - 1)),
            "malformed TensorProto (field at byte 4)");
  EXPECT_EQ(pbError("\x08\xff"), "malformed TensorProto (field at byte 0)");
  EXPECT_EQ(pbError(std::string(12, '\xff')), "malformed TensorProto (field at byte 0)");
  EXPECT_EQ(pbError(key(1, 5) + fixed(2, 4)), "malformed TensorProto (field at byte 0)");
  EXPECT_EQ(pbError(key(2, 2) + varint(0)), "malformed TensorProto (field at byte 0)");
  EXPECT_EQ(pbError(key(40, 3)), "malformed TensorProto (field at byte 0)");
  EXPECT_EQ(pbError(std::string("\x00\x01", 2)),
            "malformed TensorProto (field at byte 0)");
  EXPECT_EQ(pbError(header({1}, 8) + bytesField(6, "abc")),
            "string tensors are not supported");
  EXPECT_EQ(pbError(header({1}, 1) + key(14, 0) + varint(1)),
            "tensor uses external data, which is not supported");
  EXPECT_EQ(pbError(header({1}, 0)), "unsupported tensor data type 0");
  EXPECT_EQ(pbError(header({1}, 4294967297)), "unsupported tensor data type 4294967297");
  EXPECT_EQ(pbError(header({2}, 1) + bytesField(9, floats({1}))),
            "truncated: raw_data has 4 bytes, shape [2] of float32 needs 8");
  EXPECT_EQ(pbError(header({3}, 1) + bytesField(4, floats({1}))),
            "float_data has 1 values, shape [3] needs 3");
  EXPECT_EQ(pbError(header({3}, 7) + bytesField(4, floats({1, 2, 3}))),
            "int64_data has 0 values, shape [3] needs 3");
  EXPECT_EQ(pbError(header({-2}, 1)), "invalid tensor shape [-2]");
}

} // namespace

namespace {

/// A TensorProto of float[2] {1, 2} in wire format.
std::vector<uint8_t> twoFloats() {
  std::vector<uint8_t> t = {0x08, 0x02, 0x10, 0x01, 0x4a, 0x08};
  float v[2] = {1.0f, 2.0f};
  const uint8_t *p = reinterpret_cast<const uint8_t *>(v);
  t.insert(t.end(), p, p + 8);
  return t;
}

/// `field` (length-delimited) holding `body`.
std::vector<uint8_t> wrap(uint8_t field, const std::vector<uint8_t> &body) {
  std::vector<uint8_t> out = {static_cast<uint8_t>(field << 3 | 2),
                              static_cast<uint8_t>(body.size())};
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

TEST(TensorIO, SequenceAndOptionalProtos) {
  std::vector<uint8_t> seq = {0x10, 0x01};
  for (int i = 0; i < 2; ++i) {
    std::vector<uint8_t> e = wrap(3, twoFloats());
    seq.insert(seq.end(), e.begin(), e.end());
  }
  Expected<TensorList> s = parseSequenceProto(seq);
  ASSERT_TRUE(s) << s.message();
  EXPECT_TRUE(s->sequence);
  ASSERT_EQ(s->tensors.size(), 2u);
  EXPECT_EQ(s->tensors[1].shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(s->tensors[1].as<float>()[1], 2.0f);

  std::vector<uint8_t> opt = {0x10, 0x01};
  std::vector<uint8_t> body = wrap(3, twoFloats());
  opt.insert(opt.end(), body.begin(), body.end());
  Expected<TensorList> o = parseOptionalProto(opt);
  ASSERT_TRUE(o) << o.message();
  EXPECT_TRUE(o->present);
  EXPECT_FALSE(o->sequence);
  EXPECT_EQ(o->tensors.size(), 1u);

  Expected<TensorList> empty = parseOptionalProto({0x10, 0x01});
  ASSERT_TRUE(empty) << empty.message();
  EXPECT_FALSE(empty->present);

  // Truncated and unsupported contents are errors.
  EXPECT_FALSE(parseSequenceProto({0x1a, 0x40, 0x08}));
  EXPECT_FALSE(parseSequenceProto(wrap(5, {})));
}

} // namespace
