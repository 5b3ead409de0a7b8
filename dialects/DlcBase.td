//===- DlcBase.td - The dlc dialect and its op base classes -*- tablegen -*-===//
#ifndef DLC_BASE_TD
#define DLC_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "dialects/ShapeInferenceInterface.td"

def Dlc_Dialect : Dialect {
  let name = "dlc";
  let cppNamespace = "::dlc";
  let summary = "Neural-network graph operations imported from ONNX";
  let description = [{
    Ops on tensors with the semantics of the latest ONNX opset. The importer rewrites
    older opsets into these forms: parameters that ONNX moved from attributes to inputs
    (axes, pads, starts/ends, shapes, clip bounds) are attributes here, resolved to
    compile-time constants at import.
  }];
  let hasConstantMaterializer = 1;
  // Discardable `dlc.*` attributes (names in dialects/DlcAttrs.h) are checked here.
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    /// Adds the attributes of dialects/DlcAttrs.td (DlcAttrs.cpp).
    void registerAttributes();
  }];
  let useDefaultTypePrinterParser = 0;
}

/// Verifies an op by running its shape inference on its operand types and checking that
/// the declared result types agree.
def Dlc_InferredShapesMatch : NativeOpTrait<"InferredShapesMatch"> {
  let cppNamespace = "::dlc::OpTrait";
}

//===----------------------------------------------------------------------===//
// Op kinds: how an op combines with its neighbours in a kernel (dlc-form-kernels,
// docs/fusion.md, after TVM's op pattern kinds), and what follows from the kind: the
// default shape rule, the lowering family, the gradient rules that apply.
//===----------------------------------------------------------------------===//

class Dlc_KindTrait<string name> : NativeOpTrait<name> {
  let cppNamespace = "::dlc::OpTrait";
}
/// Each output element is computed from the same-index (broadcast) input elements by
/// the op's scalar formula (passes/DlcToLinalg/Elementwise.cpp).
def Dlc_Elementwise : Dlc_KindTrait<"ElementwiseKind">;
/// The operands broadcast against each other, numpy style (ONNX multidirectional
/// broadcasting), and share one element type.
def Dlc_Broadcasting : Dlc_KindTrait<"BroadcastingKind">;
/// Moves data by index without arithmetic: transpose, slice, expand.
def Dlc_Injective : Dlc_KindTrait<"InjectiveKind">;
/// Reduces dims of its first operand (a kernel root when they are the trailing ones:
/// Softmax, LayerNorm, ReduceX over trailing axes, global pooling).
def Dlc_Reduction : Dlc_KindTrait<"ReductionKind">;
/// A contraction (MatMul, Gemm, Conv): takes an elementwise epilogue into its kernel.
def Dlc_Contraction : Dlc_KindTrait<"ContractionKind">;
/// A sliding-window op (MaxPool, AveragePool): takes an elementwise epilogue.
def Dlc_Window : Dlc_KindTrait<"WindowKind">;
/// Reinterprets its operand's bytes with a new shape: no kernel, a buffer alias.
def Dlc_MetadataOnly : Dlc_KindTrait<"MetadataOnlyKind">;
/// Its output size depends on the data (NonZero, Unique, NonMaxSuppression, TopK with a
/// runtime k): no kernel, a host launch the runtime runs between kernels
/// (runtime/HostOps.cpp). Its `data_dim` attribute numbers the data dim (SymShape.h)
/// its result shapes use (`data_dims`, a list, for dlc.loop).
def Dlc_Host : Dlc_KindTrait<"HostKind">;

/// Base of every dlc op: pure, shape-inferable, printed generically. `shapeRule` is
/// the shape-inference interface, with the op's own inferResultShapes (Dlc_Op) or the
/// default rule of its kind (Dlc_KindShapeOp).
class Dlc_OpBase<string mnemonic, Trait shapeRule, list<Trait> traits>
    : Op<Dlc_Dialect, mnemonic,
         !listconcat([Pure, shapeRule, Dlc_InferredShapesMatch], traits)> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

/// A dlc op with its own shape function (`inferResultShapes`, dialects/OpShapes.cpp).
class Dlc_Op<string mnemonic, list<Trait> traits = []>
    : Dlc_OpBase<mnemonic, DeclareOpInterfaceMethods<DlcShapeInference,
                                                     ["inferResultShapes"]>, traits>;

/// A dlc op whose shape follows from its kind (inferShapeByKind): the broadcast of its
/// operands with Dlc_Broadcasting, else the shape of its first operand.
class Dlc_KindShapeOp<string mnemonic, list<Trait> traits = []>
    : Dlc_OpBase<mnemonic, DlcShapeInference, traits>;

/// Elementwise op of one operand; the result has the operand's shape.
class Dlc_UnaryOp<string mnemonic, string onnx, list<Trait> traits = []>
    : Dlc_KindShapeOp<mnemonic, !listconcat([Dlc_Elementwise], traits)> {
  let summary = "ONNX " # onnx # ", elementwise";
  let description = "Applies ONNX `" # onnx # "` to every element:\n\n```mlir\n%y = dlc." #
      mnemonic # " %x : (tensor<?x4xf32>) -> tensor<?x4xf32>\n```";
  let arguments = (ins AnyTensor:$x);
  let results = (outs AnyTensor:$y);
}

/// Elementwise op of two operands with numpy-style (ONNX multidirectional) broadcasting.
class Dlc_BinaryOp<string mnemonic, string onnx, list<Trait> traits = []>
    : Dlc_KindShapeOp<mnemonic, !listconcat([Dlc_Elementwise, Dlc_Broadcasting], traits)> {
  let summary = "ONNX " # onnx # ", elementwise with broadcasting";
  let description = "ONNX `" # onnx # "` with multidirectional broadcasting:\n\n```mlir\n" #
      "%c = dlc." # mnemonic # " %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>\n```";
  let arguments = (ins AnyTensor:$lhs, AnyTensor:$rhs);
  let results = (outs AnyTensor:$result);
}

/// A binary op that constant-folds small operands (shape arithmetic).
class Dlc_FoldableBinaryOp<string mnemonic, string onnx, list<Trait> traits = []>
    : Dlc_BinaryOp<mnemonic, onnx, traits> {
  let hasFolder = 1;
}

/// A reduction over `axes` (empty: all axes), keeping reduced dims as 1 if `keepdims`.
class Dlc_ReduceOp<string mnemonic, string onnx> : Dlc_Op<mnemonic, [Dlc_Reduction]> {
  let summary = "ONNX " # onnx;
  let description = "Reduces `x` over `axes` (all axes when empty):\n\n```mlir\n" #
      "%y = dlc." # mnemonic # " %x {axes = array<i64: 1>, keepdims = true}" #
      " : (tensor<2x3xf32>) -> tensor<2x1xf32>\n```";
  let arguments = (ins AnyTensor:$x, DenseI64ArrayAttr:$axes,
                       BoolAttr:$keepdims);
  let results = (outs AnyTensor:$y);
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferResultShapes(
        ::llvm::ArrayRef<::dlc::SymShape> operands,
        ::llvm::SmallVectorImpl<::dlc::SymShape> &results) {
      return ::dlc::reduceShape(*this, operands[0], getAxes(), getKeepdims(), results);
    }
  }];
}

#endif // DLC_BASE_TD
