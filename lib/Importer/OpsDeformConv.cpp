//===- OpsDeformConv.cpp - DeformConv as GridSample and a contraction -----===//
//
// DeformConv (2-D) reads each kernel tap of each output position at an offset position,
// bilinearly, zero outside the input: exactly GridSample with align_corners = 1 at
// pixel position p / (extent - 1) * 2 - 1 (the ONNX reference computes it so). Per
// offset group one GridSample reads every tap at once (the taps stacked along the
// grid's rows), the mask scales the samples, and a batched contraction with W over
// (channel, tap) per convolution group gives the output: columns [N, group, C/group *
// kH * kW, oH * oW] times W [group, oC/group, C/group * kH * kW].
//
//===----------------------------------------------------------------------===//
#include "Compose.h"

using namespace mlir;

namespace dlc::importer {
namespace {

LogicalResult importDeformConv(NodeImporter &n) {
  if (failed(n.requireInputs(3)))
    return failure();
  Compose c{n};
  Value x = n.input(0), w = n.input(1), offset = n.input(2), bias = n.input(3), mask = n.input(4);
  Type et = n.elementType(x);
  if (n.rankOf(x) != 4 || n.rankOf(w) != 4 || n.rankOf(offset) != 4)
    return n.error() << "DeformConv is supported for 2-D inputs (X, W and offset of rank 4)";
  SymShape xs = n.shapeOf(x), ws = n.shapeOf(w), os = n.shapeOf(offset);
  auto stat = [](AffineExpr e) { return constDim(e).value_or(-1); };
  int64_t c0 = stat(xs[1]), h = stat(xs[2]), wd = stat(xs[3]);
  int64_t oc = stat(ws[0]), cq = stat(ws[1]), kh = stat(ws[2]), kw = stat(ws[3]);
  int64_t oh = stat(os[2]), ow = stat(os[3]);
  if (c0 < 0 || h < 0 || wd < 0 || oc < 0 || cq < 0 || kh < 0 || kw < 0 || oh < 0 || ow < 0)
    return n.error() << "DeformConv needs static channel, spatial and kernel dims";
  if (h < 2 || wd < 2)
    return n.error() << "DeformConv needs an input of at least 2x2";
  int64_t group = n.attrInt("group", 1), og = n.attrInt("offset_group", 1);
  if (group <= 0 || og <= 0 || c0 != cq * group || oc % group || c0 % og)
    return n.error() << "channels " << c0 << ", W " << shapeToString(ws) << ", group " << group
                     << " and offset_group " << og << " do not agree";
  if (auto ks = n.attrInts("kernel_shape"); ks && (*ks != std::vector<int64_t>{kh, kw}))
    return n.error() << "kernel_shape does not match W";
  std::vector<int64_t> pads = n.attrInts("pads").value_or(std::vector<int64_t>{0, 0, 0, 0});
  std::vector<int64_t> strides = n.attrInts("strides").value_or(std::vector<int64_t>{1, 1});
  std::vector<int64_t> dil = n.attrInts("dilations").value_or(std::vector<int64_t>{1, 1});
  if (pads.size() != 4 || strides.size() != 2 || dil.size() != 2)
    return n.error() << "pads, strides and dilations must have 4, 2 and 2 entries";
  int64_t k = kh * kw;
  if (stat(os[1]) != og * k * 2)
    return n.error() << "offset has " << shapeToString(os) << ", expected " << og * k * 2
                     << " channels";
  if (mask && stat(n.shapeOf(mask)[1]) != og * k)
    return n.error() << "mask has " << shapeToString(n.shapeOf(mask)) << ", expected " << og * k
                     << " channels";
  AffineExpr batch = xs[0];
  MLIRContext *ctx = n.ctx();
  auto cst = [&](int64_t v) { return getAffineConstantExpr(v, ctx); };
  auto reshape = [&](Value v, ArrayRef<AffineExpr> shape) -> Value {
    if (!v)
      return v;
    auto r = n.reshapeTo(v, shape);
    if (failed(r)) {
      c.failed = true;
      return nullptr;
    }
    return *r;
  };

  // Each tap's pixel position without offset, in grid order (x, y):
  // base[k, i, j] = (-pad_left + stride_w * j + b * dil_w, -pad_top + stride_h * i + a * dil_h).
  std::vector<double> base;
  for (int64_t a = 0; a < kh; ++a)
    for (int64_t b = 0; b < kw; ++b)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          base.push_back(-pads[1] + strides[1] * j + b * dil[1]);
          base.push_back(-pads[0] + strides[0] * i + a * dil[0]);
        }
  if (failed(n.checkConstantSize(base.size(), "the DeformConv sampling grid")))
    return failure();
  auto baseType = RankedTensorType::get({1, k, oh, ow, 2}, et);
  SmallVector<Attribute> baseValues;
  for (double v : base)
    baseValues.push_back(n.b.getFloatAttr(et, v));
  Value baseGrid = n.constant(DenseElementsAttr::get(baseType, baseValues));
  // Pixel positions to GridSample's [-1, 1] (align_corners): p * 2 / (extent - 1) - 1.
  Value toUnit = n.constant(DenseElementsAttr::get(
      RankedTensorType::get({2}, et), ArrayRef<Attribute>{n.b.getFloatAttr(et, 2.0 / (wd - 1)),
                                                          n.b.getFloatAttr(et, 2.0 / (h - 1))}));

  // Offsets [N, og, k, 2 (y, x), oH, oW] -> [N, og, k, oH, oW, 2 (x, y)].
  Value off = reshape(offset, {batch, cst(og), cst(k), cst(2), cst(oh), cst(ow)});
  off = c.op("dlc.transpose", et, {off}, {n.named("perm", n.i64s({0, 1, 2, 4, 5, 3}))});
  off = c.concat({c.slice(off, 5, 1, 2), c.slice(off, 5, 0, 1)}, 5);
  Value m = mask ? reshape(mask, {batch, cst(og), cst(k), cst(oh), cst(ow)}) : nullptr;

  SmallVector<Value> sampled; // per offset group: [N, C/og, k, oH, oW]
  int64_t cg = c0 / og;
  for (int64_t g = 0; g < og; ++g) {
    Value og1 = c.take(off, 1, g); // [N, k, oH, oW, 2]
    Value pos = c.add(og1, baseGrid);
    Value grid = c.sub(c.mul(pos, toUnit), c.scalarLike(pos, 1.0));
    grid = reshape(grid, {batch, cst(k * oh), cst(ow), cst(2)});
    Value xg = og == 1 ? x : c.slice(x, 1, g * cg, (g + 1) * cg);
    Value s = c.op("dlc.grid_sample", et, {xg, grid},
                   {n.named("mode", n.b.getStringAttr("linear")),
                    n.named("padding_mode", n.b.getStringAttr("zeros")),
                    n.named("align_corners", n.b.getBoolAttr(true))}); // [N, cg, k*oH, oW]
    s = reshape(s, {batch, cst(cg), cst(k), cst(oh), cst(ow)});
    if (m) {
      Value mg = c.slice(m, 1, g, g + 1); // [N, 1, k, oH, oW]
      s = c.mul(s, mg);
    }
    sampled.push_back(s);
  }
  Value cols = c.concat(sampled, 1);
  // [N, group, C/group * k, oH * oW] against W [group, oC/group, C/group * k].
  cols = reshape(cols, {batch, cst(group), cst(cq * k), cst(oh * ow)});
  Value wq = reshape(w, {cst(group), cst(oc / group), cst(cq * k)});
  Value y = c.op("dlc.matmul", et, {wq, cols}); // [N, group, oC/group, oH*oW]
  y = reshape(y, {batch, cst(oc), cst(oh), cst(ow)});
  if (bias)
    y = c.add(y, reshape(bias, {cst(1), cst(oc), cst(1), cst(1)}));
  return c.result(y);
}

} // namespace

void registerDeformConvOps(OpRegistry &r) { r.add("DeformConv", 19, importDeformConv); }

} // namespace dlc::importer
