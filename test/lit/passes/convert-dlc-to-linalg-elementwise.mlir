// RUN: dlc-opt %s -convert-dlc-to-linalg | FileCheck %s

// Broadcasting becomes indexing maps: the [4] operand is read along the last dim.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func @add_broadcast
// CHECK: %[[D:.*]] = tensor.dim %{{.*}}, %c0
// CHECK: %[[E:.*]] = tensor.empty(%[[D]]) : tensor<?x4xf32>
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK:   arith.addf
func.func @add_broadcast(%a: tensor<?x4xf32>, %b: tensor<4xf32>) -> tensor<?x4xf32> {
  %c = dlc.add %a, %b : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %c : tensor<?x4xf32>
}

// CHECK-LABEL: func @relu_int
// CHECK: arith.cmpi slt
// CHECK: arith.select
func.func @relu_int(%a: tensor<3xi32>) -> tensor<3xi32> {
  %c = dlc.relu %a : (tensor<3xi32>) -> tensor<3xi32>
  return %c : tensor<3xi32>
}

// Relu is x < 0 ? 0 : x, so NaN stays NaN (ONNX, onnxruntime).
// CHECK-LABEL: func @relu_nan
// CHECK: %[[NEG:.*]] = arith.cmpf olt, %[[X:.*]], %{{.*}}
// CHECK: arith.select %[[NEG]], %{{.*}}, %[[X]]
func.func @relu_nan(%a: tensor<3xf32>) -> tensor<3xf32> {
  %c = dlc.relu %a : (tensor<3xf32>) -> tensor<3xf32>
  return %c : tensor<3xf32>
}

// Integer division has defined results where C's are undefined: x / 0 = 0 and
// MIN / -1 = MIN; the divisor is replaced by 1 in those cases, so nothing traps.
// CHECK-LABEL: func @div_int
// CHECK: ^bb0(%{{[a-z0-9_]+}}: i32, %[[Y:[a-z0-9_]+]]: i32
// CHECK: %[[ZERO:.*]] = arith.cmpi eq, %[[Y]], %{{.*}} : i32
// CHECK: %[[BAD:.*]] = arith.ori %[[ZERO]], %{{.*}} : i1
// CHECK: %[[SAFE:.*]] = arith.select %[[BAD]], %{{.*}}, %[[Y]] : i32
// CHECK: %[[Q:.*]] = arith.divsi %{{.*}}, %[[SAFE]] : i32
// CHECK: arith.select %[[ZERO]], %{{.*}}, %[[Q]] : i32
func.func @div_int(%a: tensor<3xi32>, %b: tensor<3xi32>) -> tensor<3xi32> {
  %c = dlc.div %a, %b : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
  return %c : tensor<3xi32>
}

// CHECK-LABEL: func @cast_to_bool
// CHECK: arith.cmpf une
func.func @cast_to_bool(%a: tensor<3xf32>) -> tensor<3xi1> {
  %c = dlc.cast %a : (tensor<3xf32>) -> tensor<3xi1>
  return %c : tensor<3xi1>
}

// GELU (erf form) keeps math.erf for the target to lower.
// CHECK-LABEL: func @gelu
// CHECK: math.erf
func.func @gelu(%a: tensor<3xf32>) -> tensor<3xf32> {
  %c = dlc.gelu %a {tanh_approximation = false} : (tensor<3xf32>) -> tensor<3xf32>
  return %c : tensor<3xf32>
}

// Integers that were unsigned (dlc.unsigned, dlc-signless-integers) divide, compare,
// take the max and convert as unsigned.
// CHECK-LABEL: func @unsigned_ops
// CHECK: arith.divui
// CHECK: arith.maxui
// CHECK: arith.cmpi ult
// CHECK: arith.uitofp
// CHECK: arith.fptoui
func.func @unsigned_ops(%a: tensor<4xi8>, %b: tensor<4xi8>)
    -> (tensor<4xi8>, tensor<4xi8>, tensor<4xi1>, tensor<4xf32>, tensor<4xi8>) {
  %d = dlc.div %a, %b {dlc.unsigned} : (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi8>
  %m = dlc.max %a, %b {dlc.unsigned} : (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi8>
  %l = dlc.less %a, %b {dlc.unsigned} : (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi1>
  %f = dlc.cast %a {dlc.unsigned} : (tensor<4xi8>) -> tensor<4xf32>
  %u = dlc.cast %f {dlc.unsigned_result} : (tensor<4xf32>) -> tensor<4xi8>
  return %d, %m, %l, %f, %u : tensor<4xi8>, tensor<4xi8>, tensor<4xi1>, tensor<4xf32>, tensor<4xi8>
}

// float8 has no LLVM arithmetic: a cast works on its bits. Decoding rebias the
// exponent (7 -> 127: +120) and scales subnormals (units of 2^-9); encoding saturates
// (clips the f32 bits at 448's, 0x43E00000 = 1138753536) and rounds to nearest even.
// CHECK-LABEL: func @float8_casts
// CHECK: linalg.generic
// CHECK:   arith.bitcast %{{.*}} : f8E4M3FN to i8
// CHECK:   arith.extui %{{.*}} : i8 to i32
// CHECK:   arith.constant 120 : i32
// CHECK:   arith.constant 0.001953125 : f32
// CHECK:   arith.bitcast %{{.*}} : i32 to f32
// CHECK: linalg.generic
// CHECK:   arith.bitcast %{{.*}} : f32 to i32
// CHECK:   arith.constant 1138753536 : i32
// CHECK:   arith.minui
// CHECK:   arith.trunci %{{.*}} : i32 to i8
// CHECK:   arith.bitcast %{{.*}} : i8 to f8E4M3FN
// Without saturation nothing clips: a value beyond the range becomes NaN.
// CHECK: linalg.generic
// CHECK-NOT: arith.minui
// CHECK:   arith.bitcast %{{.*}} : i8 to f8E4M3FN
func.func @float8_casts(%a: tensor<4xf8E4M3FN>, %b: tensor<4xf32>)
    -> (tensor<4xf32>, tensor<4xf8E4M3FN>, tensor<4xf8E4M3FN>) {
  %f = dlc.cast %a : (tensor<4xf8E4M3FN>) -> tensor<4xf32>
  %s = dlc.cast %b : (tensor<4xf32>) -> tensor<4xf8E4M3FN>
  %n = dlc.cast %b {saturate = false} : (tensor<4xf32>) -> tensor<4xf8E4M3FN>
  return %f, %s, %n : tensor<4xf32>, tensor<4xf8E4M3FN>, tensor<4xf8E4M3FN>
}

// A float to int4: toward zero, 0 outside [-8, 7] (as the ONNX reference).
// CHECK-LABEL: func @float_to_int4
// CHECK-DAG: %[[LO:.*]] = arith.constant -9.000000e+00 : f32
// CHECK-DAG: %[[HI:.*]] = arith.constant 8.000000e+00 : f32
// CHECK-DAG: arith.cmpf ogt, %{{.*}}, %[[LO]]
// CHECK-DAG: arith.cmpf olt, %{{.*}}, %[[HI]]
// CHECK: arith.select
// CHECK: arith.fptosi %{{.*}} : f32 to i32
// CHECK: arith.trunci %{{.*}} : i32 to i4
func.func @float_to_int4(%a: tensor<4xf32>) -> tensor<4xi4> {
  %c = dlc.cast %a : (tensor<4xf32>) -> tensor<4xi4>
  return %c : tensor<4xi4>
}

// Sigmoid on f32 is the clamped rational of Eigen and onnxruntime's MLAS: an odd
// polynomial over an even one in fused multiply-adds, no exp; f64 keeps 1/(1+exp(-x)).
// CHECK-LABEL: func @sigmoid_f32
// CHECK: arith.maximumf %{{.*}}, %cst{{.*}} : f32
// CHECK: arith.minimumf
// CHECK-COUNT-4: math.fma
// CHECK: arith.mulf
// CHECK-COUNT-5: math.fma
// CHECK: arith.divf
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK: arith.minimumf
// CHECK-NOT: math.exp
// CHECK-LABEL: func @sigmoid_f64
// CHECK: math.exp
func.func @sigmoid_f32(%a: tensor<3xf32>) -> tensor<3xf32> {
  %c = dlc.sigmoid %a : (tensor<3xf32>) -> tensor<3xf32>
  return %c : tensor<3xf32>
}
func.func @sigmoid_f64(%a: tensor<3xf64>) -> tensor<3xf64> {
  %c = dlc.sigmoid %a : (tensor<3xf64>) -> tensor<3xf64>
  return %c : tensor<3xf64>
}
