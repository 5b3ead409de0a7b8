//===- DlcOps.td - dlc dialect operations -------------------*- tablegen -*-===//
#ifndef DLC_OPS_TD
#define DLC_OPS_TD

include "dialects/DlcBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/IR/SymbolInterfaces.td"

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

def Dlc_ConstantOp : Dlc_Op<"constant", [ConstantLike]> {
  let summary = "A constant tensor (ONNX initializer or Constant node)";
  let description = [{
    Large weights are `dense_resource` blobs, small ones dense literals:

    ```mlir
    %w = dlc.constant {value = dense_resource<fc1_weight> : tensor<64x128xf32>}
           : () -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise, one operand
//===----------------------------------------------------------------------===//

def Dlc_NegOp : Dlc_UnaryOp<"neg", "Neg"> {
  let hasFolder = 1;
}
def Dlc_AbsOp : Dlc_UnaryOp<"abs", "Abs"> {
  let hasFolder = 1;
}
def Dlc_ExpOp : Dlc_UnaryOp<"exp", "Exp">;
def Dlc_LogOp : Dlc_UnaryOp<"log", "Log">;
def Dlc_SqrtOp : Dlc_UnaryOp<"sqrt", "Sqrt"> {
  let hasFolder = 1;
}
def Dlc_ReciprocalOp : Dlc_UnaryOp<"reciprocal", "Reciprocal"> {
  let hasFolder = 1;
}
def Dlc_TanhOp : Dlc_UnaryOp<"tanh", "Tanh">;
def Dlc_SigmoidOp : Dlc_UnaryOp<"sigmoid", "Sigmoid">;
def Dlc_ReluOp : Dlc_UnaryOp<"relu", "Relu"> {
  let hasFolder = 1;
}
def Dlc_ErfOp : Dlc_UnaryOp<"erf", "Erf">;
def Dlc_NotOp : Dlc_UnaryOp<"not", "Not"> {
  let hasFolder = 1;
}
def Dlc_FloorOp : Dlc_UnaryOp<"floor", "Floor"> {
  let hasFolder = 1;
}
def Dlc_CeilOp : Dlc_UnaryOp<"ceil", "Ceil"> {
  let hasFolder = 1;
}
def Dlc_RoundOp : Dlc_UnaryOp<"round", "Round"> {
  let hasFolder = 1;
}
def Dlc_SignOp : Dlc_UnaryOp<"sign", "Sign"> {
  let hasFolder = 1;
}
def Dlc_SinOp : Dlc_UnaryOp<"sin", "Sin">;
def Dlc_CosOp : Dlc_UnaryOp<"cos", "Cos">;
def Dlc_TanOp : Dlc_UnaryOp<"tan", "Tan">;
def Dlc_AsinOp : Dlc_UnaryOp<"asin", "Asin">;
def Dlc_AcosOp : Dlc_UnaryOp<"acos", "Acos">;
def Dlc_AtanOp : Dlc_UnaryOp<"atan", "Atan">;
def Dlc_SinhOp : Dlc_UnaryOp<"sinh", "Sinh">;
def Dlc_CoshOp : Dlc_UnaryOp<"cosh", "Cosh">;
def Dlc_AsinhOp : Dlc_UnaryOp<"asinh", "Asinh">;
def Dlc_AcoshOp : Dlc_UnaryOp<"acosh", "Acosh">;
def Dlc_AtanhOp : Dlc_UnaryOp<"atanh", "Atanh">;
def Dlc_SoftplusOp : Dlc_UnaryOp<"softplus", "Softplus">;
def Dlc_SoftsignOp : Dlc_UnaryOp<"softsign", "Softsign">;
def Dlc_MishOp : Dlc_UnaryOp<"mish", "Mish">;
def Dlc_HardSwishOp : Dlc_UnaryOp<"hard_swish", "HardSwish">;
def Dlc_IsNaNOp : Dlc_UnaryOp<"isnan", "IsNaN">;
def Dlc_IdentityOp : Dlc_KindShapeOp<"identity", [Dlc_MetadataOnly]> {
  let summary = "ONNX Identity (also inference-mode Dropout)";
  let description = [{
    Its operand, unchanged (a buffer alias in the plan):

    ```mlir
    %y = dlc.identity %x : (tensor<?x4xf32>) -> tensor<?x4xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x);
  let results = (outs AnyTensor:$y);
  let hasFolder = 1;
}
def Dlc_DropoutOp : Dlc_KindShapeOp<"dropout"> {
  let summary = "ONNX Dropout in training mode";
  let description = [{
    Training-mode Dropout, as imported for `dlc train` (inference imports Dropout as
    `dlc.identity`). The training step replaces it by `x * mask / (1 - ratio)` with a
    mask from `dlc.random_uniform`; nothing lowers it otherwise.

    ```mlir
    %y = dlc.dropout %x {ratio = 5.000000e-01 : f32} : (tensor<32x64xf32>) -> tensor<32x64xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x, F32Attr:$ratio);
  let results = (outs AnyTensor:$y);
}
def Dlc_RandomUniformOp : Dlc_Op<"random_uniform"> {
  let summary = "Counter-based uniform random numbers in [0, 1)";
  let description = [{
    Element i (row-major) of the result is a hash of (`seed`, `salt`, i) mapped to
    [0, 1) with 24 bits: the same numbers on every target and thread count. `seed` is
    a 0-d int64 tensor (a training step's "seed" input); `salt` tells the ops of one
    graph apart.

    ```mlir
    %u = dlc.random_uniform %seed {shape = array<i64: 32, 64>, salt = 0 : i64}
        : (tensor<i64>) -> tensor<32x64xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$seed, DenseI64ArrayAttr:$shape, I64Attr:$salt);
  let results = (outs AnyTensor:$y);
}
def Dlc_CastOp : Dlc_UnaryOp<"cast", "Cast (the result element type is the target)"> {
  let description = [{
    Converts every element to the result's element type with ONNX Cast's rules.
    `saturate` (for float8 results) clips values beyond the type's range to its largest
    finite value instead of making them infinity or NaN; `round_mode` ("up", "down",
    "nearest") rounds to float8e8m0.

    ```mlir
    %y = dlc.cast %x {saturate = false} : (tensor<4xf32>) -> tensor<4xf8E4M3FN>
    ```
  }];
  let arguments = (ins AnyTensor:$x, DefaultValuedAttr<BoolAttr, "true">:$saturate,
                       DefaultValuedStrAttr<StrAttr, "up">:$round_mode);
  let hasFolder = 1;
  let hasVerifier = 1;
}

def Dlc_BitcastOp : Dlc_UnaryOp<"bitcast",
                                "BitCast (the bits as the result element type, of the same width)"> {
  let hasVerifier = 1;
}

def Dlc_IsInfOp : Dlc_UnaryOp<"isinf", "IsInf"> {
  let arguments = (ins AnyTensor:$x, BoolAttr:$detect_negative,
                       BoolAttr:$detect_positive);
}
def Dlc_LeakyReluOp : Dlc_UnaryOp<"leaky_relu", "LeakyRelu"> {
  let arguments = (ins AnyTensor:$x, F32Attr:$alpha);
}
def Dlc_EluOp : Dlc_UnaryOp<"elu", "Elu"> {
  let arguments = (ins AnyTensor:$x, F32Attr:$alpha);
}
def Dlc_CeluOp : Dlc_UnaryOp<"celu", "Celu"> {
  let arguments = (ins AnyTensor:$x, F32Attr:$alpha);
}
def Dlc_ThresholdedReluOp : Dlc_UnaryOp<"thresholded_relu", "ThresholdedRelu"> {
  let arguments = (ins AnyTensor:$x, F32Attr:$alpha);
}
def Dlc_SeluOp : Dlc_UnaryOp<"selu", "Selu"> {
  let arguments = (ins AnyTensor:$x, F32Attr:$alpha, F32Attr:$gamma);
}
def Dlc_HardSigmoidOp : Dlc_UnaryOp<"hard_sigmoid", "HardSigmoid"> {
  let arguments = (ins AnyTensor:$x, F32Attr:$alpha, F32Attr:$beta);
}
def Dlc_ShrinkOp : Dlc_UnaryOp<"shrink", "Shrink"> {
  let arguments = (ins AnyTensor:$x, F32Attr:$bias, F32Attr:$lambd);
}
def Dlc_GeluOp : Dlc_UnaryOp<"gelu", "Gelu"> {
  let arguments = (ins AnyTensor:$x, BoolAttr:$tanh_approximation);
}
def Dlc_ClipOp : Dlc_UnaryOp<"clip", "Clip (bounds resolved at import)"> {
  let arguments = (ins AnyTensor:$x, OptionalAttr<F64Attr>:$min,
                       OptionalAttr<F64Attr>:$max);
}

//===----------------------------------------------------------------------===//
// Elementwise, two or three operands, broadcasting
//===----------------------------------------------------------------------===//

def Dlc_AddOp : Dlc_FoldableBinaryOp<"add", "Add", [Commutative]>;
def Dlc_SubOp : Dlc_FoldableBinaryOp<"sub", "Sub">;
def Dlc_MulOp : Dlc_FoldableBinaryOp<"mul", "Mul", [Commutative]>;
def Dlc_DivOp : Dlc_FoldableBinaryOp<"div", "Div">;
def Dlc_PowOp : Dlc_Op<"pow", [Dlc_Elementwise, Dlc_Broadcasting]> {
  let summary = "ONNX Pow, elementwise with broadcasting";
  let description = [{
    ONNX `Pow` with multidirectional broadcasting; the exponent may have another
    element type than the base (the result has the base's):

    ```mlir
    %c = dlc.pow %a, %b : (tensor<2x3xf32>, tensor<3xi64>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$lhs, AnyTensor:$rhs);
  let results = (outs AnyTensor:$result);
  // A constant exponent of 1, 2 or 3 on a float base becomes multiplies (GELU's
  // x ** 3 had been a libm powf call per element).
  let hasCanonicalizer = 1;
  // Constants fold (DINOv2's torch_int(num_positions ** 0.5) in a Reshape's shape).
  let hasFolder = 1;
}
def Dlc_MinOp : Dlc_FoldableBinaryOp<"min", "Min", [Commutative]>;
def Dlc_MaxOp : Dlc_FoldableBinaryOp<"max", "Max", [Commutative]>;
def Dlc_ModOp : Dlc_FoldableBinaryOp<"mod", "Mod with fmod=0 (sign of divisor)">;
def Dlc_FModOp : Dlc_FoldableBinaryOp<"fmod", "Mod with fmod=1 (sign of dividend)">;
def Dlc_PReluOp : Dlc_BinaryOp<"prelu", "PRelu">;
def Dlc_EqualOp : Dlc_FoldableBinaryOp<"equal", "Equal", [Commutative]>;
def Dlc_LessOp : Dlc_FoldableBinaryOp<"less", "Less">;
def Dlc_LessOrEqualOp : Dlc_FoldableBinaryOp<"less_or_equal", "LessOrEqual">;
def Dlc_GreaterOp : Dlc_FoldableBinaryOp<"greater", "Greater">;
def Dlc_GreaterOrEqualOp : Dlc_FoldableBinaryOp<"greater_or_equal", "GreaterOrEqual">;
def Dlc_AndOp : Dlc_FoldableBinaryOp<"and", "And", [Commutative]>;
def Dlc_OrOp : Dlc_FoldableBinaryOp<"or", "Or", [Commutative]>;
def Dlc_XorOp : Dlc_FoldableBinaryOp<"xor", "Xor", [Commutative]>;
def Dlc_BitShiftLeftOp : Dlc_BinaryOp<"bitshift_left", "BitShift direction=LEFT">;
def Dlc_BitShiftRightOp : Dlc_BinaryOp<"bitshift_right", "BitShift direction=RIGHT">;

def Dlc_WhereOp : Dlc_Op<"where", [Dlc_Elementwise]> {
  let summary = "ONNX Where: select with three-way broadcasting";
  let description = [{
    ```mlir
    %r = dlc.where %c, %a, %b : (tensor<4xi1>, tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$condition,
                       AnyTensor:$x, AnyTensor:$y);
  let results = (outs AnyTensor:$result);
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

def Dlc_MatMulOp : Dlc_Op<"matmul", [Dlc_Contraction]> {
  let summary = "ONNX MatMul (numpy matmul: 1-D promotion, batch broadcasting)";
  let description = [{
    ```mlir
    %c = dlc.matmul %a, %b : (tensor<?x8x32xf32>, tensor<32x32xf32>) -> tensor<?x8x32xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$a, AnyTensor:$b);
  let results = (outs AnyTensor:$c);
}

def Dlc_EinsumOp : Dlc_Op<"einsum"> {
  let summary = "ONNX Einsum (explicit or implicit output, ellipsis, diagonals)";
  let description = [{
    ```mlir
    %c = dlc.einsum %a, %b {equation = "bij,bjk->bik"}
           : (tensor<?x2x3xf32>, tensor<?x3x4xf32>) -> tensor<?x2x4xf32>
    ```
  }];
  let arguments = (ins Variadic<AnyTensor>:$inputs, StrAttr:$equation);
  let results = (outs AnyTensor:$output);
  let extraClassDeclaration = [{
    /// The equation with ellipses expanded for the operands' ranks: one label string
    /// per operand and one for the output. Fails with a message on malformed input.
    ::llvm::FailureOr<std::pair<std::vector<std::string>, std::string>>
    getLabels(::llvm::ArrayRef<int64_t> ranks, std::string &error);
  }];
}

def Dlc_GemmOp : Dlc_Op<"gemm", [Dlc_Contraction]> {
  let summary = "ONNX Gemm: alpha * op(A) * op(B) + beta * C";
  let description = [{
    ```mlir
    %y = dlc.gemm %a, %b, %c {alpha = 1.0 : f32, beta = 1.0 : f32, transA = false,
           transB = true} : (tensor<?x64xf32>, tensor<128x64xf32>, tensor<128xf32>)
           -> tensor<?x128xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$a, AnyTensor:$b,
                       Optional<AnyTensor>:$c, F32Attr:$alpha,
                       F32Attr:$beta, BoolAttr:$transA, BoolAttr:$transB);
  let results = (outs AnyTensor:$y);
}

def Dlc_ConvOp : Dlc_Op<"conv", [Dlc_Contraction]> {
  let summary = "ONNX Conv (N-D, groups, dilations; explicit pads)";
  let description = [{
    `pads` holds all begin pads then all end pads; the importer resolves `auto_pad`.

    ```mlir
    %y = dlc.conv %x, %w, %b {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>,
           dilations = array<i64: 1, 1>, group = 1 : i64}
           : (tensor<?x3x16x16xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<?x8x16x16xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x, AnyTensor:$w,
                       Optional<AnyTensor>:$b, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$dilations,
                       I64Attr:$group);
  let results = (outs AnyTensor:$y);
}

//===----------------------------------------------------------------------===//
// Pooling and normalization
//===----------------------------------------------------------------------===//

def Dlc_MaxPoolIndicesOp : Dlc_Op<"max_pool_indices", [Dlc_Window]> {
  let summary = "ONNX MaxPool's Indices output: where each window's maximum is";
  let description = [{
    The int64 index of each window's first maximum in x flattened, N and C included:
    row major, or with the spatial dims column major when `storage_order` is set.
    Attributes as dlc.max_pool.

    ```mlir
    %i = dlc.max_pool_indices %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>,
           pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false,
           storage_order = false}
           : (tensor<1x8x16x16xf32>) -> tensor<1x8x8x8xi64>
    ```
  }];
  let arguments = (ins AnyTensor:$x, DenseI64ArrayAttr:$kernel_shape,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, BoolAttr:$ceil_mode,
                       BoolAttr:$storage_order);
  let results = (outs AnyTensor:$y);
}

def Dlc_MaxPoolOp : Dlc_Op<"max_pool", [Dlc_Window]> {
  let summary = "ONNX MaxPool (explicit pads; ceil_mode resolved into output size)";
  let description = [{
    ```mlir
    %y = dlc.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>,
           pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false}
           : (tensor<?x8x16x16xf32>) -> tensor<?x8x8x8xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x, DenseI64ArrayAttr:$kernel_shape,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, BoolAttr:$ceil_mode);
  let results = (outs AnyTensor:$y);
}

def Dlc_AveragePoolOp : Dlc_Op<"average_pool", [Dlc_Window]> {
  let summary = "ONNX AveragePool";
  let description = [{
    ```mlir
    %y = dlc.average_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>,
           pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false,
           count_include_pad = false} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x, DenseI64ArrayAttr:$kernel_shape,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, BoolAttr:$ceil_mode,
                       BoolAttr:$count_include_pad);
  let results = (outs AnyTensor:$y);
}

def Dlc_GlobalAveragePoolOp : Dlc_Op<"global_average_pool", [Dlc_Reduction]> {
  let summary = "ONNX GlobalAveragePool: mean over all spatial dims, kept as 1";
  let description = [{
    ```mlir
    %y = dlc.global_average_pool %x : (tensor<?x16x8x8xf32>) -> tensor<?x16x1x1xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x);
  let results = (outs AnyTensor:$y);
}

def Dlc_GlobalMaxPoolOp : Dlc_Op<"global_max_pool", [Dlc_Reduction]> {
  let summary = "ONNX GlobalMaxPool: max over all spatial dims, kept as 1";
  let description = [{
    ```mlir
    %y = dlc.global_max_pool %x : (tensor<?x16x8x8xf32>) -> tensor<?x16x1x1xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x);
  let results = (outs AnyTensor:$y);
}

def Dlc_BatchNormOp : Dlc_KindShapeOp<"batch_norm", [Dlc_Elementwise]> {
  let summary = "ONNX BatchNormalization, inference mode (running statistics)";
  let description = [{
    ```mlir
    %y = dlc.batch_norm %x, %scale, %bias, %mean, %var {epsilon = 1.0e-05 : f32}
           : (tensor<?x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>,
              tensor<8xf32>) -> tensor<?x8x4x4xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x, AnyTensor:$scale,
                       AnyTensor:$bias, AnyTensor:$mean,
                       AnyTensor:$var, F32Attr:$epsilon);
  let results = (outs AnyTensor:$y);
}

def Dlc_LayerNormOp : Dlc_KindShapeOp<"layer_norm", [Dlc_Reduction]> {
  let summary = "ONNX LayerNormalization over the dims from `axis` on";
  let description = [{
    ```mlir
    %y = dlc.layer_norm %x, %scale, %bias {axis = -1 : i64, epsilon = 1.0e-05 : f32}
           : (tensor<?x8x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<?x8x32xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x, AnyTensor:$scale,
                       Optional<AnyTensor>:$bias, I64Attr:$axis,
                       F32Attr:$epsilon);
  let results = (outs AnyTensor:$y);
}

def Dlc_SoftmaxOp : Dlc_Op<"softmax", [Dlc_Reduction]> {
  let summary = "ONNX Softmax (opset 13 semantics: along one axis)";
  let description = [{
    ```mlir
    %y = dlc.softmax %x {axis = -1 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x, I64Attr:$axis);
  let results = (outs AnyTensor:$y);
}

def Dlc_LogSoftmaxOp : Dlc_Op<"log_softmax", [Dlc_Reduction]> {
  let summary = "ONNX LogSoftmax (opset 13 semantics: along one axis)";
  let description = [{
    ```mlir
    %y = dlc.log_softmax %x {axis = -1 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x, I64Attr:$axis);
  let results = (outs AnyTensor:$y);
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

def Dlc_ReduceSumOp : Dlc_ReduceOp<"reduce_sum", "ReduceSum"> {
  let hasFolder = 1;
}
def Dlc_ReduceMeanOp : Dlc_ReduceOp<"reduce_mean", "ReduceMean">;
def Dlc_ReduceMaxOp : Dlc_ReduceOp<"reduce_max", "ReduceMax"> {
  let hasFolder = 1;
}
def Dlc_ReduceMinOp : Dlc_ReduceOp<"reduce_min", "ReduceMin"> {
  let hasFolder = 1;
}
def Dlc_ReduceProdOp : Dlc_ReduceOp<"reduce_prod", "ReduceProd"> {
  let hasFolder = 1;
}
def Dlc_ReduceL1Op : Dlc_ReduceOp<"reduce_l1", "ReduceL1">;
def Dlc_ReduceL2Op : Dlc_ReduceOp<"reduce_l2", "ReduceL2">;
def Dlc_ReduceLogSumOp : Dlc_ReduceOp<"reduce_log_sum", "ReduceLogSum">;
def Dlc_ReduceLogSumExpOp : Dlc_ReduceOp<"reduce_log_sum_exp", "ReduceLogSumExp">;
def Dlc_ReduceSumSquareOp : Dlc_ReduceOp<"reduce_sum_square", "ReduceSumSquare">;

/// A scan along a constant axis (CumSum, CumProd).
class Dlc_ScanOp<string mnemonic, string onnx> : Dlc_Op<mnemonic> {
  let summary = "ONNX " # onnx # " along a constant axis";
  let description = "```mlir\n%y = dlc." # mnemonic #
      " %x {axis = 1 : i64, exclusive = false, reverse = false}\n" #
      "       : (tensor<2x3xf32>) -> tensor<2x3xf32>\n```";
  let arguments = (ins AnyTensor:$x, I64Attr:$axis, BoolAttr:$exclusive, BoolAttr:$reverse);
  let results = (outs AnyTensor:$y);
}
def Dlc_CumSumOp : Dlc_ScanOp<"cumsum", "CumSum">;
def Dlc_CumProdOp : Dlc_ScanOp<"cumprod", "CumProd">;

def Dlc_TopKOp : Dlc_Op<"topk"> {
  let summary = "ONNX TopK: the k largest (or smallest) elements along `axis`, sorted";
  let description = [{
    Values and int64 indices of the `k` largest (`largest`, else smallest) elements
    along `axis`, best first; equal values keep their order (the lower index first).

    ```mlir
    %v, %i = dlc.topk %x {k = 3 : i64, axis = 1 : i64, largest = true}
               : (tensor<?x10xf32>) -> (tensor<?x3xf32>, tensor<?x3xi64>)
    ```
  }];
  let arguments = (ins AnyTensor:$x, I64Attr:$k, I64Attr:$axis, BoolAttr:$largest);
  let results = (outs AnyTensor:$values, AnyTensor:$indices);
}

//===----------------------------------------------------------------------===//
// Output size decided by the data: host launches
//===----------------------------------------------------------------------===//

def Dlc_NonZeroOp : Dlc_Op<"nonzero", [Dlc_Host]> {
  let summary = "ONNX NonZero: the indices of the nonzero elements, [rank, n]";
  let description = [{
    ```mlir
    %i = dlc.nonzero %x {data_dim = 0 : i64} : (tensor<3x4xf32>) -> tensor<2x?xi64>
    ```
  }];
  let arguments = (ins AnyTensor:$x, I64Attr:$data_dim);
  let results = (outs AnyTensor:$y);
}

def Dlc_UniqueOp : Dlc_Op<"unique", [Dlc_Host]> {
  let summary = "ONNX Unique: unique values or slices along `axis`, with indices";
  let description = [{
    ```mlir
    %y, %idx, %inv, %cnt = dlc.unique %x {sorted = true, data_dim = 0 : i64}
        : (tensor<6xf32>) -> (tensor<?xf32>, tensor<?xi64>, tensor<6xi64>, tensor<?xi64>)
    ```
  }];
  let arguments = (ins AnyTensor:$x, OptionalAttr<I64Attr>:$axis, BoolAttr:$sorted,
                       I64Attr:$data_dim);
  let results = (outs AnyTensor:$y, AnyTensor:$indices, AnyTensor:$inverse_indices,
                      AnyTensor:$counts);
}

def Dlc_NonMaxSuppressionOp : Dlc_Op<"non_max_suppression", [Dlc_Host]> {
  let summary = "ONNX NonMaxSuppression: selected [batch, class, box] rows, [n, 3]";
  let description = [{
    The optional inputs (max_output_boxes_per_class, iou_threshold, score_threshold)
    are operands in that order where the `has_*` attributes say they are present.
    ```mlir
    %s = dlc.non_max_suppression %boxes, %scores, %max {center_point_box = 0 : i64,
           has_max_output = true, has_iou_threshold = false,
           has_score_threshold = false, data_dim = 0 : i64}
         : (tensor<1x6x4xf32>, tensor<1x1x6xf32>, tensor<1xi64>) -> tensor<?x3xi64>
    ```
  }];
  let arguments = (ins Variadic<AnyTensor>:$inputs, I64Attr:$center_point_box,
                       BoolAttr:$has_max_output, BoolAttr:$has_iou_threshold,
                       BoolAttr:$has_score_threshold, I64Attr:$data_dim);
  let results = (outs AnyTensor:$selected);
}

def Dlc_TopKDynamicOp : Dlc_Op<"topk_dynamic", [Dlc_Host]> {
  let summary = "ONNX TopK with k known at run time: values and indices, sorted";
  let description = [{
    k (a one-element int64 tensor) comes from data or from symbolic dims; the output
    extent along `axis` is a data dim.
    ```mlir
    %v, %i = dlc.topk_dynamic %x, %k {axis = -1 : i64, largest = true, data_dim = 0 : i64}
        : (tensor<?x10xf32>, tensor<1xi64>) -> (tensor<?x?xf32>, tensor<?x?xi64>)
    ```
  }];
  let arguments = (ins AnyTensor:$x, AnyTensor:$k, I64Attr:$axis, BoolAttr:$largest,
                       I64Attr:$data_dim);
  let results = (outs AnyTensor:$values, AnyTensor:$indices);
}

def Dlc_LoopOp : Dlc_Op<"loop", [Dlc_Host]> {
  let summary = "ONNX Loop run by the runtime, its body a nested model compiled once";
  let description = [{
    Operands: the trip count M (int64, one element), the condition (i1, one element),
    the loop-carried values, then the outer-scope values the body reads. `body` names
    the func.func of the body (arguments: iteration number, condition, loop-carried
    values, outer-scope values; results: condition, loop-carried values, scan parts);
    the compiler makes it a nested artifact and the runtime runs it once per iteration
    (runtime/HostOps.cpp). Results: the final loop-carried values, then the scan outputs
    (each iteration's part stacked on a new axis 0).

    `result_dims` gives every result's dims in order (`result_ranks` per result) over
    symbols `j * 32 + d`, dim `d` of operand `j`, where `j` below the operand count;
    symbol `(num_operands + k) * 32` is data dim `data_dims[k]`, decided by the run: the
    number of iterations, or an extent of a loop-carried value that changes.
    ```mlir
    %h, %ys = dlc.loop %m, %c, %h0, %w {body = @dlc_body_0, num_carried = 1 : i64,
        result_ranks = array<i64: 2, 3>, result_dims = affine_map<()[s0, ..., s159] ->
        (s64, s65, s128, s64, s65)>, data_dims = array<i64: 0>}
        : (tensor<i64>, tensor<i1>, tensor<?x8xf32>, tensor<8x8xf32>)
        -> (tensor<?x8xf32>, tensor<?x?x8xf32>)
    ```
  }];
  let arguments = (ins Variadic<AnyTensor>:$inputs, FlatSymbolRefAttr:$body,
                       I64Attr:$num_carried, DenseI64ArrayAttr:$result_ranks,
                       AffineMapAttr:$result_dims, DenseI64ArrayAttr:$data_dims);
  let results = (outs Variadic<AnyTensor>:$outputs);
}

def Dlc_IfOp : Dlc_Op<"if", [Dlc_Host]> {
  let summary = "ONNX If on a runtime condition whose branches differ in shape";
  let description = [{
    Operands: the condition (i1, one element), then the outer-scope values the branches
    read. `then_branch` and `else_branch` name the branches' func.funcs, which the
    compiler makes nested artifacts; argument `i` of a branch is operand
    `then_inputs[i]` (`else_inputs[i]`). The runtime runs the branch the condition
    picks (runtime/HostOps.cpp). `result_dims`, `result_ranks` and `data_dims` are as
    dlc.loop's: an extent on which the branches agree stays an expression of the
    operands' dims, the others are data dims decided by the run.
    ```mlir
    %y = dlc.if %c, %x {then_branch = @dlc_body_0, else_branch = @dlc_body_1,
        then_inputs = array<i64: 1>, else_inputs = array<i64: 1>, result_ranks =
        array<i64: 1>, result_dims = affine_map<()[s0, ..., s95] -> (s64)>,
        data_dims = array<i64: 0>} : (tensor<i1>, tensor<4xf32>) -> tensor<?xf32>
    ```
  }];
  let arguments = (ins Variadic<AnyTensor>:$inputs, FlatSymbolRefAttr:$then_branch,
                       FlatSymbolRefAttr:$else_branch, DenseI64ArrayAttr:$then_inputs,
                       DenseI64ArrayAttr:$else_inputs, DenseI64ArrayAttr:$result_ranks,
                       AffineMapAttr:$result_dims, DenseI64ArrayAttr:$data_dims);
  let results = (outs Variadic<AnyTensor>:$outputs);
}

def Dlc_DataSliceOp : Dlc_Op<"data_slice", [Dlc_Host]> {
  let summary = "ONNX Slice whose starts or ends come from tensor data";
  let description = [{
    `starts` and `ends` are 1-D integer tensors read at run time (with ONNX's
    negative and clamped bounds); `axes` (normalized) and `steps` are constants. The
    extent of each sliced axis is data dim `data_dims[i]`, decided by the run
    (runtime/HostOps.cpp).
    ```mlir
    %y = dlc.data_slice %x, %s, %e {axes = array<i64: 0>, steps = array<i64: 1>,
           data_dims = array<i64: 0>} : (tensor<10x4xf32>, tensor<1xi64>, tensor<1xi64>)
           -> tensor<?x4xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x, AnyTensor:$starts, AnyTensor:$ends,
                       DenseI64ArrayAttr:$axes, DenseI64ArrayAttr:$steps,
                       DenseI64ArrayAttr:$data_dims);
  let results = (outs AnyTensor:$y);
}

def Dlc_DataDimsOp : Dlc_Op<"data_dims", [Dlc_Host]> {
  let summary = "Data dims read from the entries of a small integer tensor";
  let description = [{
    `values` is a 1-D integer tensor of n entries (n < 32) computed at run time: a
    size an exporter computed with float arithmetic (`floor(H * scale)`), which no
    shape expression holds. The run reads it and entry i becomes data dim
    `data_dims[i]` (runtime/HostOps.cpp; a negative entry, or one that does not fit in
    32 bits, is an error). The result carries the data dims: its shape is
    `[v0, ..., v(n-1), 0]`, zero bytes, and the ops whose shapes use them take it as an
    operand as they take any data dim's carrier.
    ```mlir
    %d = dlc.data_dims %sizes {data_dims = array<i64: 0, 1>}
           : (tensor<2xi64>) -> tensor<?x?x0xi8>
    ```
  }];
  let arguments = (ins AnyTensor:$values, DenseI64ArrayAttr:$data_dims);
  let results = (outs AnyTensor:$carrier);
}

def Dlc_ArgMaxOp : Dlc_Op<"arg_max"> {
  let summary = "ONNX ArgMax: int64 indices of the maxima along `axis`";
  let description = [{
    ```mlir
    %i = dlc.arg_max %x {axis = 1 : i64, keepdims = false, select_last_index = false}
           : (tensor<?x10xf32>) -> tensor<?xi64>
    ```
  }];
  let arguments = (ins AnyTensor:$x, I64Attr:$axis, BoolAttr:$keepdims,
                       BoolAttr:$select_last_index);
  let results = (outs AnyTensor:$y);
}

def Dlc_ArgMinOp : Dlc_Op<"arg_min"> {
  let summary = "ONNX ArgMin: int64 indices of the minima along `axis`";
  let description = [{
    ```mlir
    %i = dlc.arg_min %x {axis = 1 : i64, keepdims = false, select_last_index = false}
           : (tensor<?x10xf32>) -> tensor<?xi64>
    ```
  }];
  let arguments = (ins AnyTensor:$x, I64Attr:$axis, BoolAttr:$keepdims,
                       BoolAttr:$select_last_index);
  let results = (outs AnyTensor:$y);
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def Dlc_ReshapeOp : Dlc_Op<"reshape", [Dlc_MetadataOnly]> {
  let summary = "ONNX Reshape to a constant or symbolic target shape (0 copies a dim, -1 infers)";
  let description = [{
    ```mlir
    %y = dlc.reshape %x {shape = array<i64: 0, 0, 4, 8>, allowzero = false}
           : (tensor<?x8x32xf32>) -> tensor<?x8x4x8xf32>
    ```
    A target computed from shapes in the graph (Shape -> Gather -> Concat -> Reshape)
    is symbolic: an entry of `shape` equal to INT64_MIN takes the same result of
    `sym_shape`, an expression whose symbol `j * 32 + d` is dim `d` of operand
    `dims_of[j]` (tensors read for their dims only). See docs/architecture.md.
  }];
  let arguments = (ins AnyTensor:$x, Variadic<AnyTensor>:$dims_of,
                       DenseI64ArrayAttr:$shape, BoolAttr:$allowzero,
                       OptionalAttr<AffineMapAttr>:$sym_shape);
  let results = (outs AnyTensor:$y);
  let hasFolder = 1;
}

def Dlc_FlattenOp : Dlc_Op<"flatten", [Dlc_MetadataOnly]> {
  let summary = "ONNX Flatten to 2-D at `axis`";
  let description = [{
    ```mlir
    %y = dlc.flatten %x {axis = 1 : i64} : (tensor<?x16x1x1xf32>) -> tensor<?x16xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x, I64Attr:$axis);
  let results = (outs AnyTensor:$y);
  let hasFolder = 1;
}

def Dlc_SqueezeOp : Dlc_Op<"squeeze", [Dlc_MetadataOnly]> {
  let summary = "ONNX Squeeze (empty axes: every static 1)";
  let description = [{
    ```mlir
    %y = dlc.squeeze %x {axes = array<i64: 1>} : (tensor<?x1x4xf32>) -> tensor<?x4xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x, DenseI64ArrayAttr:$axes);
  let results = (outs AnyTensor:$y);
  let hasFolder = 1;
}

def Dlc_UnsqueezeOp : Dlc_Op<"unsqueeze", [Dlc_MetadataOnly]> {
  let summary = "ONNX Unsqueeze";
  let description = [{
    ```mlir
    %y = dlc.unsqueeze %x {axes = array<i64: 0>} : (tensor<4xf32>) -> tensor<1x4xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x, DenseI64ArrayAttr:$axes);
  let results = (outs AnyTensor:$y);
  let hasFolder = 1;
}

def Dlc_TransposeOp : Dlc_Op<"transpose", [Dlc_Injective]> {
  let summary = "ONNX Transpose";
  let description = [{
    ```mlir
    %y = dlc.transpose %x {perm = array<i64: 0, 2, 1, 3>}
           : (tensor<?x8x4x8xf32>) -> tensor<?x4x8x8xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x, DenseI64ArrayAttr:$perm);
  let results = (outs AnyTensor:$y);
  let hasFolder = 1;
}

def Dlc_ConcatOp : Dlc_Op<"concat"> {
  let summary = "ONNX Concat";
  let description = [{
    ```mlir
    %y = dlc.concat %a, %b {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>) -> tensor<3xi64>
    ```
  }];
  let arguments = (ins Variadic<AnyTensor>:$inputs, I64Attr:$axis);
  let results = (outs AnyTensor:$y);
  let hasFolder = 1;
}

def Dlc_SplitOp : Dlc_Op<"split"> {
  let summary = "ONNX Split into pieces of the given sizes along `axis`";
  let description = [{
    ```mlir
    %a, %b = dlc.split %x {axis = 1 : i64, sizes = array<i64: 2, 4>}
               : (tensor<?x6xf32>) -> (tensor<?x2xf32>, tensor<?x4xf32>)
    ```
  }];
  let arguments = (ins AnyTensor:$x, I64Attr:$axis,
                       DenseI64ArrayAttr:$sizes);
  let results = (outs Variadic<AnyTensor>:$outputs);
}

def Dlc_SliceOp : Dlc_Op<"slice", [Dlc_Injective]> {
  let summary = "ONNX Slice with constant starts/ends/axes/steps (normalized at import)";
  let description = [{
    ```mlir
    %y = dlc.slice %x {starts = array<i64: 0>, ends = array<i64: 2>, axes = array<i64: 1>,
           steps = array<i64: 1>} : (tensor<?x6xf32>) -> tensor<?x2xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x, DenseI64ArrayAttr:$starts,
                       DenseI64ArrayAttr:$ends, DenseI64ArrayAttr:$axes,
                       DenseI64ArrayAttr:$steps);
  let results = (outs AnyTensor:$y);
  let hasFolder = 1;
}

def Dlc_SymbolicSliceOp : Dlc_Op<"symbolic_slice"> {
  let summary = "ONNX Slice whose bounds are computed from shapes";
  let description = [{
    `bounds` gives, for each entry of `axes`, the start and the end (already
    normalized: non-negative, within the dim) as expressions whose symbol `j * 32 + d`
    is dim `d` of `dims_of[j]`; `steps` are positive constants. The kernel clamps each
    index it reads into the dim, so bounds that break that promise read wrong values,
    never outside the tensor. Slices with constant bounds on static dims are dlc.slice.

    ```mlir
    %y = dlc.symbolic_slice %table, %ids {axes = array<i64: 1>, steps = array<i64: 1>,
           bounds = affine_map<()[s0, s1] -> (0, s1)>}
           : (tensor<1x512xi64>, tensor<?x?xi64>) -> tensor<1x?xi64>
    ```
  }];
  let arguments = (ins AnyTensor:$x, Variadic<AnyTensor>:$dims_of,
                       DenseI64ArrayAttr:$axes, DenseI64ArrayAttr:$steps,
                       AffineMapAttr:$bounds);
  let results = (outs AnyTensor:$y);
}

def Dlc_GatherOp : Dlc_Op<"gather"> {
  let summary = "ONNX Gather along `axis` (negative indices wrap)";
  let description = [{
    ```mlir
    %y = dlc.gather %table, %ids {axis = 0 : i64}
           : (tensor<100x16xf32>, tensor<?x8xi64>) -> tensor<?x8x16xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$data,
                       AnyTensor:$indices, I64Attr:$axis);
  let results = (outs AnyTensor:$y);
  let hasFolder = 1;
}

def Dlc_GatherElementsOp : Dlc_Op<"gather_elements"> {
  let summary = "ONNX GatherElements: data indexed along `axis` by an index tensor";
  let description = [{
    The result has the shape of `indices`; element (i, j) along axis 1 is
    `data[i, indices[i, j]]`. Negative indices wrap.

    ```mlir
    %y = dlc.gather_elements %data, %ids {axis = 1 : i64}
           : (tensor<?x10xf32>, tensor<?x1xi64>) -> tensor<?x1xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$data, AnyTensor:$indices, I64Attr:$axis);
  let results = (outs AnyTensor:$y);
}

def Dlc_ScatterElementsOp : Dlc_Op<"scatter_elements"> {
  let summary = "ONNX ScatterElements: data with updates written (or combined) along `axis`";
  let description = [{
    The result is `data` with `updates[i, j]` at `[i, indices[i, j]]` (axis 1), combined
    with the value there by `reduction` ("none" replaces, "add", "mul", "max", "min").
    Negative indices wrap; with "none" the last of repeated indices wins.

    ```mlir
    %y = dlc.scatter_elements %data, %ids, %upd {axis = 1 : i64, reduction = "add"}
           : (tensor<3x5xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x5xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$data, AnyTensor:$indices, AnyTensor:$updates, I64Attr:$axis,
                       StrAttr:$reduction);
  let results = (outs AnyTensor:$y);
  let hasVerifier = 1;
}

def Dlc_ScatterNDOp : Dlc_Op<"scatter_nd"> {
  let summary = "ONNX ScatterND: slices of data replaced (or combined) at index tuples";
  let description = [{
    `indices` [..., k] addresses slices of `data` by their first k coordinates;
    `updates` [..., data dims k..] holds one slice per index tuple. `reduction` as in
    dlc.scatter_elements.

    ```mlir
    %y = dlc.scatter_nd %data, %ids, %upd {reduction = "none"}
           : (tensor<4x3xf32>, tensor<2x1xi64>, tensor<2x3xf32>) -> tensor<4x3xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$data, AnyTensor:$indices, AnyTensor:$updates,
                       StrAttr:$reduction);
  let results = (outs AnyTensor:$y);
  let hasVerifier = 1;
}

def Dlc_Col2ImOp : Dlc_Op<"col2im"> {
  let summary = "ONNX Col2Im: sliding blocks [N, C * prod(block), L] summed into an image";
  let description = [{
    The inverse of im2col: each column of x is a block of `block_shape` taken at one of
    the L positions of a window sliding over the padded image of `image_shape` with
    `strides` and `dilations`; overlapping values add up. The result is
    [N, C, image_shape...].

    ```mlir
    %y = dlc.col2im %x {image_shape = array<i64: 5, 5>, block_shape = array<i64: 1, 5>,
                        strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>,
                        pads = array<i64: 0, 0, 0, 0>}
           : (tensor<1x5x5xf32>) -> tensor<1x1x5x5xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x, DenseI64ArrayAttr:$image_shape,
                       DenseI64ArrayAttr:$block_shape, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$dilations, DenseI64ArrayAttr:$pads);
  let results = (outs AnyTensor:$y);
}

def Dlc_DFTOp : Dlc_Op<"dft"> {
  let summary = "ONNX DFT: the discrete Fourier transform along `axis` (naive, O(n^2))";
  let description = [{
    x [..., L, ..., 1 or 2] (real, or complex as (real, imaginary) pairs) transformed
    along `axis` with `length` points (x cut or zero-padded to it). The result is
    complex [..., n, ..., 2] with n = `length` (`onesided`: length / 2 + 1 bins); an
    `inverse` transform divides by `length`, and an inverse `onesided` one takes the
    one-sided spectrum of a real signal and gives that real signal [..., length, ..., 1].

    ```mlir
    %y = dlc.dft %x {axis = 1 : i64, length = 8 : i64, inverse = false, onesided = false}
           : (tensor<2x8x1xf32>) -> tensor<2x8x2xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x, I64Attr:$axis, I64Attr:$length, BoolAttr:$inverse,
                       BoolAttr:$onesided);
  let results = (outs AnyTensor:$y);
}

def Dlc_GridSampleOp : Dlc_Op<"grid_sample"> {
  let summary = "ONNX GridSample: x sampled at the normalized positions of a grid";
  let description = [{
    x [N, C, D1..Dk] read at grid [N, O1..Ok, k] (coordinates in [-1, 1], the last dim
    first) by `mode` ("linear", "nearest", "cubic") with `padding_mode` ("zeros",
    "border", "reflection") beyond the border; the result is [N, C, O1..Ok].

    ```mlir
    %y = dlc.grid_sample %x, %grid {mode = "linear", padding_mode = "zeros",
                                    align_corners = false}
           : (tensor<1x3x8x8xf32>, tensor<1x4x4x2xf32>) -> tensor<1x3x4x4xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x, AnyTensor:$grid, StrAttr:$mode, StrAttr:$padding_mode,
                       BoolAttr:$align_corners);
  let results = (outs AnyTensor:$y);
  let hasVerifier = 1;
}

def Dlc_RoiAlignOp : Dlc_Op<"roi_align"> {
  let summary = "ONNX RoiAlign with a fixed sampling ratio";
  let description = [{
    For each region of `rois` [R, 4] (x1, y1, x2, y2, times `spatial_scale`) on the image
    `batch_indices` [R] names, a [C, output_height, output_width] grid of bins, each the
    average (or max) of sampling_ratio^2 bilinear samples of x [N, C, H, W].
    `half_pixel` shifts the region by half a pixel (coordinate_transformation_mode).

    ```mlir
    %y = dlc.roi_align %x, %rois, %idx {mode = "avg", output_height = 5 : i64,
           output_width = 5 : i64, sampling_ratio = 2 : i64, spatial_scale = 1.0 : f32,
           half_pixel = false}
           : (tensor<1x1x10x10xf32>, tensor<3x4xf32>, tensor<3xi64>) -> tensor<3x1x5x5xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x, AnyTensor:$rois, AnyTensor:$batch_indices, StrAttr:$mode,
                       I64Attr:$output_height, I64Attr:$output_width, I64Attr:$sampling_ratio,
                       F32Attr:$spatial_scale, BoolAttr:$half_pixel);
  let results = (outs AnyTensor:$y);
}

def Dlc_GatherNDOp : Dlc_Op<"gather_nd"> {
  let summary = "ONNX GatherND: slices of data addressed by the last dim of indices";
  let description = [{
    ```mlir
    %y = dlc.gather_nd %data, %ids {batch_dims = 0 : i64}
           : (tensor<2x2xf32>, tensor<2x2xi64>) -> tensor<2xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$data, AnyTensor:$indices, I64Attr:$batch_dims);
  let results = (outs AnyTensor:$y);
}

def Dlc_ExpandOp : Dlc_Op<"expand", [Dlc_Injective]> {
  let summary = "ONNX Expand to a constant or symbolic shape (bidirectional broadcast)";
  let description = [{
    ```mlir
    %y = dlc.expand %x {shape = array<i64: 2, 3>} : (tensor<3xf32>) -> tensor<2x3xf32>
    ```
    Symbolic entries as dlc.reshape's: INT64_MIN in `shape` takes the result of
    `sym_shape` over the dims of `dims_of`.
  }];
  let arguments = (ins AnyTensor:$x, Variadic<AnyTensor>:$dims_of,
                       DenseI64ArrayAttr:$shape, OptionalAttr<AffineMapAttr>:$sym_shape);
  let results = (outs AnyTensor:$y);
}

def Dlc_RangeOp : Dlc_Op<"range"> {
  let summary = "ONNX Range of integers whose bounds are computed from shapes";
  let description = [{
    `range` gives (start, delta, count) as expressions whose symbol `j * 32 + d` is dim
    `d` of operand `dims_of[j]` (read for its dims only); element `i` is
    `start + i * delta`. Ranges with constant bounds are constants instead.

    ```mlir
    %r = dlc.range %x {range = affine_map<()[s0, s1] -> (0, 1, s1)>}
           : (tensor<?x?xf32>) -> tensor<?xi64>
    ```
  }];
  let arguments = (ins Variadic<AnyTensor>:$dims_of, AffineMapAttr:$range);
  let results = (outs AnyTensor:$y);
}

def Dlc_TileOp : Dlc_Op<"tile"> {
  let summary = "ONNX Tile with constant repeats";
  let description = [{
    ```mlir
    %y = dlc.tile %x {repeats = array<i64: 2, 1>} : (tensor<2x3xf32>) -> tensor<4x3xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x, DenseI64ArrayAttr:$repeats);
  let results = (outs AnyTensor:$y);
}

def Dlc_PadOp : Dlc_Op<"pad"> {
  let summary = "ONNX Pad, constant/reflect/edge/wrap modes, constant pads (begins then ends)";
  let description = [{
    ```mlir
    %y = dlc.pad %x {pads = array<i64: 0, 1, 0, 1>, mode = "constant", value = 0.0 : f64}
           : (tensor<2x3xf32>) -> tensor<2x5xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$x, DenseI64ArrayAttr:$pads,
                       StrAttr:$mode, F64Attr:$value);
  let results = (outs AnyTensor:$y);
}

def Dlc_ResizeOp : Dlc_Op<"resize"> {
  let summary = "ONNX Resize: nearest, linear or cubic sampling to constant sizes";
  let description = [{
    `sizes` gives each output dim (-1: the input's, unresized); `scales` the factor the
    coordinate transformation uses per dim; `roi` (begins then ends, or empty) only for
    tf_crop_and_resize.

    ```mlir
    %y = dlc.resize %x {sizes = array<i64: -1, -1, 8, 8>,
           scales = array<f64: 1.0, 1.0, 2.0, 2.0>, roi = array<f64>, mode = "linear",
           coordinate_transformation_mode = "half_pixel", nearest_mode = "round_prefer_floor",
           cubic_coeff_a = -7.5e-01 : f32, exclude_outside = false,
           extrapolation_value = 0.0 : f32} : (tensor<?x3x4x4xf32>) -> tensor<?x3x8x8xf32>
    ```
      A size computed from shapes (Resize to a skip connection's size) is symbolic: the
    `sizes` entry INT64_MIN takes the result of `sym_sizes` over the dims of `dims_of`
    (as dlc.reshape's `sym_shape`), and the kernel computes that dim's scale as
    output / input extent. So it does for a constant size of a dim known only at run
    time (SSD's transform resizes any image to 320 x 320), whose `scales` entry is 0.
  }];
  let arguments = (ins AnyTensor:$x, Variadic<AnyTensor>:$dims_of,
                       DenseI64ArrayAttr:$sizes, DenseF64ArrayAttr:$scales,
                       DenseF64ArrayAttr:$roi, StrAttr:$mode,
                       StrAttr:$coordinate_transformation_mode, StrAttr:$nearest_mode,
                       F32Attr:$cubic_coeff_a, BoolAttr:$exclude_outside,
                       F32Attr:$extrapolation_value, OptionalAttr<AffineMapAttr>:$sym_sizes,
                       DefaultValuedAttr<BoolAttr, "false">:$antialias);
  let results = (outs AnyTensor:$y);
}

def Dlc_ShapeOp : Dlc_Op<"shape"> {
  let summary = "ONNX Shape: the dims [start, end) as a 1-D int64 tensor";
  let description = [{
    ```mlir
    %s = dlc.shape %x {start = 0 : i64, end = 2 : i64} : (tensor<?x8xf32>) -> tensor<2xi64>
    ```
  }];
  let arguments = (ins AnyTensor:$x, I64Attr:$start, I64Attr:$end);
  let results = (outs AnyTensor:$y);
  let hasFolder = 1;
  let extraClassDeclaration = [{
    /// The dims [first, second) this op reads of a rank-`rank` input (ONNX clamping).
    std::pair<int64_t, int64_t> getDimRange(int64_t rank);
  }];
}

def Dlc_SizeOp : Dlc_Op<"size"> {
  let summary = "ONNX Size: element count as an int64 scalar";
  let description = [{
    ```mlir
    %n = dlc.size %x : (tensor<?x8xf32>) -> tensor<i64>
    ```
  }];
  let arguments = (ins AnyTensor:$x);
  let results = (outs AnyTensor:$y);
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

def Dlc_KernelOp : Op<Dlc_Dialect, "kernel",
    [IsolatedFromAbove, SingleBlockImplicitTerminator<"YieldOp">,
     DeclareOpInterfaceMethods<DlcShapeInference, ["inferResultShapes"]>]> {
  let summary = "A kernel region: ops that run as one launch";
  let description = [{
    Formed by `dlc-form-kernels`. The region is isolated from above; its block
    arguments are the kernel's operands. `nodes` names the ONNX nodes it covers.

    ```mlir
    %y = dlc.kernel "relu_0" (%x) {nodes = ["Relu_0"]} : (tensor<?x4xf32>) -> tensor<?x4xf32> {
    ^bb0(%a: tensor<?x4xf32>):
      %r = dlc.relu %a : (tensor<?x4xf32>) -> tensor<?x4xf32>
      dlc.yield %r : tensor<?x4xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$inputs, StrAttr:$sym_name,
                       StrArrayAttr:$nodes);
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $sym_name `(` $inputs `)` attr-dict `:` functional-type($inputs, $results) $body
  }];
  let hasVerifier = 1;
}

def Dlc_YieldOp : Op<Dlc_Dialect, "yield", [Pure, Terminator, HasParent<"KernelOp">]> {
  let summary = "Returns a kernel region's results";
  let description = "`dlc.yield %a, %b : tensor<4xf32>, tensor<4xf32>`";
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
  let builders = [OpBuilder<(ins), [{ build($_builder, $_state, ValueRange()); }]>];
}

#endif // DLC_OPS_TD
