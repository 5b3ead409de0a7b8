"""Prints a dequantized int8 weight past the small-fold limit (256x300 elements, a
dense_resource blob as the importer makes weights): w[i] = (37 i mod 256) - 128,
(w - zero_point[row]) * scale[row], then a 2x3 corner sliced out to check the values."""
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

{{-#
  dialect_resources: {{
    builtin: {{
      weight: "0x01000000{data.hex().upper()}"
    }}
  }}
#-}}""")
