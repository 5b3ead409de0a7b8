// RUN: dlc-opt %s -split-input-file -dlc-form-kernels | FileCheck %s
// RUN: dlc-opt %s -split-input-file -dlc-form-kernels=fuse=false | FileCheck %s --check-prefix=NOFUSE
// RUN: dlc-opt %s -split-input-file -dlc-form-kernels="max-fused-row=32 broadcast-epilogues=false shared-slices=false max-fused-depth=64" | FileCheck %s --check-prefix=GPU

// A contraction takes its elementwise epilogue; constants and metadata-only ops stay
// outside kernels. Without fusion each compute op is a kernel.
// CHECK-LABEL: func @epilogue
// CHECK: %[[W:.*]] = dlc.constant
// CHECK: %[[K0:.*]] = dlc.kernel "k0_matmul_relu"(%{{.*}}, %[[W]]) {nodes = ["MatMul_0 (MatMul)", "Relu_1 (Relu)"]}
// CHECK:   dlc.matmul
// CHECK:   dlc.relu
// CHECK:   dlc.yield
// CHECK: %[[R:.*]] = dlc.reshape %[[K0]]
// CHECK: return %[[R]]
// NOFUSE-LABEL: func @epilogue
// NOFUSE: dlc.kernel "k0_matmul"
// NOFUSE: dlc.kernel "k1_relu"
func.func @epilogue(%x: tensor<?x4xf32>) -> tensor<?x2x2xf32> {
  %w = dlc.constant {value = dense<1.0> : tensor<4x4xf32>} : () -> tensor<4x4xf32>
  %m = dlc.matmul %x, %w : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32> loc("node 'MatMul_0' (MatMul)")
  %r = dlc.relu %m : (tensor<?x4xf32>) -> tensor<?x4xf32> loc("node 'Relu_1' (Relu)")
  %s = dlc.reshape %r {shape = array<i64: 0, 2, 2>, allowzero = false} : (tensor<?x4xf32>) -> tensor<?x2x2xf32>
  return %s : tensor<?x2x2xf32>
}

// -----

// A chain of elementwise ops, with a fan-out that stays inside (x * sigmoid(x)), is
// one kernel.
// CHECK-LABEL: func @chain
// CHECK-COUNT-1: dlc.kernel
// CHECK-NOT: dlc.kernel
// NOFUSE-LABEL: func @chain
// NOFUSE-COUNT-4: dlc.kernel
func.func @chain(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %a = dlc.exp %x : (tensor<8x16xf32>) -> tensor<8x16xf32>
  %b = dlc.sigmoid %a : (tensor<8x16xf32>) -> tensor<8x16xf32>
  %c = dlc.mul %a, %b : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  %d = dlc.tanh %c : (tensor<8x16xf32>) -> tensor<8x16xf32>
  return %d : tensor<8x16xf32>
}

// -----

// A value used outside a would-be kernel splits it: the kernel has one output.
// CHECK-LABEL: func @escape
// CHECK: %[[K0:.*]] = dlc.kernel "k0_exp"
// CHECK: %[[K1:.*]] = dlc.kernel "k1_tanh"(%[[K0]])
// CHECK: return %[[K0]], %[[K1]]
func.func @escape(%x: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %a = dlc.exp %x : (tensor<8xf32>) -> tensor<8xf32>
  %b = dlc.tanh %a : (tensor<8xf32>) -> tensor<8xf32>
  return %a, %b : tensor<8xf32>, tensor<8xf32>
}

// -----

// Softmax (a row reduction) takes the scaled scores from the matmul, whose transposed
// operands are read through its indexing: one kernel (rows of 8: also on the GPU).
// GPU-LABEL: func @attention_scores
// GPU: dlc.kernel "k0_transpose_transpose_matmul_etc"
// GPU:   dlc.softmax
// CHECK-LABEL: func @attention_scores
// CHECK: dlc.kernel "k0_transpose_transpose_matmul_etc"
// CHECK:   dlc.transpose
// CHECK:   dlc.matmul
// CHECK:   dlc.mul
// CHECK:   dlc.softmax
// CHECK-NOT: dlc.kernel
func.func @attention_scores(%q: tensor<2x8x4xf32>, %k: tensor<2x4x8xf32>) -> tensor<2x8x8xf32> {
  %s = dlc.constant {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %kt = dlc.transpose %k {perm = array<i64: 0, 2, 1>} : (tensor<2x4x8xf32>) -> tensor<2x8x4xf32>
  %kt2 = dlc.transpose %kt {perm = array<i64: 0, 2, 1>} : (tensor<2x8x4xf32>) -> tensor<2x4x8xf32>
  %m = dlc.matmul %q, %kt2 : (tensor<2x8x4xf32>, tensor<2x4x8xf32>) -> tensor<2x8x8xf32>
  %m2 = dlc.mul %m, %s : (tensor<2x8x8xf32>, tensor<f32>) -> tensor<2x8x8xf32>
  %p = dlc.softmax %m2 {axis = -1 : i64} : (tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  return %p : tensor<2x8x8xf32>
}

// -----

// A reduction over a leading axis is opaque (each tile would redo it): its own kernel,
// and its consumer another.
// CHECK-LABEL: func @leading_reduction
// CHECK: dlc.kernel "k0_reduce_sum"
// CHECK: dlc.kernel "k1_exp"
func.func @leading_reduction(%x: tensor<8x16xf32>) -> tensor<16xf32> {
  %r = dlc.reduce_sum %x {axes = array<i64: 0>, keepdims = false} : (tensor<8x16xf32>) -> tensor<16xf32>
  %e = dlc.exp %r : (tensor<16xf32>) -> tensor<16xf32>
  return %e : tensor<16xf32>
}

// -----

// A Softmax over rows of more than 4096 classes (a classifier's) does not join its
// MatMul: the kernel would hold all of a workgroup's rows of scores at once.
// CHECK-LABEL: func @classifier_softmax
// CHECK: dlc.kernel "k0_matmul_add"
// CHECK: dlc.kernel "k1_softmax"
func.func @classifier_softmax(%x: tensor<?x20x120xf32>) -> tensor<?x20x8000xf32> {
  %w = dlc.constant {value = dense<0.5> : tensor<120x8000xf32>} : () -> tensor<120x8000xf32>
  %b = dlc.constant {value = dense<0.5> : tensor<8000xf32>} : () -> tensor<8000xf32>
  %m = dlc.matmul %x, %w : (tensor<?x20x120xf32>, tensor<120x8000xf32>) -> tensor<?x20x8000xf32>
  %a = dlc.add %m, %b : (tensor<?x20x8000xf32>, tensor<8000xf32>) -> tensor<?x20x8000xf32>
  %p = dlc.softmax %a {axis = -1 : i64} : (tensor<?x20x8000xf32>) -> tensor<?x20x8000xf32>
  return %p : tensor<?x20x8000xf32>
}

// -----

// Over a symbolic sequence the Softmax joins its MatMul on the CPU; for the GPU it
// starts its own kernel (the scaling stays the MatMul's epilogue).
// CHECK-LABEL: func @attention_symbolic
// CHECK: dlc.kernel "k0_matmul_mul_softmax"
// GPU-LABEL: func @attention_symbolic
// GPU: dlc.kernel "k0_matmul_mul"
// GPU-NOT: dlc.softmax
// GPU: dlc.kernel "k1_softmax"
func.func @attention_symbolic(%q: tensor<2x?x4xf32>, %k: tensor<2x4x?xf32>) -> tensor<2x?x?xf32> {
  %s = dlc.constant {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %m = dlc.matmul %q, %k : (tensor<2x?x4xf32>, tensor<2x4x?xf32>) -> tensor<2x?x?xf32>
  %m2 = dlc.mul %m, %s : (tensor<2x?x?xf32>, tensor<f32>) -> tensor<2x?x?xf32>
  %p = dlc.softmax %m2 {axis = -1 : i64} : (tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
  return %p : tensor<2x?x?xf32>
}

// -----

// An elementwise kernel whose value only one other kernel reads joins that kernel:
// exp(x) starts a group of its own (the add joins exp(y)'s, the later producer), and
// is merged into the add's kernel afterwards.
// CHECK-LABEL: func @merge_into_consumer
// CHECK: dlc.kernel "k0_exp_exp_add"
// CHECK-NOT: dlc.kernel
// NOFUSE-LABEL: func @merge_into_consumer
// NOFUSE-COUNT-3: dlc.kernel
func.func @merge_into_consumer(%x: tensor<8x16xf32>, %y: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %a = dlc.exp %x : (tensor<8x16xf32>) -> tensor<8x16xf32>
  %b = dlc.exp %y : (tensor<8x16xf32>) -> tensor<8x16xf32>
  %c = dlc.add %a, %b : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  return %c : tensor<8x16xf32>
}

// -----

// A cheap elementwise value read by two kernels (a loss-scaled gradient g * s, read by
// two outputs' kernels) is recomputed in each rather than written out by a kernel of
// its own. Neither is merged into a consumer that broadcasts it (more work there).
// CHECK-LABEL: func @duplicate_cheap
// CHECK: dlc.kernel "k0_mul_exp"(%{{.*}}, %{{.*}})
// CHECK-NEXT: ^bb0
// CHECK-NEXT: dlc.mul
// CHECK-NEXT: dlc.exp
// CHECK: dlc.kernel "k1_mul_tanh"
// CHECK-NEXT: ^bb0
// CHECK-NEXT: dlc.mul
// CHECK-NEXT: dlc.tanh
// CHECK-NOT: dlc.kernel
func.func @duplicate_cheap(%g: tensor<8x16xf32>, %s: tensor<f32>) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %gs = dlc.mul %g, %s : (tensor<8x16xf32>, tensor<f32>) -> tensor<8x16xf32>
  %a = dlc.exp %gs : (tensor<8x16xf32>) -> tensor<8x16xf32>
  %b = dlc.tanh %gs : (tensor<8x16xf32>) -> tensor<8x16xf32>
  return %a, %b : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// An expensive one (exp) is computed once, in a kernel of its own; so is a cheap one
// read by an op that broadcasts it (a row vector added to every row).
// CHECK-LABEL: func @no_duplicate
// CHECK: dlc.kernel "k0_exp"
// CHECK: dlc.kernel "k1_mul"
// CHECK: dlc.kernel "k2_tanh"
// CHECK: dlc.kernel "k3_mul"
// CHECK: dlc.kernel "k4_add"
// CHECK: dlc.kernel "k5_sub"
// CHECK-NOT: dlc.kernel
func.func @no_duplicate(%x: tensor<8x16xf32>, %r: tensor<16xf32>, %m: tensor<8x16xf32>)
    -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %e = dlc.exp %x : (tensor<8x16xf32>) -> tensor<8x16xf32>
  %a = dlc.mul %e, %e : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  %b = dlc.tanh %e : (tensor<8x16xf32>) -> tensor<8x16xf32>
  %rs = dlc.mul %r, %r : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  %c = dlc.add %m, %rs : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %d = dlc.sub %m, %rs : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  return %a, %b, %c, %d : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// A transpose that joined an elementwise group and was cut off from it (the exp is
// an output too) is merged into the one op that reads it, whatever that op's kind (a
// MatMul reads it through its indexing), as rule 3 does for one the grouping sees.
// CHECK-LABEL: func @transpose_into_consumer
// CHECK: dlc.kernel "k0_exp"
// CHECK: dlc.kernel "k1_transpose_matmul"
// CHECK-NOT: dlc.kernel
func.func @transpose_into_consumer(%x: tensor<8x16xf32>, %w: tensor<8x4xf32>) -> (tensor<8x16xf32>, tensor<16x4xf32>) {
  %e = dlc.exp %x : (tensor<8x16xf32>) -> tensor<8x16xf32>
  %t = dlc.transpose %e {perm = array<i64: 1, 0>} : (tensor<8x16xf32>) -> tensor<16x8xf32>
  %m = dlc.matmul %t, %w : (tensor<16x8xf32>, tensor<8x4xf32>) -> tensor<16x4xf32>
  return %e, %m : tensor<8x16xf32>, tensor<16x4xf32>
}

// -----

// A scalar computed from scalars (a dynamic quantization's scale, (max - min) / 255,
// and its product with a weight's scale) is merged into every kernel that reads it,
// whatever their shape: a kernel of its own would cost a launch for a few operations
// (on a GPU, one thread). The reductions to scalars stay kernels of their own.
// CHECK-LABEL: func @scalar_into_consumers
// CHECK: dlc.kernel "k0_reduce_min"
// CHECK: dlc.kernel "k1_reduce_max"
// CHECK: dlc.kernel "k2_sub_div_div"(
// CHECK-NEXT: ^bb0
// CHECK-NEXT: dlc.sub {{.*}} -> tensor<f32>
// CHECK-NEXT: dlc.div {{.*}} -> tensor<f32>
// CHECK-NEXT: dlc.div {{.*}} -> tensor<8x16xf32>
// CHECK: dlc.kernel "k3_sub_div_mul_etc"
// CHECK-NEXT: ^bb0
// CHECK-NEXT: dlc.sub {{.*}} -> tensor<f32>
// CHECK-NEXT: dlc.div {{.*}} -> tensor<f32>
// CHECK-NEXT: dlc.mul {{.*}} -> tensor<f32>
// CHECK-NEXT: dlc.matmul
// CHECK-NOT: dlc.kernel
// NOFUSE-LABEL: func @scalar_into_consumers
// NOFUSE-COUNT-8: dlc.kernel
func.func @scalar_into_consumers(%x: tensor<8x16xf32>, %w: tensor<16x4xf32>, %ws: tensor<f32>)
    -> (tensor<8x16xf32>, tensor<8x4xf32>) {
  %c255 = dlc.constant {value = dense<2.550000e+02> : tensor<f32>} : () -> tensor<f32>
  %lo = dlc.reduce_min %x {axes = array<i64>, keepdims = false} : (tensor<8x16xf32>) -> tensor<f32>
  %hi = dlc.reduce_max %x {axes = array<i64>, keepdims = false} : (tensor<8x16xf32>) -> tensor<f32>
  %range = dlc.sub %hi, %lo : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %scale = dlc.div %range, %c255 : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %q = dlc.div %x, %scale : (tensor<8x16xf32>, tensor<f32>) -> tensor<8x16xf32>
  %s = dlc.mul %scale, %ws : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %m = dlc.matmul %x, %w : (tensor<8x16xf32>, tensor<16x4xf32>) -> tensor<8x4xf32>
  %y = dlc.mul %m, %s : (tensor<8x4xf32>, tensor<f32>) -> tensor<8x4xf32>
  return %q, %y : tensor<8x16xf32>, tensor<8x4xf32>
}

// -----

// Swin's patch merging: the even rows of a value another kernel also reads (cut off
// from the exp's group), then their even and odd columns, Concatenated. The rows'
// slice is read by two slices, both in the Concat's kernel: it is merged into that
// kernel and read through them, not written out by a kernel of its own.
// CHECK-LABEL: func @slice_read_by_slices
// CHECK: dlc.kernel "k0_exp"
// CHECK: dlc.kernel "k1_slice_slice_slice_etc"
// CHECK-NOT: dlc.kernel
func.func @slice_read_by_slices(%x: tensor<8x8x4xf32>) -> (tensor<8x8x4xf32>, tensor<4x4x8xf32>) {
  %e = dlc.exp %x : (tensor<8x8x4xf32>) -> tensor<8x8x4xf32>
  %r = dlc.slice %e {axes = array<i64: 0>, ends = array<i64: 9223372036854775807>, starts = array<i64: 0>, steps = array<i64: 2>} : (tensor<8x8x4xf32>) -> tensor<4x8x4xf32>
  %a = dlc.slice %r {axes = array<i64: 1>, ends = array<i64: 9223372036854775807>, starts = array<i64: 0>, steps = array<i64: 2>} : (tensor<4x8x4xf32>) -> tensor<4x4x4xf32>
  %b = dlc.slice %r {axes = array<i64: 1>, ends = array<i64: 9223372036854775807>, starts = array<i64: 1>, steps = array<i64: 2>} : (tensor<4x8x4xf32>) -> tensor<4x4x4xf32>
  %c = dlc.concat %a, %b {axis = 2 : i64} : (tensor<4x4x4xf32>, tensor<4x4x4xf32>) -> tensor<4x4x8xf32>
  return %e, %c : tensor<8x8x4xf32>, tensor<4x4x8xf32>
}

// -----

// A squeeze-and-excitation's scale: a 1x1 Conv over the pooled channels, its
// activation, and a Mul that broadcasts it over the feature map. On the CPU the Mul
// joins the Conv's kernel; on the GPU, whose kernel would run a thread per element of
// the feature map and compute the Conv again in each, the Conv keeps its kernel (a
// contraction tile) and the Mul reads its result. An epilogue of the Conv's own shape
// (the bias-like Add) joins either way.
// CHECK-LABEL: func @excitation
// CHECK: dlc.kernel "k0_conv_add_hard_sigmoid_etc"
// CHECK-NOT: dlc.kernel
// CHECK: return
// GPU-LABEL: func @excitation
// GPU: dlc.kernel "k0_conv_add_hard_sigmoid"
// GPU: dlc.kernel "k1_mul"
func.func @excitation(%s: tensor<?x4x1x1xf32>, %x: tensor<?x8x6x6xf32>, %c: tensor<?x8x1x1xf32>)
    -> tensor<?x8x6x6xf32> {
  %w = dlc.constant {value = dense<0.5> : tensor<8x4x1x1xf32>} : () -> tensor<8x4x1x1xf32>
  %b = dlc.constant {value = dense<0.5> : tensor<8xf32>} : () -> tensor<8xf32>
  %e = dlc.conv %s, %w, %b {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64}
      : (tensor<?x4x1x1xf32>, tensor<8x4x1x1xf32>, tensor<8xf32>) -> tensor<?x8x1x1xf32>
  %a = dlc.add %e, %c : (tensor<?x8x1x1xf32>, tensor<?x8x1x1xf32>) -> tensor<?x8x1x1xf32>
  %h = dlc.hard_sigmoid %a {alpha = 0.166666672 : f32, beta = 5.000000e-01 : f32} : (tensor<?x8x1x1xf32>) -> tensor<?x8x1x1xf32>
  %y = dlc.mul %h, %x : (tensor<?x8x1x1xf32>, tensor<?x8x6x6xf32>) -> tensor<?x8x6x6xf32>
  return %y : tensor<?x8x6x6xf32>
}

// -----

// A global average pool's row is all its spatial dims: 7 x 7 = 49 elements, longer
// than the GPU's max-fused-row of 32 (each row's last dim, 7, is not), so there the
// pool keeps a kernel of its own and the Conv gets its contraction tile; the CPU
// fuses it. A 4 x 4 map's row (16) joins, after a 1x1 Conv over 8 channels (depth 8);
// after a 3x3 Conv over 8 channels, 72 deep, more than the GPU's max-fused-depth of
// 64, it does not (the kernel would compute the Conv a thread per row, without its
// tile). The CPU fuses all three.
// CHECK-LABEL: func @conv_pool
// CHECK: dlc.kernel "k0_conv_relu_global_average_pool"
// CHECK: dlc.kernel "k1_conv_relu_global_average_pool"
// CHECK: dlc.kernel "k2_conv_relu_global_average_pool"
// GPU-LABEL: func @conv_pool
// GPU: dlc.kernel "k0_conv_relu"
// GPU: dlc.kernel "k1_global_average_pool"
// GPU: dlc.kernel "k2_conv_relu_global_average_pool"
// GPU: dlc.kernel "k3_conv_relu"
// GPU: dlc.kernel "k4_global_average_pool"
func.func @conv_pool(%x: tensor<?x8x7x7xf32>, %z: tensor<?x8x4x4xf32>)
    -> (tensor<?x8x1x1xf32>, tensor<?x8x1x1xf32>, tensor<?x8x1x1xf32>) {
  %w = dlc.constant {value = dense<0.5> : tensor<8x8x3x3xf32>} : () -> tensor<8x8x3x3xf32>
  %w1 = dlc.constant {value = dense<0.5> : tensor<8x8x1x1xf32>} : () -> tensor<8x8x1x1xf32>
  %b = dlc.constant {value = dense<0.5> : tensor<8xf32>} : () -> tensor<8xf32>
  %c = dlc.conv %x, %w, %b {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64}
      : (tensor<?x8x7x7xf32>, tensor<8x8x3x3xf32>, tensor<8xf32>) -> tensor<?x8x7x7xf32>
  %r = dlc.relu %c : (tensor<?x8x7x7xf32>) -> tensor<?x8x7x7xf32>
  %p = dlc.global_average_pool %r : (tensor<?x8x7x7xf32>) -> tensor<?x8x1x1xf32>
  %c2 = dlc.conv %z, %w1, %b {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64}
      : (tensor<?x8x4x4xf32>, tensor<8x8x1x1xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  %r2 = dlc.relu %c2 : (tensor<?x8x4x4xf32>) -> tensor<?x8x4x4xf32>
  %p2 = dlc.global_average_pool %r2 : (tensor<?x8x4x4xf32>) -> tensor<?x8x1x1xf32>
  %c3 = dlc.conv %z, %w, %b {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64}
      : (tensor<?x8x4x4xf32>, tensor<8x8x3x3xf32>, tensor<8xf32>) -> tensor<?x8x4x4xf32>
  %r3 = dlc.relu %c3 : (tensor<?x8x4x4xf32>) -> tensor<?x8x4x4xf32>
  %p3 = dlc.global_average_pool %r3 : (tensor<?x8x4x4xf32>) -> tensor<?x8x1x1xf32>
  return %p, %p2, %p3 : tensor<?x8x1x1xf32>, tensor<?x8x1x1xf32>, tensor<?x8x1x1xf32>
}

// -----

// A GRU's gates sliced out of one Gemm and combined elementwise: on the CPU one kernel;
// on the GPU the Gemm keeps a kernel of its own (a contraction tile follows its result
// along one chain of ops, and three Slices read it), the Slices join their readers.
// CHECK-LABEL: func @gates
// CHECK: dlc.kernel "k0_gemm_slice_slice_etc"
// CHECK-NOT: dlc.kernel
// CHECK: return
// GPU-LABEL: func @gates
// GPU: dlc.kernel "k0_gemm"
// GPU-NOT: dlc.slice
// GPU: dlc.yield
// GPU: dlc.kernel "k1_slice_slice_slice_etc"
func.func @gates(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %w = dlc.constant {value = dense<0.5> : tensor<96x32xf32>} : () -> tensor<96x32xf32>
  %b = dlc.constant {value = dense<0.5> : tensor<96xf32>} : () -> tensor<96xf32>
  %g = dlc.gemm %x, %w, %b {alpha = 1.0 : f32, beta = 1.0 : f32, transA = false, transB = true}
      : (tensor<?x32xf32>, tensor<96x32xf32>, tensor<96xf32>) -> tensor<?x96xf32>
  %r = dlc.slice %g {starts = array<i64: 0>, ends = array<i64: 32>, axes = array<i64: 1>, steps = array<i64: 1>} : (tensor<?x96xf32>) -> tensor<?x32xf32>
  %z = dlc.slice %g {starts = array<i64: 32>, ends = array<i64: 64>, axes = array<i64: 1>, steps = array<i64: 1>} : (tensor<?x96xf32>) -> tensor<?x32xf32>
  %n = dlc.slice %g {starts = array<i64: 64>, ends = array<i64: 96>, axes = array<i64: 1>, steps = array<i64: 1>} : (tensor<?x96xf32>) -> tensor<?x32xf32>
  %a = dlc.add %r, %z : (tensor<?x32xf32>, tensor<?x32xf32>) -> tensor<?x32xf32>
  %s = dlc.sigmoid %a : (tensor<?x32xf32>) -> tensor<?x32xf32>
  %y = dlc.mul %s, %n : (tensor<?x32xf32>, tensor<?x32xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// A loss-scaled step's gradient check: the gradient (a MatMul) is returned and its
// elements tested for inf/NaN and counted. The test joins the MatMul's group; on the
// GPU the count (8 x 16 = 128 elements, over max-fused-row) does not, and the split
// after the MatMul (its value read outside) leaves the test alone. The test then merges
// in front of the count it feeds (rule 7): one kernel, not two.
// CHECK-LABEL: func @grad_check
// CHECK: dlc.kernel "k0_matmul"
// CHECK: dlc.kernel "k1_isnan_cast_reduce_sum"
// CHECK-NOT: dlc.kernel
// CHECK: return
// GPU-LABEL: func @grad_check
// GPU: dlc.kernel "k0_matmul"
// GPU: dlc.kernel "k1_isnan_cast_reduce_sum"
// GPU-NOT: dlc.kernel
// GPU: return
func.func @grad_check(%a: tensor<8x4xf32>, %b: tensor<4x16xf32>) -> (tensor<8x16xf32>, tensor<f32>) {
  %g = dlc.matmul %a, %b : (tensor<8x4xf32>, tensor<4x16xf32>) -> tensor<8x16xf32>
  %n = dlc.isnan %g : (tensor<8x16xf32>) -> tensor<8x16xi1>
  %f = dlc.cast %n : (tensor<8x16xi1>) -> tensor<8x16xf32>
  %s = dlc.reduce_sum %f {axes = array<i64>, keepdims = false} : (tensor<8x16xf32>) -> tensor<f32>
  return %g, %s : tensor<8x16xf32>, tensor<f32>
}
