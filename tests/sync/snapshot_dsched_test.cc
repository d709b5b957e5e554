// Copyright 2026 The contend Authors.
//
// Deterministic-schedule scenarios for contend::Snapshot (tests/dsched). The
// value type marks itself destroyed in its destructor and never frees its
// memory (class-specific operator delete), so a Guard that outlived its
// value's reclamation fails the run as a use after destroy.

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "sync/internal/atomic.h"
#include "sync/internal/hazard_pointer.h"
#include "sync/snapshot.h"
#include "tests/dsched/dsched.h"
#include "tests/sync/internal/hazard_dsched_domain.h"

namespace contend {
namespace {

using dsched::Env;
using internal::Atomic;

// The value's state lives in a cell that is never freed (kept reachable in
// g_cells), and the destructor marks the cell destroyed: a read through a
// Guard whose value was reclaimed touches a destroyed cell and fails the run,
// and no address is reused within a run (dsched::mark_destroyed).
std::vector<std::unique_ptr<Atomic<int>>> g_cells;

struct Value {
  explicit Value(int v) : n(fresh_cell(v)) {}
  Value(const Value& o) : n(fresh_cell(o.get())) {}
  Value& operator=(const Value&) = delete;
  ~Value() { dsched::mark_destroyed(n, sizeof(*n)); }
  // Never frees: a destroyed Value keeps pointing at its destroyed cell, and
  // no later allocation can take its address.
  static void* operator new(std::size_t size) { return ::operator new(size); }
  static void operator delete(void*) noexcept {}
  int get() const { return n->load(std::memory_order_relaxed); }
  void add(int d) { n->store(get() + d, std::memory_order_relaxed); }
  static Atomic<int>* fresh_cell(int v) {
    g_cells.push_back(std::make_unique<Atomic<int>>(v));
    return g_cells.back().get();
  }
  Atomic<int>* n;
};

// Spawns the writer of the reader scenarios (it stores 1, then 2, reclaiming
// after each), runs the scenario, and checks that the last store is what is
// left and that everything is reclaimed cleanly.
void run_with_storing_writer(Env& env, std::shared_ptr<Snapshot<Value>> s) {
  env.spawn([s] {
    for (int i = 1; i <= 2; ++i) {
      s->store(std::make_unique<Value>(i));
      internal::hazard_reclaim();
    }
    internal::hazard_thread_detach();
  });
  env.run();
  DSCHED_CHECK(s->load()->get() == 2);
  internal::hazard_release_sticky();  // the pin that load() left
  s.reset();
  internal::hazard_reclaim();
}

// Readers load while a writer stores and reclaims: every guard reads a live
// value, and a reader's successive loads never go back in time.
DSCHED_SCENARIO("snapshot_store_vs_load", [](Env& env) {
  internal::same_hazard_domain_every_run();
  auto s = std::make_shared<Snapshot<Value>>(std::make_unique<Value>(0));
  for (int r = 0; r < 2; ++r) {
    env.spawn([s] {
      int last = 0;
      for (int i = 0; i < 2; ++i) {
        auto g = s->load();
        const int v = g->get();
        DSCHED_CHECK(v >= last);
        last = v;
      }
      internal::hazard_thread_detach();
    });
  }
  run_with_storing_writer(env, std::move(s));
});

// Guards nested on one thread while a writer stores and reclaims: the first
// takes the thread's sticky slot, the second (taken while the first lives) a
// slot of its own; the third comes after the first ended and either reuses
// the sticky slot's standing protection (the value did not change) or moves
// it. Every Guard reads a live value for its whole life.
DSCHED_SCENARIO("snapshot_nested_guards_vs_store", [](Env& env) {
  internal::same_hazard_domain_every_run();
  auto s = std::make_shared<Snapshot<Value>>(std::make_unique<Value>(0));
  env.spawn([s] {
    {
      auto a = s->load();
      const int va = a->get();
      auto b = s->load();
      const int vb = b->get();
      DSCHED_CHECK(vb >= va);
      { auto end = std::move(a); }  // ends the first Guard
      auto c = s->load();           // the sticky slot again
      DSCHED_CHECK(c->get() >= vb);
      DSCHED_CHECK(b->get() == vb);
    }
    internal::hazard_thread_detach();
  });
  run_with_storing_writer(env, std::move(s));
});

// A Reader's value stays live until its next load, while a writer stores and
// reclaims; its loads never go back in time.
DSCHED_SCENARIO("snapshot_reader_vs_store", [](Env& env) {
  internal::same_hazard_domain_every_run();
  auto s = std::make_shared<Snapshot<Value>>(std::make_unique<Value>(0));
  env.spawn([s] {
    {
      Snapshot<Value>::Reader r(*s);
      const Value& first = r.load();
      const int a = first.get();
      DSCHED_CHECK(first.get() == a);  // still live after any interleaving
      const int b = r.load().get();
      DSCHED_CHECK(b >= a);
    }
    internal::hazard_thread_detach();
  });
  run_with_storing_writer(env, std::move(s));
});

// Two update()s and a compare_and_swap race: no increment is lost, and the
// losing CAS leaves the value alone.
DSCHED_SCENARIO("snapshot_update_vs_update", [](Env& env) {
  internal::same_hazard_domain_every_run();
  auto s = std::make_shared<Snapshot<Value>>(std::make_unique<Value>(0));
  auto cas_won = std::make_shared<Atomic<int>>(0);
  for (int t = 0; t < 2; ++t) {
    env.spawn([s] {
      s->update([](Value& v) { v.add(1); });
      internal::hazard_reclaim();
      internal::hazard_thread_detach();
    });
  }
  env.spawn([s, cas_won] {
    auto g = s->load();
    if (s->compare_and_swap(g.get(), std::make_unique<Value>(g->get() + 10))) {
      cas_won->store(1, std::memory_order_relaxed);
    }
    internal::hazard_thread_detach();
  });
  env.run();
  const int expect = 2 + 10 * cas_won->load(std::memory_order_relaxed);
  DSCHED_CHECK(s->load()->get() == expect);
  s.reset();
  internal::hazard_reclaim();
});

}  // namespace
}  // namespace contend
