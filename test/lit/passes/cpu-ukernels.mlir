// RUN: dlc-opt %s -dlc-cpu-ukernels -canonicalize | FileCheck %s

#mk = affine_map<(m, n, k) -> (m, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>

// A MatMul on buffers becomes one call with a descriptor on the stack: loop count,
// the three addresses, then per loop (extent, reduction, stride in A, B, C).
// CHECK-DAG: func.func private @dlc_uk_contract_f32(memref<64xi64>)
// CHECK-DAG: func.func private @dlc_uk_contract_i32(memref<64xi64>)
// CHECK-DAG: func.func private @dlc_uk_transpose(memref<64xi64>)
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[A:.*]]: memref<?x?xf32>, %[[B:.*]]: memref<?x?xf32>, %[[C:.*]]: memref<?x?xf32>
// CHECK: %[[D:.*]] = memref.alloca() : memref<64xi64>
// CHECK-DAG: memref.store %c3_i64, %[[D]][%c0]
// CHECK-DAG: memref.extract_aligned_pointer_as_index %[[A]]
// CHECK-DAG: memref.store %c1_i64, %[[D]][%c15]
// CHECK-NOT: linalg.generic
// CHECK: call @dlc_uk_contract_f32(%[[D]])
func.func @matmul(%a: memref<?x?xf32>, %b: memref<?x?xf32>, %c: memref<?x?xf32>,
                  %wg: index, %nwg: index) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#mk, #kn, #mn],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<?x?xf32>, memref<?x?xf32>) outs(%c : memref<?x?xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// A Conv (stride 2 on the input's spatial dim): linear maps qualify; the strides of
// the input along oh and kh are 2 * 10 and 10 elements.
// CHECK-LABEL: func.func @conv
// CHECK: memref.store %c20_i64
// CHECK: call @dlc_uk_contract_f32
func.func @conv(%x: memref<4x10x10xf32>, %w: memref<8x4x3x3xf32>, %y: memref<8x4x4xf32>,
                %wg: index, %nwg: index) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [
                    affine_map<(f, oh, ow, c, kh, kw) -> (c, oh * 2 + kh, ow * 2 + kw)>,
                    affine_map<(f, oh, ow, c, kh, kw) -> (f, c, kh, kw)>,
                    affine_map<(f, oh, ow, c, kh, kw) -> (f, oh, ow)>],
                  iterator_types = ["parallel", "parallel", "parallel",
                                    "reduction", "reduction", "reduction"]}
      ins(%x, %w : memref<4x10x10xf32>, memref<8x4x3x3xf32>) outs(%y : memref<8x4x4xf32>) {
  ^bb0(%xv: f32, %wv: f32, %acc: f32):
    %p = arith.mulf %xv, %wv : f32
    %s = arith.addf %p, %acc : f32
    linalg.yield %s : f32
  }
  return
}

// i32 (MatMulInteger, ConvInteger after widening) calls the i32 micro-kernel.
// CHECK-LABEL: func.func @i32
// CHECK: call @dlc_uk_contract_i32
func.func @i32(%a: memref<4x4xi32>, %b: memref<4x4xi32>, %c: memref<4x4xi32>,
               %wg: index, %nwg: index) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#mk, #kn, #mn],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x4xi32>, memref<4x4xi32>) outs(%c : memref<4x4xi32>) {
  ^bb0(%x: i32, %y: i32, %acc: i32):
    %p = arith.muli %x, %y : i32
    %s = arith.addi %acc, %p : i32
    linalg.yield %s : i32
  }
  return
}

// Left as loops: another element type, another body, a non-linear map, and code
// outside kernels.
// CHECK-LABEL: func.func @f64
// CHECK: linalg.generic
func.func @f64(%a: memref<4x4xf64>, %b: memref<4x4xf64>, %c: memref<4x4xf64>,
               %wg: index, %nwg: index) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#mk, #kn, #mn],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x4xf64>, memref<4x4xf64>) outs(%c : memref<4x4xf64>) {
  ^bb0(%x: f64, %y: f64, %acc: f64):
    %p = arith.mulf %x, %y : f64
    %s = arith.addf %acc, %p : f64
    linalg.yield %s : f64
  }
  return
}

// CHECK-LABEL: func.func @maxplus
// CHECK: linalg.generic
func.func @maxplus(%a: memref<4x4xf32>, %b: memref<4x4xf32>, %c: memref<4x4xf32>,
                   %wg: index, %nwg: index) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#mk, #kn, #mn],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x4xf32>, memref<4x4xf32>) outs(%c : memref<4x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.addf %x, %y : f32
    %s = arith.maximumf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @floordiv
// CHECK: linalg.generic
func.func @floordiv(%a: memref<4x4xf32>, %b: memref<4x4xf32>, %c: memref<4x4xf32>,
                    %wg: index, %nwg: index) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m floordiv 2, k)>, #kn, #mn],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x4xf32>, memref<4x4xf32>) outs(%c : memref<4x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// A transpose that moves the innermost dimension (NCHW -> NHWC) becomes a call to
// dlc_uk_transpose: loops | element bytes << 8 (4 | 4 << 8 = 1028), the two addresses,
// then per loop (extent, input stride, output stride); loop 3 walks C, input stride
// H * W = 20. One that keeps the innermost dimension, and a generic that computes,
// stay loops. The kernel lists the argument each call writes (dlc.transpose_outputs:
// the CPU codegen streams those it streams), -1 for a temporary.
// CHECK-LABEL: func.func @nchw_to_nhwc
// CHECK-SAME: dlc.transpose_outputs = array<i64: 1>
// CHECK-DAG: memref.store %c1028_i64, %[[T:.*]][%c0]
// CHECK-DAG: memref.store %c20_i64, %[[T]][%c13]
// CHECK: call @dlc_uk_transpose(%[[T]])
// CHECK-NOT: linalg.transpose
// CHECK-LABEL: func.func @into_temporary
// CHECK-SAME: dlc.transpose_outputs = array<i64: -1, 1, 2>
// CHECK-COUNT-3: call @dlc_uk_transpose
// CHECK-LABEL: func.func @keeps_inner
// CHECK: linalg.transpose
// CHECK-LABEL: func.func @computes
// CHECK: linalg.generic
func.func @nchw_to_nhwc(%x: memref<2x8x4x5xf32>, %y: memref<2x4x5x8xf32>) attributes {dlc.kernel} {
  linalg.transpose ins(%x : memref<2x8x4x5xf32>) outs(%y : memref<2x4x5x8xf32>) permutation = [0, 2, 3, 1]
  return
}
func.func @into_temporary(%x: memref<8x16xf32>, %y: memref<8x16xf32>, %z: memref<16x8xf32>) attributes {dlc.kernel} {
  %t = memref.alloc() : memref<16x8xf32>
  linalg.transpose ins(%x : memref<8x16xf32>) outs(%t : memref<16x8xf32>) permutation = [1, 0]
  linalg.transpose ins(%t : memref<16x8xf32>) outs(%y : memref<8x16xf32>) permutation = [1, 0]
  %s = memref.subview %z[0, 0] [16, 4] [1, 1] : memref<16x8xf32> to memref<16x4xf32, strided<[8, 1]>>
  %u = memref.subview %x[0, 0] [4, 16] [1, 1] : memref<8x16xf32> to memref<4x16xf32, strided<[16, 1]>>
  linalg.transpose ins(%u : memref<4x16xf32, strided<[16, 1]>>) outs(%s : memref<16x4xf32, strided<[8, 1]>>) permutation = [1, 0]
  memref.dealloc %t : memref<16x8xf32>
  return
}
func.func @keeps_inner(%x: memref<8x4x5xf32>, %y: memref<4x8x5xf32>) attributes {dlc.kernel} {
  linalg.transpose ins(%x : memref<8x4x5xf32>) outs(%y : memref<4x8x5xf32>) permutation = [1, 0, 2]
  return
}
func.func @computes(%x: memref<8x4xf32>, %y: memref<4x8xf32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (j, i)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<8x4xf32>) outs(%y : memref<4x8xf32>) {
  ^bb0(%a: f32, %b: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  }
  return
}

// CHECK-LABEL: func.func @not_a_kernel
// CHECK: linalg.generic
func.func @not_a_kernel(%a: memref<4x4xf32>, %b: memref<4x4xf32>, %c: memref<4x4xf32>) {
  linalg.generic {indexing_maps = [#mk, #kn, #mn],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x4xf32>, memref<4x4xf32>) outs(%c : memref<4x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
