//===- Simt.cpp - The SIMT emulator of CUDA kernel code -------------------===//
//
// A block's threads are fibers on the calling thread (on x86-64 a switch of the
// callee-saved registers and the stack pointer, which is 20 times faster than
// swapcontext's signal-mask system call; elsewhere ucontext), each with its own
// stack (a GPU thread's local memory), all sharing the block's shared memory (the
// code section's thread-local globals, one set per worker thread: its blocks run one
// at a time). The scheduler runs every ready fiber until it finishes or waits:
//  - at a barrier, until every thread that has not finished is at one;
//  - at a warp operation, until every lane of its warp is at one. The scheduler then
//    checks that the lanes agree (the same operation, the same parameters) and computes
//    the operation for the whole warp from what each lane posted, as the hardware does
//    at once; each lane takes its result when it resumes.
// Warp operations come first: a warp's lanes at a shuffle while others wait at a
// barrier are released before the barrier is. If no fiber can run and neither
// releases anything, the kernel would hang on the GPU: an error says where the
// threads are.
//
// cp.async (dlc-gpu-async-copies) is asynchronous as the ISA allows at the most: a
// thread's copies land in shared memory only when it waits for their group
// (cp.async.wait_group N: every committed group but the newest N), or when it exits,
// so that code reading a buffer before its wait and barrier reads stale data here too.
//
// The warp operations follow the PTX ISA: shfl.sync (modes up, down, bfly, idx, with
// segments of `width` lanes), ldmatrix.sync.aligned.m8n8.x{1,2,4}[.trans].b16 and
// mma.sync.aligned.m16n8k{8,16}.row.col with f32 accumulators (f16, bf16, tf32: the
// fragment layouts of "Matrix Fragments for mma.m16n8k8 / mma.m16n8k16", written here
// from the ISA, independently of the compiler's MmaLayout.h). tf32 operands keep the
// upper 19 bits of their f32 word, as the tensor cores read them.
//
// sm_90a's wgmma.mma_async.sync.aligned.m64nNk{16,8} (f16, bf16, tf32; f32
// accumulators) is a warpgroup operation: it waits for the four warps of its
// warpgroup. A and B come from shared memory through matrix descriptors ("Matrix
// Descriptor Format": the start address, the leading and the stride byte offsets in
// 16-byte units; no swizzling) in the canonical layouts without swizzling ("Canonical
// Layouts"): K-major ((8,m),(T,2k)):((1T,SBO),(1,LBO)), core matrices of 8 rows of 16
// bytes along K, adjacent ones in K `leading` bytes apart, in M or N `stride`; MN-major
// (f16 and bf16 only, the instruction's imm-trans) ((T,1,m),(8,k)):((1,T,SBO),(1T,LBO)),
// core matrices of 8 K of 16 bytes along M or N, adjacent ones in M or N `stride`
// bytes apart, in K (groups of 8) `leading` (T: the elements of 16 bytes). The kernel's
// shared-window addresses are dlc-simt-kernels' (each lane passes the table of its shared buffers);
// the accumulator fragment is the ISA's ("Register Fragments: D", m64nNk*: warp w holds rows 16w ..
// 16w + 15, register i of a lane row 16w + lane / 4 + 8 ((i / 2) mod 2), column 8 (i / 4) + 2 (lane
// mod 4) + i mod 2). The products are computed when the warpgroup arrives, as if wgmma.wait_group
// came at once: a kernel that wrote its operands before waiting for the wgmma reading them is not
// caught here.
//
//===----------------------------------------------------------------------===//
#include "Simt.h"
#include "Support.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DLC_SIMT_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define DLC_SIMT_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define DLC_SIMT_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define DLC_SIMT_TSAN 1
#endif
#ifdef DLC_SIMT_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef DLC_SIMT_TSAN
#include <sanitizer/tsan_interface.h>
#endif

#include <sys/mman.h>
#include <unistd.h>
#if !defined(__x86_64__)
#include <ucontext.h>
#endif

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace dlc::simt {
namespace {

#if defined(__x86_64__)
// dlc_simt_switch(save, to): saves the callee-saved registers, MXCSR and the x87
// control word on this stack, its pointer in *save, and resumes the stack `to` saved
// the same way (System V ABI: every other register is the caller's to save).
extern "C" void dlc_simt_switch(void **save, void *to);
asm(R"(
  .text
  .p2align 4
  .hidden dlc_simt_switch
  .type dlc_simt_switch,@function
dlc_simt_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size dlc_simt_switch,.-dlc_simt_switch
)");

/// A suspended fiber: its saved stack pointer.
struct Context {
  void *sp = nullptr;
};

/// A context that starts `entry` (which never returns) on `stack`.
void makeContext(Context &c, char *stack, size_t bytes, void (*entry)()) {
  auto *top =
      reinterpret_cast<uint64_t *>((reinterpret_cast<uintptr_t>(stack) + bytes) & ~uintptr_t(15));
  uint32_t controls[2];
  asm volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(controls[0]), "=m"(controls[1]));
  top[-1] = 0;                                 // entry's return address: none
  top[-2] = reinterpret_cast<uint64_t>(entry); // where the switch returns to
  for (int r = 3; r <= 8; ++r)                 // rbp, rbx, r12..r15
    top[-r] = 0;
  top[-9] = controls[0] | uint64_t(controls[1] & 0xffff) << 32;
  c.sp = top - 9;
}

void switchTo(Context &from, Context &to) { dlc_simt_switch(&from.sp, to.sp); }
#else
struct Context {
  ucontext_t context;
};

void makeContext(Context &c, char *stack, size_t bytes, void (*entry)()) {
  ::getcontext(&c.context);
  c.context.uc_stack.ss_sp = stack;
  c.context.uc_stack.ss_size = bytes;
  c.context.uc_link = nullptr;
  ::makecontext(&c.context, entry, 0);
}

void switchTo(Context &from, Context &to) { ::swapcontext(&from.context, &to.context); }
#endif

constexpr int64_t kWarp = 32;
constexpr size_t kStackBytes = 256 << 10;

enum class State : uint8_t { Ready, AtBarrier, AtWarp, Done };
enum class WarpOp : int32_t { Shuffle = 1, LdMatrix = 2, Mma = 3, Wgmma = 4 };
constexpr int64_t kWarpgroup = 4 * kWarp;

/// Mma kinds (the code section's numbering, dlc-simt-kernels).
enum MmaKind : int64_t { F16K16 = 0, Bf16K16 = 1, F16K8 = 2, Tf32K8 = 3 };
/// Wgmma kinds (dlc-simt-kernels' numbering): the operands' type, plus the flags of
/// MN-major (transposed) A and B.
enum WgmmaKind : int64_t { WgmmaF16 = 0, WgmmaBf16 = 1, WgmmaTf32 = 2 };
constexpr int64_t kWgmmaTransposedA = 16, kWgmmaTransposedB = 32;

/// What a lane posts for a warp operation, and its result.
struct Slot {
  WarpOp op;
  int64_t agreed[2]; // parameters every lane must give alike
  uint32_t in[12];   // the lane's values
  int64_t address;   // ldmatrix: the row this lane supplies; wgmma: its accumulators
  int64_t wide[4];   // wgmma: descriptors of A and B, the shared table and its entries
  uint32_t out[8];
};

/// One cp.async of a thread, read from global memory when issued (the kernel does not
/// write what it copies from), written to shared memory when its group is waited for.
struct AsyncCopy {
  char *dst;
  int64_t bytes;
  int64_t group;          // the commit group it joins (the thread's commits before it)
  unsigned char data[16]; // the source bytes, zero past its size
};

/// A thread's cp.async copies not landed yet, in issue order (so by group).
struct AsyncGroups {
  std::vector<AsyncCopy> pending;
  int64_t committed = 0;

  /// Lands the copies of the groups before `group`.
  void landBefore(int64_t group) {
    size_t n = 0;
    for (; n < pending.size() && pending[n].group < group; ++n)
      std::memcpy(pending[n].dst, pending[n].data, pending[n].bytes);
    pending.erase(pending.begin(), pending.begin() + n);
  }
  /// cp.async.wait_group n: every committed group but the newest n.
  void wait(int64_t n) { landBefore(committed - n); }
  /// Everything still in flight, committed or not, when the thread exits.
  void drain() { landBefore(committed + 1); }
  /// A block starts with none (the buffers are kept: blocks run one after another).
  void reset() {
    pending.clear();
    committed = 0;
  }
};

/// The fibers' stacks of this thread, each above a guard page; made once.
class Stacks {
public:
  ~Stacks() {
    if (base_)
      ::munmap(base_, bytes_);
  }
  /// The stack of fiber i, or null when the memory cannot be had.
  char *stack(int64_t i) {
    if (!base_ && !reserve())
      return nullptr;
    return base_ + i * (page_ + kStackBytes) + page_;
  }

private:
  bool reserve() {
    page_ = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    bytes_ = kMaxThreads * (page_ + kStackBytes);
    void *p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
      return false;
    base_ = static_cast<char *>(p);
    for (int64_t i = 0; i < kMaxThreads; ++i)
      ::mprotect(base_ + i * (page_ + kStackBytes), page_, PROT_NONE);
    return true;
  }
  char *base_ = nullptr;
  size_t bytes_ = 0, page_ = 0;
};

/// What the sanitizers must be told of a switch between stacks (the fibers API of ASan
/// and TSan); nothing in other builds.
struct SanitizerFiber {
#ifdef DLC_SIMT_ASAN
  const void *bottom = nullptr; // the stack's lowest address and size
  size_t size = 0;
  void *fakeStack = nullptr;
#endif
#ifdef DLC_SIMT_TSAN
  void *tsan = nullptr;
  bool owned = false;
#endif
  void initMain() {
#ifdef DLC_SIMT_TSAN
    tsan = __tsan_get_current_fiber();
#endif
  }
  void initFiber([[maybe_unused]] char *stack, [[maybe_unused]] size_t bytes) {
#ifdef DLC_SIMT_ASAN
    bottom = stack;
    size = bytes;
#endif
#ifdef DLC_SIMT_TSAN
    if (!tsan) {
      tsan = __tsan_create_fiber(0);
      owned = true;
    }
#endif
  }
  void release() {
#ifdef DLC_SIMT_TSAN
    if (owned)
      __tsan_destroy_fiber(tsan);
    tsan = nullptr;
    owned = false;
#endif
  }
};

/// Switches from `from` to `to`, telling the sanitizers; `finished`: `from` is never
/// resumed. Returns when `from` is resumed.
void switchFiber(Context &fromContext, [[maybe_unused]] SanitizerFiber &from, Context &toContext,
                 [[maybe_unused]] SanitizerFiber &to, [[maybe_unused]] bool finished) {
#ifdef DLC_SIMT_ASAN
  __sanitizer_start_switch_fiber(finished ? nullptr : &from.fakeStack, to.bottom, to.size);
#endif
#ifdef DLC_SIMT_TSAN
  __tsan_switch_to_fiber(to.tsan, 0);
#endif
  switchTo(fromContext, toContext);
#ifdef DLC_SIMT_ASAN
  __sanitizer_finish_switch_fiber(from.fakeStack, &to.bottom, &to.size);
#endif
}

/// A new fiber's first words to the sanitizers: it came from `from`.
void startedFiber([[maybe_unused]] SanitizerFiber &from) {
#ifdef DLC_SIMT_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &from.bottom, &from.size);
#endif
}

class Scheduler;
thread_local Scheduler *active = nullptr;
thread_local Stacks stacks;

class Scheduler {
public:
  Status run(KernelFn fn, void **args, int64_t block, int64_t grid, int64_t threads) {
    fn_ = fn;
    args_ = args;
    block_ = block;
    grid_ = grid;
    threads_ = threads;
    if (!fibers_)
      fibers_ = std::make_unique<Fiber[]>(kMaxThreads);
    slots_.assign(threads, Slot{});
    if (async_.size() < size_t(threads))
      async_.resize(threads);
    for (int64_t i = 0; i < threads; ++i)
      async_[i].reset();
    error_.clear();
    mainSanitizer_.initMain();
    for (int64_t i = 0; i < threads; ++i) {
      char *stack = stacks.stack(i);
      if (!stack)
        return Status::error("SIMT emulation: no memory for the threads' stacks");
      fibers_[i].state = State::Ready;
      fibers_[i].sanitizer.initFiber(stack, kStackBytes);
      makeContext(fibers_[i].context, stack, kStackBytes, &Scheduler::fiberMain);
    }
    Scheduler *outer = active;
    active = this;
    Status status = schedule();
    active = outer;
    return status;
  }

  int64_t current() const { return current_; }

  /// The running fiber waits at a block barrier.
  void barrier() { suspend(State::AtBarrier); }

  /// The running lane's slot for warp operation `op`.
  Slot &post(WarpOp op) {
    Slot &s = slots_[current_];
    s.op = op;
    return s;
  }
  /// The running thread's cp.async groups.
  AsyncGroups &async() { return async_[current_]; }

  /// Records an error of the running thread; the block stops with it once the thread
  /// waits or exits.
  void fail(std::string what) {
    if (error_.empty())
      error_ = "thread " + std::to_string(current_) + ": " + std::move(what);
  }

  /// The running lane waits for its warp, then finds its result in its slot.
  Slot &warpSync() {
    suspend(State::AtWarp);
    return slots_[current_];
  }

private:
  struct Fiber {
    Context context;
    State state = State::Ready;
    SanitizerFiber sanitizer; // kept across blocks (TSan's fiber is made once)
    ~Fiber() { sanitizer.release(); }
  };

  /// A fiber's start; it never returns: once done, the scheduler does not resume it.
  [[noreturn]] static void fiberMain() {
    Scheduler *s = active;
    startedFiber(s->mainSanitizer_);
    s->fn_(s->args_, s->block_, s->grid_);
    s->async_[s->current_].drain();
    s->suspend(State::Done);
    __builtin_unreachable();
  }

  void suspend(State state) {
    Fiber &f = fibers_[current_];
    f.state = state;
    switchFiber(f.context, f.sanitizer, main_, mainSanitizer_, state == State::Done);
  }

  Status schedule() {
    for (;;) {
      for (int64_t i = 0; i < threads_; ++i) {
        if (fibers_[i].state != State::Ready)
          continue;
        current_ = i;
        switchFiber(main_, mainSanitizer_, fibers_[i].context, fibers_[i].sanitizer, false);
        if (!error_.empty())
          return blockError(error_);
      }
      int64_t done = 0, atBarrier = 0, atWarp = 0;
      for (int64_t i = 0; i < threads_; ++i) {
        const Fiber &f = fibers_[i];
        done += f.state == State::Done;
        atBarrier += f.state == State::AtBarrier;
        atWarp += f.state == State::AtWarp;
      }
      if (done == threads_)
        return Status::ok();
      bool released = false;
      for (int64_t first = 0; first < threads_; first += kWarp) {
        int64_t lanes = std::min(kWarp, threads_ - first), waiting = 0, exited = 0;
        for (int64_t l = 0; l < lanes; ++l) {
          waiting += fibers_[first + l].state == State::AtWarp;
          exited += fibers_[first + l].state == State::Done;
        }
        if (waiting == 0 || waiting + exited != lanes)
          continue;
        if (exited)
          return blockError("warp " + std::to_string(first / kWarp) + ": " +
                            std::to_string(exited) +
                            " lanes exited before a warp operation the others wait at");
        if (slots_[first].op == WarpOp::Wgmma) {
          // A warpgroup operation: released once its four warps are at it.
          int64_t group = first / kWarpgroup * kWarpgroup;
          if (threads_ % kWarpgroup)
            return blockError("wgmma in a block of " + std::to_string(threads_) +
                              " threads (not whole warpgroups of 128)");
          bool all = true;
          for (int64_t t = group; t < group + kWarpgroup; ++t)
            all &= fibers_[t].state == State::AtWarp && slots_[t].op == WarpOp::Wgmma;
          if (!all)
            continue;
          if (Status s = wgmma(group); !s)
            return s;
          for (int64_t t = group; t < group + kWarpgroup; ++t)
            fibers_[t].state = State::Ready;
          released = true;
          continue;
        }
        if (Status s = computeWarp(first, lanes); !s)
          return s;
        for (int64_t l = 0; l < lanes; ++l)
          fibers_[first + l].state = State::Ready;
        released = true;
      }
      if (released)
        continue;
      if (atBarrier > 0 && atBarrier + done == threads_) {
        for (int64_t i = 0; i < threads_; ++i)
          if (fibers_[i].state == State::AtBarrier)
            fibers_[i].state = State::Ready;
        continue;
      }
      return blockError("the threads cannot go on (a barrier or warp operation that not all "
                        "of them reach): " +
                        std::to_string(atBarrier) + " at a barrier, " + std::to_string(atWarp) +
                        " at a warp operation, " + std::to_string(done) + " finished");
    }
  }

  Status blockError(const std::string &what) const {
    return Status::error("SIMT emulation, block " + std::to_string(block_) + " of " +
                         std::to_string(grid_) + ": " + what);
  }

  Status computeWarp(int64_t first, int64_t lanes) {
    const Slot &lead = slots_[first];
    for (int64_t l = 1; l < lanes; ++l) {
      const Slot &s = slots_[first + l];
      if (s.op != lead.op || s.agreed[0] != lead.agreed[0] || s.agreed[1] != lead.agreed[1])
        return blockError("the lanes of warp " + std::to_string(first / kWarp) +
                          " are at different warp operations");
    }
    switch (lead.op) {
    case WarpOp::Shuffle:
      shuffle(first, lanes);
      return Status::ok();
    case WarpOp::LdMatrix:
      return ldmatrix(first, lanes);
    case WarpOp::Mma:
      return mma(first, lanes);
    case WarpOp::Wgmma:
      break; // released per warpgroup (schedule)
    }
    return blockError("unknown warp operation");
  }

  /// shfl.sync: agreed {width, mode (0 bfly, 1 up, 2 down, 3 idx)}, in {value, offset};
  /// out {value, valid}. An invalid source gives the lane its own value.
  void shuffle(int64_t first, int64_t lanes) {
    int64_t width = slots_[first].agreed[0], mode = slots_[first].agreed[1];
    for (int64_t lane = 0; lane < lanes; ++lane) {
      Slot &s = slots_[first + lane];
      int64_t offset = s.in[1];
      int64_t start = width > 0 ? lane / width * width : 0, end = start + width - 1;
      int64_t from = mode == 0   ? lane ^ offset
                     : mode == 1 ? lane - offset
                     : mode == 2 ? lane + offset
                                 : start + offset;
      bool valid = width > 0 && from >= start && from <= end && from < lanes;
      s.out[0] = slots_[first + (valid ? from : lane)].in[0];
      s.out[1] = valid;
    }
  }

  /// ldmatrix .m8n8 .b16: agreed {matrices, transposed}; lane 8i + r gives row r of
  /// matrix i. Each lane receives, per matrix, the pair of row lane / 4 at columns
  /// 2 (lane % 4) + {0, 1} (transposed: of column lane / 4 at those rows), the first
  /// in the low half.
  Status ldmatrix(int64_t first, int64_t lanes) {
    int64_t matrices = slots_[first].agreed[0];
    bool transposed = slots_[first].agreed[1];
    if (!(matrices == 1 || matrices == 2 || matrices == 4) || lanes < 8 * matrices)
      return blockError("ldmatrix of " + std::to_string(matrices) + " matrices by " +
                        std::to_string(lanes) + " lanes");
    for (int64_t l = 0; l < 8 * matrices; ++l)
      if (slots_[first + l].address % 16 != 0)
        return blockError("ldmatrix row address not 16-byte aligned (lane " + std::to_string(l) +
                          ")");
    auto at = [&](int64_t m, int64_t row, int64_t col) {
      uint16_t v;
      std::memcpy(&v, reinterpret_cast<const char *>(slots_[first + 8 * m + row].address) + 2 * col,
                  2);
      return static_cast<uint32_t>(v);
    };
    for (int64_t lane = 0; lane < lanes; ++lane) {
      int64_t g = lane / 4, t = lane % 4;
      for (int64_t m = 0; m < matrices; ++m) {
        uint32_t lo = transposed ? at(m, 2 * t, g) : at(m, g, 2 * t);
        uint32_t hi = transposed ? at(m, 2 * t + 1, g) : at(m, g, 2 * t + 1);
        slots_[first + lane].out[m] = lo | hi << 16;
      }
    }
    return Status::ok();
  }

  /// mma.sync.m16n8kK.row.col, f32 accumulators: agreed {kind}; in: A's registers
  /// (0..3), B's (4, 5), C (6..9); out: D. g = lane / 4, t = lane % 4.
  Status mma(int64_t first, int64_t lanes) {
    int64_t kind = slots_[first].agreed[0];
    if (lanes != kWarp || kind < F16K16 || kind > Tf32K8)
      return blockError("mma.sync of kind " + std::to_string(kind) + " by " +
                        std::to_string(lanes) + " lanes");
    int64_t k = kind == F16K16 || kind == Bf16K16 ? 16 : 8;
    float a[16][16], b[16][8], c[16][8];
    auto value = [&](uint32_t reg, int64_t half) -> float {
      switch (kind) {
      case Tf32K8:
        return bitsToFloat(reg & 0xffffe000u);
      case Bf16K16:
        return bitsToFloat((half ? reg >> 16 : reg & 0xffff) << 16);
      default:
        return halfToFloat(static_cast<uint16_t>(half ? reg >> 16 : reg));
      }
    };
    for (int64_t lane = 0; lane < kWarp; ++lane) {
      const uint32_t *in = slots_[first + lane].in;
      int64_t g = lane / 4, t = lane % 4;
      if (kind == Tf32K8) {
        // a0 (g, t), a1 (g + 8, t), a2 (g, t + 4), a3 (g + 8, t + 4); b0 (t, g), b1 (t + 4, g).
        for (int64_t r = 0; r < 4; ++r)
          a[g + 8 * (r % 2)][t + 4 * (r / 2)] = value(in[r], 0);
        for (int64_t r = 0; r < 2; ++r)
          b[t + 4 * r][g] = value(in[4 + r], 0);
      } else if (kind == F16K8) {
        // Register r of A: row g + 8r, columns 2t, 2t + 1; of B: rows 2t, 2t + 1, column g.
        for (int64_t r = 0; r < 2; ++r)
          for (int64_t h = 0; h < 2; ++h)
            a[g + 8 * r][2 * t + h] = value(in[r], h);
        for (int64_t h = 0; h < 2; ++h)
          b[2 * t + h][g] = value(in[4], h);
      } else {
        // A: a0,a1 (g, 2t + h), a2,a3 (g + 8, ...), a4,a5 (g, 2t + 8 + h), a6,a7 (g + 8, ...);
        // B: b0,b1 (2t + h, g), b2,b3 (2t + 8 + h, g).
        for (int64_t r = 0; r < 4; ++r)
          for (int64_t h = 0; h < 2; ++h)
            a[g + 8 * (r % 2)][2 * t + h + 8 * (r / 2)] = value(in[r], h);
        for (int64_t r = 0; r < 2; ++r)
          for (int64_t h = 0; h < 2; ++h)
            b[2 * t + h + 8 * r][g] = value(in[4 + r], h);
      }
      // C and D: c0,c1 (g, 2t + h), c2,c3 (g + 8, 2t + h).
      for (int64_t r = 0; r < 4; ++r)
        c[g + 8 * (r / 2)][2 * t + r % 2] = bitsToFloat(in[6 + r]);
    }
    for (int64_t lane = 0; lane < kWarp; ++lane) {
      int64_t g = lane / 4, t = lane % 4;
      for (int64_t r = 0; r < 4; ++r) {
        int64_t row = g + 8 * (r / 2), col = 2 * t + r % 2;
        float d = c[row][col];
        for (int64_t i = 0; i < k; ++i)
          d += a[row][i] * b[i][col];
        slots_[first + lane].out[r] = floatToBits(d);
      }
    }
    return Status::ok();
  }

  /// wgmma.mma_async.sync.aligned.m64nNkK.f32 (see the file comment) for the warpgroup
  /// of threads group .. group + 127: agreed {kind, N}; wide {descriptor A, descriptor
  /// B, the lane's table of shared buffers (virtual address, host address, bytes), its
  /// entries}; address: the lane's N / 2 accumulator words, read and written in place.
  Status wgmma(int64_t group) {
    const Slot &lead = slots_[group];
    int64_t kind = lead.agreed[0], n = lead.agreed[1];
    for (int64_t t = group + 1; t < group + kWarpgroup; ++t) {
      const Slot &s = slots_[t];
      if (s.agreed[0] != kind || s.agreed[1] != n || s.wide[0] != lead.wide[0] ||
          s.wide[1] != lead.wide[1])
        return blockError("the threads of warpgroup " + std::to_string(group / kWarpgroup) +
                          " give wgmma different shapes or descriptors");
    }
    bool transposedA = kind & kWgmmaTransposedA, transposedB = kind & kWgmmaTransposedB;
    kind &= ~(kWgmmaTransposedA | kWgmmaTransposedB);
    if (kind < WgmmaF16 || kind > WgmmaTf32 || n < 8 || n > 256 || n % 8 ||
        (kind == WgmmaTf32 && (transposedA || transposedB)))
      return blockError("wgmma of kind " + std::to_string(lead.agreed[0]) + " and N " +
                        std::to_string(n));
    int64_t elementBytes = kind == WgmmaTf32 ? 4 : 2, k = 32 / elementBytes;
    const auto *table = reinterpret_cast<const int64_t *>(lead.wide[2]);
    int64_t entries = lead.wide[3];
    // The host address of `bytes` at shared-window address `at`, or null.
    auto host = [&](int64_t at, int64_t bytes) -> const char * {
      for (int64_t e = 0; e < entries; ++e)
        if (at >= table[3 * e] && at + bytes <= table[3 * e] + table[3 * e + 2])
          return reinterpret_cast<const char *>(table[3 * e + 1]) + (at - table[3 * e]);
      return nullptr;
    };
    // A matrix descriptor's fields, in bytes, decoded once per operand.
    struct Descriptor {
      int64_t start, leading, stride;
      bool mnMajor;
    };
    auto decode = [](int64_t d, bool mnMajor) {
      return Descriptor{(d & 0x3fff) << 4, (d >> 16 & 0x3fff) << 4, (d >> 32 & 0x3fff) << 4,
                        mnMajor};
    };
    // Operand (row, kk) (row: m of A, n of B) in the K-major or the MN-major layout.
    std::string bad;
    int64_t t = 16 / elementBytes;
    auto element = [&](const Descriptor &d, int64_t row, int64_t kk) -> float {
      int64_t at = d.mnMajor ? d.start + row / t * d.stride + kk / 8 * d.leading + kk % 8 * 16 +
                                   row % t * elementBytes
                             : d.start + row / 8 * d.stride + kk / t * d.leading + row % 8 * 16 +
                                   kk % t * elementBytes;
      const char *p = host(at, elementBytes);
      if (!p) {
        if (bad.empty())
          bad = "wgmma reads shared address " + std::to_string(at) + ", in no shared buffer";
        return 0;
      }
      if (kind == WgmmaTf32) {
        uint32_t w;
        std::memcpy(&w, p, 4);
        return bitsToFloat(w & 0xffffe000u);
      }
      uint16_t h;
      std::memcpy(&h, p, 2);
      return kind == WgmmaBf16 ? bitsToFloat(static_cast<uint32_t>(h) << 16) : halfToFloat(h);
    };
    for (int64_t d : {lead.wide[0], lead.wide[1]})
      if (d >> 62 & 3)
        return blockError("wgmma with a swizzled operand (not emulated)");
    Descriptor da = decode(lead.wide[0], transposedA), db = decode(lead.wide[1], transposedB);
    std::vector<float> a(64 * k), b(n * k);
    for (int64_t r = 0; r < 64; ++r)
      for (int64_t kk = 0; kk < k; ++kk)
        a[r * k + kk] = element(da, r, kk);
    for (int64_t c = 0; c < n; ++c)
      for (int64_t kk = 0; kk < k; ++kk)
        b[c * k + kk] = element(db, c, kk);
    if (!bad.empty())
      return blockError(bad);
    for (int64_t t = 0; t < kWarpgroup; ++t) {
      int64_t warp = t / kWarp, lane = t % kWarp;
      auto *acc = reinterpret_cast<uint32_t *>(slots_[group + t].address);
      for (int64_t i = 0; i < n / 2; ++i) {
        int64_t row = 16 * warp + lane / 4 + 8 * (i / 2 % 2),
                col = 8 * (i / 4) + 2 * (lane % 4) + i % 2;
        float d = bitsToFloat(acc[i]);
        for (int64_t kk = 0; kk < k; ++kk)
          d += a[row * k + kk] * b[col * k + kk];
        acc[i] = floatToBits(d);
      }
    }
    return Status::ok();
  }

  KernelFn fn_ = nullptr;
  void **args_ = nullptr;
  int64_t block_ = 0, grid_ = 0, threads_ = 0, current_ = 0;
  std::unique_ptr<Fiber[]> fibers_; // kMaxThreads, made once: TSan's fibers live on
  std::vector<Slot> slots_;
  std::vector<AsyncGroups> async_;
  std::string error_;
  Context main_;
  SanitizerFiber mainSanitizer_;
};

// The code section's entry points (dlc-simt-kernels emits the calls).

int64_t simtThread() { return active->current(); }

void simtBarrier() { active->barrier(); }

/// Returns the value in the low 32 bits, whether its source lane was valid in bit 32.
int64_t simtShuffle(int32_t value, int32_t offset, int32_t width, int32_t mode) {
  Slot &s = active->post(WarpOp::Shuffle);
  s.agreed[0] = width;
  s.agreed[1] = mode;
  s.in[0] = static_cast<uint32_t>(value);
  s.in[1] = static_cast<uint32_t>(offset);
  Slot &r = active->warpSync();
  return static_cast<int64_t>(r.out[0]) | static_cast<int64_t>(r.out[1] != 0) << 32;
}

void simtLdmatrix(int64_t address, int64_t matrices, int64_t transposed, int64_t out) {
  Slot &s = active->post(WarpOp::LdMatrix);
  s.agreed[0] = matrices;
  s.agreed[1] = transposed;
  s.address = address;
  Slot &r = active->warpSync();
  std::memcpy(reinterpret_cast<void *>(out), r.out, 4 * matrices);
}

void simtMma(int64_t kind, int64_t a, int64_t b, int64_t c, int64_t d) {
  Slot &s = active->post(WarpOp::Mma);
  s.agreed[0] = kind;
  s.agreed[1] = 0;
  std::memcpy(s.in, reinterpret_cast<const void *>(a), 16);
  std::memcpy(s.in + 4, reinterpret_cast<const void *>(b), 8);
  std::memcpy(s.in + 6, reinterpret_cast<const void *>(c), 16);
  Slot &r = active->warpSync();
  std::memcpy(reinterpret_cast<void *>(d), r.out, 16);
}

/// wgmma.mma_async m64nNkK (kind: WgmmaKind) with the accumulators at `acc` (N / 2
/// words, updated in place) and the descriptors of A and B; `table`: `entries` triples
/// (shared-window address, host address, bytes) of the kernel's shared buffers.
void simtWgmma(int64_t kind, int64_t n, int64_t descriptorA, int64_t descriptorB, int64_t acc,
               int64_t table, int64_t entries) {
  Slot &s = active->post(WarpOp::Wgmma);
  s.agreed[0] = kind;
  s.agreed[1] = n;
  s.address = acc;
  s.wide[0] = descriptorA;
  s.wide[1] = descriptorB;
  s.wide[2] = table;
  s.wide[3] = entries;
  active->warpSync();
}

/// cp.async.{ca,cg}.shared.global [dst], [src], bytes, srcBytes: the bytes past
/// srcBytes are zeros.
void simtAsyncCopy(int64_t dst, int64_t src, int64_t bytes, int64_t srcBytes) {
  if ((bytes != 4 && bytes != 8 && bytes != 16) || srcBytes < 0 || srcBytes > bytes)
    return active->fail("cp.async of " + std::to_string(bytes) + " bytes (source " +
                        std::to_string(srcBytes) + ")");
  if (dst % bytes || (srcBytes && src % bytes))
    return active->fail("cp.async of " + std::to_string(bytes) +
                        " bytes from or to an address not aligned to them");
  AsyncGroups &a = active->async();
  AsyncCopy c{reinterpret_cast<char *>(dst), bytes, a.committed, {}};
  if (srcBytes)
    std::memcpy(c.data, reinterpret_cast<const void *>(src), srcBytes);
  a.pending.push_back(c);
}

/// cp.async.commit_group.
void simtAsyncCommit() { ++active->async().committed; }

/// cp.async.wait_group n.
void simtAsyncWait(int64_t n) {
  if (n < 0)
    return active->fail("cp.async.wait_group " + std::to_string(n));
  active->async().wait(n);
}

} // namespace

Status runBlock(KernelFn fn, void **args, int64_t block, int64_t grid, int64_t threads) {
  if (threads < 1 || threads > kMaxThreads)
    return Status::error("SIMT emulation: a block of " + std::to_string(threads) + " threads");
  thread_local Scheduler scheduler;
  return scheduler.run(fn, args, block, grid, threads);
}

void *lookup(const char *name) {
  if (std::strcmp(name, "dlc_uk_simt_thread") == 0)
    return reinterpret_cast<void *>(&simtThread);
  if (std::strcmp(name, "dlc_uk_simt_barrier") == 0)
    return reinterpret_cast<void *>(&simtBarrier);
  if (std::strcmp(name, "dlc_uk_simt_shuffle") == 0)
    return reinterpret_cast<void *>(&simtShuffle);
  if (std::strcmp(name, "dlc_uk_simt_ldmatrix") == 0)
    return reinterpret_cast<void *>(&simtLdmatrix);
  if (std::strcmp(name, "dlc_uk_simt_mma") == 0)
    return reinterpret_cast<void *>(&simtMma);
  if (std::strcmp(name, "dlc_uk_simt_wgmma") == 0)
    return reinterpret_cast<void *>(&simtWgmma);
  if (std::strcmp(name, "dlc_uk_simt_async_copy") == 0)
    return reinterpret_cast<void *>(&simtAsyncCopy);
  if (std::strcmp(name, "dlc_uk_simt_async_commit") == 0)
    return reinterpret_cast<void *>(&simtAsyncCommit);
  if (std::strcmp(name, "dlc_uk_simt_async_wait") == 0)
    return reinterpret_cast<void *>(&simtAsyncWait);
  return nullptr;
}

} // namespace dlc::simt
