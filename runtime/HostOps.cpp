//===- HostOps.cpp - NonZero, Unique, NonMaxSuppression on the host -------===//
//
// Parameters (Launch::hostInts) and bindings of each op:
//   NonZero           x -> indices [rank(x), n];                     ints: none
//   Unique            x -> y, indices, inverse_indices, counts;      ints: sorted, has_axis, axis
//   TopK              x, k -> values, indices (sorted);                  ints: axis, largest
//   NonMaxSuppression boxes, scores[, max_output_boxes_per_class][, iou_threshold]
//                     [, score_threshold] -> selected [n, 3];        ints: center_point_box,
//                     has_max_output, has_iou_threshold, has_score_threshold
//   Loop              M, cond, carried..., captured... -> carried..., scans...;
//                     ints: body (sub-model index), #carried, #scans, then per data dim
//                     the output and dim whose extent it is
//   Slice             x, starts, ends -> y; ints: count n, n axes, n steps (one data
//                     dim per axis: its extent)
//   If                cond, captured... -> outputs; ints: then and else sub-models, the
//                     then branch's input count and input indices, the else branch's,
//                     then per data dim the output and dim whose extent it is
//   DataDims          values [n] -> carrier [v0, ..., v(n-1), 0] (no bytes); ints: none
//                     (one data dim per entry: its value)
// The first four decide one data dim, n; DataDims one per entry; Loop decides the scan length and
// any extent of a loop-carried value that changes across iterations; If the extents on which its
// branches disagree. The semantics are the ONNX spec's, with onnxruntime's choices where it leaves
// room (NonMaxSuppression's tie order and IoU rule).
//
//===----------------------------------------------------------------------===//
#include "HostOps.h"

#include "Support.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <optional>

namespace dlc {
namespace {

/// Element `i` of `t` as a double (float and integer types up to 32 bits are exact).
double valueAt(const Tensor &t, int64_t i) {
  const uint8_t *p = t.data.data() + i * dtypeSize(t.dtype);
  auto load = [&](auto v) {
    std::memcpy(&v, p, sizeof(v));
    return v;
  };
  switch (t.dtype) {
  case DType::Float:
    return load(float());
  case DType::Double:
    return load(double());
  case DType::Float16:
    return halfToFloat(load(uint16_t()));
  case DType::BFloat16: {
    uint32_t bits = uint32_t(load(uint16_t())) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  case DType::Int8:
    return load(int8_t());
  case DType::Int16:
    return load(int16_t());
  case DType::Int32:
    return load(int32_t());
  case DType::Int64:
    return (double)load(int64_t());
  case DType::UInt8:
  case DType::Bool:
    return load(uint8_t());
  case DType::UInt16:
    return load(uint16_t());
  case DType::UInt32:
    return load(uint32_t());
  case DType::UInt64:
    return (double)load(uint64_t());
  default:
    return *p;
  }
}

/// Whether element `i` of `t` is not zero (NaN is not zero; -0.0 is).
bool nonZeroAt(const Tensor &t, int64_t i) {
  size_t size = dtypeSize(t.dtype);
  const uint8_t *p = t.data.data() + i * size;
  switch (t.dtype) {
  case DType::Float:
  case DType::Double:
  case DType::Float16:
  case DType::BFloat16:
    return valueAt(t, i) != 0.0;
  case DType::Float8E4M3FN:
  case DType::Float8E5M2:
    return (*p & 0x7f) != 0;
  case DType::Float4E2M1:
    return (*p & 0x7) != 0;
  case DType::Float8E8M0:
    return true; // no zero in the format
  default:
    for (size_t k = 0; k < size; ++k)
      if (p[k])
        return true;
    return false;
  }
}

/// Three-way comparison of elements `a` and `b` of `t` by value.
int compareAt(const Tensor &t, int64_t a, int64_t b) {
  auto cmp = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
  if (t.dtype == DType::Int64) {
    const int64_t *p = t.as<int64_t>();
    return cmp(p[a], p[b]);
  }
  if (t.dtype == DType::UInt64) {
    const uint64_t *p = t.as<uint64_t>();
    return cmp(p[a], p[b]);
  }
  return cmp(valueAt(t, a), valueAt(t, b));
}

Expected<HostResult> nonZero(const Tensor &x) {
  int64_t n = x.numElements(), rank = x.shape.size();
  std::vector<int64_t> hits;
  for (int64_t i = 0; i < n; ++i)
    if (nonZeroAt(x, i))
      hits.push_back(i);
  int64_t count = hits.size();
  Tensor out(DType::Int64, {rank, count});
  int64_t *o = out.as<int64_t>();
  for (int64_t k = 0; k < count; ++k) {
    int64_t rem = hits[k];
    for (int64_t d = rank; d-- > 0;) {
      o[d * count + k] = rem % x.shape[d];
      rem /= x.shape[d];
    }
  }
  return HostResult{{std::move(out)}, {count}};
}

Expected<HostResult> unique(const Tensor &x, bool sorted, bool hasAxis, int64_t axis) {
  // Slices along `axis` (or single elements of the flattened tensor) are the items.
  std::vector<int64_t> shape = x.shape;
  if (!hasAxis) {
    shape = {x.numElements()};
    axis = 0;
  }
  if (axis < 0 || axis >= (int64_t)shape.size())
    return Status::error(
        strCat("Unique: axis ", axis, " is out of range for shape ", shapeStr(x.shape)));
  int64_t outer = 1, inner = 1, items = shape[axis];
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  for (size_t d = axis + 1; d < shape.size(); ++d)
    inner *= shape[d];
  auto element = [&](int64_t item, int64_t k) { // k-th element of an item, row-major
    int64_t o = k / inner, i = k % inner;
    return (o * items + item) * inner + i;
  };
  int64_t itemSize = outer * inner;
  auto compare = [&](int64_t a, int64_t b) {
    for (int64_t k = 0; k < itemSize; ++k)
      if (int c = compareAt(x, element(a, k), element(b, k)))
        return c;
    return 0;
  };
  // Group equal items: sort their indices (stably: ties keep first occurrence first).
  std::vector<int64_t> order(items);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return compare(a, b) < 0; });
  std::vector<int64_t> first, counts, inverse(items);
  std::vector<int64_t> groupOf(items);
  for (size_t i = 0; i < order.size(); ++i) {
    if (i == 0 || compare(order[i - 1], order[i]) != 0) {
      first.push_back(order[i]);
      counts.push_back(0);
    }
    groupOf[order[i]] = first.size() - 1;
    ++counts.back();
  }
  // Output order: sorted by value, or by first occurrence.
  std::vector<int64_t> rank(first.size());
  std::iota(rank.begin(), rank.end(), 0);
  if (!sorted)
    std::stable_sort(rank.begin(), rank.end(),
                     [&](int64_t a, int64_t b) { return first[a] < first[b]; });
  std::vector<int64_t> position(first.size());
  for (size_t k = 0; k < rank.size(); ++k)
    position[rank[k]] = k;
  int64_t n = first.size();
  std::vector<int64_t> yShape = shape;
  yShape[axis] = n;
  Tensor y(x.dtype, yShape), indices(DType::Int64, {n}), inv(DType::Int64, {items}),
      cnt(DType::Int64, {n});
  size_t es = dtypeSize(x.dtype);
  for (int64_t k = 0; k < n; ++k) {
    int64_t item = first[rank[k]];
    indices.as<int64_t>()[k] = item;
    cnt.as<int64_t>()[k] = counts[rank[k]];
    for (int64_t e = 0; e < itemSize; ++e) {
      int64_t o = e / inner, i = e % inner;
      std::memcpy(y.data.data() + ((o * n + k) * inner + i) * es,
                  x.data.data() + element(item, e) * es, es);
    }
  }
  for (int64_t i = 0; i < items; ++i)
    inv.as<int64_t>()[i] = position[groupOf[i]];
  return HostResult{{std::move(y), std::move(indices), std::move(inv), std::move(cnt)}, {n}};
}

/// A box as NonMaxSuppression compares it: its corners ordered, and its area.
template <typename T> struct NmsBox {
  T xMin, xMax, yMin, yMax, area;
};

template <typename T> NmsBox<T> nmsBox(const T *b, bool centerPointBox) {
  NmsBox<T> r;
  if (!centerPointBox) {
    r.xMin = std::min(b[1], b[3]), r.xMax = std::max(b[1], b[3]);
    r.yMin = std::min(b[0], b[2]), r.yMax = std::max(b[0], b[2]);
  } else {
    r.xMin = b[0] - b[2] / 2, r.xMax = b[0] + b[2] / 2;
    r.yMin = b[1] - b[3] / 2, r.yMax = b[1] + b[3] / 2;
  }
  r.area = (r.xMax - r.xMin) * (r.yMax - r.yMin);
  return r;
}

template <typename T> bool suppressByIou(const NmsBox<T> &b1, const NmsBox<T> &b2, T iouThreshold) {
  T ixMin = std::max(b1.xMin, b2.xMin), ixMax = std::min(b1.xMax, b2.xMax);
  if (ixMax <= ixMin)
    return false;
  T iyMin = std::max(b1.yMin, b2.yMin), iyMax = std::min(b1.yMax, b2.yMax);
  if (iyMax <= iyMin)
    return false;
  T inter = (ixMax - ixMin) * (iyMax - iyMin);
  if (inter <= 0)
    return false;
  T uni = b1.area + b2.area - inter;
  if (b1.area <= 0 || b2.area <= 0 || uni <= 0)
    return false;
  return inter / uni > iouThreshold;
}

template <typename T>
Expected<HostResult> nms(const Tensor &boxes, const Tensor &scores, int64_t maxOut,
                         double iouThreshold, std::optional<double> scoreThreshold,
                         bool centerPointBox) {
  if (boxes.shape.size() != 3 || boxes.shape[2] != 4 || scores.shape.size() != 3 ||
      scores.shape[0] != boxes.shape[0] || scores.shape[2] != boxes.shape[1])
    return Status::error(strCat("NonMaxSuppression: boxes ", shapeStr(boxes.shape), " and scores ",
                                shapeStr(scores.shape),
                                " must be [batch, boxes, 4] and [batch, classes, boxes]"));
  int64_t batches = boxes.shape[0], numBoxes = boxes.shape[1], classes = scores.shape[1];
  const T *bx = boxes.as<T>(), *sc = scores.as<T>();
  T iou = static_cast<T>(iouThreshold);
  std::vector<int64_t> out;
  std::vector<int64_t> candidates;
  // Each box's corners and area once per batch: a detector's batched NMS
  // (torchvision offsets each class's boxes apart) compares tens of thousands of
  // candidates with thousands of kept boxes.
  std::vector<NmsBox<T>> canon(numBoxes), selected;
  // The kept boxes ordered by xMin. A kept box whose x range does not overlap the
  // candidate's never suppresses it (suppressByIou), and those that overlap start
  // within the widest kept box's width to the candidate's left: with torchvision's
  // class offsets, a candidate meets its own class's boxes only. Boxes with a NaN
  // coordinate or area never suppress (every comparison fails) and stay out.
  std::vector<std::pair<double, size_t>> byX;
  auto hasNan = [](const NmsBox<T> &x) {
    return std::isnan(x.xMin) || std::isnan(x.xMax) || std::isnan(x.yMin) || std::isnan(x.yMax) ||
           std::isnan(x.area);
  };
  for (int64_t b = 0; b < batches; ++b) {
    for (int64_t i = 0; i < numBoxes; ++i)
      canon[i] = nmsBox(bx + (b * numBoxes + i) * 4, centerPointBox);
    for (int64_t c = 0; c < classes; ++c) {
      const T *s = sc + (b * classes + c) * numBoxes;
      candidates.clear();
      for (int64_t i = 0; i < numBoxes; ++i)
        if (!scoreThreshold || s[i] > static_cast<T>(*scoreThreshold))
          candidates.push_back(i);
      // Highest score first; equal scores: lower index first.
      std::stable_sort(candidates.begin(), candidates.end(),
                       [&](int64_t x, int64_t y) { return s[x] > s[y]; });
      selected.clear();
      byX.clear();
      double maxWidth = 0;
      for (int64_t i : candidates) {
        if ((int64_t)selected.size() >= maxOut)
          break;
        const NmsBox<T> &box = canon[i];
        bool keep = true;
        if (!std::isnan(box.xMin) && !std::isnan(box.xMax)) {
          // Widened by a relative 1e-9: the bound is a rounded difference.
          double lo = (double)box.xMin - maxWidth;
          lo -= 1e-9 * (std::abs((double)box.xMin) + maxWidth);
          auto at = std::lower_bound(byX.begin(), byX.end(), std::make_pair(lo, size_t(0)));
          for (; at != byX.end() && at->first < (double)box.xMax; ++at)
            if (suppressByIou(box, selected[at->second], iou)) {
              keep = false;
              break;
            }
        }
        if (keep) {
          if (!hasNan(box)) {
            std::pair<double, size_t> entry{(double)box.xMin, selected.size()};
            byX.insert(std::upper_bound(byX.begin(), byX.end(), entry), entry);
            maxWidth = std::max(maxWidth, (double)box.xMax - (double)box.xMin);
          }
          selected.push_back(box);
          out.insert(out.end(), {b, c, i});
        }
      }
    }
  }
  int64_t n = out.size() / 3;
  Tensor t(DType::Int64, {n, 3});
  std::copy(out.begin(), out.end(), t.as<int64_t>());
  return HostResult{{std::move(t)}, {n}};
}

Expected<HostResult> topK(const Tensor &x, const Tensor &kt, int64_t axis, bool largest) {
  if (kt.numElements() != 1 || (kt.dtype != DType::Int64 && kt.dtype != DType::Int32))
    return Status::error("TopK: k must be one int64 value");
  int64_t k = kt.dtype == DType::Int64 ? kt.as<int64_t>()[0] : kt.as<int32_t>()[0];
  if (axis < 0 || axis >= (int64_t)x.shape.size())
    return Status::error(strCat("TopK: axis ", axis, " is out of range for ", shapeStr(x.shape)));
  int64_t n = x.shape[axis];
  if (k < 0 || k > n)
    return Status::error(strCat("TopK: k = ", k, " is not within the axis extent ", n));
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= x.shape[d];
  for (size_t d = axis + 1; d < x.shape.size(); ++d)
    inner *= x.shape[d];
  std::vector<int64_t> shape = x.shape;
  shape[axis] = k;
  Tensor values(x.dtype, shape), indices(DType::Int64, shape);
  size_t es = dtypeSize(x.dtype);
  std::vector<int64_t> order(n);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t j) { return (o * n + j) * inner + i; };
      std::iota(order.begin(), order.end(), 0);
      // Ties keep the lower index first (the ONNX rule); NaN counts as the largest.
      // Only the first k are ordered (RetinaNet keeps 1000 of 2 million scores).
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
        double va = valueAt(x, at(a)), vb = valueAt(x, at(b));
        bool na = std::isnan(va), nb = std::isnan(vb);
        if (na != nb)
          return largest ? na : nb;
        int c = na ? 0 : compareAt(x, at(a), at(b));
        if (c != 0)
          return largest ? c > 0 : c < 0;
        return a < b;
      });
      for (int64_t j = 0; j < k; ++j) {
        int64_t out = (o * k + j) * inner + i;
        std::memcpy(values.data.data() + out * es, x.data.data() + at(order[j]) * es, es);
        indices.as<int64_t>()[out] = order[j];
      }
    }
  return HostResult{{std::move(values), std::move(indices)}, {k}};
}

/// Element `i` of integer tensor `t`, exactly (INT64_MAX and its kin included).
int64_t intAt(const Tensor &t, int64_t i) {
  const uint8_t *p = t.data.data() + i * dtypeSize(t.dtype);
  auto load = [&](auto v) {
    std::memcpy(&v, p, sizeof(v));
    return v;
  };
  switch (t.dtype) {
  case DType::Int64:
    return load(int64_t());
  case DType::UInt64:
    return (int64_t)std::min<uint64_t>(load(uint64_t()), INT64_MAX);
  case DType::Int32:
    return load(int32_t());
  case DType::UInt32:
    return load(uint32_t());
  default:
    return (int64_t)valueAt(t, i);
  }
}

/// The entries of `values` as data dims, and the zero-byte tensor that carries them.
Expected<HostResult> dataDims(const Tensor &values) {
  bool integer = values.dtype == DType::Int64 || values.dtype == DType::Int32 ||
                 values.dtype == DType::UInt64 || values.dtype == DType::UInt32;
  if (!integer || values.shape.size() != 1)
    return Status::error(strCat("DataDims: reads a 1-D integer tensor, not ",
                                dtypeName(values.dtype), " ", shapeStr(values.shape)));
  HostResult result;
  for (int64_t i = 0; i < values.numElements(); ++i) {
    int64_t v = intAt(values, i);
    if (v < 0 || v > INT32_MAX)
      return Status::error(strCat("DataDims: a computed extent is ", v, " (entry ", i, " of ",
                                  shapeStr(values.shape), ")"));
    result.dataDims.push_back(v);
  }
  std::vector<int64_t> shape = result.dataDims;
  shape.push_back(0);
  result.outputs.push_back(Tensor(DType::Int8, shape));
  return result;
}

/// ONNX Slice with starts and ends read from `starts` and `ends` (negative counts from
/// the end, out-of-range clamps), on constant `axes` and `steps`.
Expected<HostResult> slice(const Tensor &x, const Tensor &starts, const Tensor &ends,
                           const std::vector<int64_t> &axes, const std::vector<int64_t> &steps) {
  size_t rank = x.shape.size();
  if (starts.numElements() != (int64_t)axes.size() || ends.numElements() != (int64_t)axes.size())
    return Status::error(strCat("Slice: ", axes.size(), " axes, ", starts.numElements(),
                                " starts and ", ends.numElements(), " ends"));
  std::vector<int64_t> first(rank, 0), step(rank, 1), shape = x.shape;
  HostResult result;
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t axis = axes[i], dim = x.shape[axis], st = steps[i];
    int64_t s = intAt(starts, i), e = intAt(ends, i);
    if (s < 0)
      s = s < -dim ? 0 : s + dim;
    if (e < 0)
      e = e < -dim ? -1 : e + dim;
    int64_t count;
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      count = e > s ? (e - s + st - 1) / st : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      count = s > e ? (s - e + (-st) - 1) / (-st) : 0;
    }
    if (dim == 0)
      count = 0;
    first[axis] = s;
    step[axis] = st;
    shape[axis] = count;
    result.dataDims.push_back(count);
  }
  Tensor y(x.dtype, shape);
  int64_t n = y.numElements();
  size_t bytes = dtypeSize(x.dtype);
  std::vector<int64_t> stride(rank, 1);
  for (size_t d = rank; d-- > 1;)
    stride[d - 1] = stride[d] * x.shape[d];
  std::vector<int64_t> idx(rank, 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t at = 0;
    for (size_t d = 0; d < rank; ++d)
      at += (first[d] + idx[d] * step[d]) * stride[d];
    std::memcpy(y.data.data() + k * bytes, x.data.data() + at * bytes, bytes);
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < shape[d])
        break;
      idx[d] = 0;
    }
  }
  result.outputs.push_back(std::move(y));
  return result;
}

/// The integer in one-element tensor `t` (a trip count or condition).
int64_t scalarInt(const Tensor &t) { return t.numElements() < 1 ? 0 : intAt(t, 0); }

/// A one-element tensor of `dtype` holding `v`, shaped as the body declares its input.
Tensor bodyScalar(const TensorInfo &info, int64_t v) {
  Tensor t(info.dtype, info.shape.empty() ? std::vector<int64_t>{} : std::vector<int64_t>{1});
  if (info.dtype == DType::Bool)
    t.data[0] = v != 0;
  else
    std::memcpy(t.data.data(), &v, std::min<size_t>(8, t.data.size()));
  return t;
}

/// Appends to `result` the data dims that parameters from `at` on name as (output, dim)
/// pairs of its outputs.
Status readDataDims(const artifact::Launch &l, size_t at, HostResult &result) {
  for (size_t i = at; i + 1 < l.hostInts.size(); i += 2) {
    const std::vector<int64_t> &shape = result.outputs[l.hostInts[i]].shape;
    if (static_cast<uint64_t>(l.hostInts[i + 1]) >= shape.size())
      return Status::error(strCat(l.hostOp, ": output ", l.hostInts[i], " has rank ", shape.size(),
                                  ", no dim ", l.hostInts[i + 1]));
    result.dataDims.push_back(shape[l.hostInts[i + 1]]);
  }
  return Status::ok();
}

/// ONNX Loop, running the body `body` (a compiled sub-model) once per iteration:
/// while iter < M and cond, (cond, carried..., scan parts...) = body(iter, cond,
/// carried..., captured...). Scan outputs stack each iteration's part on a new axis 0.
Expected<HostResult> loop(const artifact::Launch &l, std::vector<Tensor> args, Model &body) {
  int64_t carried = l.hostInts[1], scans = l.hostInts[2];
  const std::vector<TensorInfo> &bodyIn = body.inputs(), &bodyOut = body.outputs();
  if (bodyIn.size() != args.size() || bodyOut.size() != size_t(1 + carried + scans) ||
      bodyIn[0].dtype != DType::Int64 || bodyIn[0].shape.size() > 1 ||
      bodyIn[1].dtype != DType::Bool || bodyIn[1].shape.size() > 1)
    return Status::error(strCat("Loop: the body takes ", bodyIn.size(), " inputs and gives ",
                                bodyOut.size(), " outputs; the launch binds ", args.size(),
                                " inputs, ", carried, " loop-carried values and ", scans,
                                " scan outputs"));
  int64_t tripCount = scalarInt(args[0]);
  bool cond = args[1].numElements() == 0 || scalarInt(args[1]) != 0;
  std::vector<Tensor> outs;
  std::vector<std::vector<uint8_t>> scanBytes(scans);
  std::vector<std::vector<int64_t>> scanShapes(scans);
  int64_t iter = 0;
  for (; iter < tripCount && cond; ++iter) {
    args[0] = bodyScalar(bodyIn[0], iter);
    args[1] = bodyScalar(bodyIn[1], 1);
    if (Status s = body.runInto(args, outs); !s)
      return Status::error(strCat("Loop iteration ", iter, ": ", s.message()));
    cond = scalarInt(outs[0]) != 0;
    for (int64_t k = 0; k < carried; ++k) {
      if (outs[1 + k].dtype != args[2 + k].dtype)
        return Status::error(strCat("Loop: loop-carried value ", k, " changes dtype"));
      std::swap(args[2 + k], outs[1 + k]);
    }
    for (int64_t k = 0; k < scans; ++k) {
      const Tensor &part = outs[1 + carried + k];
      if (iter == 0)
        scanShapes[k] = part.shape;
      else if (part.shape != scanShapes[k])
        return Status::error(strCat("Loop: scan output ", k, " has shape ", shapeStr(part.shape),
                                    " in iteration ", iter, " and ", shapeStr(scanShapes[k]),
                                    " before (a scan output, and a sequence a runtime loop "
                                    "appends to, takes one shape in every iteration)"));
      scanBytes[k].insert(scanBytes[k].end(), part.data.begin(), part.data.end());
    }
  }
  HostResult result;
  for (int64_t k = 0; k < carried; ++k)
    result.outputs.push_back(std::move(args[2 + k]));
  for (int64_t k = 0; k < scans; ++k) {
    const TensorInfo &info = bodyOut[1 + carried + k];
    std::vector<int64_t> shape{iter};
    if (iter == 0)
      for (int64_t d : info.shape)
        shape.push_back(std::max<int64_t>(d, 0)); // unknown: 0 (the plan has the rest)
    else
      shape.insert(shape.end(), scanShapes[k].begin(), scanShapes[k].end());
    Tensor t(info.dtype, shape);
    if (t.data.size() != scanBytes[k].size())
      return Status::error(strCat("Loop: scan output ", k, " has ", scanBytes[k].size(),
                                  " bytes for shape ", shapeStr(shape)));
    t.data = std::move(scanBytes[k]);
    result.outputs.push_back(std::move(t));
  }
  if (Status s = readDataDims(l, 3, result); !s)
    return s;
  return result;
}

/// The positions of an If's parameters: the then and else branches' input lists (a
/// count, then operand indices) and where the data dims' (output, dim) pairs start.
struct IfLayout {
  size_t thenAt, elseAt, pairsAt;
};
std::optional<IfLayout> ifLayout(const std::vector<int64_t> &p) {
  if (p.size() < 4 || p[2] < 0 || size_t(p[2]) > p.size() - 4)
    return std::nullopt;
  size_t elseCount = 3 + p[2];
  if (p[elseCount] < 0 || size_t(p[elseCount]) > p.size() - elseCount - 1)
    return std::nullopt;
  return IfLayout{3, elseCount + 1, elseCount + 1 + size_t(p[elseCount])};
}

/// ONNX If: runs the branch the condition picks on the operands it reads.
Expected<HostResult> runIf(const artifact::Launch &l, std::vector<Tensor> in,
                           const std::vector<std::unique_ptr<Model>> &subModels) {
  IfLayout at = *ifLayout(l.hostInts); // checkHostOp verified it
  bool cond = scalarInt(in[0]) != 0;
  Model &branch = *subModels[l.hostInts[cond ? 0 : 1]];
  size_t first = cond ? at.thenAt : at.elseAt, count = l.hostInts[first - 1];
  std::vector<Tensor> args;
  for (size_t i = 0; i < count; ++i)
    args.push_back(std::move(in[l.hostInts[first + i]])); // distinct within a branch
  HostResult result;
  if (Status s = branch.runInto(args, result.outputs); !s)
    return Status::error(strCat("If (", cond ? "then" : "else", " branch): ", s.message()));
  if (result.outputs.size() != l.bindings.size() - l.numInputs)
    return Status::error(strCat("If: the branch gives ", result.outputs.size(),
                                " outputs, the launch binds ", l.bindings.size() - l.numInputs));
  if (Status s = readDataDims(l, at.pairsAt, result); !s)
    return s;
  return result;
}

struct HostOpInfo {
  const char *name;
  size_t ints;
  size_t minInputs, maxInputs, outputs;
};

constexpr HostOpInfo kHostOps[] = {
    {"NonZero", 0, 1, 1, 1},   {"Unique", 3, 1, 1, 4},      {"NonMaxSuppression", 4, 2, 5, 1},
    {"TopK", 2, 2, 2, 2},      {"Loop", 3, 2, SIZE_MAX, 0}, // variable counts: checkHostOp
    {"If", 4, 1, SIZE_MAX, 0}, {"Slice", 1, 3, 3, 1},       {"DataDims", 0, 1, 1, 1},
};

const HostOpInfo *findHostOp(const std::string &name) {
  for (const HostOpInfo &op : kHostOps)
    if (name == op.name)
      return &op;
  return nullptr;
}

} // namespace

Status checkHostOp(const artifact::Launch &l) {
  const HostOpInfo *op = findHostOp(l.hostOp);
  if (!op)
    return Status::error("unknown host op");
  size_t inputs = l.numInputs, outputs = l.bindings.size() - l.numInputs;
  if (l.hostOp == "Loop") {
    const std::vector<int64_t> &p = l.hostInts;
    if (p.size() < 3 || p.size() != 3 + 2 * l.dataDims.size() || p[1] < 0 || p[2] < 0 ||
        size_t(p[1]) > inputs - std::min<size_t>(inputs, 2) ||
        outputs != size_t(p[1]) + size_t(p[2]) || inputs < 2 || p[0] < 0)
      return Status::error(strCat("has ", p.size(), " parameters, ", l.dataDims.size(),
                                  " data dims, ", inputs, " inputs and ", outputs, " outputs"));
    for (size_t i = 3; i < p.size(); i += 2)
      if (p[i] < 0 || size_t(p[i]) >= outputs || p[i + 1] < 0)
        return Status::error(strCat("decides a data dim from output ", p[i], " dim ", p[i + 1]));
    return Status::ok();
  }
  if (l.hostOp == "If") {
    std::optional<IfLayout> at = ifLayout(l.hostInts);
    if (!at || l.hostInts.size() != at->pairsAt + 2 * l.dataDims.size() || inputs < 1 ||
        l.hostInts[0] < 0 || l.hostInts[1] < 0)
      return Status::error(
          strCat("has ", l.hostInts.size(), " parameters for ", l.dataDims.size(), " data dims"));
    for (size_t i = at->thenAt; i < at->pairsAt; ++i)
      if (i != at->elseAt - 1 && (l.hostInts[i] < 1 || size_t(l.hostInts[i]) >= inputs))
        return Status::error(strCat("reads input ", l.hostInts[i], " of ", inputs));
    for (size_t i = at->pairsAt; i < l.hostInts.size(); i += 2)
      if (l.hostInts[i] < 0 || size_t(l.hostInts[i]) >= outputs || l.hostInts[i + 1] < 0)
        return Status::error(
            strCat("decides a data dim from output ", l.hostInts[i], " dim ", l.hostInts[i + 1]));
    return Status::ok();
  }
  if (l.hostOp == "Slice") {
    const std::vector<int64_t> &p = l.hostInts;
    if (p.empty() || p[0] < 1 || p[0] > 32 || p.size() != size_t(1 + 2 * p[0]) ||
        l.dataDims.size() != size_t(p[0]) || inputs != 3 || outputs != 1)
      return Status::error(strCat("has ", p.size(), " parameters, ", l.dataDims.size(),
                                  " data dims, ", inputs, " inputs and ", outputs, " outputs"));
    for (int64_t i = 1; i <= p[0]; ++i)
      if (p[i] < 0 || p[i] >= 32 || p[p[0] + i] == 0)
        return Status::error(strCat("slices axis ", p[i], " by step ", p[p[0] + i]));
    return Status::ok();
  }
  if (l.hostOp == "DataDims") {
    if (!l.hostInts.empty() || l.dataDims.empty() || l.dataDims.size() >= 32 || inputs != 1 ||
        outputs != 1)
      return Status::error(strCat("has ", l.hostInts.size(), " parameters, ", l.dataDims.size(),
                                  " data dims, ", inputs, " inputs and ", outputs, " outputs"));
    return Status::ok();
  }
  if (l.dataDims.size() != 1)
    return Status::error(strCat("decides ", l.dataDims.size(), " data dims, not 1"));
  if (l.hostInts.size() != op->ints || inputs < op->minInputs || inputs > op->maxInputs ||
      outputs != op->outputs)
    return Status::error(strCat("has ", l.hostInts.size(), " parameters, ", inputs, " inputs and ",
                                outputs, " outputs"));
  if (l.hostOp == "NonMaxSuppression" && inputs != 2 + size_t(l.hostInts[1] != 0) +
                                                       size_t(l.hostInts[2] != 0) +
                                                       size_t(l.hostInts[3] != 0))
    return Status::error(strCat("binds ", inputs, " inputs, not those its parameters name"));
  return Status::ok();
}

Expected<HostResult> runHostOp(const artifact::Launch &l, std::vector<Tensor> in,
                               const std::vector<std::unique_ptr<Model>> &subModels) {
  if (l.hostOp == "Loop") {
    if (static_cast<uint64_t>(l.hostInts[0]) >= subModels.size())
      return Status::error(strCat("Loop: no body ", l.hostInts[0], " among ", subModels.size()));
    return loop(l, std::move(in), *subModels[l.hostInts[0]]);
  }
  if (l.hostOp == "If") {
    for (int k : {0, 1})
      if (static_cast<uint64_t>(l.hostInts[k]) >= subModels.size())
        return Status::error(strCat("If: no branch ", l.hostInts[k], " among ", subModels.size()));
    return runIf(l, std::move(in), subModels);
  }
  if (l.hostOp == "NonZero")
    return nonZero(in[0]);
  if (l.hostOp == "Unique")
    return unique(in[0], l.hostInts[0] != 0, l.hostInts[1] != 0, l.hostInts[2]);
  if (l.hostOp == "Slice") {
    size_t count = l.hostInts[0];
    std::vector<int64_t> axes(l.hostInts.begin() + 1, l.hostInts.begin() + 1 + count),
        steps(l.hostInts.begin() + 1 + count, l.hostInts.end());
    for (int64_t a : axes)
      if (static_cast<uint64_t>(a) >= in[0].shape.size())
        return Status::error(
            strCat("Slice: axis ", a, " of a rank-", in[0].shape.size(), " input"));
    return slice(in[0], in[1], in[2], axes, steps);
  }
  if (l.hostOp == "DataDims") {
    if (in[0].numElements() != (int64_t)l.dataDims.size())
      return Status::error(strCat("DataDims: ", in[0].numElements(), " entries for ",
                                  l.dataDims.size(), " data dims"));
    return dataDims(in[0]);
  }
  if (l.hostOp == "TopK")
    return topK(in[0], in[1], l.hostInts[0], l.hostInts[1] != 0);
  // NonMaxSuppression
  size_t next = 2;
  int64_t maxOut = 0;
  double iou = 0;
  std::optional<double> scoreThreshold;
  auto scalar = [&](const Tensor &t) { return t.numElements() ? valueAt(t, 0) : 0.0; };
  if (l.hostInts[1]) {
    const Tensor &t = in[next++];
    maxOut = t.numElements() == 0      ? 0
             : t.dtype == DType::Int64 ? t.as<int64_t>()[0]
                                       : (int64_t)scalar(t);
  }
  if (l.hostInts[2])
    iou = scalar(in[next++]);
  if (l.hostInts[3] && in[next].numElements())
    scoreThreshold = scalar(in[next]);
  maxOut = std::max<int64_t>(maxOut, 0);
  bool center = l.hostInts[0] != 0;
  if (in[0].dtype != in[1].dtype)
    return Status::error("NonMaxSuppression: boxes and scores differ in dtype");
  if (in[0].dtype == DType::Float)
    return nms<float>(in[0], in[1], maxOut, iou, scoreThreshold, center);
  if (in[0].dtype == DType::Double)
    return nms<double>(in[0], in[1], maxOut, iou, scoreThreshold, center);
  return Status::error(strCat("NonMaxSuppression: unsupported dtype ", dtypeName(in[0].dtype)));
}

Expected<std::vector<std::unique_ptr<Model>>>
loadSubModels(std::vector<std::vector<uint8_t>> &bytes, const LoadOptions &options) {
  // Loops nest a few levels in real models; a file nesting artifacts without end would
  // otherwise recurse until the stack runs out.
  constexpr int kMaxNesting = 16;
  thread_local int depth = 0;
  if (!bytes.empty() && depth >= kMaxNesting)
    return Status::error(strCat("nested artifacts deeper than ", kMaxNesting, " levels"));
  struct Nest {
    Nest() { ++depth; }
    ~Nest() { --depth; }
  } nest;
  std::vector<std::unique_ptr<Model>> models;
  for (size_t i = 0; i < bytes.size(); ++i) {
    Expected<std::unique_ptr<Model>> m =
        Model::loadBytes(bytes[i].data(), bytes[i].size(), options);
    if (!m)
      return Status::error(strCat("loop body ", i, ": ", m.message()));
    models.push_back(std::move(m).value());
    bytes[i] = {};
  }
  bytes.clear();
  return models;
}

} // namespace dlc
