//===- Simt.h - The SIMT emulator of CUDA kernel code -----------*- C++ -*-===//
//
// DLC_EMULATE_GPU=simt compiles the CUDA target's kernel code (after the kernel-code
// passes: tensor-core lane code, register epilogues, unrolled thread loops, pipelined
// steps) for the CPU, each kernel a function of one GPU thread (dlc-simt-kernels). This
// emulator runs a block of it as the GPU would: one fiber per thread on the calling
// thread, switching at each barrier and each warp operation (shuffle, ldmatrix,
// mma.sync), whose results it computes for the whole warp once all of its lanes have
// arrived. What only the hardware would show (timing, bank conflicts) it does not;
// what the code computes, its barriers and its warp-level data exchange it does, and a
// barrier or warp operation that not every thread reaches is an error, not a hang.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_SIMT_H
#define DLC_RUNTIME_SIMT_H

#include "KernelLibrary.h"

#include "dlc/status.h"

#include <cstdint>

namespace dlc::simt {

/// The most threads of a block (CUDA's limit).
constexpr int64_t kMaxThreads = 1024;

/// Runs block `block` of `grid` of the SIMT kernel `fn` with `threads` threads: each
/// thread calls fn(args, block, grid) on its own fiber. An error names what the
/// threads did not agree on (a barrier or warp operation some did not reach).
Status runBlock(KernelFn fn, void **args, int64_t block, int64_t grid, int64_t threads);

/// The emulator's entry point called `name` (dlc_uk_simt_*), for the code section's
/// pointer slots; null for another name.
void *lookup(const char *name);

} // namespace dlc::simt

#endif // DLC_RUNTIME_SIMT_H
