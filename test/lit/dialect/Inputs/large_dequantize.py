"""Prints a dequantized int8 weight past the small-fold limit (256x300 elements, a
dense_resource blob as the importer makes weights): w[i] = (37 i mod 256) - 128,
(w - zero_point[row]) * scale[row], then a 2x3 corner sliced out to check the values; the weight cast and transposed
(a strided copy per row), then a corner of that; row 0's first three values backwards
(a negative stride, as ConvTranspose's flipped kernels); every second value of row 1."""
data = bytes(((37 * i) % 256) for i in range(256 * 300))
data = bytes((b - 128) & 0xFF for b in data)
print(f"""func.func @dequantize() -> tensor<2x3xf32> {{
  %w = dlc.constant {{value = dense_resource<weight> : tensor<256x300xi8>}} : () -> tensor<256x300xi8>
  %zpw = dlc.constant {{value = dense<[{", ".join(["[3], [-2]"] * 128)}]> : tensor<256x1xi8>}} : () -> tensor<256x1xi8>
  %sc = dlc.constant {{value = dense<[{", ".join(["[0.5], [0.25]"] * 128)}]> : tensor<256x1xf32>}} : () -> tensor<256x1xf32>
  %wf = dlc.cast %w : (tensor<256x300xi8>) -> tensor<256x300xf32>
  %zf = dlc.cast %zpw : (tensor<256x1xi8>) -> tensor<256x1xf32>
  %c = dlc.sub %wf, %zf : (tensor<256x300xf32>, tensor<256x1xf32>) -> tensor<256x300xf32>
  %d = dlc.mul %c, %sc : (tensor<256x300xf32>, tensor<256x1xf32>) -> tensor<256x300xf32>
  %r = dlc.slice %d {{starts = array<i64: 0, 0>, ends = array<i64: 2, 3>, axes = array<i64: 0, 1>, steps = array<i64: 1, 1>}} : (tensor<256x300xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}}

func.func @transpose_corner() -> tensor<3x2xf32> {{
  %w = dlc.constant {{value = dense_resource<weight> : tensor<256x300xi8>}} : () -> tensor<256x300xi8>
  %wf = dlc.cast %w : (tensor<256x300xi8>) -> tensor<256x300xf32>
  %t = dlc.transpose %wf {{perm = array<i64: 1, 0>}} : (tensor<256x300xf32>) -> tensor<300x256xf32>
  %r = dlc.slice %t {{starts = array<i64: 0, 0>, ends = array<i64: 3, 2>, axes = array<i64: 0, 1>, steps = array<i64: 1, 1>}} : (tensor<300x256xf32>) -> tensor<3x2xf32>
  return %r : tensor<3x2xf32>
}}

func.func @reversed() -> tensor<1x3xi8> {{
  %w = dlc.constant {{value = dense_resource<weight> : tensor<256x300xi8>}} : () -> tensor<256x300xi8>
  %r = dlc.slice %w {{starts = array<i64: 0, 2>, ends = array<i64: 1, -400>, axes = array<i64: 0, 1>, steps = array<i64: 1, -1>}} : (tensor<256x300xi8>) -> tensor<1x3xi8>
  return %r : tensor<1x3xi8>
}}

func.func @strided() -> tensor<1x3xi8> {{
  %w = dlc.constant {{value = dense_resource<weight> : tensor<256x300xi8>}} : () -> tensor<256x300xi8>
  %r = dlc.slice %w {{starts = array<i64: 1, 0>, ends = array<i64: 2, 6>, axes = array<i64: 0, 1>, steps = array<i64: 1, 2>}} : (tensor<256x300xi8>) -> tensor<1x3xi8>
  return %r : tensor<1x3xi8>
}}

{{-#
  dialect_resources: {{
    builtin: {{
      weight: "0x01000000{data.hex().upper()}"
    }}
  }}
#-}}""")
