// add_kernel.c - Hand-written CPU kernels with the dlc kernel ABI, for runtime tests.
#include <stdint.h>

/// A rank-1 memref descriptor (docs/architecture.md, "Kernel ABI").
typedef struct {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[1];
  int64_t strides[1];
} MemRef1D;

/// A rank-0 memref descriptor: no sizes, no strides.
typedef struct {
  float *allocated;
  float *aligned;
  int64_t offset;
} MemRef0D;

static float *at(const MemRef1D *m, int64_t i) {
  return m->aligned + m->offset + i * m->strides[0];
}

/// This workgroup's slice [*begin, *end) of [0, n) split into nwg parts.
static void slice(int64_t n, int64_t wg, int64_t nwg, int64_t *begin, int64_t *end) {
  int64_t chunk = (n + nwg - 1) / nwg;
  *begin = wg * chunk < n ? wg * chunk : n;
  *end = *begin + chunk < n ? *begin + chunk : n;
}

/// out = a + b, over 1-D tensors.
void add_f32(void **args, int64_t wg, int64_t nwg) {
  const MemRef1D *a = args[0], *b = args[1], *out = args[2];
  int64_t begin, end;
  slice(out->sizes[0], wg, nwg, &begin, &end);
  for (int64_t i = begin; i < end; ++i)
    *at(out, i) = *at(a, i) + *at(b, i);
}

/// out = x * s, for a 1-D x and a rank-0 s.
void scale_f32(void **args, int64_t wg, int64_t nwg) {
  const MemRef1D *x = args[0], *out = args[2];
  const MemRef0D *s = args[1];
  int64_t begin, end;
  slice(out->sizes[0], wg, nwg, &begin, &end);
  for (int64_t i = begin; i < end; ++i)
    *at(out, i) = *at(x, i) * s->aligned[s->offset];
}

/// What each kernel was written for (artifact::kernelSignatureText: number of inputs,
/// then dtype[dims] per binding, -1 dynamic); the loader checks the table against it.
const char add_f32_signature[] = "2: 1[-1] 1[-1] 1[-1]";
const char scale_f32_signature[] = "2: 1[-1] 1[] 1[-1]";
