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

/// Base of every dlc op: pure, shape-inferable, printed generically.
class Dlc_Op<string mnemonic, list<Trait> traits = []>
    : Op<Dlc_Dialect, mnemonic,
         !listconcat([Pure, DeclareOpInterfaceMethods<DlcShapeInference>,
                      Dlc_InferredShapesMatch], traits)> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

/// Elementwise op of one operand; the result has the operand's shape.
class Dlc_UnaryOp<string mnemonic, string onnx, list<Trait> traits = []>
    : Dlc_Op<mnemonic, traits> {
  let summary = "ONNX " # onnx # ", elementwise";
  let description = "Applies ONNX `" # onnx # "` to every element:\n\n```mlir\n%y = dlc." #
      mnemonic # " %x : (tensor<?x4xf32>) -> tensor<?x4xf32>\n```";
  let arguments = (ins AnyTensor:$x);
  let results = (outs AnyTensor:$y);
}

/// Elementwise op of two operands with numpy-style (ONNX multidirectional) broadcasting.
class Dlc_BinaryOp<string mnemonic, string onnx, list<Trait> traits = []>
    : Dlc_Op<mnemonic, traits> {
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
class Dlc_ReduceOp<string mnemonic, string onnx> : Dlc_Op<mnemonic> {
  let summary = "ONNX " # onnx;
  let description = "Reduces `x` over `axes` (all axes when empty):\n\n```mlir\n" #
      "%y = dlc." # mnemonic # " %x {axes = array<i64: 1>, keepdims = true}" #
      " : (tensor<2x3xf32>) -> tensor<2x1xf32>\n```";
  let arguments = (ins AnyTensor:$x, DenseI64ArrayAttr:$axes,
                       BoolAttr:$keepdims);
  let results = (outs AnyTensor:$y);
}

#endif // DLC_BASE_TD
