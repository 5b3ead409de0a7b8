// RUN: dlc-opt %s -split-input-file -dlc-interchange-windows | FileCheck %s

// MaxPool 3x3/2 over a padded input: the output's last loop (ow, d3) moves inside the
// window loops (d4, d5), so the innermost loop runs along an output row.
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d3, d5 * 2 + d4)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d4)>
// CHECK-DAG: #[[Y:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d5)>
// CHECK-LABEL: func.func @k_max_pool
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[Y]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "parallel"]}
// CHECK: arith.maximumf
#x = affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh * 2 + kh, ow * 2 + kw)>
#w = affine_map<(n, c, oh, ow, kh, kw) -> (kh, kw)>
#y = affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh, ow)>
func.func @k_max_pool(%x: memref<2x8x17x17xf32>, %y: memref<2x8x8x8xf32>) attributes {dlc.kernel} {
  %w = memref.alloc() : memref<3x3xf32>
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<2x8x17x17xf32>, memref<3x3xf32>) outs(%y : memref<2x8x8x8xf32>) {
  ^bb0(%in: f32, %unused: f32, %out: f32):
    %0 = arith.maximumf %out, %in : f32
    linalg.yield %0 : f32
  }
  memref.dealloc %w : memref<3x3xf32>
  return
}

// -----

// SPP's MaxPool 13x13/1 over a padded 13x13 map: 169 window points, more than a
// reduction may have to be interchanged, but the window slides along the row
// (ow + kw), so the row still moves inside. A reduction of 200 points that does not
// slide (a sum over the last dim of x[64, 8, 200]) is left alone.
// CHECK-LABEL: func.func @k_spp_pool
// CHECK: iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "parallel"]
// CHECK-LABEL: func.func @k_long_sum
// CHECK: iterator_types = ["parallel", "parallel", "reduction"]
#xs = affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh + kh, ow + kw)>
#ws = affine_map<(n, c, oh, ow, kh, kw) -> (kh, kw)>
#ys = affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh, ow)>
func.func @k_spp_pool(%x: memref<1x4x25x25xf32>, %y: memref<1x4x13x13xf32>) attributes {dlc.kernel} {
  %w = memref.alloc() : memref<13x13xf32>
  linalg.generic {indexing_maps = [#xs, #ws, #ys], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<1x4x25x25xf32>, memref<13x13xf32>) outs(%y : memref<1x4x13x13xf32>) {
  ^bb0(%in: f32, %unused: f32, %out: f32):
    %0 = arith.maximumf %out, %in : f32
    linalg.yield %0 : f32
  }
  memref.dealloc %w : memref<13x13xf32>
  return
}
#inl = affine_map<(i, j, k) -> (i, j, k)>
#outl = affine_map<(i, j, k) -> (i, j)>
func.func @k_long_sum(%x: memref<64x8x200xf32>, %y: memref<64x8xf32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#inl, #outl], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : memref<64x8x200xf32>) outs(%y : memref<64x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %out, %in : f32
    linalg.yield %0 : f32
  }
  return
}

// -----

// Left alone: a reduction over 1024 points (a row sum), an output row of 2, an
// output that is not contiguous along its last dim, and a function that is not a
// kernel.
// CHECK-LABEL: func.func @k_row_sum
// CHECK: iterator_types = ["parallel", "reduction"]
// CHECK-LABEL: func.func @k_short_row
// CHECK: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-LABEL: func.func @k_strided_output
// CHECK: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-LABEL: func.func @not_a_kernel
// CHECK: iterator_types = ["parallel", "parallel", "reduction"]
#in2 = affine_map<(i, k) -> (i, k)>
#out2 = affine_map<(i, k) -> (i)>
func.func @k_row_sum(%x: memref<8x1024xf32>, %y: memref<8xf32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#in2, #out2], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<8x1024xf32>) outs(%y : memref<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %out, %in : f32
    linalg.yield %0 : f32
  }
  return
}
#in3 = affine_map<(i, j, k) -> (i, j, k)>
#out3 = affine_map<(i, j, k) -> (i, j)>
func.func @k_short_row(%x: memref<64x2x3xf32>, %y: memref<64x2xf32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#in3, #out3], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : memref<64x2x3xf32>) outs(%y : memref<64x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %out, %in : f32
    linalg.yield %0 : f32
  }
  return
}
func.func @k_strided_output(%x: memref<8x16x3xf32>, %y: memref<8x16xf32, strided<[1, 8]>>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#in3, #out3], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : memref<8x16x3xf32>) outs(%y : memref<8x16xf32, strided<[1, 8]>>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %out, %in : f32
    linalg.yield %0 : f32
  }
  return
}
func.func @not_a_kernel(%x: memref<8x16x3xf32>, %y: memref<8x16xf32>) {
  linalg.generic {indexing_maps = [#in3, #out3], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : memref<8x16x3xf32>) outs(%y : memref<8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %out, %in : f32
    linalg.yield %0 : f32
  }
  return
}

// -----

// A row of 40 outputs from a local padded copy: split into 32 (two tiles of 16,
// each a generic with the window loops outside its 16 points) and a remainder of 8.
// CHECK-LABEL: func.func @k_tiled_row
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "parallel"]
// CHECK-SAME: outs(%{{.*}} : memref<1x1x40x16xf32
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "parallel"]
// CHECK-SAME: outs(%{{.*}} : memref<1x1x40x8xf32
// A stride-2 row read straight from a kernel argument stays one row.
// CHECK-LABEL: func.func @k_strided_argument
// CHECK-NOT: scf.for
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "parallel"]
// CHECK-SAME: outs(%{{.*}} : memref<1x1x40x40xf32>)
// A stride-1 row from an argument is tiled.
// CHECK-LABEL: func.func @k_unit_stride_argument
// CHECK: scf.for
// CHECK: outs(%{{.*}} : memref<1x1x32x16xf32
#x = affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh * 2 + kh, ow * 2 + kw)>
#x1 = affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh + kh, ow + kw)>
#w = affine_map<(n, c, oh, ow, kh, kw) -> (kh, kw)>
#y = affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh, ow)>
func.func @k_tiled_row(%y: memref<1x1x40x40xf32>) attributes {dlc.kernel} {
  %x = memref.alloc() : memref<1x1x81x81xf32>
  %w = memref.alloc() : memref<3x3xf32>
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<1x1x81x81xf32>, memref<3x3xf32>) outs(%y : memref<1x1x40x40xf32>) {
  ^bb0(%in: f32, %unused: f32, %out: f32):
    %0 = arith.maximumf %out, %in : f32
    linalg.yield %0 : f32
  }
  memref.dealloc %w : memref<3x3xf32>
  memref.dealloc %x : memref<1x1x81x81xf32>
  return
}
func.func @k_strided_argument(%x: memref<1x1x81x81xf32>, %y: memref<1x1x40x40xf32>) attributes {dlc.kernel} {
  %w = memref.alloc() : memref<3x3xf32>
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<1x1x81x81xf32>, memref<3x3xf32>) outs(%y : memref<1x1x40x40xf32>) {
  ^bb0(%in: f32, %unused: f32, %out: f32):
    %0 = arith.maximumf %out, %in : f32
    linalg.yield %0 : f32
  }
  memref.dealloc %w : memref<3x3xf32>
  return
}
func.func @k_unit_stride_argument(%x: memref<1x1x34x34xf32>, %y: memref<1x1x32x32xf32>) attributes {dlc.kernel} {
  %w = memref.alloc() : memref<3x3xf32>
  linalg.generic {indexing_maps = [#x1, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<1x1x34x34xf32>, memref<3x3xf32>) outs(%y : memref<1x1x32x32xf32>) {
  ^bb0(%in: f32, %unused: f32, %out: f32):
    %0 = arith.maximumf %out, %in : f32
    linalg.yield %0 : f32
  }
  memref.dealloc %w : memref<3x3xf32>
  return
}

// -----

// A row of a symbolic length (a pool over a map whose width is a graph dim): tiles of
// 8 points with the window loops inside each, in a loop of whole tiles whose extent is
// static, and the partial last tile peeled into a loop of its own.
// CHECK-LABEL: func.func @k_dynamic_row
// CHECK: %[[WHOLE:.*]] = affine.apply
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[WHOLE]] step %[[C8:.*]] {
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "reduction", "parallel"]
// CHECK: scf.for %{{.*}} = %[[WHOLE]] to
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "reduction", "parallel"]
#xd = affine_map<(oh, ow, kh, kw) -> (oh + kh, ow + kw)>
#wd = affine_map<(oh, ow, kh, kw) -> (kh, kw)>
#yd = affine_map<(oh, ow, kh, kw) -> (oh, ow)>
func.func @k_dynamic_row(%y: memref<4x?xf32>) attributes {dlc.kernel} {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %ow = memref.dim %y, %c1 : memref<4x?xf32>
  %iw = arith.addi %ow, %c4 : index
  %x = memref.alloc(%iw) : memref<8x?xf32>
  %w = memref.alloc() : memref<5x5xf32>
  linalg.generic {indexing_maps = [#xd, #wd, #yd], iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<8x?xf32>, memref<5x5xf32>) outs(%y : memref<4x?xf32>) {
  ^bb0(%in: f32, %unused: f32, %out: f32):
    %0 = arith.maximumf %out, %in : f32
    linalg.yield %0 : f32
  }
  memref.dealloc %w : memref<5x5xf32>
  memref.dealloc %x : memref<8x?xf32>
  return
}
