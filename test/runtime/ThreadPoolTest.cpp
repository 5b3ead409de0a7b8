//===- ThreadPoolTest.cpp - Thread pool tests -----------------------------===//

#include "ThreadPool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <set>

using namespace dlc;

namespace {

TEST(ThreadPool, RunsEveryIndexExactlyOnce) {
  ThreadPool pool(4);
  EXPECT_EQ(pool.size(), 4u);
  for (int64_t n : {0, 1, 2, 3, 4, 5, 17, 1000}) {
    for (int repeat = 0; repeat < 20; ++repeat) {
      std::vector<std::atomic<int>> hits(n);
      pool.parallelFor(n, [&](int64_t i) { hits[i].fetch_add(1); });
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(hits[i].load(), 1) << "index " << i << " of " << n;
    }
  }
}

TEST(ThreadPool, UsesWorkersAndCaller) {
  ThreadPool pool(3);
  std::mutex mutex;
  std::set<std::thread::id> threads;
  // Each call waits (a while) for all three to arrive, so no thread takes two indices.
  std::atomic<int> arrived{0};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  pool.parallelFor(3, [&](int64_t) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      threads.insert(std::this_thread::get_id());
    }
    arrived.fetch_add(1);
    while (arrived.load() < 3 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
  });
  EXPECT_EQ(threads.size(), 3u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 1u);
}

TEST(ThreadPool, SingleThreadRunsOnCaller) {
  ThreadPool pool(1);
  EXPECT_EQ(pool.size(), 1u);
  int64_t sum = 0;
  std::thread::id caller = std::this_thread::get_id();
  pool.parallelFor(10, [&](int64_t i) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    sum += i;
  });
  EXPECT_EQ(sum, 45);
}

TEST(ThreadPool, DefaultSizeFollowsEnvironment) {
  ::setenv("DLC_NUM_THREADS", "3", 1);
  EXPECT_EQ(ThreadPool::defaultSize(), 3u);
  ::setenv("DLC_NUM_THREADS", "zero", 1);
  unsigned fallback = ThreadPool::defaultSize();
  ::unsetenv("DLC_NUM_THREADS");
  EXPECT_EQ(fallback, ThreadPool::defaultSize());
  EXPECT_GE(fallback, 1u);
}

} // namespace
