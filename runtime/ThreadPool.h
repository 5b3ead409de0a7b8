//===- ThreadPool.h - Thread pool for workgroup parallelism -----*- C++ -*-===//
#ifndef DLC_RUNTIME_THREADPOOL_H
#define DLC_RUNTIME_THREADPOOL_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dlc {

/// A fixed set of worker threads that run parallel-for loops together with the caller.
class ThreadPool {
public:
  /// A pool of `size` threads in all, the caller of parallelFor included (at least 1).
  explicit ThreadPool(unsigned size);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  /// $DLC_NUM_THREADS if it is a positive number, else the hardware concurrency.
  static unsigned defaultSize();

  /// Threads that run a parallelFor, the caller included.
  unsigned size() const { return static_cast<unsigned>(workers_.size()) + 1; }

  /// Runs fn(i) for every i in [0, n) on the pool and the calling thread; returns when
  /// all calls have returned. Callers on other threads wait their turn (one loop runs
  /// at a time); fn must not call parallelFor itself.
  void parallelFor(int64_t n, const std::function<void(int64_t)> &fn);

private:
  struct Job {
    const std::function<void(int64_t)> *fn;
    int64_t n;
    std::atomic<int64_t> next{0};
  };
  static void runIndices(Job &job);
  void workerLoop();

  std::vector<std::thread> workers_;
  std::mutex callMutex_; // one parallelFor at a time
  std::mutex mutex_;
  std::condition_variable wake_, idle_;
  Job *job_ = nullptr;      // the running job; null once the caller stops sharing it
  uint64_t generation_ = 0; // bumped for every new job
  std::atomic<uint64_t> published_{0}; // generation_, for workers spinning unlocked
  std::atomic<unsigned> busy_{0};      // workers running the current job (changed locked)
  bool stop_ = false;
};

} // namespace dlc

#endif // DLC_RUNTIME_THREADPOOL_H
