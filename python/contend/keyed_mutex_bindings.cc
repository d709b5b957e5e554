// Copyright 2026 The contend Authors.
//
// contend._native: KeyedMutex (shard/keyed_mutex.h) for hashable Python keys.
//
// The C++ KeyedMutex is keyed by the key's Python hash (a uint64): hashing
// is done with the GIL held, and everything after it -- the entry table, the
// wait -- runs without the GIL and without calling back into Python. Two
// distinct keys with equal hashes therefore share one lock: they may exclude
// each other, never unsafe, exactly as keys beyond max_entries share stripes
// (the C++ contract). hash() of ints and strings makes that rare (CPython:
// hash(-1) == hash(-2)).
//
// Waiting follows blocking.h (one GIL-released wait off the main thread;
// Ctrl-C-interruptible on the main thread through the stop_token form), and,
// as in sync_bindings.cc, misuse that C++ would turn into an abort or a
// deadlock raises RuntimeError first: GIL-guarded bookkeeping of which
// thread holds which hash (a re-lock by the holder, a release by another
// thread or of a key not held). lock_many waits in one C++ call (no timed or
// cancellable form), so on the main thread it is not interruptible.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "python/contend/bindings.h"
#include "shard/keyed_mutex.h"

namespace contend::python {
namespace {

namespace py = pybind11;
using std::chrono::nanoseconds;
using Keyed = KeyedMutex<uint64_t>;

[[noreturn]] void misuse(const std::string& what) {
  throw std::runtime_error("contend: KeyedMutex." + what);
}

uint64_t key_hash(const py::handle& key) {
  return static_cast<uint64_t>(py::hash(key));
}

struct PyKeyedMutex;

// A held key (or keys): released by release(), by leaving the `with` block,
// or when garbage-collected.
struct PyKeyGuard {
  PyKeyGuard(PyKeyedMutex* owner, Keyed::Guard g, std::vector<uint64_t> h);
  PyKeyGuard(const PyKeyGuard&) = delete;
  PyKeyGuard& operator=(const PyKeyGuard&) = delete;
  ~PyKeyGuard() { release_quietly(); }
  void release();
  void release_quietly();
  bool active() const { return guard.owns_lock(); }

  PyKeyedMutex* owner;
  Keyed::Guard guard;
  std::vector<uint64_t> hashes;
  std::thread::id thread;
};

struct PyKeyedMutex {
  PyKeyedMutex(size_t max_entries, size_t stripes)
      : km(Keyed::Options{.max_entries = max_entries, .stripes = stripes}) {}

  static std::thread::id me() { return std::this_thread::get_id(); }

  // GIL-guarded: the hashes each thread holds (through guards or acquire).
  bool holds(std::thread::id t, uint64_t h) const {
    auto it = held.find(t);
    return it != held.end() && std::find(it->second.begin(), it->second.end(),
                                         h) != it->second.end();
  }
  void note(const std::vector<uint64_t>& hashes) {
    auto& mine = held[me()];
    mine.insert(mine.end(), hashes.begin(), hashes.end());
  }
  void forget(std::thread::id t, const std::vector<uint64_t>& hashes) {
    auto& list = held[t];
    for (uint64_t h : hashes) {
      auto it = std::find(list.begin(), list.end(), h);
      if (it != list.end()) list.erase(it);
    }
    if (list.empty()) held.erase(t);
  }
  void check_free(uint64_t h, const char* method) const {
    if (holds(me(), h)) {
      misuse(std::string(method) +
             ": the calling thread already holds this key's lock (or one of "
             "a key with the same hash)");
    }
  }

  // Waits for h (blocking.h); an empty guard on timeout.
  Keyed::Guard wait_for(uint64_t h, std::optional<double> timeout_s) {
    Keyed::Guard g = km.try_lock(h);
    if (g || (timeout_s.has_value() && *timeout_s <= 0)) return g;
    acquire_interruptibly(
        timeout_s, [&] { g = km.lock(h); },
        [&](nanoseconds d) {
          g = km.try_lock_for(h, d);
          return g.owns_lock();
        },
        [&](std::stop_token st) {
          g = km.lock(h, st);
          return g.owns_lock();
        },
        [&] { g.unlock(); });
    return g;
  }

  std::unique_ptr<PyKeyGuard> lock(const py::handle& key,
                                   std::optional<double> timeout_s) {
    const uint64_t h = key_hash(key);
    check_free(h, "lock");
    Keyed::Guard g = wait_for(h, timeout_s);
    if (!g) return nullptr;
    return std::make_unique<PyKeyGuard>(this, std::move(g),
                                        std::vector<uint64_t>{h});
  }

  std::unique_ptr<PyKeyGuard> lock_many(const py::iterable& keys) {
    std::vector<uint64_t> hashes;
    for (const py::handle k : keys) hashes.push_back(key_hash(k));
    std::sort(hashes.begin(), hashes.end());
    hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
    for (uint64_t h : hashes) check_free(h, "lock_many");
    Keyed::Guard g = without_gil(
        [&] { return km.lock_many(std::span<const uint64_t>(hashes)); });
    return std::make_unique<PyKeyGuard>(this, std::move(g), std::move(hashes));
  }

  // threading-style: acquire(key, blocking=True, timeout=-1) -> bool.
  bool acquire(const py::handle& key, bool blocking, double timeout) {
    if (!blocking && timeout != -1) {
      throw py::value_error("can't specify a timeout for a non-blocking call");
    }
    if (timeout < 0 && timeout != -1) {
      throw py::value_error("timeout value must be a non-negative number");
    }
    std::optional<double> t;
    if (!blocking) {
      t = 0.0;
    } else if (timeout >= 0) {
      t = timeout;
    }
    std::unique_ptr<PyKeyGuard> g = lock(key, t);
    if (g == nullptr) return false;
    acquired.emplace(std::make_pair(me(), g->hashes[0]), std::move(g));
    return true;
  }

  void release(const py::handle& key) {
    auto it = acquired.find({me(), key_hash(key)});
    if (it == acquired.end()) {
      misuse("release: the calling thread did not acquire this key");
    }
    std::unique_ptr<PyKeyGuard> g = std::move(it->second);
    acquired.erase(it);
    g->release();
  }

  Keyed km;
  std::map<std::thread::id, std::vector<uint64_t>> held;  // GIL-guarded
  // Keys taken with acquire(), for release(key). GIL-guarded.
  std::map<std::pair<std::thread::id, uint64_t>, std::unique_ptr<PyKeyGuard>>
      acquired;
};

PyKeyGuard::PyKeyGuard(PyKeyedMutex* o, Keyed::Guard g, std::vector<uint64_t> h)
    : owner(o),
      guard(std::move(g)),
      hashes(std::move(h)),
      thread(PyKeyedMutex::me()) {
  owner->note(hashes);
}

void PyKeyGuard::release() {
  if (!guard.owns_lock()) return;
  if (thread != PyKeyedMutex::me()) {
    misuse("release: the guard was acquired by another thread");
  }
  release_quietly();
}

void PyKeyGuard::release_quietly() {
  if (!guard.owns_lock()) return;
  owner->forget(thread, hashes);
  guard.unlock();  // the table lock only: brief, never waits for a key
}

}  // namespace

void bind_keyed_mutex(py::module_& m) {
  py::class_<PyKeyGuard>(m, "KeyGuard")
      .def("release", &PyKeyGuard::release, kProfiled)
      .def("active", &PyKeyGuard::active);
  py::class_<PyKeyedMutex>(m, "KeyedMutex")
      .def(py::init<size_t, size_t>(), py::arg("max_entries"),
           py::arg("stripes"))
      .def("lock", &PyKeyedMutex::lock, py::arg("key"), py::arg("timeout"),
           py::keep_alive<0, 1>(),  // a guard keeps its KeyedMutex alive
           kProfiled)
      .def("lock_many", &PyKeyedMutex::lock_many, py::arg("keys"),
           py::keep_alive<0, 1>(), kProfiled)
      .def("acquire", &PyKeyedMutex::acquire, py::arg("key"),
           py::arg("blocking"), py::arg("timeout"), kProfiled)
      .def("release", &PyKeyedMutex::release, py::arg("key"), kProfiled)
      .def("entries", [](const PyKeyedMutex& k) { return k.km.entries(); });
}

}  // namespace contend::python
