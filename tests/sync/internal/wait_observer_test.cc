// Copyright 2026 The contend Authors.
//
// The label registry behind internal::wait_label(): values, growth and
// tombstone reuse, bounded memory under churn, readers racing writers (run
// under TSan in CI), and fork() while another thread holds the writer lock.

#include "sync/internal/wait_observer.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/stress.h"

namespace contend::internal {
namespace {

// Labels are stored, not copied: static strings for every index used.
const char* label_for(size_t i) {
  static const auto* const labels = [] {
    auto* v = new std::vector<std::string>();
    for (int j = 0; j < 64; ++j) v->push_back("label." + std::to_string(j));
    return v;
  }();
  return (*labels)[i % labels->size()].c_str();
}

TEST(WaitLabelTest, ManyKeysKeepTheirLabelsThroughGrowth) {
  constexpr size_t kKeys = 20000;
  auto keys = std::make_unique<uint64_t[]>(kKeys);
  for (size_t i = 0; i < kKeys; ++i) set_wait_label(&keys[i], label_for(i));
  for (size_t i = 0; i < kKeys; ++i) {
    ASSERT_STREQ(wait_label(&keys[i]), label_for(i)) << "key " << i;
  }
  // Replace every other label, clear every third key.
  for (size_t i = 0; i < kKeys; i += 2) {
    set_wait_label(&keys[i], label_for(i + 1));
  }
  for (size_t i = 0; i < kKeys; i += 3) clear_wait_label(&keys[i]);
  for (size_t i = 0; i < kKeys; ++i) {
    const char* want = i % 3 == 0   ? nullptr
                       : i % 2 == 0 ? label_for(i + 1)
                                    : label_for(i);
    ASSERT_EQ(wait_label(&keys[i]), want) << "key " << i;
  }
  uint64_t never_labeled = 0;
  EXPECT_EQ(wait_label(&never_labeled), nullptr);
  for (size_t i = 0; i < kKeys; ++i) clear_wait_label(&keys[i]);
  for (size_t i = 0; i < kKeys; ++i) ASSERT_EQ(wait_label(&keys[i]), nullptr);
}

TEST(WaitLabelTest, SetNullClears) {
  int key = 0;
  set_wait_label(&key, "x");
  set_wait_label(&key, nullptr);
  EXPECT_EQ(wait_label(&key), nullptr);
}

// Labeled primitives created and destroyed at new addresses forever (a map
// of labeled locks, say) must not grow the registry without bound: with at
// most 64 alive at once, churn adds at most the two tables sized for 64 keys
// (256 slots each) whatever the number of cycles, and the second half of
// 10^6 cycles allocates nothing at all.
TEST(WaitLabelTest, ChurnKeepsMemoryBounded) {
  constexpr int kAlive = 64;
  constexpr int kCycles = 1000000 / testing::kScale;
  std::vector<std::unique_ptr<uint64_t>> alive(kAlive);
  auto cycle = [&](int i) {
    std::unique_ptr<uint64_t>& slot = alive[static_cast<size_t>(i % kAlive)];
    if (slot != nullptr) clear_wait_label(slot.get());
    slot = std::make_unique<uint64_t>(0);  // usually a fresh address
    set_wait_label(slot.get(), label_for(static_cast<size_t>(i)));
  };
  for (int i = 0; i < 10 * kAlive; ++i) cycle(i);
  const size_t warm = wait_label_capacity_for_testing();
  for (int i = 0; i < kCycles / 2; ++i) cycle(i);
  const size_t half = wait_label_capacity_for_testing();
  EXPECT_LE(half - warm, 2u * 256u);
  for (int i = kCycles / 2; i < kCycles; ++i) cycle(i);
  EXPECT_EQ(wait_label_capacity_for_testing(), half)
      << "tables allocated during churn with a constant number of live keys";
  for (int i = 0; i < kAlive; ++i) {
    // Slot i was last set by a cycle c with c % 64 == i: label_for(i).
    EXPECT_EQ(wait_label(alive[static_cast<size_t>(i)].get()),
              label_for(static_cast<size_t>(i)))
        << i;
    clear_wait_label(alive[static_cast<size_t>(i)].get());
  }
}

// Readers look up keys whose labels never change while a writer churns other
// keys through growth, tombstones and rebuilds: a reader must always get the
// stable label (never nullptr, never another key's label).
TEST(WaitLabelStress, ReadersSeeStableLabelsWhileWriterChurns) {
  constexpr size_t kStable = 256;
  auto stable = std::make_unique<uint64_t[]>(kStable);
  for (size_t i = 0; i < kStable; ++i) set_wait_label(&stable[i], label_for(i));

  testing::Watchdog watchdog("WaitLabelStress.ReadersSeeStableLabels");
  testing::StressDeadline deadline;
  std::atomic<uint64_t> wrong{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      auto& me = watchdog.slot("reader " + std::to_string(t));
      me.set_state("wait_label()");
      size_t i = static_cast<size_t>(t);
      while (deadline.running()) {
        i = (i + 7) % kStable;
        if (wait_label(&stable[i]) != label_for(i)) {
          // Relaxed: a count read after the join.
          wrong.fetch_add(1, std::memory_order_relaxed);
        }
        me.tick();
      }
      me.finish();
    });
  }
  {
    auto& me = watchdog.slot("writer");
    std::vector<std::unique_ptr<uint64_t>> churn;
    size_t n = 0;
    while (deadline.running()) {
      // Grow to a few thousand keys, then drop them all: every table size
      // and both tables of each size get rebuilt while the readers probe.
      me.set_state("set_wait_label()");
      for (int k = 0; k < 64; ++k) {
        churn.push_back(std::make_unique<uint64_t>(0));
        set_wait_label(churn.back().get(), label_for(n++));
      }
      if (churn.size() >= 4096) {
        me.set_state("clear_wait_label()");
        for (auto& p : churn) clear_wait_label(p.get());
        churn.clear();
      }
      me.tick();
    }
    for (auto& p : churn) clear_wait_label(p.get());
    me.finish();
  }
  for (std::thread& r : readers) r.join();
  EXPECT_EQ(wrong.load(), 0u);
  for (size_t i = 0; i < kStable; ++i) clear_wait_label(&stable[i]);
}

// fork() while another thread is inside set_wait_label() over and over: the
// child can set and read labels at once (it would hang if it inherited the
// writer lock held).
TEST(WaitLabelTest, ForkWhileAnotherThreadWritesLabels) {
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    uint64_t keys[16];
    size_t n = 0;
    // Relaxed: a stop flag; nothing is published through it.
    while (!stop.load(std::memory_order_relaxed)) {
      set_wait_label(&keys[n % 16], label_for(n));
      clear_wait_label(&keys[(n + 8) % 16]);
      ++n;
    }
    for (uint64_t& k : keys) clear_wait_label(&k);
  });
  for (int i = 0; i < 20; ++i) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      alarm(10);  // a hang in the child fails the test instead of stalling it
      int key = 0;
      set_wait_label(&key, "child");
      const bool ok = wait_label(&key) != nullptr;
      clear_wait_label(&key);
      _exit(ok ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status))
        << "child killed by signal "
        << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  // Relaxed: see the writer's load.
  stop.store(true, std::memory_order_relaxed);
  writer.join();
}

}  // namespace
}  // namespace contend::internal
