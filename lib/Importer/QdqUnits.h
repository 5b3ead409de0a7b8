//===- QdqUnits.h - QDQ node units as onnxruntime's QLinear ops -*- C++ -*-===//
#ifndef DLC_LIB_IMPORTER_QDQUNITS_H
#define DLC_LIB_IMPORTER_QDQUNITS_H

#include "onnx/onnx_pb.h"

namespace dlc::importer {

/// Rewrites the QDQ node units of the model's main graph that onnxruntime runs as its
/// QLinear kernels (DQ -> Conv -> Q as QLinearConv, ...; QdqUnits.cpp) into those ops,
/// of ONNX `opset`. Returns how many units it rewrote.
int rewriteQdqUnits(onnx::ModelProto &model, int opset);

} // namespace dlc::importer

#endif // DLC_LIB_IMPORTER_QDQUNITS_H
