// Copyright 2026 The contend Authors.
//
// The search core of the linearizability checker (Wing & Gong with Lowe's
// memoization) and the ready models.
//
// The search keeps the history's events (one call and one return per
// operation) in a doubly linked list in time order. Walking the list from
// the front, a call event is a candidate: its operation may be linearized
// now if the model accepts it in the current state; that removes the call
// and its return from the list ("lifts" it) and restarts from the front. A
// return event reached before its operation was lifted means no candidate
// left can come first: undo the last lift and try the next candidate after
// it. The list is empty when every operation is linearized. Removal and
// reinsertion are the dancing-links trick (a removed node keeps its own
// links, so it is reinserted in O(1) in LIFO order).
//
// Memoization: the pair (set of linearized operations, model state)
// determines everything that can still happen, so a pair seen before is
// never explored again (Lowe, "Testing for linearizability", 2017).

#include "tests/testing/linearizability.h"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"

namespace contend::testing::lin {

int64_t now_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 +
         static_cast<int64_t>(ts.tv_nsec);
}

namespace internal_lin {
namespace {

// A memo entry: (linearized set as two Zobrist words, state id).
struct MemoKey {
  uint64_t lo, hi;
  int64_t state;
  bool operator==(const MemoKey&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const MemoKey& k) {
    return H::combine(std::move(h), k.lo, k.hi, k.state);
  }
};

}  // namespace

SearchResult search(absl::Span<const Interval> ops,
                    absl::FunctionRef<int64_t(int64_t state, size_t op)> step,
                    uint64_t max_steps) {
  SearchResult result;
  const size_t n = ops.size();
  if (n == 0) {
    result.ok = true;
    return result;
  }
  struct Event {
    int64_t t;
    bool is_return;
    size_t op;
  };
  std::vector<Event> events;
  events.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    events.push_back({ops[i].invoke_ns, false, i});
    events.push_back({ops[i].return_ns, true, i});
  }
  // Calls before returns at the same instant: equal timestamps overlap.
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    if (a.t != b.t) return a.t < b.t;
    if (a.is_return != b.is_return) return !a.is_return;
    return a.op < b.op;
  });
  // Node 0 is the head; node k + 1 is events[k]; -1 ends the list.
  const size_t nodes = 2 * n + 1;
  std::vector<int64_t> next(nodes), prev(nodes);
  std::vector<size_t> return_node(n);
  for (size_t node = 0; node < nodes; ++node) {
    prev[node] = static_cast<int64_t>(node) - 1;
    next[node] = node + 1 < nodes ? static_cast<int64_t>(node + 1) : -1;
  }
  for (size_t k = 0; k < events.size(); ++k) {
    if (events[k].is_return) return_node[events[k].op] = k + 1;
  }
  auto unlink = [&](size_t x) {
    next[static_cast<size_t>(prev[x])] = next[x];
    if (next[x] >= 0) prev[static_cast<size_t>(next[x])] = prev[x];
  };
  auto relink = [&](size_t x) {
    next[static_cast<size_t>(prev[x])] = static_cast<int64_t>(x);
    if (next[x] >= 0)
      prev[static_cast<size_t>(next[x])] = static_cast<int64_t>(x);
  };

  // The linearized set is kept as two independent 64-bit Zobrist hashes
  // (xor of a random word per operation), so a memo lookup costs no
  // allocation. Two different sets share both words with probability about
  // 2^-128 per pair of entries: a false "seen" (which could only make the
  // checker reject) is not a practical concern at these sizes.
  std::vector<std::pair<uint64_t, uint64_t>> zobrist(n);
  uint64_t seed = 0x243F6A8885A308D3u;
  auto next_random = [&seed] {
    // splitmix64
    uint64_t z = (seed += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
  };
  for (auto& z : zobrist) z = {next_random(), next_random()};
  uint64_t set_lo = 0, set_hi = 0;
  auto flip = [&](size_t op) {
    set_lo ^= zobrist[op].first;
    set_hi ^= zobrist[op].second;
  };
  absl::flat_hash_set<MemoKey> seen;

  struct Frame {
    size_t call_node;
    int64_t state;  // the state before the lifted operation
  };
  std::vector<Frame> stack;
  stack.reserve(n);
  int64_t state = 0;
  int64_t node = next[0];
  while (next[0] >= 0) {
    const size_t x = static_cast<size_t>(node);
    const Event& e = events[x - 1];
    if (!e.is_return) {
      if (++result.steps > max_steps) {
        result.budget_exceeded = true;
        return result;
      }
      bool lifted = false;
      const int64_t after = step(state, e.op);
      if (after >= 0) {
        flip(e.op);
        if (seen.insert(MemoKey{set_lo, set_hi, after}).second) {
          stack.push_back({x, state});
          state = after;
          unlink(x);
          unlink(return_node[e.op]);
          lifted = true;
          if (stack.size() > result.longest.size()) {
            result.longest.clear();
            for (const Frame& f : stack) {
              result.longest.push_back(events[f.call_node - 1].op);
            }
          }
        } else {
          flip(e.op);
        }
      }
      node = lifted ? next[0] : next[x];
    } else {
      // The operation returning here could not be placed before anything
      // still pending: undo the last choice and try the one after it.
      if (stack.empty()) return result;
      const Frame f = stack.back();
      stack.pop_back();
      const size_t op = events[f.call_node - 1].op;
      relink(return_node[op]);
      relink(f.call_node);
      flip(op);
      state = f.state;
      node = next[f.call_node];
    }
  }
  result.ok = true;
  return result;
}

std::string explain(absl::Span<const Interval> ops,
                    absl::Span<const int> threads,
                    absl::Span<const std::string> descriptions,
                    const SearchResult& result, uint64_t partition,
                    bool partitioned) {
  std::string out;
  if (result.budget_exceeded) {
    out += "linearizability unknown: the search gave up after " +
           std::to_string(result.steps) + " steps (CheckOptions::max_steps)";
  } else {
    out += "not linearizable";
  }
  if (partitioned) out += " (partition " + std::to_string(partition) + ")";
  out += "; " + std::to_string(ops.size()) +
         " operations in invoke order (times in ns from the first):\n";
  std::vector<size_t> order(ops.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return ops[a].invoke_ns < ops[b].invoke_ns;
  });
  const int64_t t0 = ops.empty() ? 0 : ops[order[0]].invoke_ns;
  constexpr size_t kMaxLines = 200;
  for (size_t k = 0; k < order.size() && k < kMaxLines; ++k) {
    const size_t i = order[k];
    char line[96];
    std::snprintf(line, sizeof line, "  #%zu thread %d [%lld, %lld] ", i,
                  threads[i], static_cast<long long>(ops[i].invoke_ns - t0),
                  static_cast<long long>(ops[i].return_ns - t0));
    out += line + descriptions[i] + "\n";
  }
  if (order.size() > kMaxLines) out += "  ...\n";
  out += "longest linearizable prefix found (" +
         std::to_string(result.longest.size()) + " operations):";
  for (size_t k = 0; k < result.longest.size() && k < kMaxLines; ++k) {
    out += " #" + std::to_string(result.longest[k]);
  }
  out += "\n";
  return out;
}

}  // namespace internal_lin

std::optional<MapModel::State> MapModel::step(const State& s, const Input& in,
                                              const Output& out) const {
  const bool c = out.checked;
  const bool has = s.present;
  const State absent{false, 0};
  const State stored{true, in.value};
  // The result a found/not-found operation must report in state s.
  const bool result_matches = out.ok == has && (!has || out.value == s.value);
  switch (in.kind) {
    case Kind::kLoad:
      if (c && !result_matches) return std::nullopt;
      return s;
    case Kind::kStore:
      return stored;
    case Kind::kLoadOrStore:
      if (has) {
        if (c && (!out.ok || out.value != s.value)) return std::nullopt;
        return s;
      }
      if (c && (out.ok || out.value != in.value)) return std::nullopt;
      return stored;
    case Kind::kLoadAndDelete:
      if (c && !result_matches) return std::nullopt;
      return absent;
    case Kind::kErase:
      if (c && out.ok != has) return std::nullopt;
      return absent;
    case Kind::kSwap:
      if (c && !result_matches) return std::nullopt;
      return stored;
    case Kind::kCompareAndSwap: {
      const bool match = has && s.value == in.value;
      if (c && out.ok != match) return std::nullopt;
      return match ? State{true, in.new_value} : s;
    }
    case Kind::kCompareAndDelete: {
      const bool match = has && s.value == in.value;
      if (c && out.ok != match) return std::nullopt;
      return match ? absent : s;
    }
  }
  return std::nullopt;
}

std::string MapModel::describe(const Input& in, const Output& out) const {
  const std::string k = std::to_string(in.key);
  const std::string v = std::to_string(in.value);
  const std::string got = !out.checked ? "(unchecked)"
                                       : (out.ok ? std::to_string(out.value)
                                                 : std::string("absent"));
  const std::string flag =
      !out.checked ? "(unchecked)" : (out.ok ? "true" : "false");
  switch (in.kind) {
    case Kind::kLoad:
      return "load(" + k + ") -> " + got;
    case Kind::kStore:
      return "store(" + k + ", " + v + ")";
    case Kind::kLoadOrStore:
      return "load_or_store(" + k + ", " + v + ") -> (" +
             std::to_string(out.value) + ", loaded=" + flag + ")";
    case Kind::kLoadAndDelete:
      return "load_and_delete(" + k + ") -> " + got;
    case Kind::kErase:
      return "erase(" + k + ") -> " + flag;
    case Kind::kSwap:
      return "swap(" + k + ", " + v + ") -> " + got;
    case Kind::kCompareAndSwap:
      return "compare_and_swap(" + k + ", " + v + ", " +
             std::to_string(in.new_value) + ") -> " + flag;
    case Kind::kCompareAndDelete:
      return "compare_and_delete(" + k + ", " + v + ") -> " + flag;
  }
  return "?";
}

std::optional<QueueModel::State> QueueModel::step(const State& s,
                                                  const Input& in,
                                                  const Output& out) const {
  const std::optional<State> illegal = std::nullopt;
  switch (in.kind) {
    case Kind::kSend:
    case Kind::kTrySend: {
      if (s.closed) {
        if (out.ok) return illegal;
        return s;
      }
      const bool room = s.items.size() < capacity;
      if (!room) {
        // A blocking send cannot have completed here; a try_send failed.
        if (in.kind == Kind::kSend || out.ok) return illegal;
        return s;
      }
      if (!out.ok) return illegal;
      State t = s;
      t.items.push_back(in.value);
      return t;
    }
    case Kind::kRecv:
    case Kind::kTryRecv: {
      if (!s.items.empty()) {
        if (!out.ok || out.value != s.items.front()) return illegal;
        State t = s;
        t.items.erase(t.items.begin());
        return t;
      }
      if (out.ok) return illegal;
      // An empty open channel: a blocking recv cannot have returned here.
      if (in.kind == Kind::kRecv && !s.closed) return illegal;
      return s;
    }
    case Kind::kClose: {
      if (s.closed) {
        if (out.ok) return illegal;
        return s;
      }
      if (!out.ok) return illegal;
      State t = s;
      t.closed = true;
      return t;
    }
  }
  return illegal;
}

size_t QueueModel::hash(const State& s) const {
  size_t h = s.closed ? 0x51ED27u : 0x2545F491u;
  for (int v : s.items) {
    h = (h ^ static_cast<size_t>(static_cast<unsigned>(v))) * 0x100000001B3u;
  }
  return h ^ s.items.size();
}

std::string QueueModel::describe(const Input& in, const Output& out) const {
  const std::string flag = out.ok ? "true" : "false";
  switch (in.kind) {
    case Kind::kSend:
      return "send(" + std::to_string(in.value) + ") -> " + flag;
    case Kind::kTrySend:
      return "try_send(" + std::to_string(in.value) + ") -> " + flag;
    case Kind::kRecv:
      return "recv() -> " +
             (out.ok ? std::to_string(out.value) : std::string("closed"));
    case Kind::kTryRecv:
      return "try_recv() -> " +
             (out.ok ? std::to_string(out.value) : std::string("none"));
    case Kind::kClose:
      return std::string("close() -> ") + flag;
  }
  return "?";
}

}  // namespace contend::testing::lin
