//===- TensorIO.cpp - Read .npy / TensorProto files, write .npy -----------===//

#include "dlc/runtime.h"

#include "FileIO.h"
#include "TensorIO.h"
#include "Support.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string_view>

namespace dlc {
namespace {

//===----------------------------------------------------------------------===//
// .npy
//===----------------------------------------------------------------------===//

constexpr char kNpyMagic[] = "\x93NUMPY";
constexpr size_t kNpyMagicSize = 6;

/// numpy's type code (without byte order) of each element type .npy can hold.
struct NpyType {
  const char *code;
  DType dtype;
};
constexpr NpyType kNpyTypes[] = {
    {"f4", DType::Float},  {"f8", DType::Double}, {"f2", DType::Float16},
    {"i1", DType::Int8},   {"i2", DType::Int16},  {"i4", DType::Int32},
    {"i8", DType::Int64},  {"u1", DType::UInt8},  {"u2", DType::UInt16},
    {"u4", DType::UInt32}, {"u8", DType::UInt64}, {"b1", DType::Bool},
};

Expected<DType> npyDType(const std::string &descr) {
  std::string_view code = std::string_view(descr).substr(descr.empty() ? 0 : 1);
  for (const NpyType &t : kNpyTypes) {
    if (code != t.code)
      continue;
    // Single bytes have no byte order ('|'); wider types must be little-endian.
    if (descr[0] == '<' || (descr[0] == '|' && dtypeSize(t.dtype) == 1))
      return t.dtype;
    if (descr[0] == '>')
      return Status::error("big-endian data ('" + descr + "') is not supported");
  }
  return Status::error("unsupported dtype '" + descr + "'");
}

/// A cursor over the Python dict literal of a .npy header.
struct DictCursor {
  std::string_view text;
  size_t pos = 0;

  void skipSpace() {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos])))
      ++pos;
  }
  bool eat(std::string_view token) {
    skipSpace();
    if (text.substr(pos, token.size()) != token)
      return false;
    pos += token.size();
    return true;
  }
  bool string(std::string &out) {
    skipSpace();
    if (pos >= text.size() || (text[pos] != '\'' && text[pos] != '"'))
      return false;
    size_t end = text.find(text[pos], pos + 1);
    if (end == std::string_view::npos)
      return false;
    out = std::string(text.substr(pos + 1, end - pos - 1));
    pos = end + 1;
    return true;
  }
  bool integer(int64_t &out) {
    skipSpace();
    size_t start = pos;
    out = 0;
    for (; pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]));
         ++pos)
      if (__builtin_mul_overflow(out, 10, &out) ||
          __builtin_add_overflow(out, text[pos] - '0', &out))
        return false;
    return pos > start;
  }
  /// A tuple of non-negative integers: "()", "(5,)", "(2, 3)".
  bool shape(std::vector<int64_t> &out) {
    if (!eat("("))
      return false;
    while (!eat(")")) {
      int64_t d;
      if (!integer(d))
        return false;
      out.push_back(d);
      if (!eat(","))
        return eat(")");
    }
    return true;
  }
};

struct NpyHeader {
  std::string descr;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
};

Expected<NpyHeader> parseNpyHeader(std::string_view text) {
  Status malformed = Status::error("malformed .npy header");
  NpyHeader h;
  DictCursor c{text};
  bool seen[3] = {false, false, false};
  if (!c.eat("{"))
    return malformed;
  while (!c.eat("}")) {
    std::string key;
    if (!c.string(key) || !c.eat(":"))
      return malformed;
    bool ok;
    if (key == "descr") {
      ok = c.string(h.descr);
      seen[0] = true;
    } else if (key == "fortran_order") {
      h.fortranOrder = c.eat("True");
      ok = h.fortranOrder || c.eat("False");
      seen[1] = true;
    } else if (key == "shape") {
      ok = c.shape(h.shape);
      seen[2] = true;
    } else {
      return Status::error("unexpected key '" + key + "' in .npy header");
    }
    if (!ok)
      return malformed;
    if (!c.eat(",")) {
      if (!c.eat("}"))
        return malformed;
      break;
    }
  }
  c.skipSpace();
  if (c.pos != text.size() || !seen[0] || !seen[1] || !seen[2])
    return malformed;
  return h;
}

uint32_t readLE(const uint8_t *p, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}

} // namespace

Expected<Tensor> parseNpy(const std::vector<uint8_t> &bytes) {
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kNpyMagic, kNpyMagicSize) != 0)
    return Status::error("not a .npy file (bad magic)");
  uint8_t major = bytes[6], minor = bytes[7];
  if (major < 1 || major > 3 || minor != 0)
    return Status::error(
        strCat("unsupported .npy version ", int(major), ".", int(minor)));
  size_t lenBytes = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + lenBytes)
    return Status::error("truncated .npy header");
  size_t headerBegin = 8 + lenBytes;
  size_t headerLen = readLE(bytes.data() + 8, lenBytes);
  if (headerLen > bytes.size() - headerBegin)
    return Status::error("truncated .npy header");
  Expected<NpyHeader> header = parseNpyHeader(std::string_view(
      reinterpret_cast<const char *>(bytes.data()) + headerBegin, headerLen));
  if (!header)
    return header.status();
  if (header->fortranOrder)
    return Status::error("Fortran-order arrays are not supported (save in C order)");
  Expected<DType> dtype = npyDType(header->descr);
  if (!dtype)
    return dtype.status();
  int64_t dataBytes;
  if (!denseBytes(header->shape, dtypeSize(*dtype), dataBytes))
    return Status::error("shape " + shapeStr(header->shape) + " is too large");
  size_t dataBegin = headerBegin + headerLen;
  if (bytes.size() - dataBegin != static_cast<uint64_t>(dataBytes))
    return Status::error(strCat(bytes.size() - dataBegin < static_cast<uint64_t>(dataBytes)
                                    ? "truncated: "
                                    : "trailing bytes: ",
                                "data has ", bytes.size() - dataBegin, " bytes, shape ",
                                shapeStr(header->shape), " of ", dtypeName(*dtype),
                                " needs ", dataBytes));
  Tensor t(*dtype, header->shape);
  copyBytes(t.data.data(), bytes.data() + dataBegin, dataBytes);
  return t;
}

namespace {

//===----------------------------------------------------------------------===//
// ONNX TensorProto (protobuf wire format)
//===----------------------------------------------------------------------===//

enum WireType : uint32_t { Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5 };

/// A reader over protobuf wire-format bytes; every read checks the bounds.
struct WireReader {
  const uint8_t *data;
  size_t size;
  size_t pos = 0;

  bool done() const { return pos == size; }
  bool varint(uint64_t &v) {
    v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (pos == size)
        return false;
      uint8_t b = data[pos++];
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80))
        return true;
    }
    return false;
  }
  bool fixed(size_t n, uint64_t &v) {
    if (size - pos < n)
      return false;
    v = 0;
    for (size_t i = 0; i < n; ++i)
      v |= static_cast<uint64_t>(data[pos + i]) << (8 * i);
    pos += n;
    return true;
  }
  bool lengthDelimited(WireReader &sub) {
    uint64_t len;
    if (!varint(len) || len > size - pos)
      return false;
    sub = WireReader{data + pos, static_cast<size_t>(len)};
    pos += len;
    return true;
  }
  bool scalar(WireType type, uint64_t &v) {
    switch (type) {
    case Varint:
      return varint(v);
    case Fixed64:
      return fixed(8, v);
    case Fixed32:
      return fixed(4, v);
    case LengthDelimited:
      break;
    }
    return false;
  }
  bool skip(uint32_t type) {
    uint64_t v;
    WireReader sub{nullptr, 0};
    if (type == LengthDelimited)
      return lengthDelimited(sub);
    return (type == Varint || type == Fixed64 || type == Fixed32) &&
           scalar(static_cast<WireType>(type), v);
  }
  /// Appends a repeated scalar field's values, packed or one at a time.
  bool repeated(uint32_t type, WireType elemType, std::vector<uint64_t> &out) {
    uint64_t v;
    if (type == elemType) {
      if (!scalar(elemType, v))
        return false;
      out.push_back(v);
      return true;
    }
    WireReader packed{nullptr, 0};
    if (type != LengthDelimited || !lengthDelimited(packed))
      return false;
    while (!packed.done()) {
      if (!packed.scalar(elemType, v))
        return false;
      out.push_back(v);
    }
    return true;
  }
};

/// The TensorProto fields the runtime reads (numbers from onnx.proto).
enum TensorField : uint32_t {
  Dims = 1,
  DataType = 2,
  FloatData = 4,
  Int32Data = 5,
  StringData = 6,
  Int64Data = 7,
  Name = 8,
  RawData = 9,
  DoubleData = 10,
  Uint64Data = 11,
  DataLocation = 14,
};

struct TensorProto {
  std::vector<uint64_t> dims;
  uint64_t dataType = 0;
  // Typed values as raw 64-bit words: float bits, int32/int64 values, double bits.
  std::vector<uint64_t> floatData, int32Data, int64Data, doubleData, uint64Data;
  bool hasRaw = false;
  WireReader raw{nullptr, 0};
};

Status decodeTensorProto(const std::vector<uint8_t> &bytes, TensorProto &tp) {
  WireReader r{bytes.data(), bytes.size()};
  while (!r.done()) {
    size_t fieldStart = r.pos;
    uint64_t key, v;
    WireReader name{nullptr, 0};
    bool ok = r.varint(key) && key >> 3 != 0 && key >> 3 < (1u << 29);
    uint32_t type = key & 7;
    switch (ok ? static_cast<uint32_t>(key >> 3) : 0) {
    case 0:
      break;
    case Dims:
      ok = r.repeated(type, Varint, tp.dims);
      break;
    case DataType:
      ok = type == Varint && r.varint(tp.dataType);
      break;
    case FloatData:
      ok = r.repeated(type, Fixed32, tp.floatData);
      break;
    case Int32Data:
      ok = r.repeated(type, Varint, tp.int32Data);
      break;
    case StringData:
      return Status::error("string tensors are not supported");
    case Int64Data:
      ok = r.repeated(type, Varint, tp.int64Data);
      break;
    case Name:
      ok = type == LengthDelimited && r.lengthDelimited(name);
      break;
    case RawData:
      ok = type == LengthDelimited && r.lengthDelimited(tp.raw);
      tp.hasRaw = true;
      break;
    case DoubleData:
      ok = r.repeated(type, Fixed64, tp.doubleData);
      break;
    case Uint64Data:
      ok = r.repeated(type, Varint, tp.uint64Data);
      break;
    case DataLocation:
      ok = type == Varint && r.varint(v);
      if (ok && v != 0)
        return Status::error("tensor uses external data, which is not supported");
      break;
    default:
      ok = r.skip(type);
    }
    if (!ok)
      return Status::error(
          strCat("malformed TensorProto (field at byte ", fieldStart, ")"));
  }
  return Status::ok();
}

/// The typed field that holds values of `dtype` when raw_data is absent, and its name.
std::pair<const std::vector<uint64_t> *, const char *> typedValues(const TensorProto &tp,
                                                                   DType dtype) {
  switch (dtype) {
  case DType::Float:
    return {&tp.floatData, "float_data"};
  case DType::Double:
    return {&tp.doubleData, "double_data"};
  case DType::Int64:
    return {&tp.int64Data, "int64_data"};
  case DType::UInt32:
  case DType::UInt64:
    return {&tp.uint64Data, "uint64_data"};
  default:
    return {&tp.int32Data, "int32_data"};
  }
}

/// Spreads `n` packed elements of `bits` bits (ONNX's order: the first in the lowest bits)
/// into one byte each.
void unpackBits(const uint8_t *packed, uint64_t n, unsigned bits, uint8_t *out) {
  unsigned perByte = 8 / bits;
  uint8_t mask = static_cast<uint8_t>((1u << bits) - 1);
  for (uint64_t i = 0; i < n; ++i)
    out[i] = (packed[i / perByte] >> (bits * (i % perByte))) & mask;
}

} // namespace

Expected<Tensor> parseTensorProto(const std::vector<uint8_t> &bytes) {
  TensorProto tp;
  if (Status s = decodeTensorProto(bytes, tp); !s)
    return s;
  DType dtype = static_cast<DType>(tp.dataType);
  size_t elemSize = tp.dataType <= 26 ? dtypeSize(dtype) : 0;
  if (elemSize == 0)
    return Status::error(strCat("unsupported tensor data type ", tp.dataType));
  std::vector<int64_t> shape(tp.dims.begin(), tp.dims.end());
  int64_t dataBytes;
  if (!denseBytes(shape, elemSize, dataBytes))
    return Status::error("invalid tensor shape " + shapeStr(shape));
  // Sub-byte types are packed in the file: `perByte` elements to a byte (or int32 value).
  unsigned bits = dtypeBits(dtype);
  uint64_t n = dataBytes / elemSize;
  uint64_t perByte = bits < 8 ? 8 / bits : 1;
  uint64_t packedCount = (n + perByte - 1) / perByte;

  if (tp.hasRaw) {
    uint64_t want = bits < 8 ? packedCount : static_cast<uint64_t>(dataBytes);
    if (tp.raw.size != want)
      return Status::error(strCat(
          tp.raw.size < want ? "truncated: " : "trailing bytes: ", "raw_data has ", tp.raw.size,
          " bytes, shape ", shapeStr(shape), " of ", dtypeName(dtype), " needs ", want));
    Tensor t(dtype, shape);
    if (bits < 8)
      unpackBits(tp.raw.data, n, bits, t.data.data());
    else
      copyBytes(t.data.data(), tp.raw.data, dataBytes);
    return t;
  }
  auto [values, fieldName] = typedValues(tp, dtype);
  if (values->size() != packedCount)
    return Status::error(strCat(fieldName, " has ", values->size(), " values, shape ",
                                shapeStr(shape), " needs ", packedCount));
  Tensor t(dtype, shape);
  if (bits < 8) {
    std::vector<uint8_t> packed(packedCount);
    for (uint64_t i = 0; i < packedCount; ++i)
      packed[i] = static_cast<uint8_t>((*values)[i]);
    unpackBits(packed.data(), n, bits, t.data.data());
    return t;
  }
  // Each value's low bytes are the element (little-endian two's complement or bits).
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t v = (*values)[i];
    if (dtype == DType::Bool)
      v = v != 0;
    for (size_t b = 0; b < elemSize; ++b)
      t.data[i * elemSize + b] = static_cast<uint8_t>(v >> (8 * b));
  }
  return t;
}

namespace {

bool endsWith(const std::string &s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         std::string_view(s).substr(s.size() - suffix.size()) == suffix;
}

} // namespace

Expected<Tensor> readTensorFile(const std::string &path) {
  bool npy = endsWith(path, ".npy");
  if (!npy && !endsWith(path, ".pb"))
    return Status::error(path + ": unknown tensor file type (expected .npy or .pb)");
  Expected<std::vector<uint8_t>> bytes = readFileBytes(path);
  if (!bytes)
    return bytes.status();
  Expected<Tensor> t = npy ? parseNpy(*bytes) : parseTensorProto(*bytes);
  if (!t)
    return Status::error(path + ": " + t.message());
  return t;
}

namespace {

/// The tensors of a SequenceProto (tensor_values; other element kinds are refused).
Status decodeSequence(const uint8_t *data, size_t size, std::vector<Tensor> &out) {
  WireReader r{data, size};
  while (!r.done()) {
    uint64_t key;
    if (!r.varint(key))
      return Status::error("malformed SequenceProto");
    uint32_t field = key >> 3, type = key & 7;
    if (field == 3 && type == LengthDelimited) {
      WireReader sub{nullptr, 0};
      if (!r.lengthDelimited(sub))
        return Status::error("malformed SequenceProto");
      Expected<Tensor> t = parseTensorProto(std::vector<uint8_t>(sub.data, sub.data + sub.size));
      if (!t)
        return Status::error("sequence element " + std::to_string(out.size()) + ": " + t.message());
      out.push_back(std::move(*t));
    } else if (field >= 4 && field <= 7) {
      return Status::error("sequences of sparse tensors, sequences, maps or optionals are "
                           "not supported");
    } else if (!r.skip(type)) {
      return Status::error("malformed SequenceProto");
    }
  }
  return Status::ok();
}

} // namespace

Expected<TensorList> parseSequenceProto(const std::vector<uint8_t> &bytes) {
  TensorList list;
  list.sequence = true;
  if (Status s = decodeSequence(bytes.data(), bytes.size(), list.tensors); !s)
    return s;
  return list;
}

Expected<TensorList> parseOptionalProto(const std::vector<uint8_t> &bytes) {
  TensorList list;
  list.present = false;
  WireReader r{bytes.data(), bytes.size()};
  while (!r.done()) {
    uint64_t key;
    if (!r.varint(key))
      return Status::error("malformed OptionalProto");
    uint32_t field = key >> 3, type = key & 7;
    WireReader sub{nullptr, 0};
    if ((field == 3 || field == 5) && type == LengthDelimited) {
      if (!r.lengthDelimited(sub))
        return Status::error("malformed OptionalProto");
      list.present = true;
      if (field == 3) {
        Expected<Tensor> t = parseTensorProto(std::vector<uint8_t>(sub.data, sub.data + sub.size));
        if (!t)
          return t.status();
        list.tensors.push_back(std::move(*t));
      } else {
        list.sequence = true;
        if (Status s = decodeSequence(sub.data, sub.size, list.tensors); !s)
          return s;
      }
    } else if (field == 4 || field == 6 || field == 7) {
      return Status::error("optionals of sparse tensors, maps or optionals are not supported");
    } else if (!r.skip(type)) {
      return Status::error("malformed OptionalProto");
    }
  }
  return list;
}

Expected<TensorList> readTensorListFile(const std::string &path, bool optional) {
  if (!endsWith(path, ".pb"))
    return Status::error(path + ": a sequence or optional input needs a .pb file (" +
                         (optional ? "OptionalProto" : "SequenceProto") + ")");
  Expected<std::vector<uint8_t>> bytes = readFileBytes(path);
  if (!bytes)
    return bytes.status();
  Expected<TensorList> list = optional ? parseOptionalProto(*bytes) : parseSequenceProto(*bytes);
  if (!list)
    return Status::error(path + ": " + list.message());
  return list;
}

Expected<std::vector<std::pair<std::string, Tensor>>> readNpz(const std::string &path) {
  Expected<std::vector<uint8_t>> file = readFileBytes(path);
  if (!file)
    return file.status();
  Expected<std::vector<std::pair<std::string, Tensor>>> arrays = parseNpz(*file);
  if (!arrays)
    return Status::error(path + ": " + arrays.message());
  return arrays;
}

Expected<std::vector<std::pair<std::string, Tensor>>> parseNpz(const std::vector<uint8_t> &z) {
  auto bad = [&](const std::string &why) { return Status::error(why); };
  // The end-of-central-directory record: within the last 64 KiB + 22 bytes.
  size_t eocd = std::string::npos;
  for (size_t i = z.size() >= 22 ? z.size() - 22 : 0, stop = i > 65557 ? i - 65557 : 0;
       z.size() >= 22; --i) {
    if (readLE(&z[i], 4) == 0x06054b50) {
      eocd = i;
      break;
    }
    if (i == stop)
      break;
  }
  if (eocd == std::string::npos)
    return bad("not a .npz file (no zip directory)");
  uint32_t count = readLE(&z[eocd + 10], 2), offset = readLE(&z[eocd + 16], 4);
  std::vector<std::pair<std::string, Tensor>> out;
  size_t at = offset;
  for (uint32_t e = 0; e < count; ++e) {
    if (at + 46 > z.size() || readLE(&z[at], 4) != 0x02014b50)
      return bad("corrupt zip directory");
    uint32_t method = readLE(&z[at + 10], 2), size = readLE(&z[at + 20], 4),
             nameLen = readLE(&z[at + 28], 2), extraLen = readLE(&z[at + 30], 2),
             commentLen = readLE(&z[at + 32], 2), local = readLE(&z[at + 42], 4);
    if (at + 46 + nameLen > z.size())
      return bad("corrupt zip directory");
    std::string name(reinterpret_cast<const char *>(&z[at + 46]), nameLen);
    at += 46 + nameLen + extraLen + commentLen;
    if (method != 0)
      return bad("entry '" + name + "' is compressed; save with numpy.savez, not "
                 "savez_compressed");
    if (uint64_t(local) + 30 > z.size() || readLE(&z[local], 4) != 0x04034b50)
      return bad("corrupt zip entry '" + name + "'");
    uint64_t data = uint64_t(local) + 30 + readLE(&z[local + 26], 2) + readLE(&z[local + 28], 2);
    if (data > z.size() || size > z.size() - data)
      return bad("truncated zip entry '" + name + "'");
    Expected<Tensor> t =
        parseNpy(std::vector<uint8_t>(z.begin() + data, z.begin() + data + size));
    if (!t)
      return bad("'" + name + "': " + t.message());
    if (endsWith(name, ".npy"))
      name.resize(name.size() - 4);
    out.emplace_back(name, std::move(*t));
  }
  return out;
}

namespace {

/// The bytes of `t` as a .npy file; `what` names it in errors.
Expected<std::string> npyBytes(const std::string &what, const Tensor &t) {
  const NpyType *type = nullptr;
  for (const NpyType &candidate : kNpyTypes)
    if (candidate.dtype == t.dtype)
      type = &candidate;
  if (!type)
    return Status::error(
        strCat(what, ": cannot write ", dtypeName(t.dtype), " tensors as .npy"));
  int64_t dataBytes;
  if (!denseBytes(t.shape, dtypeSize(t.dtype), dataBytes) ||
      static_cast<uint64_t>(dataBytes) != t.data.size())
    return Status::error(strCat(what, ": tensor has ", t.data.size(),
                                " bytes, which does not match its shape ",
                                shapeStr(t.shape)));

  std::string shape;
  for (int64_t d : t.shape)
    shape += std::to_string(d) + (t.shape.size() == 1 ? "," : ", ");
  if (t.shape.size() > 1)
    shape.resize(shape.size() - 2);
  std::string dict =
      strCat("{'descr': '", dtypeSize(t.dtype) == 1 ? '|' : '<', type->code,
             "', 'fortran_order': False, 'shape': (", shape, "), }");
  // Version 1.0 stores the header length in 2 bytes; 2.0 in 4. Pad with spaces and a
  // newline so the data starts 64-byte aligned.
  size_t prefix = alignUp(10 + dict.size() + 1, 64) - 10 <= 0xffff ? 10 : 12;
  dict.resize(alignUp(prefix + dict.size() + 1, 64) - prefix - 1, ' ');
  dict += '\n';
  std::string bytes(kNpyMagic, kNpyMagicSize);
  bytes += static_cast<char>(prefix == 10 ? 1 : 2);
  bytes += '\0';
  for (size_t i = 0; i < prefix - 8; ++i)
    bytes += static_cast<char>(dict.size() >> (8 * i));
  bytes += dict;
  bytes.append(reinterpret_cast<const char *>(t.data.data()), t.data.size());
  return bytes;
}

uint32_t crc32(const std::string &data) {
  static const std::vector<uint32_t> table = [] {
    std::vector<uint32_t> t(256);
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xffffffffu;
  for (unsigned char b : data)
    c = table[(c ^ b) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

void putLE(std::string &out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i)
    out += static_cast<char>(v >> (8 * i));
}

Status writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f)
    return Status::error("cannot create '" + path + "': " + std::strerror(errno));
  f.write(bytes.data(), bytes.size());
  f.close();
  if (!f)
    return Status::error("cannot write '" + path + "'");
  return Status::ok();
}

} // namespace

Status writeNpy(const std::string &path, const Tensor &t) {
  Expected<std::string> bytes = npyBytes(path, t);
  if (!bytes)
    return bytes.status();
  return writeBytes(path, *bytes);
}

Status writeNpz(const std::string &path,
                const std::vector<std::pair<std::string, Tensor>> &arrays) {
  // A zip of stored (uncompressed) NAME.npy entries, as numpy.savez writes.
  std::string out, directory;
  for (const auto &[name, t] : arrays) {
    Expected<std::string> npy = npyBytes(path + ": '" + name + "'", t);
    if (!npy)
      return npy.status();
    std::string file = name + ".npy";
    if (npy->size() >= 0xffffffffu || out.size() >= 0xffffffffu)
      return Status::error(path + ": too large for a .npz without zip64");
    uint32_t crc = crc32(*npy);
    uint64_t local = out.size();
    putLE(out, 0x04034b50, 4);
    putLE(out, 20, 2); // version needed
    putLE(out, 0, 2);  // flags
    putLE(out, 0, 2);  // stored
    putLE(out, 0, 4);  // time, date
    putLE(out, crc, 4);
    putLE(out, npy->size(), 4);
    putLE(out, npy->size(), 4);
    putLE(out, file.size(), 2);
    putLE(out, 0, 2);
    out += file;
    out += *npy;
    putLE(directory, 0x02014b50, 4);
    putLE(directory, 20, 2); // version made by
    putLE(directory, 20, 2); // version needed
    putLE(directory, 0, 2);
    putLE(directory, 0, 2);
    putLE(directory, 0, 4);
    putLE(directory, crc, 4);
    putLE(directory, npy->size(), 4);
    putLE(directory, npy->size(), 4);
    putLE(directory, file.size(), 2);
    putLE(directory, 0, 2); // extra
    putLE(directory, 0, 2); // comment
    putLE(directory, 0, 2); // disk
    putLE(directory, 0, 2); // internal attributes
    putLE(directory, 0, 4); // external attributes
    putLE(directory, local, 4);
    directory += file;
  }
  uint64_t dirOffset = out.size();
  out += directory;
  putLE(out, 0x06054b50, 4);
  putLE(out, 0, 4);
  putLE(out, arrays.size(), 2);
  putLE(out, arrays.size(), 2);
  putLE(out, directory.size(), 4);
  putLE(out, dirOffset, 4);
  putLE(out, 0, 2);
  return writeBytes(path, out);
}

} // namespace dlc
