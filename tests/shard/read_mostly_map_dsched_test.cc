// Copyright 2026 The contend Authors.
//
// Deterministic-schedule scenarios for ReadMostlyMap (tests/dsched), each
// registered once per value storage (tests/shard/read_mostly_map_values.h):
// the plain name runs boxed values (Boxed<int>: the lock-free cell CASes
// racing each other and the locked re-index of a shard, an insert that
// expunges deleted cells or clear(), and loads racing both), the _inline
// name runs int values (every write under the shard Mutex, loads copying
// the slot lock-free while it changes). The read_mostly_map_inline_*
// scenarios then target the inline slot protocol itself: a reader copying a
// two-word value while stores refill its buffers, a one-word reader racing
// erase-then-store of its key, and a reader holding an index that an insert
// has replaced.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "shard/read_mostly_map.h"
#include "sync/internal/atomic.h"
#include "sync/internal/hazard_pointer.h"
#include "tests/dsched/dsched.h"
#include "tests/shard/read_mostly_map_values.h"
#include "tests/sync/internal/hazard_dsched_domain.h"

namespace contend {
namespace {

using dsched::Env;
using internal::Atomic;
using testing::Boxed;
using testing::OneShardHash;
using testing::TwoWords;
using testing::ValueCodec;

static_assert(ReadMostlyMap<int, int>::kInlineValues);
static_assert(ReadMostlyMap<int, TwoWords>::kInlineValues);
static_assert(!ReadMostlyMap<int, Boxed<int>>::kInlineValues);

// Two load_or_stores of one key: exactly one stores, both return the kept
// value, and a concurrent load sees nothing or that value.
template <class V>
void load_or_store_race(Env& env) {
  internal::same_hazard_domain_every_run();
  auto m = std::make_shared<ReadMostlyMap<int, V>>();
  auto stored = std::make_shared<Atomic<int>>(0);
  auto got = std::make_shared<std::vector<std::optional<V>>>(2);
  for (int t = 0; t < 2; ++t) {
    env.spawn([m, stored, got, t] {
      auto [v, loaded] = m->load_or_store(1, 10 + t);
      // Relaxed: read after run() joins this thread.
      if (!loaded) stored->fetch_add(1, std::memory_order_relaxed);
      (*got)[static_cast<size_t>(t)] = v;
      internal::hazard_thread_detach();
    });
  }
  env.spawn([m, got] {
    const std::optional<V> v = m->load(1);
    DSCHED_CHECK(!v || *v == 10 || *v == 11);
    internal::hazard_thread_detach();
  });
  env.run();
  // Relaxed: every writer was joined.
  DSCHED_CHECK(stored->load(std::memory_order_relaxed) == 1);
  DSCHED_CHECK((*got)[0] == (*got)[1]);
  DSCHED_CHECK(m->load(1) == (*got)[0]);
  m.reset();
  internal::hazard_reclaim();
}
DSCHED_SCENARIO("read_mostly_map_load_or_store_race",
                load_or_store_race<Boxed<int>>);
DSCHED_SCENARIO("read_mostly_map_load_or_store_race_inline",
                load_or_store_race<int>);

// compare_and_swap racing store and load_and_delete of the same key: the
// final state is one a serial order of the three produces.
template <class V>
void cas_vs_store_vs_delete(Env& env) {
  internal::same_hazard_domain_every_run();
  auto m = std::make_shared<ReadMostlyMap<int, V>>();
  m->store(1, 0);
  auto cas = std::make_shared<Atomic<int>>(0);
  auto del = std::make_shared<std::optional<V>>();
  env.spawn([m, cas] {
    // Relaxed: read after run() joins this thread.
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
  const std::optional<V> final_v = m->load(1);
  // Relaxed: every writer was joined.
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
}
DSCHED_SCENARIO("read_mostly_map_cas_vs_store_vs_delete",
                cas_vs_store_vs_delete<Boxed<int>>);
DSCHED_SCENARIO("read_mostly_map_cas_vs_store_vs_delete_inline",
                cas_vs_store_vs_delete<int>);

// Key 1 is deleted: its cell (boxed: null) or slot (inline: unmapped) stays
// indexed. An insert of key 2 re-indexes the shard without it (boxed: it
// expunges the cell) while a store of key 1 writes it (boxed: CASes the
// cell, lock-free; inline: under the shard lock) and a load of key 1 reads
// it: the store must never be lost (it lands in the old cell or slot before
// the re-index, which then keeps it, or in a new one after it), and the
// load sees nothing or the stored value.
template <class V>
void expunge_vs_store(Env& env) {
  internal::same_hazard_domain_every_run();
  auto m = std::make_shared<ReadMostlyMap<int, V, OneShardHash>>();
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
    const std::optional<V> v = m->load(1);
    DSCHED_CHECK(!v || *v == 5);
    internal::hazard_thread_detach();
  });
  env.run();
  DSCHED_CHECK(m->load(1) == std::optional<V>(5));
  DSCHED_CHECK(m->load(2) == std::optional<V>(2));
  DSCHED_CHECK(m->size() == 2);
  std::size_t n = 0;
  m->range([&](const int&, const V&) { return ++n, true; });
  DSCHED_CHECK(n == 2);
  m.reset();
  internal::hazard_reclaim();
}
DSCHED_SCENARIO("read_mostly_map_expunge_vs_store",
                expunge_vs_store<Boxed<int>>);
DSCHED_SCENARIO("read_mostly_map_expunge_vs_store_inline",
                expunge_vs_store<int>);

// clear() emptying the shard (boxed: expunging every cell) while a store and
// a compare_and_delete of the shard's keys write them: afterwards key 1 is
// mapped iff the store's effect came after the clear (and was not deleted),
// and size() agrees with load().
template <class V>
void clear_vs_cell_writes(Env& env) {
  internal::same_hazard_domain_every_run();
  auto m = std::make_shared<ReadMostlyMap<int, V, OneShardHash>>();
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
  const std::optional<V> v1 = m->load(1);
  DSCHED_CHECK(!v1 || *v1 == 3);
  DSCHED_CHECK(m->load(2) == std::nullopt);
  DSCHED_CHECK(m->size() == (v1 ? 1u : 0u));
  m.reset();
  internal::hazard_reclaim();
}
DSCHED_SCENARIO("read_mostly_map_clear_vs_cell_writes",
                clear_vs_cell_writes<Boxed<int>>);
DSCHED_SCENARIO("read_mostly_map_clear_vs_cell_writes_inline",
                clear_vs_cell_writes<int>);

// The inline slot protocol.
using TwoWordCodec = ValueCodec<TwoWords>;

// A reader of a two-word value racing two successive stores of its key.
// The first store fills the buffer the reader is not told to read; the
// second refills the one it may be copying. The reader must return one of
// the stored values whole ({x, ~x}), never the words of two of them.
DSCHED_SCENARIO("read_mostly_map_inline_two_word_load_vs_two_stores",
                [](Env& env) {
                  internal::same_hazard_domain_every_run();
                  auto m = std::make_shared<ReadMostlyMap<int, TwoWords>>();
                  m->store(1, TwoWordCodec::make(1));
                  env.spawn([m] {
                    m->store(1, TwoWordCodec::make(2));
                    m->store(1, TwoWordCodec::make(3));
                    internal::hazard_thread_detach();
                  });
                  env.spawn([m] {
                    const std::optional<TwoWords> v = m->load(1);
                    DSCHED_CHECK(v.has_value());
                    const int64_t x = TwoWordCodec::get(*v);
                    DSCHED_CHECK(x == 1 || x == 2 || x == 3);
                    internal::hazard_thread_detach();
                  });
                  env.run();
                  DSCHED_CHECK(m->load(1) == TwoWordCodec::make(3));
                  m.reset();
                  internal::hazard_reclaim();
                });

// A one-word reader loading its key twice while a writer erases it and
// stores it again. The key's states run 1 -> unmapped -> 2, so each load
// returns 1, nullopt or 2, and the second never returns a state earlier
// than the first's: a load that returned the new word before the store
// published the slot's mapped generation, followed by one that sees the key
// unmapped, has no serial order. That failure needs two preemptions (the
// reader after its first ver load, the writer between the word and the ver
// of the store): the bounded search reaches it within --config=dsched's
// budget, not always within a plain run's. The reader is spawned first so
// that the search needs no third one.
DSCHED_SCENARIO("read_mostly_map_inline_load_vs_erase_then_store",
                [](Env& env) {
                  internal::same_hazard_domain_every_run();
                  auto m = std::make_shared<ReadMostlyMap<int, int>>();
                  m->store(1, 1);
                  env.spawn([m] {
                    // The position of a load's result in 1 -> none -> 2.
                    const auto rank = [](const std::optional<int>& v) {
                      DSCHED_CHECK(!v || *v == 1 || *v == 2);
                      return !v ? 1 : *v == 1 ? 0 : 2;
                    };
                    const int first = rank(m->load(1));
                    const int second = rank(m->load(1));
                    DSCHED_CHECK(first <= second);
                    internal::hazard_thread_detach();
                  });
                  env.spawn([m] {
                    m->erase(1);
                    m->store(1, 2);
                    internal::hazard_thread_detach();
                  });
                  env.run();
                  DSCHED_CHECK(m->load(1) == std::optional<int>(2));
                  DSCHED_CHECK(m->size() == 1);
                  m.reset();
                  internal::hazard_reclaim();
                });

// A reader that may hold the shard's index while an insert of another key
// replaces it, racing a store of its own key (two words, stored twice
// before so that the slot's current buffer is the second). The store lands
// in the new index (it writes under the lock that the insert holds while it
// copies), the old index keeps the value as of the copy: each load returns
// the old value or the new, untorn, and never the old after the new. The
// copy must carry both buffers and the generation.
DSCHED_SCENARIO("read_mostly_map_inline_old_index_load_vs_store", [](Env& env) {
  internal::same_hazard_domain_every_run();
  auto m = std::make_shared<ReadMostlyMap<int, TwoWords, OneShardHash>>();
  m->store(1, TwoWordCodec::make(0));
  m->store(1, TwoWordCodec::make(1));
  env.spawn([m] {
    m->store(2, TwoWordCodec::make(20));
    internal::hazard_thread_detach();
  });
  env.spawn([m] {
    m->store(1, TwoWordCodec::make(3));
    internal::hazard_thread_detach();
  });
  env.spawn([m] {
    const auto value = [&] {
      const std::optional<TwoWords> v = m->load(1);
      DSCHED_CHECK(v.has_value());
      const int64_t x = TwoWordCodec::get(*v);
      DSCHED_CHECK(x == 1 || x == 3);
      return x;
    };
    const int64_t first = value();
    const int64_t second = value();
    DSCHED_CHECK(first <= second);
    internal::hazard_thread_detach();
  });
  env.run();
  DSCHED_CHECK(m->load(1) == TwoWordCodec::make(3));
  DSCHED_CHECK(m->load(2) == TwoWordCodec::make(20));
  DSCHED_CHECK(m->size() == 2);
  m.reset();
  internal::hazard_reclaim();
});

}  // namespace
}  // namespace contend
