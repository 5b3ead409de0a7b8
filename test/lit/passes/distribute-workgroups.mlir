// RUN: dlc-opt %s -dlc-distribute-workgroups | FileCheck %s

// The workgroup forall runs once per call: its induction variable becomes %wg.
// CHECK-LABEL: func.func @k0
// CHECK-SAME: (%[[BUF:.*]]: memref<?xf32>, %[[WG:.*]]: index, %[[NWG:.*]]: index)
// CHECK-NOT: scf.forall
// CHECK: memref.store %{{.*}}, %[[BUF]][%[[WG]]]
func.func @k0(%buf: memref<?xf32>, %wg: index, %nwg: index) attributes {dlc.kernel} {
  %one = arith.constant 1.0 : f32
  scf.forall (%i) in (%nwg) {
    memref.store %one, %buf[%i] : memref<?xf32>
  }
  return
}

// Other foralls are left alone.
// CHECK-LABEL: func.func @k1
// CHECK: scf.forall
func.func @k1(%buf: memref<?xf32>, %wg: index, %nwg: index) attributes {dlc.kernel} {
  %one = arith.constant 1.0 : f32
  %c4 = arith.constant 4 : index
  scf.forall (%i) in (%c4) {
    memref.store %one, %buf[%i] : memref<?xf32>
  }
  return
}
