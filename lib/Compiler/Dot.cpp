//===- Dot.cpp - Graphviz picture of the kernel-formed graph ---------------===//
//
// `dlc compile --emit dot`: one box per op, one coloured cluster per kernel (labelled
// with its name), grey boxes for metadata-only ops (buffer aliases), ellipses for graph
// inputs and outputs; constants (weights) are left out to keep the picture readable.
//
//===----------------------------------------------------------------------===//
#include "Compiler.h"

#include "dialects/DlcDialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace dlc::compiler {
namespace {

constexpr const char *kColors[] = {"#fbb4ae", "#b3cde3", "#ccebc5", "#decbe4", "#fed9a6",
                                   "#ffffcc", "#e5d8bd", "#fddaec", "#f2f2f2", "#b3e2cd"};

std::string escape(StringRef s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out;
}

std::string opLabel(Operation *op) {
  std::string label = op->getName().getStringRef().drop_front(4).str();
  for (const std::string &node : nodeLabels(op))
    if (node != op->getName().getStringRef())
      label += "\\n" + escape(node);
  return label;
}

} // namespace

std::string kernelGraphDot(ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  auto main = module.lookupSymbol<func::FuncOp>("main");
  os << "digraph dlc {\n  rankdir=TB;\n  node [shape=box, style=filled, fillcolor=white, "
        "fontname=\"Helvetica\", fontsize=10];\n";
  if (!main) {
    os << "}\n";
    return text;
  }
  DenseMap<Value, std::string> nodeOf; // value -> dot node producing it
  int counter = 0;
  auto fresh = [&] { return "n" + std::to_string(counter++); };
  for (BlockArgument arg : main.getArguments()) {
    std::string id = fresh();
    os << "  " << id << " [shape=ellipse, label=\"input " << arg.getArgNumber() << "\"];\n";
    nodeOf[arg] = id;
  }
  auto edgesTo = [&](Operation *op, const std::string &id,
                     const DenseMap<Value, std::string> &local) {
    for (Value v : op->getOperands()) {
      auto it = local.find(v);
      if (it == local.end())
        it = nodeOf.find(v);
      if (it != nodeOf.end() && it != local.end())
        os << "  " << it->second << " -> " << id << ";\n";
    }
  };
  int kernelIndex = 0;
  for (Operation &op : main.getOps()) {
    if (isa<ConstantOp>(op))
      continue;
    if (auto kernel = dyn_cast<KernelOp>(op)) {
      const char *color = kColors[kernelIndex % std::size(kColors)];
      os << "  subgraph cluster_" << kernelIndex++ << " {\n    label=\""
         << escape(kernel.getSymName()) << "\"; style=filled; color=\"" << color
         << "\"; fontname=\"Helvetica\";\n";
      Block &body = kernel.getBody().front();
      DenseMap<Value, std::string> local;
      for (auto [arg, input] : llvm::zip(body.getArguments(), kernel->getOperands()))
        if (auto it = nodeOf.find(input); it != nodeOf.end())
          local[arg] = it->second;
      std::string lastId;
      for (Operation &inner : body.without_terminator()) {
        if (isa<ConstantOp>(inner))
          continue;
        std::string id = fresh();
        os << "    " << id << " [label=\"" << opLabel(&inner) << "\"];\n";
        for (Value v : inner.getOperands())
          if (auto it = local.find(v); it != local.end())
            os << "    " << it->second << " -> " << id << ";\n";
        for (Value r : inner.getResults())
          local[r] = id;
        lastId = id;
      }
      os << "  }\n";
      for (auto [i, r] : llvm::enumerate(kernel->getResults()))
        if (auto it = local.find(body.getTerminator()->getOperand(i)); it != local.end())
          nodeOf[r] = it->second;
      continue;
    }
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
        std::string id = fresh();
        os << "  " << id << " [shape=ellipse, label=\"output " << i << "\"];\n";
        if (auto it = nodeOf.find(v); it != nodeOf.end())
          os << "  " << it->second << " -> " << id << ";\n";
      }
      continue;
    }
    // Metadata-only ops: buffer aliases, no kernel.
    std::string id = fresh();
    os << "  " << id << " [label=\"" << opLabel(&op) << "\", fillcolor=\"#d9d9d9\"];\n";
    DenseMap<Value, std::string> none;
    edgesTo(&op, id, none);
    for (Value r : op.getResults())
      nodeOf[r] = id;
  }
  os << "}\n";
  return text;
}

} // namespace dlc::compiler
