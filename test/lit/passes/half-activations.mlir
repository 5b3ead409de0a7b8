// RUN: dlc-opt %s -split-input-file -dlc-half-activations=precision=fp16 | FileCheck %s
// RUN: dlc-opt %s -split-input-file -dlc-half-activations=precision=bf16 | FileCheck %s --check-prefix=BF16
// RUN: dlc-opt %s -split-input-file -dlc-half-activations=precision=tf32 | FileCheck %s --check-prefix=TF32

// A Conv's output that only the next Conv reads (as its input) crosses in f16: the
// producer rounds before its yield, the reader widens first thing. The last kernel's
// result is the model's output and stays f32. tf32 leaves the graph alone.
// CHECK-LABEL: func @chain
// CHECK: %[[A:.*]] = dlc.kernel "k0_conv_relu"(%arg0) {{.*}} -> tensor<1x8x8x8xf16>
// CHECK:   %[[R:.*]] = dlc.relu
// CHECK:   %[[H:.*]] = dlc.cast %[[R]] {{.*}}(tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf16>
// CHECK:   dlc.yield %[[H]] : tensor<1x8x8x8xf16>
// CHECK: dlc.kernel "k1_conv"(%[[A]]) {{.*}} : (tensor<1x8x8x8xf16>) -> tensor<1x8x8x8xf32>
// CHECK: ^bb0(%[[X:.*]]: tensor<1x8x8x8xf16>):
// CHECK-NEXT: %[[W:.*]] = dlc.cast %[[X]] {{.*}}(tensor<1x8x8x8xf16>) -> tensor<1x8x8x8xf32>
// CHECK: dlc.conv %[[W]],
// CHECK-NOT: dlc.cast
// CHECK: return
// BF16-LABEL: func @chain
// BF16: dlc.kernel "k0_conv_relu"(%arg0) {{.*}} -> tensor<1x8x8x8xbf16>
// TF32-LABEL: func @chain
// TF32-NOT: dlc.cast
func.func @chain(%x: tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32> {
  %a = dlc.kernel "k0_conv_relu"(%x) {nodes = []} : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32> {
  ^bb0(%in: tensor<1x8x8x8xf32>):
    %w = dlc.constant {value = dense<0.5> : tensor<8x8x1x1xf32>} : () -> tensor<8x8x1x1xf32>
    %b = dlc.constant {value = dense<0.5> : tensor<8xf32>} : () -> tensor<8xf32>
    %c = dlc.conv %in, %w, %b {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64}
        : (tensor<1x8x8x8xf32>, tensor<8x8x1x1xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
    %r = dlc.relu %c : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
    dlc.yield %r : tensor<1x8x8x8xf32>
  }
  %y = dlc.kernel "k1_conv"(%a) {nodes = []} : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32> {
  ^bb0(%in: tensor<1x8x8x8xf32>):
    %w = dlc.constant {value = dense<0.5> : tensor<8x8x1x1xf32>} : () -> tensor<8x8x1x1xf32>
    %b = dlc.constant {value = dense<0.5> : tensor<8xf32>} : () -> tensor<8xf32>
    %c = dlc.conv %in, %w, %b {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64}
        : (tensor<1x8x8x8xf32>, tensor<8x8x1x1xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32>
    dlc.yield %c : tensor<1x8x8x8xf32>
  }
  return %y : tensor<1x8x8x8xf32>
}

// -----

// Rounding commutes with MaxPool (it is monotone): the pool kernel's result, which
// only a MatMul reads through a reshape outside the kernels, is rounded, and then so is the
// first kernel's, which only the pool reads. The reshape between takes the half
// type.
// CHECK-LABEL: func @through_pool
// CHECK: %[[A:.*]] = dlc.kernel "k0_relu"{{.*}} -> tensor<1x4x4x4xf16>
// CHECK: %[[P:.*]] = dlc.kernel "k1_max_pool"(%[[A]]) {{.*}} : (tensor<1x4x4x4xf16>) -> tensor<1x4x2x2xf16>
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<1x4x4x4xf16>):
// CHECK-NEXT: %[[W:.*]] = dlc.cast %[[X]]
// CHECK-NEXT: %[[M:.*]] = dlc.max_pool %[[W]]
// CHECK-NEXT: %[[H:.*]] = dlc.cast %[[M]] {{.*}} -> tensor<1x4x2x2xf16>
// CHECK-NEXT: dlc.yield %[[H]]
// CHECK: %[[F:.*]] = dlc.reshape %[[P]] {{.*}} -> tensor<1x16xf16>
// CHECK: dlc.kernel "k2_matmul"(%[[F]]) {{.*}} : (tensor<1x16xf16>) -> tensor<1x4xf32>
func.func @through_pool(%x: tensor<1x4x4x4xf32>) -> tensor<1x4xf32> {
  %a = dlc.kernel "k0_relu"(%x) {nodes = []} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
  ^bb0(%in: tensor<1x4x4x4xf32>):
    %r = dlc.relu %in : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
    dlc.yield %r : tensor<1x4x4x4xf32>
  }
  %p = dlc.kernel "k1_max_pool"(%a) {nodes = []} : (tensor<1x4x4x4xf32>) -> tensor<1x4x2x2xf32> {
  ^bb0(%in: tensor<1x4x4x4xf32>):
    %m = dlc.max_pool %in {ceil_mode = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
        : (tensor<1x4x4x4xf32>) -> tensor<1x4x2x2xf32>
    dlc.yield %m : tensor<1x4x2x2xf32>
  }
  %f = dlc.reshape %p {allowzero = false, shape = array<i64: 1, 16>} : (tensor<1x4x2x2xf32>) -> tensor<1x16xf32>
  %y = dlc.kernel "k2_matmul"(%f) {nodes = []} : (tensor<1x16xf32>) -> tensor<1x4xf32> {
  ^bb0(%in: tensor<1x16xf32>):
    %w = dlc.constant {value = dense<0.5> : tensor<16x4xf32>} : () -> tensor<16x4xf32>
    %m = dlc.matmul %in, %w : (tensor<1x16xf32>, tensor<16x4xf32>) -> tensor<1x4xf32>
    dlc.yield %m : tensor<1x4xf32>
  }
  return %y : tensor<1x4xf32>
}

// -----

// A value another op reads unrounded keeps f32: the residual add reads the first
// kernel's result, the bias of a Gemm reads the second's, and an AveragePool
// (which does not commute with rounding) the third's.
// CHECK-LABEL: func @kept
// CHECK-NOT: f16
// CHECK: return
func.func @kept(%x: tensor<4x4xf32>, %y: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>, tensor<1x1x2x2xf32>) {
  %a = dlc.kernel "k0_relu"(%x) {nodes = []} : (tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%in: tensor<4x4xf32>):
    %r = dlc.relu %in : (tensor<4x4xf32>) -> tensor<4x4xf32>
    dlc.yield %r : tensor<4x4xf32>
  }
  %s = dlc.kernel "k1_matmul_add"(%a, %y) {nodes = []} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%in: tensor<4x4xf32>, %in2: tensor<4x4xf32>):
    %m = dlc.matmul %in, %in2 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    %t = dlc.add %m, %in : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    dlc.yield %t : tensor<4x4xf32>
  }
  %b = dlc.kernel "k2_relu"(%y) {nodes = []} : (tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%in: tensor<4x4xf32>):
    %r = dlc.relu %in : (tensor<4x4xf32>) -> tensor<4x4xf32>
    dlc.yield %r : tensor<4x4xf32>
  }
  %g = dlc.kernel "k3_gemm"(%x, %y, %b) {nodes = []} : (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%in: tensor<4x4xf32>, %in2: tensor<4x4xf32>, %c: tensor<4x4xf32>):
    %m = dlc.gemm %in, %in2, %c {alpha = 1.0 : f32, beta = 1.0 : f32, transA = false, transB = false}
        : (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    dlc.yield %m : tensor<4x4xf32>
  }
  %r4 = dlc.reshape %x {allowzero = false, shape = array<i64: 1, 1, 4, 4>} : (tensor<4x4xf32>) -> tensor<1x1x4x4xf32>
  %c = dlc.kernel "k4_relu"(%r4) {nodes = []} : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  ^bb0(%in: tensor<1x1x4x4xf32>):
    %r = dlc.relu %in : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
    dlc.yield %r : tensor<1x1x4x4xf32>
  }
  %p = dlc.kernel "k5_average_pool"(%c) {nodes = []} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
  ^bb0(%in: tensor<1x1x4x4xf32>):
    %m = dlc.average_pool %in {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
        : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
    dlc.yield %m : tensor<1x1x2x2xf32>
  }
  return %s, %g, %p : tensor<4x4xf32>, tensor<4x4xf32>, tensor<1x1x2x2xf32>
}

// -----

// A value two kernels read, one of them twice (x * x^T through a Transpose), both as
// factors: rounded once, each reader widening its argument once.
// CHECK-LABEL: func @twice
// CHECK: %[[A:.*]] = dlc.kernel "k0_relu"{{.*}} -> tensor<4x4xf16>
// CHECK: dlc.kernel "k1_matmul"(%[[A]], %[[A]]) {{.*}} : (tensor<4x4xf16>, tensor<4x4xf16>) -> tensor<4x4xf32>
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<4x4xf16>, %[[Y:.*]]: tensor<4x4xf16>):
// CHECK-DAG: dlc.cast %[[X]]
// CHECK-DAG: dlc.cast %[[Y]]
// CHECK: dlc.transpose
// CHECK: dlc.kernel "k2_matmul"(%[[A]]) {{.*}} : (tensor<4x4xf16>) -> tensor<4x4xf32>
func.func @twice(%x: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %a = dlc.kernel "k0_relu"(%x) {nodes = []} : (tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%in: tensor<4x4xf32>):
    %r = dlc.relu %in : (tensor<4x4xf32>) -> tensor<4x4xf32>
    dlc.yield %r : tensor<4x4xf32>
  }
  %s = dlc.kernel "k1_matmul"(%a, %a) {nodes = []} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%in: tensor<4x4xf32>, %in2: tensor<4x4xf32>):
    %t = dlc.transpose %in2 {perm = array<i64: 1, 0>} : (tensor<4x4xf32>) -> tensor<4x4xf32>
    %m = dlc.matmul %in, %t : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    dlc.yield %m : tensor<4x4xf32>
  }
  %u = dlc.kernel "k2_matmul"(%a) {nodes = []} : (tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%in: tensor<4x4xf32>):
    %w = dlc.constant {value = dense<0.5> : tensor<4x4xf32>} : () -> tensor<4x4xf32>
    %m = dlc.matmul %w, %in : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    dlc.yield %m : tensor<4x4xf32>
  }
  return %s, %u : tensor<4x4xf32>, tensor<4x4xf32>
}

// -----

// A Concat whose result is rounded (a Conv reads it) concatenates its pieces rounded:
// the kernel's root stays the Concat (no rounding that would read the whole Concat,
// which a GPU kernel runs on one thread). A piece that is a half-precision input the
// kernel widened is concatenated as it came: widening and rounding back cancel.
// CHECK-LABEL: func @concat
// CHECK: %[[A:.*]] = dlc.kernel "k0_relu"{{.*}} -> tensor<1x4x4x4xf16>
// CHECK: %[[C:.*]] = dlc.kernel "k1_slice_concat"(%arg0, %[[A]]) {{.*}} : (tensor<1x8x4x4xf32>, tensor<1x4x4x4xf16>) -> tensor<1x8x4x4xf16>
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<1x8x4x4xf32>, %[[Y:.*]]: tensor<1x4x4x4xf16>):
// CHECK-NEXT: %[[S:.*]] = dlc.slice %[[X]]
// CHECK-NEXT: %[[H:.*]] = dlc.cast %[[S]] {{.*}}(tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf16>
// CHECK-NEXT: %[[J:.*]] = dlc.concat %[[H]], %[[Y]] {axis = 1 : i64} : (tensor<1x4x4x4xf16>, tensor<1x4x4x4xf16>) -> tensor<1x8x4x4xf16>
// CHECK-NEXT: dlc.yield %[[J]] : tensor<1x8x4x4xf16>
// CHECK: dlc.kernel "k2_conv"(%[[C]])
func.func @concat(%x: tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32> {
  %a = dlc.kernel "k0_relu"(%x) {nodes = []} : (tensor<1x8x4x4xf32>) -> tensor<1x4x4x4xf32> {
  ^bb0(%in: tensor<1x8x4x4xf32>):
    %s = dlc.slice %in {starts = array<i64: 4>, ends = array<i64: 8>, axes = array<i64: 1>, steps = array<i64: 1>} : (tensor<1x8x4x4xf32>) -> tensor<1x4x4x4xf32>
    %r = dlc.relu %s : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
    dlc.yield %r : tensor<1x4x4x4xf32>
  }
  %c = dlc.kernel "k1_slice_concat"(%x, %a) {nodes = []} : (tensor<1x8x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x8x4x4xf32> {
  ^bb0(%in: tensor<1x8x4x4xf32>, %in2: tensor<1x4x4x4xf32>):
    %s = dlc.slice %in {starts = array<i64: 0>, ends = array<i64: 4>, axes = array<i64: 1>, steps = array<i64: 1>} : (tensor<1x8x4x4xf32>) -> tensor<1x4x4x4xf32>
    %j = dlc.concat %s, %in2 {axis = 1 : i64} : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x8x4x4xf32>
    dlc.yield %j : tensor<1x8x4x4xf32>
  }
  %y = dlc.kernel "k2_conv"(%c) {nodes = []} : (tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32> {
  ^bb0(%in: tensor<1x8x4x4xf32>):
    %w = dlc.constant {value = dense<0.5> : tensor<8x8x1x1xf32>} : () -> tensor<8x8x1x1xf32>
    %b = dlc.constant {value = dense<0.5> : tensor<8xf32>} : () -> tensor<8xf32>
    %o = dlc.conv %in, %w, %b {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64}
        : (tensor<1x8x4x4xf32>, tensor<8x8x1x1xf32>, tensor<8xf32>) -> tensor<1x8x4x4xf32>
    dlc.yield %o : tensor<1x8x4x4xf32>
  }
  return %y : tensor<1x8x4x4xf32>
}

// -----

// ViT's class token: a Gather of one position of the encoder's sequence, which a MatMul
// reads. Both kernels' results cross in f16; the Gather's kernel then widened its
// half-precision table and rounded what it gathered: it gathers the half-precision
// table itself (data movement commutes with the widening), so its root is the Gather,
// not a rounding that reads a Gather of a widened copy of the whole table (which a GPU
// kernel made first, on one thread).
// CHECK-LABEL: func @gather_token
// CHECK: %[[S:.*]] = dlc.kernel "k0_relu"{{.*}} -> tensor<2x5x8xf16>
// CHECK: dlc.kernel "k1_gather"(%[[S]], %{{.*}}) {{.*}} : (tensor<2x5x8xf16>, tensor<i64>) -> tensor<2x8xf16>
// CHECK-NEXT: ^bb0(%[[T:.*]]: tensor<2x5x8xf16>, %[[I:.*]]: tensor<i64>):
// CHECK-NEXT: %[[G:.*]] = dlc.gather %[[T]], %[[I]] {axis = 1 : i64} : (tensor<2x5x8xf16>, tensor<i64>) -> tensor<2x8xf16>
// CHECK-NEXT: dlc.yield %[[G]] : tensor<2x8xf16>
// CHECK: dlc.kernel "k2_matmul"
func.func @gather_token(%x: tensor<2x5x8xf32>, %i: tensor<i64>) -> tensor<2x4xf32> {
  %s = dlc.kernel "k0_relu"(%x) {nodes = []} : (tensor<2x5x8xf32>) -> tensor<2x5x8xf32> {
  ^bb0(%in: tensor<2x5x8xf32>):
    %r = dlc.relu %in : (tensor<2x5x8xf32>) -> tensor<2x5x8xf32>
    dlc.yield %r : tensor<2x5x8xf32>
  }
  %t = dlc.kernel "k1_gather"(%s, %i) {nodes = []} : (tensor<2x5x8xf32>, tensor<i64>) -> tensor<2x8xf32> {
  ^bb0(%in: tensor<2x5x8xf32>, %idx: tensor<i64>):
    %g = dlc.gather %in, %idx {axis = 1 : i64} : (tensor<2x5x8xf32>, tensor<i64>) -> tensor<2x8xf32>
    dlc.yield %g : tensor<2x8xf32>
  }
  %y = dlc.kernel "k2_matmul"(%t) {nodes = []} : (tensor<2x8xf32>) -> tensor<2x4xf32> {
  ^bb0(%in: tensor<2x8xf32>):
    %w = dlc.constant {value = dense<0.5> : tensor<8x4xf32>} : () -> tensor<8x4xf32>
    %o = dlc.matmul %in, %w : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
    dlc.yield %o : tensor<2x4xf32>
  }
  return %y : tensor<2x4xf32>
}
