// RUN: dlc-opt %s -dlc-half-activations=precision=fp8 -verify-diagnostics

// expected-error @below {{dlc-half-activations: unknown precision 'fp8'}}
func.func @unknown(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
