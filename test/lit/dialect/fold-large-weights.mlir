// RUN: python3 %S/Inputs/large_dequantize.py | dlc-opt -canonicalize | FileCheck %s
// A weight past the small-fold limit is dequantized at compile time from its raw bytes
// (cast, zero point, per-row scale), so that kernels read the finished f32 weight.
// CHECK-LABEL: func @dequantize
// CHECK: dlc.constant {value = dense<{{\[}}[-6.550000e+01, -4.700000e+01, -2.850000e+01], [-8.500000e+00, 7.500000e-01, 1.000000e+01]]> : tensor<2x3xf32>}
// CHECK-NOT: dlc.cast
// CHECK-NOT: dlc.sub
// CHECK-NOT: dlc.mul
// The transposed weight (rows read with a stride of 300) and its 3x2 corner: the first
// two rows of w, (37 k mod 256) - 128 for k = 0, 1, 2 and 300, 301, 302.
// CHECK-LABEL: func @transpose_corner
// CHECK: dlc.constant {value = dense<{{\[}}[-1.280000e+02, -3.600000e+01], [-9.100000e+01, 1.000000e+00], [-5.400000e+01, 3.800000e+01]]> : tensor<3x2xf32>}
// CHECK-NOT: dlc.transpose
// Row 0, columns 2, 1, 0 (a step of -1).
// CHECK-LABEL: func @reversed
// CHECK: dlc.constant {value = dense<{{\[}}[-54, -91, -128]]> : tensor<1x3xi8>}
// Row 1, columns 0, 2, 4: k = 300, 302, 304.
// CHECK-LABEL: func @strided
// CHECK: dlc.constant {value = dense<{{\[}}[-36, 38, 112]]> : tensor<1x3xi8>}
