//===- OpsResize.cpp - Import of Resize (and Upsample) ----------------------===//
//
// Resolves scales/sizes/axes/keep_aspect_ratio_policy into constant output sizes and
// per-dim scales, per opset: 10 (scales input, asymmetric), 11+ (roi, scales, sizes,
// coordinate modes), 18+ (axes, aspect-ratio policy, antialias).
//
//===----------------------------------------------------------------------===//
#include "NodeImporter.h"

#include <cmath>

using namespace mlir;

namespace dlc::importer {
namespace {

/// Doubles of a constant input (empty when the input is absent or empty).
FailureOr<std::vector<double>> constDoubles(NodeImporter &n, size_t i, const char *what) {
  if (!n.input(i))
    return std::vector<double>{};
  auto d = n.constInput(i);
  if (!d)
    return n.error() << "input " << i << " (" << what << ") must be a compile-time constant",
           failure();
  std::vector<double> out;
  for (Attribute a : d->getValues<Attribute>())
    out.push_back(isa<FloatAttr>(a) ? cast<FloatAttr>(a).getValueAsDouble()
                                    : (double)cast<IntegerAttr>(a).getInt());
  return out;
}

/// The resized axes: the `axes` attribute (opset 18) normalized, else every dim.
FailureOr<std::vector<int64_t>> resizeAxes(NodeImporter &n, int64_t rank) {
  std::vector<int64_t> axes;
  if (auto a = n.attrInts("axes")) {
    for (int64_t v : *a) {
      auto ax = normalizeAxis(v, rank);
      if (!ax)
        return n.error() << "axis " << v << " out of range", failure();
      axes.push_back(*ax);
    }
  } else {
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  }
  return axes;
}

/// `roi` (start and end per resized axis, the axes' order) over all `rank` dims, the
/// dims not resized [0, 1]; empty for an empty `roi`.
FailureOr<std::vector<double>> spreadRoi(NodeImporter &n, ArrayRef<double> roi,
                                         ArrayRef<int64_t> axes, int64_t rank) {
  std::vector<double> full;
  if (roi.empty())
    return full;
  size_t k = axes.size();
  if (roi.size() != 2 * k)
    return n.error() << "roi must have 2 entries per resized axis", failure();
  full.assign(2 * rank, 0.0);
  std::fill(full.begin() + rank, full.end(), 1.0);
  for (size_t i = 0; i < k; ++i) {
    full[axes[i]] = roi[i];
    full[rank + axes[i]] = roi[k + i];
  }
  return full;
}

/// Whether the kernel can compute coordinate mode `coord` from the scale output / input
/// alone (and align_corners' extents), as it must for a size known only at run time.
bool scaleAtRunTime(StringRef coord) {
  return coord == "half_pixel" || coord == "pytorch_half_pixel" || coord == "asymmetric" ||
         coord == "align_corners" || coord == "tf_half_pixel_for_nn" ||
         coord == "tf_crop_and_resize";
}

/// Resize (opset 11+) to sizes computed from shapes: each symbolic size's dim gets the
/// scale output / input at run time; the coordinate mode must be one that needs only
/// that scale (and align_corners; tf_crop_and_resize with its constant `roi`, over the
/// resized axes as the node gives it).
LogicalResult importSymbolicSizeResize(NodeImporter &n, ArrayRef<AffineExpr> sizes,
                                       ArrayRef<double> roi) {
  Value x = n.input(0);
  int64_t rank = n.rankOf(x);
  auto resized = resizeAxes(n, rank);
  if (failed(resized))
    return failure();
  std::vector<int64_t> axes = *resized;
  if (sizes.size() != axes.size())
    return n.error() << "sizes must have one entry per resized axis";
  if (n.attrString("keep_aspect_ratio_policy", "stretch") != "stretch")
    return n.error() << "keep_aspect_ratio_policy needs constant sizes";
  std::string coord = n.attrString("coordinate_transformation_mode", "half_pixel");
  if (!scaleAtRunTime(coord))
    return n.error() << "sizes computed from shapes need coordinate_transformation_mode "
                        "half_pixel, pytorch_half_pixel, asymmetric, align_corners, "
                        "tf_half_pixel_for_nn or tf_crop_and_resize";
  SymShape in = n.shapeOf(x);
  SmallVector<AffineExpr> full(in.begin(), in.end());
  for (size_t i = 0; i < axes.size(); ++i)
    full[axes[i]] = sizes[i];
  auto spread = spreadRoi(n, coord == "tf_crop_and_resize" ? roi : ArrayRef<double>(), axes, rank);
  if (failed(spread))
    return failure();
  std::vector<double> fullRoi = *spread;
  auto identityRoi = [&](int64_t a) {
    return fullRoi.empty() || (fullRoi[a] == 0.0 && fullRoi[rank + a] == 1.0);
  };
  auto so = n.symOperands(full);
  if (failed(so))
    return failure();
  std::vector<int64_t> outSizes(rank, -1);
  std::vector<double> scales(rank, 1.0);
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t a = axes[i];
    // A size equal to the input's own dim (an exporter resizing N and C to a skip
    // connection's N and C) leaves that dim alone: at scale 1 every mode but
    // tf_half_pixel_for_nn (x + 0.5) samples the input at its own index.
    if (sizes[i] == in[a] && coord != "tf_half_pixel_for_nn" && identityRoi(a))
      continue;
    if (so->shape[a] == kSymbolicEntry) {
      outSizes[a] = kSymbolicEntry;
      scales[a] = 0; // computed at run time
    } else if (auto c = constDim(in[a])) {
      outSizes[a] = so->shape[a];
      scales[a] = (double)so->shape[a] / (double)*c;
    } else {
      // A constant size of a symbolic dim (tf2onnx's resize of any image to 9 x 9):
      // the scale at run time too.
      outSizes[a] = so->shape[a];
      scales[a] = 0;
    }
  }
  Builder &b = n.b;
  SmallVector<Value> operands{x};
  SmallVector<NamedAttribute> attrs{
      n.named("sizes", n.i64s(outSizes)),
      n.named("scales", b.getDenseF64ArrayAttr(scales)),
      n.named("roi", b.getDenseF64ArrayAttr(fullRoi)),
      n.named("mode", b.getStringAttr(n.attrString("mode", "nearest"))),
      n.named("coordinate_transformation_mode", b.getStringAttr(coord)),
      n.named("nearest_mode", b.getStringAttr(n.attrString("nearest_mode", "round_prefer_floor"))),
      n.named("cubic_coeff_a", b.getF32FloatAttr(n.attrFloat("cubic_coeff_a", -0.75f))),
      n.named("exclude_outside", b.getBoolAttr(n.attrInt("exclude_outside", 0))),
      n.named("extrapolation_value", b.getF32FloatAttr(n.attrFloat("extrapolation_value", 0.0f)))};
  if (n.attrInt("antialias", 0))
    return n.error() << "antialias with sizes computed from shapes is not supported";
  if (so->symShape) {
    attrs.push_back(n.named("sym_sizes", so->symShape));
    operands.append(so->dimsOf);
  }
  return n.result(n.build1("dlc.resize", n.elementType(x), operands, attrs));
}

/// Resize, or Upsample when `v10` (scales as input 1, or the `scales` attribute of
/// Upsample-7): asymmetric coordinates, nearest rounding down.
LogicalResult importResize(NodeImporter &n, bool v10) {
  Value x = n.input(0);
  if (n.attrString("mode", "nearest") == "cubic" && !isa<FloatType>(n.elementType(x)))
    return n.error() << "cubic interpolation of " << n.elementType(x)
                     << " is not supported (nearest and linear are)";
  SymShape s = n.shapeOf(x);
  int64_t rank = s.size();
  std::vector<double> roi, scales, sizes;
  if (v10 && n.hasAttr("scales")) {
    const auto *a = n.attr("scales");
    scales.assign(a->floats().begin(), a->floats().end());
  } else if (v10) {
    auto sc = constDoubles(n, 1, "scales");
    if (failed(sc))
      return failure();
    scales = *sc;
  } else {
    auto r = constDoubles(n, 1, "roi");
    auto sc = constDoubles(n, 2, "scales");
    if (failed(r) || failed(sc))
      return failure();
    roi = *r;
    scales = *sc;
    // Sizes may be computed from shapes (Resize to a skip connection's size).
    if (n.input(3) && !n.constInput(3)) {
      auto sz = n.extentsOrDataDims(3, "sizes");
      if (failed(sz))
        return failure();
      for (AffineExpr e : *sz) {
        if (!constDim(e))
          return importSymbolicSizeResize(n, *sz, roi);
        sizes.push_back((double)*constDim(e));
      }
    } else {
      auto sz = constDoubles(n, 3, "sizes");
      if (failed(sz))
        return failure();
      sizes = *sz;
    }
  }
  auto resized = resizeAxes(n, rank);
  if (failed(resized))
    return failure();
  std::vector<int64_t> axes = *resized;
  size_t k = axes.size();
  if ((scales.empty()) == (sizes.empty()))
    return n.error() << "exactly one of scales and sizes must be given";
  if ((!scales.empty() && scales.size() != k) || (!sizes.empty() && sizes.size() != k))
    return n.error() << "scales/sizes must have one entry per resized axis";
  std::vector<double> fullScale(rank, 1.0);
  std::vector<int64_t> outSizes(rank, -1);
  auto inDim = [&](int64_t axis) -> std::optional<double> {
    auto c = constDim(s[axis]);
    return c ? std::optional<double>(*c) : std::nullopt;
  };
  if (!sizes.empty()) {
    std::string policy = n.attrString("keep_aspect_ratio_policy", "stretch");
    std::optional<double> common;
    if (policy != "stretch") {
      for (size_t i = 0; i < k; ++i) {
        auto in = inDim(axes[i]);
        if (!in)
          return n.error() << "resized dims must be static";
        double r = sizes[i] / *in;
        common = !common ? r : policy == "not_larger" ? std::min(*common, r)
                                                      : std::max(*common, r);
      }
      if (policy != "not_larger" && policy != "not_smaller")
        return n.error() << "unknown keep_aspect_ratio_policy '" << policy << "'";
    }
    std::string coord =
        v10 ? "asymmetric" : n.attrString("coordinate_transformation_mode", "half_pixel");
    for (size_t i = 0; i < k; ++i) {
      auto in = inDim(axes[i]);
      if (!in && !common) {
        // A fixed size for a dim known at run time (SSD's transform resizes any image
        // to 320 x 320): the kernel computes the scale, size / extent (scale 0 here),
        // for the coordinate modes that need only it.
        if (!scaleAtRunTime(coord))
          return n.error() << "a fixed size for a dynamic dim needs coordinate_transformation_mode "
                              "half_pixel, pytorch_half_pixel, asymmetric, align_corners, "
                              "tf_half_pixel_for_nn or tf_crop_and_resize";
        if (n.attrInt("antialias", 0))
          return n.error() << "antialias to a fixed size of a dynamic dim is not supported";
        fullScale[axes[i]] = 0;
        outSizes[axes[i]] = (int64_t)sizes[i];
        continue;
      }
      if (!in)
        return n.error() << "resized dims must be static";
      fullScale[axes[i]] = common ? *common : sizes[i] / *in;
      outSizes[axes[i]] = common ? (int64_t)std::nearbyint(*common * *in) : (int64_t)sizes[i];
    }
  } else {
    for (size_t i = 0; i < k; ++i) {
      if (scales[i] <= 0)
        return n.error() << "scales must be positive";
      fullScale[axes[i]] = scales[i];
      if (scales[i] == 1.0 && !inDim(axes[i]))
        continue;
      auto in = inDim(axes[i]);
      if (!in) {
        // A dynamic dim: an integer factor (or its reciprocal), and a coordinate mode
        // that needs only the scale; the kernel reads the input's extent.
        std::string coord = v10 ? "asymmetric"
                                : n.attrString("coordinate_transformation_mode", "half_pixel");
        bool scaleOnly = coord == "asymmetric" || coord == "half_pixel" ||
                         coord == "pytorch_half_pixel" || coord == "tf_half_pixel_for_nn";
        if (!scaledExtent(s[axes[i]], scales[i]) || !scaleOnly)
          return n.error() << "a dynamic dim can be resized by an integer scale or its "
                              "reciprocal, with coordinate_transformation_mode asymmetric, "
                              "half_pixel, pytorch_half_pixel or tf_half_pixel_for_nn";
        if (n.attrInt("antialias", 0) && scales[i] < 1 &&
            n.attrString("mode", "nearest") != "nearest")
          return n.error() << "antialiased downsampling of a dynamic dim is not supported";
        continue; // outSizes stays -1: the op sizes it from the input
      }
      outSizes[axes[i]] = (int64_t)std::floor(*in * scales[i]);
    }
  }
  auto spread = spreadRoi(n, roi, axes, rank);
  if (failed(spread))
    return failure();
  std::vector<double> fullRoi = *spread;
  std::string mode = n.attrString("mode", "nearest");
  std::string coord = v10 ? "asymmetric"
                          : n.attrString("coordinate_transformation_mode", "half_pixel");
  std::string nearest = v10 ? "floor" : n.attrString("nearest_mode", "round_prefer_floor");
  if (coord != "tf_crop_and_resize")
    fullRoi.clear();
  Builder &b = n.b;
  return n.result(n.build1(
      "dlc.resize", n.elementType(x), {x},
      {n.named("sizes", n.i64s(outSizes)), n.named("scales", b.getDenseF64ArrayAttr(fullScale)),
       n.named("roi", b.getDenseF64ArrayAttr(fullRoi)), n.named("mode", b.getStringAttr(mode)),
       n.named("coordinate_transformation_mode", b.getStringAttr(coord)),
       n.named("nearest_mode", b.getStringAttr(nearest)),
       n.named("cubic_coeff_a", b.getF32FloatAttr(n.attrFloat("cubic_coeff_a", -0.75f))),
       n.named("exclude_outside", b.getBoolAttr(n.attrInt("exclude_outside", 0))),
       n.named("extrapolation_value", b.getF32FloatAttr(n.attrFloat("extrapolation_value", 0.0f))),
       n.named("antialias", b.getBoolAttr(n.attrInt("antialias", 0) != 0))}));
}

} // namespace

void registerResizeOps(OpRegistry &r) {
  // RoiAlign: opset 10 (regions shifted by no pixel) and 16 (coordinate_transformation_mode,
  // default half_pixel). The adaptive sampling ratio (0) depends on each region's size
  // and is not supported.
  r.add("RoiAlign", 10, [](NodeImporter &n) -> LogicalResult {
    std::string mode = n.attrString("mode", "avg");
    std::string ctm = n.attrString("coordinate_transformation_mode",
                                   n.opset >= 16 ? "half_pixel" : "output_half_pixel");
    if (ctm != "half_pixel" && ctm != "output_half_pixel")
      return n.error() << "unknown coordinate_transformation_mode '" << ctm << "'";
    int64_t ratio = n.attrInt("sampling_ratio", 0);
    if (ratio <= 0)
      return n.error() << "RoiAlign with an adaptive sampling_ratio (0) is not supported";
    return n.result(
        n.build1("dlc.roi_align", n.elementType(n.input(0)), {n.input(0), n.input(1), n.input(2)},
                 {n.named("mode", n.b.getStringAttr(mode)),
                  n.named("output_height", n.b.getI64IntegerAttr(n.attrInt("output_height", 1))),
                  n.named("output_width", n.b.getI64IntegerAttr(n.attrInt("output_width", 1))),
                  n.named("sampling_ratio", n.b.getI64IntegerAttr(ratio)),
                  n.named("spatial_scale", n.b.getF32FloatAttr(n.attrFloat("spatial_scale", 1.0f))),
                  n.named("half_pixel", n.b.getBoolAttr(ctm == "half_pixel"))}));
  });

  // GridSample: opset 16 (4-D, "bilinear"/"bicubic") and 20 (N-D, "linear"/"cubic").
  r.add("GridSample", 16, [](NodeImporter &n) -> LogicalResult {
    std::string mode = n.attrString("mode", n.opset >= 20 ? "linear" : "bilinear");
    if (n.opset < 20 && n.rankOf(n.input(0)) != 4)
      return n.error() << "GridSample before opset 20 takes 4-D input";
    mode = mode == "bilinear" ? "linear" : mode == "bicubic" ? "cubic" : mode;
    if (mode != "linear" && mode != "nearest" && mode != "cubic")
      return n.error() << "unknown mode '" << mode << "'";
    std::string padding = n.attrString("padding_mode", "zeros");
    if (padding != "zeros" && padding != "border" && padding != "reflection")
      return n.error() << "unknown padding_mode '" << padding << "'";
    if (mode == "cubic" && n.rankOf(n.input(0)) != 4)
      return n.error() << "cubic GridSample takes 4-D input";
    return n.result(
        n.build1("dlc.grid_sample", n.elementType(n.input(0)), {n.input(0), n.input(1)},
                 {n.named("mode", n.b.getStringAttr(mode)),
                  n.named("padding_mode", n.b.getStringAttr(padding)),
                  n.named("align_corners", n.b.getBoolAttr(n.attrInt("align_corners", 0)))}));
  });

  r.add("Upsample", 7, [](NodeImporter &n) { return importResize(n, true); });
  r.add("Resize", 10, [](NodeImporter &n) { return importResize(n, true); });
  r.add("Resize", 11, [](NodeImporter &n) { return importResize(n, false); });
}

} // namespace dlc::importer
