// RUN: dlc-opt %s -split-input-file -verify-diagnostics
// User-facing verifier errors: the same messages the importer reports for bad models.

func.func @add_shapes(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'dlc.add' op operands have incompatible shapes [2,3] and [4,5]}}
  %c = dlc.add %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x3xf32>
  return %c : tensor<2x3xf32>
}

// -----

func.func @add_types(%a: tensor<2xf32>, %b: tensor<2xi64>) -> tensor<2xf32> {
  // expected-error @+1 {{'dlc.add' op operands have different element types 'f32' and 'i64'}}
  %c = dlc.add %a, %b : (tensor<2xf32>, tensor<2xi64>) -> tensor<2xf32>
  return %c : tensor<2xf32>
}

// -----

func.func @matmul_inner(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{'dlc.matmul' op inner dimensions differ for shapes [2,3] x [4,5]}}
  %c = dlc.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return %c : tensor<2x5xf32>
}

// -----

func.func @result_shape(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'dlc.relu' op result 0 has shape 'tensor<3x2xf32>', expected [2,3]}}
  %c = dlc.relu %a : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %c : tensor<3x2xf32>
}

// -----

func.func @reshape_count(%a: tensor<2x3xf32>) -> tensor<4x2xf32> {
  // expected-error @+1 {{'dlc.reshape' op cannot reshape [2,3] (6 elements) into [4,2]}}
  %c = dlc.reshape %a {shape = array<i64: 4, 2>, allowzero = false} : (tensor<2x3xf32>) -> tensor<4x2xf32>
  return %c : tensor<4x2xf32>
}

// -----

func.func @transpose_perm(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'dlc.transpose' op perm is not a permutation}}
  %c = dlc.transpose %a {perm = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %c : tensor<3x2xf32>
}

// -----

func.func @conv_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'dlc.conv' op input has 3 channels but weight expects 2 x group 1}}
  %y = dlc.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64}
      : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %y : tensor<1x4x6x6xf32>
}

// -----

func.func @reduce_axis(%a: tensor<2x3xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'dlc.reduce_sum' op axis 5 out of range for rank 2}}
  %c = dlc.reduce_sum %a {axes = array<i64: 5>, keepdims = false} : (tensor<2x3xf32>) -> tensor<2xf32>
  return %c : tensor<2xf32>
}

// -----

func.func @where_cond(%c: tensor<2xf32>, %a: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'dlc.where' op condition must be bool, got 'f32'}}
  %r = dlc.where %c, %a, %a : (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

func.func @einsum_labels(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{'dlc.einsum' op label 'j' has sizes 3 and 4}}
  %c = dlc.einsum %a, %b {equation = "ij,jk->ik"} : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return %c : tensor<2x5xf32>
}

// -----

func.func @reshape_symbolic_without_map(%a: tensor<2x3xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{'dlc.reshape' op has a symbolic shape entry but no sym_shape}}
  %c = dlc.reshape %a {shape = array<i64: -9223372036854775808>, allowzero = false} : (tensor<2x3xf32>) -> tensor<?xf32>
  return %c : tensor<?xf32>
}

// -----

func.func @expand_symbolic_missing_operand(%a: tensor<3xf32>) -> tensor<?x3xf32> {
  // expected-error @+1 {{'dlc.expand' op sym_shape refers to a dim that no dims_of operand has}}
  %c = dlc.expand %a {shape = array<i64: -9223372036854775808, 3>, sym_shape = affine_map<()[s0] -> (s0, 3)>} : (tensor<3xf32>) -> tensor<?x3xf32>
  return %c : tensor<?x3xf32>
}

// -----

func.func @expand_symbolic_arity(%a: tensor<3xf32>, %w: tensor<?xf32>) -> tensor<?x3xf32> {
  // expected-error @+1 {{'dlc.expand' op sym_shape has 1 results for 2 shape entries}}
  %c = dlc.expand %a, %w {shape = array<i64: -9223372036854775808, 3>, sym_shape = affine_map<()[s0] -> (s0)>} : (tensor<3xf32>, tensor<?xf32>) -> tensor<?x3xf32>
  return %c : tensor<?x3xf32>
}

// -----

func.func @cast_round_mode(%a: tensor<3xf32>) -> tensor<3xf8E8M0FNU> {
  // expected-error @+1 {{'dlc.cast' op round_mode must be "up", "down" or "nearest", not "zero"}}
  %c = dlc.cast %a {round_mode = "zero"} : (tensor<3xf32>) -> tensor<3xf8E8M0FNU>
  return %c : tensor<3xf8E8M0FNU>
}

// -----

func.func @scatter_reduction(%d: tensor<4xf32>, %i: tensor<1x1xi64>, %u: tensor<1xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'dlc.scatter_nd' op unknown reduction 'sum'}}
  %r = dlc.scatter_nd %d, %i, %u {reduction = "sum"} : (tensor<4xf32>, tensor<1x1xi64>, tensor<1xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @grid_sample_mode(%x: tensor<1x1x4x4xf32>, %g: tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32> {
  // expected-error @+1 {{'dlc.grid_sample' op unknown mode 'bilinear'}}
  %r = dlc.grid_sample %x, %g {mode = "bilinear", padding_mode = "zeros", align_corners = false} : (tensor<1x1x4x4xf32>, tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32>
  return %r : tensor<1x1x2x2xf32>
}

// -----

func.func @bitcast_width(%a: tensor<3xf32>) -> tensor<3xi64> {
  // expected-error @+1 {{'dlc.bitcast' op casts the bits of 'f32' to 'i64', which is not of the same width}}
  %c = dlc.bitcast %a : (tensor<3xf32>) -> tensor<3xi64>
  return %c : tensor<3xi64>
}

// -----

func.func @data_dims_count(%v: tensor<2xi64>) -> tensor<?x?x?x0xi8> {
  // expected-error @+1 {{'dlc.data_dims' op needs a 1-D tensor of fewer than 32 entries, one per data dim, got [2]}}
  %d = dlc.data_dims %v {data_dims = array<i64: 0, 1, 2>} : (tensor<2xi64>) -> tensor<?x?x?x0xi8>
  return %d : tensor<?x?x?x0xi8>
}
