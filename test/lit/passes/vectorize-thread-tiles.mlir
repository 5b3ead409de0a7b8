// RUN: dlc-opt %s -dlc-vectorize-thread-tiles | FileCheck %s

#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
#scalar = affine_map<(d0, d1) -> ()>
#tr = affine_map<(d0, d1) -> (d1, d0)>

// A thread's tile of 4 at column t * 4 of a row: x, the bias and y are 128-bit
// accesses aligned to 16 bytes; the scalar is loaded once and broadcast.
// CHECK-LABEL: func @aligned
// CHECK-DAG: %[[X:.*]] = vector.load %{{.*}} {alignment = 16 : i64} : memref<1x4xf32, strided<[1024, 1], offset: ?>>, vector<4xf32>
// CHECK-DAG: %[[B:.*]] = vector.load %{{.*}} {alignment = 16 : i64} : memref<4xf32, strided<[1], offset: ?>>, vector<4xf32>
// CHECK-DAG: %[[S:.*]] = memref.load %{{.*}}[] : memref<f32>
// CHECK-DAG: %[[SB:.*]] = vector.broadcast %[[S]] : f32 to vector<4xf32>
// CHECK: %[[ADD:.*]] = arith.addf %[[X]], %[[B]] : vector<4xf32>
// CHECK: %[[MUL:.*]] = arith.mulf %[[ADD]], %[[SB]] : vector<4xf32>
// CHECK: vector.store %[[MUL]], %{{.*}} {alignment = 16 : i64} : memref<1x4xf32, strided<[1024, 1], offset: ?>>, vector<4xf32>
// CHECK-NOT: linalg.generic
func.func @aligned(%x: memref<?x1024xf32>, %bias: memref<1024xf32>, %s: memref<f32>,
                   %y: memref<?x1024xf32>, %row: index, %t: index) {
  %c4 = arith.constant 4 : index
  %col = arith.muli %t, %c4 : index
  %xv = memref.subview %x[%row, %col] [1, 4] [1, 1] : memref<?x1024xf32> to memref<1x4xf32, strided<[1024, 1], offset: ?>>
  %bv = memref.subview %bias[%col] [4] [1] : memref<1024xf32> to memref<4xf32, strided<[1], offset: ?>>
  %yv = memref.subview %y[%row, %col] [1, 4] [1, 1] : memref<?x1024xf32> to memref<1x4xf32, strided<[1024, 1], offset: ?>>
  linalg.generic {indexing_maps = [#id, #col, #scalar, #id], iterator_types = ["parallel", "parallel"]}
      ins(%xv, %bv, %s : memref<1x4xf32, strided<[1024, 1], offset: ?>>, memref<4xf32, strided<[1], offset: ?>>, memref<f32>)
      outs(%yv : memref<1x4xf32, strided<[1024, 1], offset: ?>>) {
  ^bb0(%a: f32, %b: f32, %c: f32, %o: f32):
    %0 = arith.addf %a, %b : f32
    %1 = arith.mulf %0, %c : f32
    linalg.yield %1 : f32
  }
  return
}

// A [?, ?, 64] activation's row: the dynamic stride of its first dimension is a
// multiple of 64 elements (the sizes inside it), so the tile at column t * 4 of row
// (b, r) is aligned to 16 bytes though the view's strides are [?, 64, 1]. With rows of
// 62 nothing is known.
// CHECK-LABEL: func @dynamic_stride
// CHECK: vector.load %{{.*}} {alignment = 16 : i64} : memref<1x1x4xf32, strided<[?, 64, 1], offset: ?>>, vector<4xf32>
// CHECK: vector.load %{{.*}} : memref<1x1x4xf32, strided<[?, 62, 1], offset: ?>>, vector<4xf32>
func.func @dynamic_stride(%x: memref<?x?x64xf32>, %z: memref<?x?x62xf32>, %y: memref<64xf32>,
                          %w: memref<64xf32>, %b: index, %r: index, %t: index) {
  %c4 = arith.constant 4 : index
  %col = arith.muli %t, %c4 : index
  %xv = memref.subview %x[%b, %r, %col] [1, 1, 4] [1, 1, 1] : memref<?x?x64xf32> to memref<1x1x4xf32, strided<[?, 64, 1], offset: ?>>
  %yv = memref.subview %y[%col] [4] [1] : memref<64xf32> to memref<4xf32, strided<[1], offset: ?>>
  linalg.generic {indexing_maps = [affine_map<(d0) -> (0, 0, d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%xv : memref<1x1x4xf32, strided<[?, 64, 1], offset: ?>>) outs(%yv : memref<4xf32, strided<[1], offset: ?>>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  }
  %zv = memref.subview %z[%b, %r, %col] [1, 1, 4] [1, 1, 1] : memref<?x?x62xf32> to memref<1x1x4xf32, strided<[?, 62, 1], offset: ?>>
  %wv = memref.subview %w[%col] [4] [1] : memref<64xf32> to memref<4xf32, strided<[1], offset: ?>>
  linalg.generic {indexing_maps = [affine_map<(d0) -> (0, 0, d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%zv : memref<1x1x4xf32, strided<[?, 62, 1], offset: ?>>) outs(%wv : memref<4xf32, strided<[1], offset: ?>>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  }
  return
}

// Columns at t * 2 of rows of 1022: no alignment is known, so the vectors keep the
// element's; through an alloca aligned to 64 the intermediate is aligned.
// CHECK-LABEL: func @unaligned
// CHECK: %[[X:.*]] = vector.load %{{.*}} : memref<1x4xf32, strided<[1022, 1], offset: ?>>, vector<4xf32>
// CHECK: vector.store %{{.*}}, %{{.*}} {alignment = 16 : i64} : memref<1x4xf32>, vector<4xf32>
// CHECK: %[[T:.*]] = vector.load %{{.*}} {alignment = 16 : i64} : memref<1x4xf32>, vector<4xf32>
// CHECK: vector.store %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}] : memref<1x4xf32, strided<[1022, 1], offset: ?>>, vector<4xf32>
func.func @unaligned(%x: memref<?x1022xf32>, %y: memref<?x1022xf32>, %row: index, %t: index) {
  %c2 = arith.constant 2 : index
  %col = arith.muli %t, %c2 : index
  %xv = memref.subview %x[%row, %col] [1, 4] [1, 1] : memref<?x1022xf32> to memref<1x4xf32, strided<[1022, 1], offset: ?>>
  %yv = memref.subview %y[%row, %col] [1, 4] [1, 1] : memref<?x1022xf32> to memref<1x4xf32, strided<[1022, 1], offset: ?>>
  %tmp = memref.alloca() {alignment = 64 : i64} : memref<1x4xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%xv : memref<1x4xf32, strided<[1022, 1], offset: ?>>) outs(%tmp : memref<1x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %0 = math.exp %a : f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%tmp : memref<1x4xf32>) outs(%yv : memref<1x4xf32, strided<[1022, 1], offset: ?>>) {
  ^bb0(%a: f32, %o: f32):
    %0 = arith.negf %a : f32
    linalg.yield %0 : f32
  }
  return
}

// Left alone: an input read across its rows (a transpose), a reduction over the outer
// loop (column sums), an innermost extent of 3, a mask of i1 (bytes in a memref,
// packed bits in a vector).
// CHECK-LABEL: func @left_alone
// CHECK-COUNT-4: linalg.generic
// CHECK-NOT: vector.
func.func @left_alone(%a: memref<4x4xf32>, %b: memref<4x4xf32>, %c: memref<4xf32>,
                      %d: memref<2x3xf32>, %e: memref<2x3xf32>, %m: memref<1x4xi1>,
                      %f: memref<1x4xf32>, %g: memref<1x4xf32>) {
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%m, %f : memref<1x4xi1>, memref<1x4xf32>) outs(%g : memref<1x4xf32>) {
  ^bb0(%k: i1, %x: f32, %o: f32):
    %0 = arith.select %k, %x, %x : f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [#tr, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x4xf32>) outs(%b : memref<4x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  }
  linalg.generic {indexing_maps = [#id, affine_map<(d0, d1) -> (d1)>], iterator_types = ["reduction", "parallel"]}
      ins(%a : memref<4x4xf32>) outs(%c : memref<4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %0 = arith.addf %x, %o : f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%d : memref<2x3xf32>) outs(%e : memref<2x3xf32>) {
  ^bb0(%x: f32, %o: f32):
    %0 = arith.negf %x : f32
    linalg.yield %0 : f32
  }
  return
}

// A thread's partial reduction over its chunk of 4 at column t * 4 (a cooperative
// row's first phase): the chunk is one 128-bit load, the body's producer runs on
// the vector, and its lanes fold onto the thread's slot in order.
// CHECK-LABEL: func @partial_sum
// CHECK: %[[X:.*]] = vector.load %{{.*}} {alignment = 16 : i64} : memref<1x4xf32, strided<[1024, 1], offset: ?>>, vector<4xf32>
// CHECK: %[[SQ:.*]] = arith.mulf %[[X]], %[[X]] : vector<4xf32>
// CHECK: %[[ACC:.*]] = memref.load %[[SLOT:.*]][%{{.*}}] : memref<1xf32, strided<[256], offset: ?>>
// CHECK: %[[R:.*]] = vector.reduction <add>, %[[SQ]], %[[ACC]] : vector<4xf32> into f32
// CHECK: memref.store %[[R]], %[[SLOT]][%{{.*}}]
// CHECK-NOT: linalg.generic
func.func @partial_sum(%x: memref<?x1024xf32>, %p: memref<1x256xf32>, %row: index, %t: index) {
  %c4 = arith.constant 4 : index
  %col = arith.muli %t, %c4 : index
  %xv = memref.subview %x[%row, %col] [1, 4] [1, 1] : memref<?x1024xf32> to memref<1x4xf32, strided<[1024, 1], offset: ?>>
  %slot = memref.subview %p[0, %t] [1, 1] [1, 1] : memref<1x256xf32> to memref<1xf32, strided<[256], offset: ?>>
  linalg.generic {indexing_maps = [#id, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%xv : memref<1x4xf32, strided<[1024, 1], offset: ?>>)
      outs(%slot : memref<1xf32, strided<[256], offset: ?>>) {
  ^bb0(%a: f32, %o: f32):
    %0 = arith.mulf %a, %a : f32
    %1 = arith.addf %o, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// A reduction whose payload is not a plain combiner (o * 0.5 + a) stays scalar.
// CHECK-LABEL: func @not_a_combiner
// CHECK: linalg.generic
func.func @not_a_combiner(%x: memref<1x4xf32>, %o: memref<1xf32>) {
  %h = arith.constant 0.5 : f32
  linalg.generic {indexing_maps = [#id, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<1x4xf32>) outs(%o : memref<1xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %0 = arith.mulf %acc, %h : f32
    %1 = arith.addf %0, %a : f32
    linalg.yield %1 : f32
  }
  return
}

// A thread's copy of 4 between global buffers (a Slice's tile at column 256 + t * 4)
// becomes 128-bit accesses.
// CHECK-LABEL: func @global_copy
// CHECK: %[[V:.*]] = vector.load %{{.*}} {alignment = 16 : i64} : memref<1x4xf32, strided<[1024, 1], offset: ?>>, vector<4xf32>
// CHECK: vector.store %[[V]], %{{.*}} {alignment = 16 : i64} : memref<1x4xf32, strided<[512, 1], offset: ?>>, vector<4xf32>
// CHECK-NOT: linalg.copy
func.func @global_copy(%x: memref<?x1024xf32>, %y: memref<?x512xf32>, %row: index, %t: index) {
  %c4 = arith.constant 4 : index
  %col = arith.muli %t, %c4 : index
  %src = memref.subview %x[0, 256] [%row, 512] [1, 1] : memref<?x1024xf32> to memref<?x512xf32, strided<[1024, 1], offset: 256>>
  %xv = memref.subview %src[%row, %col] [1, 4] [1, 1] : memref<?x512xf32, strided<[1024, 1], offset: 256>> to memref<1x4xf32, strided<[1024, 1], offset: ?>>
  %yv = memref.subview %y[%row, %col] [1, 4] [1, 1] : memref<?x512xf32> to memref<1x4xf32, strided<[512, 1], offset: ?>>
  linalg.copy ins(%xv : memref<1x4xf32, strided<[1024, 1], offset: ?>>) outs(%yv : memref<1x4xf32, strided<[512, 1], offset: ?>>)
  return
}

// So does one from global memory into a workgroup buffer (a contraction step's slice
// of A, at k step * 16 + 4 (t % 4), through the address-space cast dlc-map-to-gpu
// leaves; the buffer's rows of 20 floats keep every fourth column 16-byte aligned).
// CHECK-LABEL: gpu.func @shared_copy
// CHECK: %[[V:.*]] = vector.load %{{.*}} {alignment = 16 : i64} : memref<1x4xf32, strided<[96, 1], offset: ?>>, vector<4xf32>
// CHECK: vector.store %[[V]], %{{.*}} {alignment = 16 : i64} : memref<1x4xf32, strided<[20, 1], offset: ?>>, vector<4xf32>
// CHECK-NOT: linalg.copy
gpu.module @shared {
  gpu.func @shared_copy(%a: memref<64x96xf32>, %step: index, %t: index)
      workgroup(%buf : memref<64x20xf32, #gpu.address_space<workgroup>>) kernel {
    %c4 = arith.constant 4 : index
    %c16 = arith.constant 16 : index
    %row = arith.divui %t, %c4 : index
    %q = arith.remui %t, %c4 : index
    %col = arith.muli %q, %c4 : index
    %k0 = arith.muli %step, %c16 : index
    %k = arith.addi %k0, %col : index
    %src = memref.subview %a[%row, %k] [1, 4] [1, 1] : memref<64x96xf32> to memref<1x4xf32, strided<[96, 1], offset: ?>>
    %generic = memref.memory_space_cast %buf : memref<64x20xf32, #gpu.address_space<workgroup>> to memref<64x20xf32>
    %dst = memref.subview %generic[%row, %col] [1, 4] [1, 1] : memref<64x20xf32> to memref<1x4xf32, strided<[20, 1], offset: ?>>
    linalg.copy ins(%src : memref<1x4xf32, strided<[96, 1], offset: ?>>) outs(%dst : memref<1x4xf32, strided<[20, 1], offset: ?>>)
    gpu.return
  }
}

// A tensor-core step's guarded copy (no input: it reads in its body): a thread's 8
// halves of V's rows, the row clamped to the tile's edge and zero past the step's
// end. The innermost index is the loop's plus the thread's column, so the clamp and
// the guard are computed once, the read is one vector load, the select lane-wise.
// CHECK-LABEL: func @guarded_read
// CHECK: %[[ROW:.*]] = arith.minui
// CHECK: %[[V:.*]] = vector.load %{{.*}}[%[[ROW]], %{{.*}}] {alignment = 16 : i64} : memref<?x64xf16>, vector<8xf16>
// CHECK: %[[Z:.*]] = vector.broadcast %{{.*}} : f16 to vector<8xf16>
// CHECK: %[[S:.*]] = arith.select %{{.*}}, %[[V]], %[[Z]] : vector<8xf16>
// CHECK: vector.store %[[S]], %{{.*}} {alignment = 16 : i64} : memref<1x8xf16, strided<[64, 1], offset: ?>>, vector<8xf16>
// CHECK-NOT: linalg.generic
func.func @guarded_read(%v: memref<?x64xf16>, %buf: memref<16x64xf16>, %t: index, %size: index) {
  %c8 = arith.constant 8 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f16
  %r = arith.divui %t, %c8 : index
  %q = arith.remui %t, %c8 : index
  %col = arith.muli %q, %c8 : index
  %dst = memref.subview %buf[%r, %col] [1, 8] [1, 1] : memref<16x64xf16> to memref<1x8xf16, strided<[64, 1], offset: ?>>
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]} outs(%dst : memref<1x8xf16, strided<[64, 1], offset: ?>>) {
  ^bb0(%out: f16):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %row = affine.apply affine_map<(d0)[s0] -> (d0 + s0)>(%i)[%r]
    %c = affine.apply affine_map<(d0)[s0] -> (d0 + s0)>(%j)[%col]
    %in = arith.cmpi ult, %row, %size : index
    %last = arith.subi %size, %c1 : index
    %clamped = arith.minui %row, %last : index
    %x = memref.load %v[%clamped, %c] : memref<?x64xf16>
    %s = arith.select %in, %x, %zero : f16
    linalg.yield %s : f16
  }
  return
}

// A read clamped along the innermost dim (the step ends short there) to a bound not
// known to be a multiple of the 8 lanes (which may then straddle it): left alone.
// CHECK-LABEL: func @clamped_innermost
// CHECK: linalg.generic
// CHECK-NOT: vector.load
func.func @clamped_innermost(%a: memref<64x40xf16>, %buf: memref<64x16xf16>, %t: index, %size: index) {
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f16
  %dst = memref.subview %buf[%t, 0] [1, 8] [1, 1] : memref<64x16xf16> to memref<1x8xf16, strided<[16, 1], offset: ?>>
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]} outs(%dst : memref<1x8xf16, strided<[16, 1], offset: ?>>) {
  ^bb0(%out: f16):
    %j = linalg.index 1 : index
    %in = arith.cmpi ult, %j, %size : index
    %last = arith.subi %size, %c1 : index
    %clamped = arith.minui %j, %last : index
    %x = memref.load %a[%t, %clamped] : memref<64x40xf16>
    %s = arith.select %in, %x, %zero : f16
    linalg.yield %s : f16
  }
  return
}

// Clamped along the innermost dim to a bound S that is a multiple of 8 (a step of 16
// over a length of 40: 16, 16, 8), from a lane-0 index that is one too (the thread's
// 8 columns): the 8 lanes are all inside S or all past it, so the guard is lane 0's
// and the vector starts at min(index, S - 8), inside; the guard zeroes it past S.
// CHECK-LABEL: func @clamped_chunks
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[I:.*]], %[[S:.*]] : index
// CHECK: %[[START:.*]] = arith.subi %[[S]], %c8{{.*}} : index
// CHECK: %[[AT:.*]] = arith.minui %[[I]], %[[START]] : index
// CHECK: %[[K:.*]] = arith.addi %{{.*}}, %[[AT]] : index
// CHECK: %[[V:.*]] = vector.load %{{.*}}[%{{.*}}, %[[K]]] {alignment = 16 : i64} : memref<64x40xf16>, vector<8xf16>
// CHECK: arith.select %[[IN]], %[[V]], %{{.*}} : vector<8xf16>
// CHECK-NOT: linalg.generic
func.func @clamped_chunks(%a: memref<64x40xf16>, %buf: memref<64x16xf16>, %t: index, %k: index) {
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f16
  %k16 = arith.muli %k, %c16 : index
  %size = affine.min affine_map<(d0) -> (16, -d0 + 40)>(%k16)
  %r = arith.divui %t, %c8 : index
  %q = arith.remui %t, %c8 : index
  %col = arith.muli %q, %c8 : index
  %dst = memref.subview %buf[%r, %col] [1, 8] [1, 1] : memref<64x16xf16> to memref<1x8xf16, strided<[16, 1], offset: ?>>
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]} outs(%dst : memref<1x8xf16, strided<[16, 1], offset: ?>>) {
  ^bb0(%out: f16):
    %j = linalg.index 1 : index
    %c = affine.apply affine_map<(d0)[s0] -> (d0 + s0)>(%j)[%col]
    %in = arith.cmpi ult, %c, %size : index
    %last = arith.subi %size, %c1 : index
    %clamped = arith.minui %c, %last : index
    %kc = arith.addi %k16, %clamped : index
    %x = memref.load %a[%r, %kc] : memref<64x40xf16>
    %s = arith.select %in, %x, %zero : f16
    linalg.yield %s : f16
  }
  return
}

// A step's guarded copy of chunks of 8 along an extent K known only at run time: the
// step loop runs in two versions, chosen by K % 8 == 0. The first sees K as (K / 8) * 8
// and the buffer through a reinterpret_cast with that innermost extent (its rows start
// at multiples of 16 bytes): one aligned vector load a chunk. The other keeps the
// generic (a thread's 8 lanes one by one).
// CHECK-LABEL: func @symbolic_chunks
// CHECK: %[[K:.*]] = memref.dim %[[A:.*]], %c1 : memref<64x?xf16>
// CHECK: %[[REM:.*]] = arith.remui %[[K]], %[[C8:.*]] : index
// CHECK: %[[OK:.*]] = arith.cmpi eq, %[[REM]], %{{.*}} : index
// CHECK: scf.if %[[OK]] {
// CHECK:   %[[DIV:.*]] = arith.divui %[[K]], %[[C8]] : index
// CHECK:   %[[K8:.*]] = arith.muli %[[DIV]], %[[C8]] : index
// CHECK:   %[[VIEW:.*]] = memref.reinterpret_cast %[[A]] to offset: [0], sizes: [64, %[[K8]]], strides: [%[[K8]], 1]
// CHECK:   scf.for %{{.*}} = %c0 to %[[K8]] step %c16 {
// CHECK:     gpu.barrier
// CHECK:     affine.min #{{.*}}(%{{.*}})[%[[K8]]]
// CHECK:     vector.load %[[VIEW]][%{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<64x?xf16, strided<[?, 1]>>, vector<8xf16>
// CHECK-NOT: linalg.generic
// CHECK: } else {
// CHECK:   scf.for %{{.*}} = %c0 to %[[K]] step %c16 {
// CHECK:     gpu.barrier
// CHECK:     linalg.generic
// CHECK-NOT: vector.load
// CHECK: return
func.func @symbolic_chunks(%a: memref<64x?xf16>, %buf: memref<64x16xf16>, %t: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f16
  %kdim = memref.dim %a, %c1 : memref<64x?xf16>
  %r = arith.divui %t, %c8 : index
  %q = arith.remui %t, %c8 : index
  %col = arith.muli %q, %c8 : index
  %dst = memref.subview %buf[%r, %col] [1, 8] [1, 1] : memref<64x16xf16> to memref<1x8xf16, strided<[16, 1], offset: ?>>
  scf.for %k = %c0 to %kdim step %c16 {
    gpu.barrier
    %size = affine.min affine_map<(d0)[s0] -> (16, s0 - d0)>(%k)[%kdim]
    linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]} outs(%dst : memref<1x8xf16, strided<[16, 1], offset: ?>>) {
    ^bb0(%out: f16):
      %j = linalg.index 1 : index
      %c = affine.apply affine_map<(d0)[s0] -> (d0 + s0)>(%j)[%col]
      %in = arith.cmpi ult, %c, %size : index
      %last = arith.subi %size, %c1 : index
      %clamped = arith.minui %c, %last : index
      %kc = arith.addi %k, %clamped : index
      %x = memref.load %a[%r, %kc] : memref<64x?xf16>
      %s = arith.select %in, %x, %zero : f16
      linalg.yield %s : f16
    }
    gpu.barrier
  }
  return
}

// A clamp to a constant extent, folded to min(index, 47): its guard index < 48 gives
// its bound, and the chunk reads from min(index, 40).
// CHECK-LABEL: func @constant_clamp
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[I:.*]], %c48 : index
// CHECK: %[[START:.*]] = arith.subi %c48, %c8{{.*}} : index
// CHECK: %[[AT:.*]] = arith.minui %[[I]], %[[START]] : index
// CHECK: %[[V:.*]] = vector.load %{{.*}}[%{{.*}}, %[[AT]]] {alignment = 16 : i64} : memref<?x48xf16>, vector<8xf16>
// CHECK: arith.select %[[IN]], %[[V]], %{{.*}} : vector<8xf16>
// CHECK-NOT: linalg.generic
func.func @constant_clamp(%b: memref<?x48xf16>, %buf: memref<16x64xf16>, %t: index) {
  %c8 = arith.constant 8 : index
  %c47 = arith.constant 47 : index
  %c48 = arith.constant 48 : index
  %zero = arith.constant 0.0 : f16
  %r = arith.divui %t, %c8 : index
  %q = arith.remui %t, %c8 : index
  %col = arith.muli %q, %c8 : index
  %dst = memref.subview %buf[%r, %col] [1, 8] [1, 1] : memref<16x64xf16> to memref<1x8xf16, strided<[64, 1], offset: ?>>
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]} outs(%dst : memref<1x8xf16, strided<[64, 1], offset: ?>>) {
  ^bb0(%out: f16):
    %j = linalg.index 1 : index
    %c = affine.apply affine_map<(d0)[s0] -> (d0 + s0)>(%j)[%col]
    %in = arith.cmpi ult, %c, %c48 : index
    %clamped = arith.minui %c, %c47 : index
    %x = memref.load %b[%r, %clamped] : memref<?x48xf16>
    %s = arith.select %in, %x, %zero : f16
    linalg.yield %s : f16
  }
  return
}
