// Copyright 2026 The contend Authors.
//
// Deterministic-schedule scenarios for ReadMostlyMap (tests/dsched): the
// lock-free cell CASes (store, CAS, delete of an indexed key) racing each
// other and the locked re-index of a shard (an insert that expunges deleted
// cells, clear()), and loads racing both.

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "shard/read_mostly_map.h"
#include "sync/internal/atomic.h"
#include "sync/internal/hazard_pointer.h"
#include "tests/dsched/dsched.h"
#include "tests/sync/internal/hazard_dsched_domain.h"

namespace contend {
namespace {

using dsched::Env;
using internal::Atomic;
using Map = ReadMostlyMap<int, int>;

// Every key in one shard, so an insert of one key expunges another's cell.
struct OneShardHash {
  std::size_t operator()(int) const { return 0; }
};
using OneShardMap = ReadMostlyMap<int, int, OneShardHash>;

// Two load_or_stores of one key: exactly one stores, both return the kept
// value, and a concurrent load sees nothing or that value.
DSCHED_SCENARIO("read_mostly_map_load_or_store_race", [](Env& env) {
  internal::same_hazard_domain_every_run();
  auto m = std::make_shared<Map>();
  auto stored = std::make_shared<Atomic<int>>(0);
  auto got = std::make_shared<std::vector<int>>(2, -1);
  for (int t = 0; t < 2; ++t) {
    env.spawn([m, stored, got, t] {
      auto [v, loaded] = m->load_or_store(1, 10 + t);
      if (!loaded) stored->fetch_add(1, std::memory_order_relaxed);
      (*got)[static_cast<size_t>(t)] = v;
      internal::hazard_thread_detach();
    });
  }
  env.spawn([m, got] {
    std::optional<int> v = m->load(1);
    DSCHED_CHECK(!v || *v == 10 || *v == 11);
    internal::hazard_thread_detach();
  });
  env.run();
  DSCHED_CHECK(stored->load(std::memory_order_relaxed) == 1);
  DSCHED_CHECK((*got)[0] == (*got)[1]);
  DSCHED_CHECK(m->load(1) == (*got)[0]);
  m.reset();
  internal::hazard_reclaim();
});

// compare_and_swap racing store and load_and_delete of the same key: the
// final state is one a serial order of the three produces.
DSCHED_SCENARIO("read_mostly_map_cas_vs_store_vs_delete", [](Env& env) {
  internal::same_hazard_domain_every_run();
  auto m = std::make_shared<Map>();
  m->store(1, 0);
  auto cas = std::make_shared<Atomic<int>>(0);
  auto del = std::make_shared<std::optional<int>>();
  env.spawn([m, cas] {
    if (m->compare_and_swap(1, 0, 5)) cas->store(1, std::memory_order_relaxed);
    internal::hazard_thread_detach();
  });
  env.spawn([m] {
    m->store(1, 7);
    internal::hazard_thread_detach();
  });
  env.spawn([m, del] {
    *del = m->load_and_delete(1);
    internal::hazard_thread_detach();
  });
  env.run();
  const std::optional<int> final_v = m->load(1);
  const bool cas_won = cas->load(std::memory_order_relaxed) == 1;
  // Serial orders: the delete removed whatever was there last before it.
  if (final_v) {
    // The delete ran first (saw 0 or 5), then store 7 (CAS after it fails).
    DSCHED_CHECK(*final_v == 7 || *final_v == 5);
    if (*final_v == 5) DSCHED_CHECK(cas_won);
  } else {
    DSCHED_CHECK(del->has_value());
  }
  if (del->has_value()) {
    DSCHED_CHECK(**del == 0 || **del == 5 || **del == 7);
    if (**del == 5) DSCHED_CHECK(cas_won);
  }
  m.reset();
  internal::hazard_reclaim();
});

// Key 1 is deleted (its cell stays indexed as null). An insert of key 2
// re-indexes the shard and expunges key 1's cell while a store of key 1 CASes
// that cell and a load of key 1 reads it: the store must never be lost (it
// lands in the old cell before the expunge, which then fails, or in a new
// cell after it), and the load sees nothing or the stored value.
DSCHED_SCENARIO("read_mostly_map_expunge_vs_store", [](Env& env) {
  internal::same_hazard_domain_every_run();
  auto m = std::make_shared<OneShardMap>();
  m->store(1, 0);
  m->erase(1);
  env.spawn([m] {
    m->store(2, 2);
    internal::hazard_thread_detach();
  });
  env.spawn([m] {
    m->store(1, 5);
    internal::hazard_thread_detach();
  });
  env.spawn([m] {
    const std::optional<int> v = m->load(1);
    DSCHED_CHECK(!v || *v == 5);
    internal::hazard_thread_detach();
  });
  env.run();
  DSCHED_CHECK(m->load(1) == std::optional<int>(5));
  DSCHED_CHECK(m->load(2) == std::optional<int>(2));
  DSCHED_CHECK(m->size() == 2);
  std::size_t n = 0;
  m->range([&](const int&, const int&) { return ++n, true; });
  DSCHED_CHECK(n == 2);
  m.reset();
  internal::hazard_reclaim();
});

// clear() expunging every cell while a store and a compare_and_delete of the
// same key CAS it: afterwards the key is mapped iff the store's effect came
// after the clear (and was not deleted), and size() agrees with load().
DSCHED_SCENARIO("read_mostly_map_clear_vs_cell_writes", [](Env& env) {
  internal::same_hazard_domain_every_run();
  auto m = std::make_shared<OneShardMap>();
  m->store(1, 0);
  m->store(2, 0);
  env.spawn([m] {
    m->clear();
    internal::hazard_thread_detach();
  });
  env.spawn([m] {
    m->store(1, 3);
    internal::hazard_thread_detach();
  });
  env.spawn([m] {
    (void)m->compare_and_delete(2, 0);
    internal::hazard_thread_detach();
  });
  env.run();
  const std::optional<int> v1 = m->load(1);
  DSCHED_CHECK(!v1 || *v1 == 3);
  DSCHED_CHECK(m->load(2) == std::nullopt);
  DSCHED_CHECK(m->size() == (v1 ? 1u : 0u));
  m.reset();
  internal::hazard_reclaim();
});

}  // namespace
}  // namespace contend
