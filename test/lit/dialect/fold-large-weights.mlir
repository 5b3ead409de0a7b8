// RUN: python3 %S/Inputs/large_dequantize.py | dlc-opt -canonicalize | FileCheck %s
// A weight past the small-fold limit is dequantized at compile time from its raw bytes
// (cast, zero point, per-row scale), so that kernels read the finished f32 weight.
// CHECK-LABEL: func @dequantize
// CHECK: dlc.constant {value = dense<{{\[}}[-6.550000e+01, -4.700000e+01, -2.850000e+01], [-8.500000e+00, 7.500000e-01, 1.000000e+01]]> : tensor<2x3xf32>}
// CHECK-NOT: dlc.cast
// CHECK-NOT: dlc.sub
// CHECK-NOT: dlc.mul
