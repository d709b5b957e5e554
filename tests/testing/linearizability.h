// Copyright 2026 The contend Authors.
//
// Linearizability checking for concurrent objects: record what threads did
// (History), then ask whether some total order of the operations, consistent
// with real time, is a legal run of a sequential model (check()).
//
// The checker is Wing & Gong's search with Lowe's memoization, in the shape
// Porcupine (github.com/anishathalye/porcupine) made popular: walk the
// invoke/return events in time order; at each point try to linearize one of
// the operations that are invoked but not yet linearized (any operation whose
// return has not been passed yet); backtrack when a return is reached whose
// operation could not be placed. A (set of linearized operations, model
// state) pair that was already explored is never explored twice, which turns
// the exponential search into one bounded by the number of distinct such
// pairs (small when at most a few threads overlap). Histories of a
// partitionable model (a map: keys are independent) are split by partition
// and each part is checked on its own, which keeps every search small.
//
// Recording (cheap, thread-safe: each thread appends to its own buffer; no
// shared write on the recording path, two clock reads per operation):
//
//   testing::lin::History<testing::lin::MapModel> history(/*threads=*/4);
//   ... in thread t (each thread index used by one thread at a time):
//   using Map = testing::lin::MapModel;
//   history.record(t, Map::load(key), [&] {
//     std::optional<int> v = map.load(key);
//     return Map::Output::of(v);
//   });
//   ... after joining every thread:
//   testing::lin::CheckResult r = testing::lin::check(Map{}, history.take());
//   EXPECT_TRUE(r.linearizable) << r.explanation;
//
// A model M (the `Model` concept below) is a value with:
//   typename M::Input, M::Output, M::State   (State: copyable, operator==)
//   State init() const                       the initial state
//   std::optional<State> step(const State&, const Input&, const Output&) const
//       the state after applying `Input` if the object could have answered
//       `Output` in that state; std::nullopt if not (this is how a wrong
//       result is detected)
//   size_t hash(const State&) const          for the memo table
//   std::string describe(const Input&, const Output&) const   for messages
//   optionally: uint64_t partition(const Input&) const
//       operations of different partitions never affect each other (a
//       map's keys); each partition is checked from init() on its own
//
// Ready models: MapModel (the contend map vocabulary on int keys and values)
// and QueueModel (a FIFO channel: send, try_send, recv, try_recv, close).
//
// Limits: every recorded operation must have returned (a blocked operation
// has no result to check; stop the test so that every call returns). Events
// at the same nanosecond are treated as overlapping (the checker accepts the
// more permissive reading). A search that exceeds `CheckOptions::max_steps`
// returns linearizable == false with budget_exceeded == true (an unknown,
// not a violation; the explanation says so).

#ifndef CONTEND_TESTS_TESTING_LINEARIZABILITY_H_
#define CONTEND_TESTS_TESTING_LINEARIZABILITY_H_

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/types/span.h"

namespace contend::testing::lin {

// A sequential specification the checker compares histories against.
template <class M>
concept Model = requires(const M m, const typename M::State& s,
                         const typename M::Input& in,
                         const typename M::Output& out) {
  { m.init() } -> std::same_as<typename M::State>;
  { m.step(s, in, out) } -> std::same_as<std::optional<typename M::State>>;
  { m.hash(s) } -> std::convertible_to<size_t>;
  { m.describe(in, out) } -> std::convertible_to<std::string>;
  { s == s } -> std::convertible_to<bool>;
};

// A model whose operations split into independent partitions.
template <class M>
concept PartitionedModel = Model<M> &&
    requires(const M m, const typename M::Input& in) {
  { m.partition(in) } -> std::convertible_to<uint64_t>;
};

// One completed operation: who, what, what it answered, and when (ns on the
// monotonic clock; invoke_ns <= return_ns).
template <Model M>
struct Operation {
  int thread = 0;
  typename M::Input input{};
  typename M::Output output{};
  int64_t invoke_ns = 0;
  int64_t return_ns = 0;
};

// Nanoseconds on CLOCK_MONOTONIC: the single clock every History uses, so
// timestamps of different threads compare.
[[nodiscard]] int64_t now_ns() noexcept;

// A concurrent history being recorded. Thread safety: record()/invoke()/
// complete() for thread index t may run concurrently with those of other
// indexes; one index is used by one thread at a time. take()/operations()
// only after every recording thread has been joined (the join orders their
// writes before the read).
template <Model M>
class History {
 public:
  // `threads` recording slots; `reserve` operations preallocated per slot
  // so recording does not allocate in the measured window.
  explicit History(int threads, size_t reserve = 256)
      : slots_(static_cast<size_t>(threads)) {
    for (Slot& s : slots_) s.ops.reserve(reserve);
  }

  // Records one operation: reads the clock, runs call() (which performs the
  // operation and returns its M::Output), reads the clock again. Returns
  // call()'s result.
  template <class Call>
  typename M::Output record(int thread, typename M::Input input, Call&& call) {
    const int64_t start = now_ns();
    typename M::Output out = std::forward<Call>(call)();
    const int64_t end = now_ns();
    slots_[static_cast<size_t>(thread)].ops.push_back(
        Operation<M>{thread, std::move(input), out, start, end});
    return out;
  }

  // Two-part form, for an operation whose result is produced elsewhere:
  // invoke() before the call, complete() with its result after. Returns a
  // handle for complete(). At most one open operation per thread index.
  size_t invoke(int thread, typename M::Input input) {
    auto& ops = slots_[static_cast<size_t>(thread)].ops;
    ops.push_back(Operation<M>{thread,
                               std::move(input),
                               {},
                               now_ns(),
                               std::numeric_limits<int64_t>::max()});
    return ops.size() - 1;
  }
  void complete(int thread, size_t handle, typename M::Output output) {
    Operation<M>& op = slots_[static_cast<size_t>(thread)].ops[handle];
    op.output = std::move(output);
    op.return_ns = now_ns();
  }

  // Every recorded operation (all threads), leaving the History empty.
  [[nodiscard]] std::vector<Operation<M>> take() {
    std::vector<Operation<M>> all;
    for (Slot& s : slots_) {
      all.insert(all.end(), std::make_move_iterator(s.ops.begin()),
                 std::make_move_iterator(s.ops.end()));
      s.ops.clear();
    }
    return all;
  }

 private:
  // One cache line per slot, so threads recording at once do not share one.
  struct alignas(64) Slot {
    std::vector<Operation<M>> ops;
  };
  std::vector<Slot> slots_;
};

struct CheckOptions {
  // Search steps (linearization attempts) over all partitions before the
  // checker gives up with budget_exceeded. 4 threads x 100 operations on
  // one partition take well under 10^5.
  uint64_t max_steps = 50'000'000;
};

struct CheckResult {
  // True iff a linearization was found for every partition.
  bool linearizable = false;
  // The search gave up (CheckOptions::max_steps): the answer is unknown.
  bool budget_exceeded = false;
  // Search steps taken (for run-time bounds in tests).
  uint64_t steps = 0;
  // Empty when linearizable; otherwise the failing partition's operations in
  // invoke order (thread, interval, describe()) and the longest prefix of a
  // linearization the search managed to build.
  std::string explanation;
};

namespace internal_lin {

struct Interval {
  int64_t invoke_ns;
  int64_t return_ns;
};

struct SearchResult {
  bool ok = false;
  bool budget_exceeded = false;
  uint64_t steps = 0;
  // Operation indexes of the deepest partial linearization reached.
  std::vector<size_t> longest;
};

// The search over one partition. States are small integers (0 is the
// initial state); step(state, op) returns the state after linearizing
// operation `op` in `state`, or -1 if that is illegal.
SearchResult search(absl::Span<const Interval> ops,
                    absl::FunctionRef<int64_t(int64_t state, size_t op)> step,
                    uint64_t max_steps);

// The explanation text for a failed partition.
std::string explain(absl::Span<const Interval> ops,
                    absl::Span<const int> threads,
                    absl::Span<const std::string> descriptions,
                    const SearchResult& result, uint64_t partition,
                    bool partitioned);

template <Model M>
SearchResult check_part(const M& model,
                        absl::Span<const Operation<M>* const> ops,
                        uint64_t max_steps) {
  // States are interned to dense ids so the search core (in the .cc) works
  // on (linearized set, int) pairs only.
  struct StateHash {
    const M* model;
    size_t operator()(const typename M::State& s) const {
      return model->hash(s);
    }
  };
  absl::flat_hash_map<typename M::State, int64_t, StateHash> ids(
      16, StateHash{&model});
  std::vector<typename M::State> states;
  auto intern = [&](typename M::State s) -> int64_t {
    auto [it, inserted] =
        ids.try_emplace(s, static_cast<int64_t>(states.size()));
    if (inserted) states.push_back(std::move(s));
    return it->second;
  };
  intern(model.init());
  std::vector<Interval> intervals;
  intervals.reserve(ops.size());
  for (const Operation<M>* op : ops) {
    intervals.push_back({op->invoke_ns, op->return_ns});
  }
  return search(
      intervals,
      [&](int64_t state, size_t i) -> int64_t {
        std::optional<typename M::State> next = model.step(
            states[static_cast<size_t>(state)], ops[i]->input, ops[i]->output);
        if (!next.has_value()) return -1;
        return intern(*std::move(next));
      },
      max_steps);
}

}  // namespace internal_lin

// Checks `history` against `model`. For a PartitionedModel each partition is
// searched separately (in partition order; stops at the first failure).
template <Model M>
[[nodiscard]] CheckResult check(const M& model,
                                const std::vector<Operation<M>>& history,
                                CheckOptions options = {}) {
  std::vector<std::pair<uint64_t, const Operation<M>*>> keyed;
  keyed.reserve(history.size());
  for (const Operation<M>& op : history) {
    uint64_t part = 0;
    if constexpr (PartitionedModel<M>) part = model.partition(op.input);
    keyed.emplace_back(part, &op);
  }
  std::stable_sort(
      keyed.begin(), keyed.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });
  CheckResult result;
  result.linearizable = true;
  size_t begin = 0;
  while (begin < keyed.size()) {
    size_t end = begin;
    while (end < keyed.size() && keyed[end].first == keyed[begin].first) ++end;
    std::vector<const Operation<M>*> part;
    part.reserve(end - begin);
    for (size_t i = begin; i < end; ++i) part.push_back(keyed[i].second);
    const uint64_t budget =
        options.max_steps > result.steps ? options.max_steps - result.steps : 0;
    internal_lin::SearchResult r =
        internal_lin::check_part<M>(model, part, budget);
    result.steps += r.steps;
    if (!r.ok) {
      result.linearizable = false;
      result.budget_exceeded = r.budget_exceeded;
      std::vector<internal_lin::Interval> intervals;
      std::vector<int> threads;
      std::vector<std::string> descriptions;
      for (const Operation<M>* op : part) {
        intervals.push_back({op->invoke_ns, op->return_ns});
        threads.push_back(op->thread);
        descriptions.push_back(model.describe(op->input, op->output));
      }
      result.explanation =
          internal_lin::explain(intervals, threads, descriptions, r,
                                keyed[begin].first, PartitionedModel<M>);
      return result;
    }
    begin = end;
  }
  return result;
}

// The contend map vocabulary (Go's sync.Map verbs in snake_case) on int keys
// and int values, one partition per key. State of a partition: the key's
// value, or nullopt when absent. Build inputs with the factory functions and
// outputs with Output's.
//
//   operation                 Output::ok           Output::value
//   load(k)                   found                the value (if found)
//   store(k, v)               (ignored)            (ignored)
//   load_or_store(k, v)       loaded (was present) the value now stored
//   load_and_delete(k)        loaded               the removed value
//   erase(k)                  removed (see below)  (ignored)
//   swap(k, v)                loaded (was present) the previous value
//   compare_and_swap(k,o,n)   swapped              (ignored)
//   compare_and_delete(k,o)   deleted              (ignored)
//
// erase: a map whose erase returns nothing records Output::unchecked(); the
// model then accepts either outcome.
struct MapModel {
  enum class Kind : uint8_t {
    kLoad,
    kStore,
    kLoadOrStore,
    kLoadAndDelete,
    kErase,
    kSwap,
    kCompareAndSwap,
    kCompareAndDelete,
  };
  struct Input {
    Kind kind = Kind::kLoad;
    int key = 0;
    int value = 0;      // store/load_or_store/swap: the value; CAS/CAD: old
    int new_value = 0;  // compare_and_swap: the new value
  };
  struct Output {
    bool ok = false;
    int value = 0;
    bool checked = true;  // false: the result is not compared (erase)
    // A found/not-found result: load, load_and_delete, swap.
    static Output of(const std::optional<int>& v) {
      if (!v.has_value()) return Output{false, 0, true};
      return Output{true, *v, true};
    }
    // load_or_store's pair<V, bool loaded>.
    static Output of(const std::pair<int, bool>& p) {
      return Output{p.second, p.first, true};
    }
    // A bool result: erase, compare_and_swap, compare_and_delete.
    static Output of(bool ok) { return Output{ok, 0, true}; }
    // store, or an erase that reports nothing.
    static Output unchecked() { return Output{false, 0, false}; }
  };
  // The key's entry (a struct, not std::optional<int>: step() returns an
  // optional State, and GCC 12 warns on nested optionals at -O1).
  struct State {
    bool present = false;
    int value = 0;
    bool operator==(const State&) const = default;
  };

  static Input load(int k) { return {Kind::kLoad, k, 0, 0}; }
  static Input store(int k, int v) { return {Kind::kStore, k, v, 0}; }
  static Input load_or_store(int k, int v) {
    return {Kind::kLoadOrStore, k, v, 0};
  }
  static Input load_and_delete(int k) {
    return {Kind::kLoadAndDelete, k, 0, 0};
  }
  static Input erase(int k) { return {Kind::kErase, k, 0, 0}; }
  static Input swap(int k, int v) { return {Kind::kSwap, k, v, 0}; }
  static Input compare_and_swap(int k, int old_v, int new_v) {
    return {Kind::kCompareAndSwap, k, old_v, new_v};
  }
  static Input compare_and_delete(int k, int old_v) {
    return {Kind::kCompareAndDelete, k, old_v, 0};
  }

  State init() const { return State{}; }
  std::optional<State> step(const State& s, const Input& in,
                            const Output& out) const;
  size_t hash(const State& s) const {
    return s.present ? static_cast<size_t>(static_cast<unsigned>(s.value)) *
                               0x9E3779B97F4A7C15u +
                           1
                     : 0;
  }
  uint64_t partition(const Input& in) const {
    return static_cast<uint32_t>(in.key);
  }
  std::string describe(const Input& in, const Output& out) const;
};

// A FIFO channel of ints with Go's close semantics, capacity `capacity`
// (kUnbounded: no limit). One partition (a channel's operations all
// interact). Build inputs with the factories and outputs with Output's.
//
//   operation      Output::ok                         Output::value
//   send(v)        sent (false: the channel was       (ignored)
//                  closed); a blocking send that
//                  returned true found room
//   try_send(v)    sent (false: full or closed)       (ignored)
//   recv()         received (false: closed and        the value
//                  drained); a blocking recv that
//                  returned found an element or a
//                  closed, drained channel
//   try_recv()     received (false: empty or closed)  the value
//   close()        closed it (false: already closed)  (ignored)
//
// Cost: a rejected history is searched exhaustively, and the distinct queue
// contents grow with the orders in which concurrent sends may have landed
// while still buffered, so keep queue histories short (4 threads x 25
// operations is rejected in a few thousand steps; 4 x 40 can take millions):
// many short histories, not one long one. Accepted histories are found fast
// (4 x 100 in hundreds of steps).
//
// An unbuffered (rendezvous) channel: check it with capacity 1. That checks
// FIFO order, no loss, no duplication and close semantics, but not that a
// send waited for its receiver.
struct QueueModel {
  static constexpr size_t kUnbounded = std::numeric_limits<size_t>::max();
  size_t capacity = kUnbounded;

  enum class Kind : uint8_t { kSend, kTrySend, kRecv, kTryRecv, kClose };
  struct Input {
    Kind kind = Kind::kRecv;
    int value = 0;
  };
  struct Output {
    bool ok = false;
    int value = 0;
    static Output of(bool ok) { return Output{ok, 0}; }
    static Output of(const std::optional<int>& v) {
      if (!v.has_value()) return Output{false, 0};
      return Output{true, *v};
    }
  };
  struct State {
    std::vector<int> items;  // front first
    bool closed = false;
    bool operator==(const State&) const = default;
  };

  static Input send(int v) { return {Kind::kSend, v}; }
  static Input try_send(int v) { return {Kind::kTrySend, v}; }
  static Input recv() { return {Kind::kRecv, 0}; }
  static Input try_recv() { return {Kind::kTryRecv, 0}; }
  static Input close() { return {Kind::kClose, 0}; }

  State init() const { return State{}; }
  std::optional<State> step(const State& s, const Input& in,
                            const Output& out) const;
  size_t hash(const State& s) const;
  std::string describe(const Input& in, const Output& out) const;
};

static_assert(PartitionedModel<MapModel>);
static_assert(Model<QueueModel> && !PartitionedModel<QueueModel>);

}  // namespace contend::testing::lin

#endif  // CONTEND_TESTS_TESTING_LINEARIZABILITY_H_
