//===- ThreadPool.cpp - Fixed thread pool for workgroup parallelism -------===//

#include "ThreadPool.h"

#include <chrono>
#include <cstdlib>

namespace dlc {

ThreadPool::ThreadPool(unsigned size) {
  for (unsigned i = 1; i < size; ++i)
    workers_.emplace_back([this] { workerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread &t : workers_)
    t.join();
}

unsigned ThreadPool::defaultSize() {
  if (const char *env = std::getenv("DLC_NUM_THREADS")) {
    char *end;
    long n = std::strtol(env, &end, 10);
    if (*env && !*end && n > 0 && n <= 4096)
      return static_cast<unsigned>(n);
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw ? hw : 1;
}

void ThreadPool::runIndices(Job &job) {
  for (int64_t i; (i = job.next.fetch_add(1)) < job.n;)
    (*job.fn)(i);
}

namespace {
/// How long a thread spins for the next loop (a worker) or for the workers to finish
/// (the caller) before it sleeps: a model's launches follow each other by microseconds,
/// and a futex wake-up costs tens of them on a loaded machine.
constexpr auto kSpin = std::chrono::microseconds(100);

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

/// Spins until `done()` or kSpin has passed; whether `done()` held.
template <typename Fn> bool spinUntil(Fn done) {
  auto deadline = std::chrono::steady_clock::now() + kSpin;
  for (unsigned i = 0;; ++i) {
    if (done())
      return true;
    cpuRelax();
    if (i % 64 == 63 && std::chrono::steady_clock::now() > deadline)
      return false;
  }
}
} // namespace

void ThreadPool::workerLoop() {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    lock.unlock();
    spinUntil([&] { return published_.load(std::memory_order_acquire) != seen; });
    lock.lock();
    wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
    if (stop_)
      return;
    seen = generation_;
    Job *job = job_;
    if (!job)
      continue;
    ++busy_;
    lock.unlock();
    runIndices(*job);
    lock.lock();
    if (--busy_ == 0)
      idle_.notify_all();
  }
}

void ThreadPool::parallelFor(int64_t n, const std::function<void(int64_t)> &fn) {
  std::lock_guard<std::mutex> call(callMutex_);
  Job job{&fn, n};
  if (n <= 1 || workers_.empty()) {
    runIndices(job);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &job;
    ++generation_;
    published_.store(generation_, std::memory_order_release);
  }
  wake_.notify_all();
  runIndices(job);
  // Workers that have not joined yet find no job; wait for those that did.
  std::unique_lock<std::mutex> lock(mutex_);
  job_ = nullptr;
  lock.unlock();
  spinUntil([&] { return busy_.load(std::memory_order_acquire) == 0; });
  lock.lock();
  idle_.wait(lock, [&] { return busy_ == 0; });
}

} // namespace dlc
