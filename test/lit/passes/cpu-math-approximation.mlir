// RUN: dlc-opt %s -dlc-cpu-math-approximation | FileCheck %s

// In a kernel, f32 exp, tanh and log become arith ops (vectorizable loops); other
// math ops, other types and functions that are not kernels keep their math ops. A
// kernel with such polynomials asks LLVM for 512-bit vectors (compute-bound now); one
// without keeps LLVM's preference.
// CHECK-LABEL: func.func @k0
// CHECK-SAME: passthrough = {{\[\[}}"prefer-vector-width", "512"]]
// CHECK-NOT: math.exp
// CHECK-NOT: math.tanh
// CHECK-NOT: math.log
// CHECK: math.sqrt
// CHECK: math.exp {{.*}} : f64
// CHECK: return
func.func @k0(%x: f32, %y: f64) -> (f32, f32, f32, f32, f64) attributes {dlc.kernel} {
  %e = math.exp %x : f32
  %t = math.tanh %x : f32
  %l = math.log %x : f32
  %s = math.sqrt %x : f32
  %d = math.exp %y : f64
  return %e, %t, %l, %s, %d : f32, f32, f32, f32, f64
}

// CHECK-LABEL: func.func @host
// CHECK: math.exp
func.func @host(%x: f32) -> f32 {
  %e = math.exp %x : f32
  return %e : f32
}

// CHECK-LABEL: func.func @k1
// CHECK-NOT: passthrough
// CHECK: math.sqrt
func.func @k1(%x: f32) -> f32 attributes {dlc.kernel} {
  %s = math.sqrt %x : f32
  return %s : f32
}

// Nor one whose work is a micro-kernel call (a Conv with a SiLU epilogue).
// CHECK-LABEL: func.func @k2
// CHECK-NOT: passthrough
// CHECK: call @dlc_uk_contract_f32
func.func private @dlc_uk_contract_f32(memref<8xi64>)
func.func @k2(%x: f32, %d: memref<8xi64>) -> f32 attributes {dlc.kernel} {
  call @dlc_uk_contract_f32(%d) : (memref<8xi64>) -> ()
  %e = math.exp %x : f32
  return %e : f32
}

// f32 erf, scalar or vector, becomes fused multiply-adds on two ranges and a select:
// no division, no exp.
// CHECK-LABEL: func.func @k_erf
// CHECK-NOT: math.erf
// CHECK-NOT: arith.divf
// CHECK-NOT: math.exp
// CHECK: math.fma {{.*}} : vector<8xf32>
// CHECK: math.copysign {{.*}} : vector<8xf32>
// CHECK: arith.select {{.*}} : vector<8xi1>, vector<8xf32>
// CHECK: math.erf {{.*}} : f64
func.func @k_erf(%x: f32, %v: vector<8xf32>, %d: f64) -> (f32, vector<8xf32>, f64) attributes {dlc.kernel} {
  %e = math.erf %x : f32
  %ev = math.erf %v : vector<8xf32>
  %ed = math.erf %d : f64
  return %e, %ev, %ed : f32, vector<8xf32>, f64
}
