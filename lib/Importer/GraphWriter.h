//===- GraphWriter.h - ONNX subgraphs the importer synthesizes --*- C++ -*-===//
//
// Runtime control flow is built from ONNX subgraphs that the importer writes itself and
// then imports like any other (OpsControl.cpp, OpsRecurrent.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_IMPORTER_GRAPHWRITER_H
#define DLC_LIB_IMPORTER_GRAPHWRITER_H

#include "onnx/onnx_pb.h"
#include "llvm/ADT/ArrayRef.h"

#include <string>
#include <vector>

namespace dlc::importer {

/// Builds ONNX nodes into a graph under fresh names, in a given opset: the subgraphs
/// the importer synthesizes (a Scan body over a Loop's, a recurrence over a symbolic
/// length).
struct GraphWriter {
  onnx::GraphProto &g;
  int opset;
  std::string prefix;
  int counter = 0;

  /// A graph input, typed as a tensor of `elemType` of unknown shape (0: untyped).
  void input(const std::string &name, int elemType) {
    onnx::ValueInfoProto *vi = g.add_input();
    vi->set_name(name);
    if (elemType) {
      vi->mutable_type()->mutable_tensor_type()->set_elem_type(elemType);
      vi->mutable_type()->mutable_tensor_type()->mutable_shape();
    }
  }
  std::string fresh(const std::string &what) { return prefix + what + std::to_string(counter++); }
  onnx::NodeProto *node(const char *op, std::vector<std::string> ins,
                        std::vector<std::string> outs) {
    onnx::NodeProto *nd = g.add_node();
    nd->set_op_type(op);
    nd->set_name(prefix + op + std::to_string(counter++));
    for (std::string &in : ins)
      nd->add_input(in);
    for (std::string &out : outs)
      nd->add_output(out);
    return nd;
  }
  std::string op(const char *type, std::vector<std::string> ins) {
    std::string out = fresh(type);
    node(type, std::move(ins), {out});
    return out;
  }
  static onnx::AttributeProto *attr(onnx::NodeProto *nd, const std::string &name) {
    onnx::AttributeProto *a = nd->add_attribute();
    a->set_name(name);
    return a;
  }
  static void intAttr(onnx::NodeProto *nd, const std::string &name, int64_t v) {
    onnx::AttributeProto *a = attr(nd, name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void intsAttr(onnx::NodeProto *nd, const std::string &name, llvm::ArrayRef<int64_t> v) {
    onnx::AttributeProto *a = attr(nd, name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v)
      a->add_ints(x);
  }
  /// An int64 constant of shape [v.size()], or a scalar.
  std::string ints(llvm::ArrayRef<int64_t> v, bool scalar = false) {
    std::string out = fresh("c");
    onnx::AttributeProto *a = attr(node("Constant", {}, {out}), "value");
    a->set_type(onnx::AttributeProto::TENSOR);
    a->mutable_t()->set_data_type(onnx::TensorProto::INT64);
    if (!scalar)
      a->mutable_t()->add_dims(v.size());
    for (int64_t x : v)
      a->mutable_t()->add_int64_data(x);
    return out;
  }
  /// Unsqueeze or Squeeze of one axis: axes as an input from opset 13, else an attribute.
  std::string axisOp(const char *type, const std::string &x, int64_t axis) {
    if (opset >= 13)
      return op(type, {x, ints({axis})});
    std::string out = fresh(type);
    intsAttr(node(type, {x}, {out}), "axes", {axis});
    return out;
  }
  std::string unsqueeze(const std::string &x, int64_t axis) { return axisOp("Unsqueeze", x, axis); }
  std::string squeeze(const std::string &x, int64_t axis) { return axisOp("Squeeze", x, axis); }
  std::string transpose(const std::string &x, llvm::ArrayRef<int64_t> perm) {
    std::string out = fresh("Transpose");
    intsAttr(node("Transpose", {x}, {out}), "perm", perm);
    return out;
  }
  /// Entry `i` of `x` along axis 0, keeping the axis.
  std::string entry(const std::string &x, int64_t i) {
    std::string out = fresh("Gather");
    intAttr(node("Gather", {x, ints({i})}, {out}), "axis", 0);
    return out;
  }
};

} // namespace dlc::importer

#endif // DLC_LIB_IMPORTER_GRAPHWRITER_H
