//===- OpsSequence.cpp - Sequences and optionals, resolved at import ------===//
//
// A sequence is the list of its tensors and an optional whether it holds a value
// (Aggregate, NodeImporter.h): the sequence ops rearrange the list at import, so
// positions, lengths and presence must be known at compile time (constants, specialized
// inputs, or values that fold; a Loop over a sequence is unrolled). Graph inputs and
// outputs that are sequences or optionals are flattened into one tensor per element
// (Importer.cpp). SequenceMap imports its body once per element.
//
//===----------------------------------------------------------------------===//
#include "Compose.h"

using namespace mlir;

namespace dlc::importer {
namespace {

AggregatePtr sequenceOf(std::vector<Value> elems, Type elemType) {
  auto a = std::make_shared<Aggregate>();
  a->kind = Aggregate::Sequence;
  a->elems = std::move(elems);
  a->elemType = elemType;
  return a;
}

/// Input `i` as a sequence (an error when it is not one).
FailureOr<AggregatePtr> sequenceInput(NodeImporter &n, size_t i, bool allowStacked = false) {
  AggregatePtr a = n.aggregate(i);
  if (!a || a->kind != Aggregate::Sequence)
    return n.error() << "input " << i << " must be a sequence", failure();
  if (a->stacked && !allowStacked)
    return n.error() << "input " << i
                     << " is a sequence a runtime Loop appended to, whose length is known only "
                        "at run time: only ConcatFromSequence, SequenceLength and SequenceAt "
                        "read it",
           failure();
  return a;
}

/// The elements of a sequence a runtime Loop appended to, stacked along a new dim 0:
/// its initial elements before the loop's.
Value stackedElements(Compose &c, const Aggregate &a) {
  SmallVector<Value> parts;
  for (Value e : a.elems)
    parts.push_back(c.unsqueeze(e, 0));
  parts.push_back(a.stacked);
  return c.concat(parts, 0);
}

/// A position input (SequenceAt, SequenceInsert, SequenceErase) as an index in
/// [0, size] (`allowEnd`) or [0, size).
FailureOr<int64_t> positionInput(NodeImporter &n, size_t i, int64_t size, bool allowEnd) {
  auto pos = n.constInts(i, "position");
  if (failed(pos))
    return failure();
  if (pos->size() != 1)
    return n.error() << "position must hold one value", failure();
  int64_t p = (*pos)[0], limit = allowEnd ? size : size - 1;
  if (p < 0)
    p += size;
  if (p < 0 || p > limit)
    return n.error() << "position " << (*pos)[0] << " is out of range for a sequence of " << size,
           failure();
  return p;
}

LogicalResult importSequenceConstruct(NodeImporter &n) {
  if (!n.numInputs())
    return n.error() << "SequenceConstruct needs at least one tensor";
  std::vector<Value> elems(n.inputs.begin(), n.inputs.end());
  for (Value v : elems)
    if (!v || n.elementType(v) != n.elementType(elems[0]))
      return n.error() << "the elements must be tensors of one element type";
  return n.results({{Value(), sequenceOf(elems, n.elementType(elems[0]))}});
}

LogicalResult importSequenceEmpty(NodeImporter &n) {
  Type t = onnxElementType(n.ctx(), n.attrInt("dtype", 1));
  if (!t)
    return n.error() << "unsupported dtype " << n.attrInt("dtype", 1);
  return n.results({{Value(), sequenceOf({}, t)}});
}

LogicalResult importSequenceAt(NodeImporter &n) {
  auto seq = sequenceInput(n, 0, /*allowStacked=*/true);
  if (failed(seq))
    return failure();
  if ((*seq)->stacked) {
    // Gather's index: negative counts from the end.
    Compose c{n};
    Value pos = n.input(1);
    if (!pos || n.rankOf(pos) != 0)
      return n.error() << "position must be a scalar tensor";
    return c.result(c.op("dlc.gather", n.elementType((*seq)->stacked),
                         {stackedElements(c, **seq), pos},
                         {n.named("axis", n.b.getI64IntegerAttr(0))}));
  }
  auto p = positionInput(n, 1, (*seq)->elems.size(), false);
  if (failed(p))
    return failure();
  return n.result((*seq)->elems[*p]);
}

LogicalResult importSequenceInsert(NodeImporter &n) {
  auto seq = sequenceInput(n, 0);
  if (failed(seq))
    return failure();
  Value t = n.input(1);
  if (!t)
    return n.error() << "input 1 must be a tensor";
  std::vector<Value> elems = (*seq)->elems;
  int64_t p = elems.size();
  if (n.input(2)) {
    auto pos = positionInput(n, 2, elems.size(), true);
    if (failed(pos))
      return failure();
    p = *pos;
  }
  if ((*seq)->elemType && n.elementType(t) != (*seq)->elemType)
    return n.error() << "the tensor's element type " << n.elementType(t)
                     << " is not the sequence's " << (*seq)->elemType;
  elems.insert(elems.begin() + p, t);
  return n.results({{Value(), sequenceOf(elems, n.elementType(t))}});
}

LogicalResult importSequenceErase(NodeImporter &n) {
  auto seq = sequenceInput(n, 0);
  if (failed(seq))
    return failure();
  std::vector<Value> elems = (*seq)->elems;
  if (elems.empty())
    return n.error() << "cannot erase from an empty sequence";
  int64_t p = elems.size() - 1;
  if (n.input(1)) {
    auto pos = positionInput(n, 1, elems.size(), false);
    if (failed(pos))
      return failure();
    p = *pos;
  }
  elems.erase(elems.begin() + p);
  return n.results({{Value(), sequenceOf(elems, (*seq)->elemType)}});
}

LogicalResult importSequenceLength(NodeImporter &n) {
  auto seq = sequenceInput(n, 0, /*allowStacked=*/true);
  if (failed(seq))
    return failure();
  if ((*seq)->stacked) {
    Compose c{n};
    Value loopLength = c.squeeze(c.op("dlc.shape", n.b.getI64Type(), {(*seq)->stacked},
                                      {n.named("start", n.b.getI64IntegerAttr(0)),
                                       n.named("end", n.b.getI64IntegerAttr(1))}),
                                 0);
    return c.result(c.add(loopLength, n.scalar(n.b.getI64Type(), (*seq)->elems.size())));
  }
  return n.result(n.scalar(n.b.getI64Type(), (*seq)->elems.size()));
}

LogicalResult importSplitToSequence(NodeImporter &n) {
  Compose c{n};
  Value x = n.input(0);
  int64_t rank = n.rankOf(x);
  int64_t axis = n.attrInt("axis", 0);
  if (axis < -rank || axis >= rank)
    return n.error() << "axis " << axis << " is out of range for rank " << rank;
  if (axis < 0)
    axis += rank;
  std::optional<int64_t> extent = constDim(n.shapeOf(x)[axis]);
  if (!extent)
    return n.error() << "the split axis must be static, got " << shapeToString(n.shapeOf(x));
  std::vector<int64_t> sizes;
  bool squeeze = false;
  if (!n.input(1)) {
    sizes.assign(*extent, 1);
    squeeze = !n.attrInt("keepdims", 1);
  } else {
    auto split = n.constInts(1, "split");
    if (failed(split))
      return failure();
    auto t = cast<ShapedType>(n.input(1).getType());
    if (t.getRank() == 0) {
      int64_t k = (*split)[0];
      if (k <= 0)
        return n.error() << "split must be positive, got " << k;
      for (int64_t at = 0; at < *extent; at += k)
        sizes.push_back(std::min(k, *extent - at));
    } else {
      sizes = *split;
      int64_t total = 0;
      for (int64_t s : sizes) {
        if (s < 0)
          return n.error() << "split sizes must not be negative";
        total += s;
      }
      if (total != *extent)
        return n.error() << "split sizes add up to " << total << ", the axis has " << *extent;
    }
  }
  std::vector<Value> elems;
  int64_t at = 0;
  for (int64_t s : sizes) {
    Value part = c.slice(x, axis, at, at + s);
    if (squeeze)
      part = c.squeeze(part, axis);
    elems.push_back(part);
    at += s;
  }
  if (c.failed)
    return failure();
  return n.results({{Value(), sequenceOf(elems, n.elementType(x))}});
}

/// ConcatFromSequence of a sequence a runtime Loop appended to: its elements stacked
/// along dim 0, that dim moved to `axis` (new_axis), or merged into the dim at `axis`.
LogicalResult concatStacked(NodeImporter &n, const Aggregate &a) {
  Compose c{n};
  Value all = stackedElements(c, a);
  if (c.failed)
    return failure();
  bool newAxis = n.attrInt("new_axis", 0);
  int64_t rank = n.rankOf(all) - 1 + (newAxis ? 1 : 0);
  int64_t axis = n.attrInt("axis", 0);
  if (axis < -rank || axis >= rank)
    return n.error() << "axis " << axis << " is out of range for rank " << rank;
  if (axis < 0)
    axis += rank;
  // Dim 0 (the elements) moved to just before the element dim `axis`.
  SmallVector<int64_t> perm;
  for (int64_t d = 1; d <= axis; ++d)
    perm.push_back(d);
  perm.push_back(0);
  for (int64_t d = axis + 1; d < n.rankOf(all); ++d)
    perm.push_back(d);
  Value moved = axis == 0 ? all : c.transpose(all, perm);
  if (newAxis)
    return c.result(moved);
  // Merged with the element dim after it: the dims before are copied (0), the dims
  // after must be static.
  SymShape shape = n.shapeOf(moved);
  SmallVector<int64_t> target;
  for (int64_t d = 0; d < (int64_t)shape.size(); ++d) {
    if (d < axis) {
      target.push_back(0);
    } else if (d == axis) {
      target.push_back(-1);
      ++d;
    } else if (std::optional<int64_t> e = constDim(shape[d])) {
      target.push_back(*e);
    } else {
      return n.error() << "concatenating a sequence a runtime Loop appended to along axis " << axis
                       << " needs the elements' later dims static";
    }
  }
  return c.result(c.reshape(moved, target));
}

LogicalResult importConcatFromSequence(NodeImporter &n) {
  Compose c{n};
  auto seq = sequenceInput(n, 0, /*allowStacked=*/true);
  if (failed(seq))
    return failure();
  if ((*seq)->stacked)
    return concatStacked(n, **seq);
  const std::vector<Value> &elems = (*seq)->elems;
  if (elems.empty())
    return n.error() << "cannot concatenate an empty sequence";
  bool newAxis = n.attrInt("new_axis", 0);
  int64_t rank = n.rankOf(elems[0]) + (newAxis ? 1 : 0);
  int64_t axis = n.attrInt("axis", 0);
  if (axis < -rank || axis >= rank)
    return n.error() << "axis " << axis << " is out of range for rank " << rank;
  if (axis < 0)
    axis += rank;
  return c.result(newAxis ? c.stack(elems, axis) : c.concat(elems, axis));
}

LogicalResult importSequenceMap(NodeImporter &n) {
  const onnx::AttributeProto *body = n.attr("body");
  if (!body || !body->has_g())
    return n.error() << "attribute 'body' (a graph) is missing";
  auto seq = sequenceInput(n, 0);
  if (failed(seq))
    return failure();
  size_t length = (*seq)->elems.size();
  for (size_t i = 1; i < n.numInputs(); ++i)
    if (AggregatePtr a = n.aggregate(i)) {
      if (a->kind != Aggregate::Sequence || a->elems.size() != length)
        return n.error() << "input " << i << " must be a tensor or a sequence of " << length
                         << " elements";
    }
  std::vector<std::vector<Value>> outs(n.numOutputs());
  for (size_t k = 0; k < length; ++k) {
    SmallVector<Item> ins;
    for (size_t i = 0; i < n.numInputs(); ++i) {
      AggregatePtr a = n.aggregate(i);
      ins.push_back({a ? a->elems[k] : n.input(i), nullptr});
    }
    auto r = n.inlineItems(body->g(), ins);
    if (failed(r))
      return failure();
    if (r->size() != outs.size())
      return n.error() << "the body gives " << r->size() << " outputs for " << outs.size();
    for (auto [j, it] : llvm::enumerate(*r)) {
      if (it.agg)
        return n.error() << "the body's output " << j << " must be a tensor";
      outs[j].push_back(it.value);
    }
  }
  SmallVector<Item> results;
  for (size_t j = 0; j < outs.size(); ++j) {
    Type et;
    if (!outs[j].empty())
      et = n.elementType(outs[j][0]);
    results.push_back({Value(), sequenceOf(outs[j], et)});
  }
  return n.results(results);
}

LogicalResult importOptional(NodeImporter &n) {
  auto a = std::make_shared<Aggregate>();
  a->kind = Aggregate::Optional;
  if (AggregatePtr in = n.aggregate(0)) {
    if (in->kind != Aggregate::Sequence)
      return n.error() << "an optional of an optional is not supported";
    a->ofSequence = true;
    a->elems = in->elems;
    a->elemType = in->elemType;
    a->stacked = in->stacked;
  } else if (Value v = n.input(0)) {
    a->elems = {v};
    a->elemType = n.elementType(v);
  } else {
    a->present = false;
    if (const onnx::AttributeProto *t = n.attr("type")) {
      const onnx::TypeProto &tp = t->tp();
      a->ofSequence = tp.has_sequence_type();
      const onnx::TypeProto &tensor = a->ofSequence ? tp.sequence_type().elem_type() : tp;
      a->elemType = onnxElementType(n.ctx(), tensor.tensor_type().elem_type());
    }
  }
  return n.results({{Value(), a}});
}

LogicalResult importOptionalHasElement(NodeImporter &n) {
  bool present = false;
  if (AggregatePtr a = n.aggregate(0))
    present = a->kind == Aggregate::Sequence || a->present;
  else
    present = n.input(0) != nullptr;
  auto type = RankedTensorType::get({}, n.b.getI1Type());
  return n.result(n.constant(DenseElementsAttr::get(type, present)));
}

LogicalResult importOptionalGetElement(NodeImporter &n) {
  AggregatePtr a = n.aggregate(0);
  if (!a) {
    if (!n.input(0))
      return n.error() << "input 0 is missing";
    return n.result(n.input(0)); // a tensor: itself
  }
  if (a->kind == Aggregate::Sequence)
    return n.results({{Value(), a}});
  if (!a->present)
    return n.error() << "the optional holds no value";
  if (a->ofSequence) {
    auto seq = std::make_shared<Aggregate>(*a);
    seq->kind = Aggregate::Sequence;
    seq->ofSequence = false;
    return n.results({{Value(), seq}});
  }
  return n.result(a->elems[0]);
}

} // namespace

void registerSequenceOps(OpRegistry &r) {
  r.add("SequenceConstruct", 11, importSequenceConstruct);
  r.add("SequenceEmpty", 11, importSequenceEmpty);
  r.add("SequenceAt", 11, importSequenceAt);
  r.add("SequenceInsert", 11, importSequenceInsert);
  r.add("SequenceErase", 11, importSequenceErase);
  r.add("SequenceLength", 11, importSequenceLength);
  r.add("SplitToSequence", 11, importSplitToSequence);
  r.add("ConcatFromSequence", 11, importConcatFromSequence);
  r.add("SequenceMap", 17, importSequenceMap);
  r.add("Optional", 15, importOptional);
  r.add("OptionalHasElement", 15, importOptionalHasElement);
  r.add("OptionalGetElement", 15, importOptionalGetElement);
}

} // namespace dlc::importer
