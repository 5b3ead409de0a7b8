// RUN: dlc-opt %s -dlc-untie-inits | FileCheck %s
// Two generics that CSE left sharing one filled init get one each (and a fill's empty
// tensor is cloned with it); the first user keeps the original.

// CHECK-LABEL: func @shared_fill
// CHECK: %[[E0:.*]] = tensor.empty() : tensor<3xi64>
// CHECK: %[[E1:.*]] = tensor.empty() : tensor<3xi64>
// CHECK: %[[F1:.*]] = linalg.fill ins(%{{.*}} : i64) outs(%[[E1]] : tensor<3xi64>)
// CHECK: %[[F0:.*]] = linalg.fill ins(%{{.*}} : i64) outs(%[[E0]] : tensor<3xi64>)
// CHECK: linalg.generic {{.*}} outs(%[[F0]] : tensor<3xi64>)
// CHECK: linalg.generic {{.*}} outs(%[[F1]] : tensor<3xi64>)
#id = affine_map<(d0) -> (d0)>
func.func @shared_fill(%a: tensor<3xi64>) -> (tensor<3xi64>, tensor<3xi64>) {
  %c0 = arith.constant 0 : i64
  %e = tensor.empty() : tensor<3xi64>
  %f = linalg.fill ins(%c0 : i64) outs(%e : tensor<3xi64>) -> tensor<3xi64>
  %x = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%a : tensor<3xi64>) outs(%f : tensor<3xi64>) {
  ^bb0(%in: i64, %out: i64):
    %s = arith.addi %in, %out : i64
    linalg.yield %s : i64
  } -> tensor<3xi64>
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%a : tensor<3xi64>) outs(%f : tensor<3xi64>) {
  ^bb0(%in: i64, %out: i64):
    %s = arith.muli %in, %out : i64
    linalg.yield %s : i64
  } -> tensor<3xi64>
  return %x, %y : tensor<3xi64>, tensor<3xi64>
}

// A tensor.empty shared by two generics: the second gets its own.
// CHECK-LABEL: func @shared_empty
// CHECK-COUNT-2: tensor.empty() : tensor<3xi64>
// CHECK-NOT: tensor.empty
func.func @shared_empty(%a: tensor<3xi64>) -> (tensor<3xi64>, tensor<3xi64>) {
  %e = tensor.empty() : tensor<3xi64>
  %x = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%a : tensor<3xi64>) outs(%e : tensor<3xi64>) {
  ^bb0(%in: i64, %out: i64):
    linalg.yield %in : i64
  } -> tensor<3xi64>
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<3xi64>) outs(%e : tensor<3xi64>) {
  ^bb0(%in: i64, %out: i64):
    %s = arith.addi %in, %in : i64
    linalg.yield %s : i64
  } -> tensor<3xi64>
  return %x, %y : tensor<3xi64>, tensor<3xi64>
}
