// Copyright 2026 The contend Authors.
//
// Deterministic-schedule scenarios for contend::DistributedRWMutex
// (tests/dsched). The narrow windows are in the biased read path against a
// writer's revocation: a reader that has passed its relaxed bias check and
// publishes its slot just as the writer clears the bias and scans
// (INV-DEKKER), a reader that withdraws from a slot the writer is about to
// park on (INV-DRAIN-SLOT), and a central reader re-enabling the bias while
// a writer queues.

#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>

#include "shard/distributed_rw_mutex.h"
#include "shard/internal/cpu_id.h"
#include "sync/internal/atomic.h"
#include "tests/dsched/dsched.h"

namespace contend {

class DistributedRWMutexTestPeer {
 public:
  static void allow_bias_now(DistributedRWMutex& mu) {
    mu.inhibit_until_ns_.store(0, std::memory_order_relaxed);
  }
  static bool biased(const DistributedRWMutex& mu) {
    return (mu.bias_.load(std::memory_order_relaxed) &
            DistributedRWMutex::kBias) != 0;
  }
};

namespace {

using dsched::Env;
using internal::Atomic;
using Peer = DistributedRWMutexTestPeer;

// Readers may overlap each other, never a writer; writers never overlap.
struct Exclusion {
  Atomic<int> readers{0};
  Atomic<int> writers{0};
  int writes = 0;  // guarded by the write side
  void read(const int* data) {
    readers.fetch_add(1, std::memory_order_relaxed);
    DSCHED_CHECK(writers.load(std::memory_order_relaxed) == 0);
    // The last writer's data is visible: unlock() happens-before us.
    DSCHED_CHECK(*data == writes);
    readers.fetch_sub(1, std::memory_order_relaxed);
  }
  void write(int* data) {
    DSCHED_CHECK(writers.fetch_add(1, std::memory_order_relaxed) == 0);
    DSCHED_CHECK(readers.load(std::memory_order_relaxed) == 0);
    ++writes;
    *data = writes;
    writers.fetch_sub(1, std::memory_order_relaxed);
  }
};

struct State {
  DistributedRWMutex mu;
  Exclusion ex;
  int data = 0;
};

// Replayable: scenario threads get the same ordinals (hence slots) in every
// run, whatever ran before in this process.
std::shared_ptr<State> fresh_state() {
  internal::set_next_thread_slot_for_testing(1u << 20);
  return std::make_shared<State>();
}

void read_once(State& s) {
  s.mu.lock_shared();
  s.ex.read(&s.data);
  s.mu.unlock_shared();
}

void write_once(State& s) {
  s.mu.lock();
  s.ex.write(&s.data);
  s.mu.unlock();
}

// After all threads finished the lock is free on both sides.
void check_free(DistributedRWMutex& mu) {
  DSCHED_CHECK(mu.try_lock());
  mu.unlock();
  DSCHED_CHECK(mu.try_lock_shared());
  mu.unlock_shared();
}

// The biased reader's publish/re-check against the writer's clear/scan,
// including the reader that must withdraw and take the central path.
DSCHED_SCENARIO("distributed_rw_mutex_reader_races_revocation", [](Env& env) {
  auto s = fresh_state();
  env.spawn([s] { read_once(*s); });
  env.spawn([s] { write_once(*s); });
  env.run();
  DSCHED_CHECK(s->ex.writes == 1);
  check_free(s->mu);
});

// Two biased readers (different slots) and a writer: the writer parks on one
// slot while the other reader withdraws or releases.
DSCHED_SCENARIO("distributed_rw_mutex_two_readers_one_writer", [](Env& env) {
  auto s = fresh_state();
  for (int r = 0; r < 2; ++r) env.spawn([s] { read_once(*s); });
  env.spawn([s] { write_once(*s); });
  env.run();
  DSCHED_CHECK(s->ex.writes == 1);
  check_free(s->mu);
});

// A reader that reads twice: the second read may find the bias revoked by
// the writer (central path) or re-enabled (the back-off is allowed to end at
// once), racing the writer's next revocation.
DSCHED_SCENARIO("distributed_rw_mutex_bias_reenable_races_writer",
                [](Env& env) {
                  auto s = fresh_state();
                  s->mu.lock();  // the body revokes the bias...
                  s->mu.unlock();
                  Peer::allow_bias_now(s->mu);  // ...and ends its back-off
                  env.spawn([s] {
                    read_once(*s);  // central: re-enables the bias
                    read_once(*s);  // biased, if the writer has not revoked
                  });
                  env.spawn([s] {
                    write_once(*s);
                    Peer::allow_bias_now(s->mu);
                    write_once(*s);
                  });
                  env.run();
                  DSCHED_CHECK(s->ex.writes == 2);
                  check_free(s->mu);
                });

// try_lock() revokes, finds a biased reader, restores the bias and fails;
// a timed writer gives up while draining. Neither may leave the lock looking
// held or let a reader in beside a writer.
DSCHED_SCENARIO("distributed_rw_mutex_writers_give_up_while_draining",
                [](Env& env) {
                  auto s = fresh_state();
                  env.spawn([s] {
                    for (int i = 0; i < 2; ++i) read_once(*s);
                  });
                  env.spawn([s] {
                    if (s->mu.try_lock()) {
                      s->ex.write(&s->data);
                      s->mu.unlock();
                    }
                    if (s->mu.try_lock_for(std::chrono::microseconds(2))) {
                      s->ex.write(&s->data);
                      s->mu.unlock();
                    }
                  });
                  env.run();
                  check_free(s->mu);
                });

// A writer cancelled while it waits for a biased reader.
DSCHED_SCENARIO("distributed_rw_mutex_cancelled_writer", [](Env& env) {
  auto s = fresh_state();
  auto src = std::make_shared<std::stop_source>();
  env.spawn([s] { read_once(*s); });
  env.spawn([s, src] {
    if (s->mu.lock(src->get_token())) {
      s->ex.write(&s->data);
      s->mu.unlock();
    }
  });
  env.spawn([src] { src->request_stop(); });
  env.run();
  check_free(s->mu);
});

// Two writers and a reader: the second writer finds the bias already off
// (no revocation) and the reader re-enables it between them or not.
DSCHED_SCENARIO("distributed_rw_mutex_two_writers_one_reader", [](Env& env) {
  auto s = fresh_state();
  for (int w = 0; w < 2; ++w) env.spawn([s] { write_once(*s); });
  env.spawn([s] {
    Peer::allow_bias_now(s->mu);
    read_once(*s);
  });
  env.run();
  DSCHED_CHECK(s->ex.writes == 2);
  check_free(s->mu);
});

}  // namespace
}  // namespace contend
