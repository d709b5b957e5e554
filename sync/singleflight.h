// Copyright 2026 The contend Authors.
//
// Singleflight: duplicate-call suppression (golang.org/x/sync/singleflight).
// Concurrent calls for the same key share one execution of the function --
// the standard guard against a cache stampede.

#ifndef CONTEND_SYNC_SINGLEFLIGHT_H_
#define CONTEND_SYNC_SINGLEFLIGHT_H_

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sync/internal/atomic.h"
#include "sync/internal/parking_lot.h"
#include "sync/mutex.h"

namespace contend {

// A Singleflight<K, V> runs at most one call per key at a time and gives its
// result to every caller that asked for that key meanwhile.
//
// Model: a map from key to the in-flight call ("flight") for that key. A
// flight has a leader -- the caller that found no flight and created one --
// and followers, callers that found it and wait. A flight leaves the map
// when its function returns (or earlier, by forget()).
//
// Contract:
//  - call(key, fn): if a flight for key is in the map, waits for it and
//    returns its result; otherwise runs fn() on the calling thread (fn
//    returns something convertible to absl::StatusOr<V>) and returns that.
//    The flight's result is copied to each caller.
//  - `shared` (Go's rule): true when the result was given to more than one
//    caller. Every follower that receives the result gets shared == true; the
//    leader gets true iff at least one follower received it, decided when
//    the flight completes. A single uncontended call gets false.
//  - Exceptions: if fn throws, the exception reaches every caller of that
//    flight -- the leader and each follower rethrow the same exception object
//    (catch it by const reference). If allocating the flight throws
//    (std::bad_alloc), call() rethrows before running fn and the map is
//    unchanged: the next call for key starts a flight as usual.
//  - call(key, fn, stop): a follower leaves early when stop is requested,
//    returning CancelledError with shared == false; the flight goes on for the
//    others. If the flight completed first, the follower takes its result
//    instead. A leader runs fn itself and cannot leave early.
//  - forget(key): the next call for key starts a new flight even if the
//    current one is still running; callers of the current one still get its
//    result.
//  - Requires: fn does not call() the same key on the same Singleflight
//    (deadlock); the Singleflight outlives every call.
// Thread safety: all members may run concurrently.
// Memory ordering: the leader's fn (and the result's construction)
// happens-before the return of every follower that receives the result
// (release/acquire on the flight's word, and the ParkingLot's unpark).
// Misuse: none is detected; recursive calls for the same key deadlock.
// Cost: each call locks an internal contend::Mutex twice (lookup, completion)
// and the leader allocates one flight (a shared_ptr); followers park in the
// ParkingLot (WaitKind::kSingleflight) on the flight's word, without
// spinning -- fn is expected to be slow. V is copied once per caller.
//
// Example:
//   contend::Singleflight<std::string, Page> flights;
//   absl::StatusOr<Page> get_page(const std::string& url) {
//     if (auto hit = cache.find(url)) return *hit;
//     auto r = flights.call(url, [&] { return fetch_and_cache(url); });
//     return r.value;  // one fetch per URL, however many callers missed
//   }
template <class K, class V>
class Singleflight {
 public:
  struct Result {
    absl::StatusOr<V> value;
    bool shared = false;
  };

  Singleflight() = default;
  Singleflight(const Singleflight&) = delete;
  Singleflight& operator=(const Singleflight&) = delete;

  template <class F>
  Result call(const K& key, F&& fn) {
    return call_impl(key, std::forward<F>(fn), nullptr);
  }
  template <class F>
  Result call(const K& key, F&& fn, std::stop_token stop) {
    return call_impl(key, std::forward<F>(fn), &stop);
  }

  // Makes the next call for key start a new flight.
  void forget(const K& key) {
    MutexLock lock(mu_);
    flights_.erase(key);
  }

  // Diagnostics: callers attached to key's flight (leader included, early
  // leavers excluded); 0 when none is in flight. A snapshot.
  [[nodiscard]] int callers(const K& key) const {
    MutexLock lock(mu_);
    auto it = flights_.find(key);
    return it == flights_.end() ? 0 : it->second->callers;
  }

 private:
  // Flight word: kRunning -> (kWaiters) -> kDone. INV-SF-1: result/error are
  // written before the release exchange to kDone and never after.
  // INV-SF-2: every value in flights_ is a non-null flight.
  static constexpr uint32_t kRunning = 0;
  static constexpr uint32_t kWaiters = 1;
  static constexpr uint32_t kDone = 2;

  struct Flight {
    internal::Atomic<uint32_t> word{kRunning};
    std::optional<absl::StatusOr<V>> result;
    std::exception_ptr error;
    int callers = 1;  // guarded by the Singleflight's mu_
  };

  template <class F>
  Result call_impl(const K& key, F&& fn, const std::stop_token* stop) {
    std::shared_ptr<Flight> flight;
    bool leader = false;
    {
      MutexLock lock(mu_);
      auto it = flights_.find(key);
      if (it != flights_.end()) {
        flight = it->second;
        ++flight->callers;
      } else {
        // Allocate before inserting: if make_shared throws, the map must not
        // keep an entry with a null flight (INV-SF-2).
        flight = std::make_shared<Flight>();
        flights_.try_emplace(key, flight);
        leader = true;
      }
    }
    if (leader) return lead(key, *flight, std::forward<F>(fn));
    return follow(*flight, stop);
  }

  template <class F>
  Result lead(const K& key, Flight& flight, F&& fn) {
    try {
      flight.result.emplace(std::invoke(std::forward<F>(fn)));
    } catch (...) {
      flight.error = std::current_exception();
    }
    bool shared;
    uint32_t old;
    {
      MutexLock lock(mu_);
      auto it = flights_.find(key);
      if (it != flights_.end() && it->second.get() == &flight) {
        flights_.erase(it);
      }
      shared = flight.callers > 1;
      // Under mu_, so a follower leaving early sees either kDone (and takes
      // the result, keeping `shared` true) or not (and uncounts itself
      // before we read callers). Release: pairs with the acquire loads in
      // follow() (INV-SF-1).
      old = flight.word.exchange(kDone, std::memory_order_release);
    }
    if (old == kWaiters) internal::ParkingLot::unpark_all(&flight.word);
    if (flight.error) std::rethrow_exception(flight.error);
    return Result{*flight.result, shared};
  }

  Result follow(Flight& flight, const std::stop_token* stop) {
    internal::ParkOptions options;
    options.stop = stop;
    options.kind = internal::WaitKind::kSingleflight;
    // Acquire: pairs with the leader's release exchange (INV-SF-1).
    uint32_t w = flight.word.load(std::memory_order_acquire);
    while (w != kDone) {
      if (w == kRunning && !flight.word.compare_exchange_weak(
                               w, kWaiters, std::memory_order_acquire,
                               std::memory_order_acquire)) {
        continue;  // w reloaded
      }
      const internal::ParkResult r = internal::ParkingLot::park(
          &flight.word,
          [&] {
            // Relaxed: under the queue lock, which the leader's unpark_all
            // takes after its exchange.
            return flight.word.load(std::memory_order_relaxed) == kWaiters;
          },
          options);
      if (r.status == internal::ParkStatus::kCancelled) {
        MutexLock lock(mu_);
        // Relaxed: the leader writes kDone under mu_, which we hold.
        if (flight.word.load(std::memory_order_relaxed) != kDone) {
          --flight.callers;
          return Result{absl::CancelledError(
                            "contend: Singleflight::call: cancelled while "
                            "waiting for the in-flight call"),
                        false};
        }
      }
      // Acquire: as above.
      w = flight.word.load(std::memory_order_acquire);
    }
    if (flight.error) std::rethrow_exception(flight.error);
    return Result{*flight.result, true};
  }

  mutable Mutex mu_;
  absl::flat_hash_map<K, std::shared_ptr<Flight>> flights_ ABSL_GUARDED_BY(mu_);
};

}  // namespace contend

#endif  // CONTEND_SYNC_SINGLEFLIGHT_H_
