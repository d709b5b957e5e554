// Copyright 2026 The contend Authors.
//
// The profiler covers every blocking primitive through the one ParkingLot
// seam: a real blocking wait on each primitive shows up in the block profile
// under its kind, and contended Mutex/RWMutex releases show up in the mutex
// profile.

#include <chrono>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "profile/profile.h"
#include "sync/chan.h"
#include "sync/cond.h"
#include "sync/event.h"
#include "sync/mutex.h"
#include "sync/once.h"
#include "sync/rw_mutex.h"
#include "sync/semaphore.h"
#include "sync/wait_group.h"
#include "tests/profile/pprof_decoder.h"

namespace {

using ::profile_testing::DecodedProfile;

constexpr auto kBlockFor = std::chrono::milliseconds(5);

DecodedProfile Decode(void (*writer)(std::ostream&, int)) {
  std::ostringstream out;
  writer(out, 0);
  DecodedProfile p;
  std::string error;
  EXPECT_TRUE(profile_testing::DecodeProfile(out.str(), &p, &error)) << error;
  return p;
}

int64_t DelayOfKind(const DecodedProfile& p, const std::string& kind) {
  int64_t total = 0;
  for (const auto& s : p.samples) {
    if (DecodedProfile::label(s, "kind") == kind) total += s.values[1];
  }
  return total;
}

class CoverageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    contend::profile::set_mutex_profile_fraction(1);
    contend::profile::set_block_profile_rate(1);
  }
  void TearDown() override {
    contend::profile::set_mutex_profile_fraction(0);
    contend::profile::set_block_profile_rate(0);
    contend::profile::reset();
  }

  // Runs `scenario` (which makes one thread block for about kBlockFor) until
  // the block profile shows a wait of `kind`; the retries absorb the rare run
  // where the scheduler starts the waiter only after the release. Returns the
  // recorded delay of `kind` (0 if it never appeared).
  int64_t BlockedAs(const std::string& kind,
                    const std::function<void()>& scenario) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      contend::profile::reset();
      scenario();
      const int64_t delay =
          DelayOfKind(Decode(&contend::profile::write_block_profile), kind);
      if (delay > 0) return delay;
    }
    return 0;
  }
};

TEST_F(CoverageTest, Mutex) {
  EXPECT_GT(BlockedAs("Mutex",
                      [] {
                        contend::Mutex mu;
                        mu.lock();
                        std::thread t([&] {
                          mu.lock();
                          mu.unlock();
                        });
                        std::this_thread::sleep_for(kBlockFor);
                        mu.unlock();
                        t.join();
                      }),
            0);
  EXPECT_GT(
      DelayOfKind(Decode(&contend::profile::write_mutex_profile), "Mutex"), 0);
}

TEST_F(CoverageTest, RWMutexWriterWaitsForReader) {
  EXPECT_GT(BlockedAs("RWMutex.write",
                      [] {
                        contend::RWMutex rw;
                        rw.lock_shared();
                        std::thread t([&] {
                          rw.lock();
                          rw.unlock();
                        });
                        std::this_thread::sleep_for(kBlockFor);
                        rw.unlock_shared();
                        t.join();
                      }),
            0);
}

TEST_F(CoverageTest, RWMutexReaderWaitsForWriter) {
  EXPECT_GT(BlockedAs("RWMutex.read",
                      [] {
                        contend::RWMutex rw;
                        rw.lock();
                        std::thread t([&] {
                          rw.lock_shared();
                          rw.unlock_shared();
                        });
                        std::this_thread::sleep_for(kBlockFor);
                        rw.unlock();
                        t.join();
                      }),
            0);
  // The writer's unlock released a waiting reader: charged to the writer.
  const DecodedProfile mutex = Decode(&contend::profile::write_mutex_profile);
  EXPECT_GT(
      DelayOfKind(mutex, "RWMutex.read") + DelayOfKind(mutex, "RWMutex.write"),
      0);
}

TEST_F(CoverageTest, Cond) {
  EXPECT_GT(BlockedAs("Cond",
                      [] {
                        contend::Mutex mu;
                        contend::Cond cond;
                        bool ready = false;
                        std::thread t([&] {
                          mu.lock();
                          while (!ready) cond.wait(mu);
                          mu.unlock();
                        });
                        std::this_thread::sleep_for(kBlockFor);
                        mu.lock();
                        ready = true;
                        cond.signal();
                        mu.unlock();
                        t.join();
                      }),
            0);
}

TEST_F(CoverageTest, Event) {
  EXPECT_GT(BlockedAs("Event",
                      [] {
                        contend::Event ev;
                        std::thread t([&] { ev.wait(); });
                        std::this_thread::sleep_for(kBlockFor);
                        ev.set();
                        t.join();
                      }),
            0);
}

TEST_F(CoverageTest, WaitGroup) {
  EXPECT_GT(BlockedAs("WaitGroup",
                      [] {
                        contend::WaitGroup wg;
                        wg.add(1);
                        std::thread t([&] { wg.wait(); });
                        std::this_thread::sleep_for(kBlockFor);
                        wg.done();
                        t.join();
                      }),
            0);
}

TEST_F(CoverageTest, Semaphore) {
  EXPECT_GT(BlockedAs("Semaphore",
                      [] {
                        contend::Semaphore sem(1);
                        sem.acquire();
                        std::thread t([&] {
                          sem.acquire();
                          sem.release();
                        });
                        std::this_thread::sleep_for(kBlockFor);
                        sem.release();
                        t.join();
                      }),
            0);
}

// A blocked receive is a wait of kind Chan, under the channel's label.
TEST_F(CoverageTest, Chan) {
  EXPECT_GT(BlockedAs("Chan",
                      [] {
                        contend::Chan<int> ch(0, "coverage.jobs");
                        std::thread t([&] { (void)ch.recv(); });
                        std::this_thread::sleep_for(kBlockFor);
                        ch.send(1);
                        t.join();
                      }),
            0);
  bool labeled = false;
  for (const auto& s : Decode(&contend::profile::write_block_profile).samples) {
    if (DecodedProfile::label(s, "kind") == "Chan" &&
        DecodedProfile::label(s, "lock") == "coverage.jobs") {
      labeled = true;
    }
  }
  EXPECT_TRUE(labeled);
}

TEST_F(CoverageTest, Once) {
  EXPECT_GT(BlockedAs("Once",
                      [] {
                        contend::Once once;
                        auto slow = [] {
                          std::this_thread::sleep_for(2 * kBlockFor);
                        };
                        std::thread first([&] { once.call(slow); });
                        std::this_thread::sleep_for(kBlockFor / 5);
                        std::thread second([&] { once.call(slow); });
                        first.join();
                        second.join();
                      }),
            0);
}

// The timed-out and cancelled waits count too (Go's block profile includes
// them): the thread really was blocked.
TEST_F(CoverageTest, TimedOutWaitsAreRecorded) {
  EXPECT_GT(BlockedAs("Event",
                      [] {
                        contend::Event ev;
                        EXPECT_FALSE(ev.wait_for(kBlockFor));
                      }),
            0);
}

}  // namespace
