// Copyright 2026 The contend Authors.
//
// The registry of lab primitives: every module adds a workload for each
// primitive it ships, and the lab engine, its CLI and Python find them by name.

#ifndef CONTEND_BENCH_LAB_REGISTRY_H_
#define CONTEND_BENCH_LAB_REGISTRY_H_

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/lab/workload.h"

namespace contend::lab {

// Passed to a primitive's run function by the engine.
struct RunControl {
  // Set by another thread to stop the run early (Ctrl-C in Python); the run
  // returns what it measured so far with Result::cancelled = true. May be
  // null. Loaded with acquire; pairs with the canceller's release store.
  const std::atomic<bool>* cancel = nullptr;
};

// Runs a validated workload on one primitive. Fills every Result field except
// workload, display_name and the profiles (the engine sets those).
using RunFn = Result (*)(const Workload&, const RunControl&);

// One registered primitive.
struct Primitive {
  std::string name;              // registry key, lower_snake: "rwmutex"
  std::string display_name;      // "contend::RWMutex"
  std::string description;       // one line for `lab --list` and the report
  bool has_shared_mode = false;  // false: shared ops run exclusively
  RunFn run = nullptr;
};

// The process-wide registry of primitives.
//
// Thread safety: every member may be called concurrently (an internal
// std::mutex; registration is rare and never on a measured path).
// Registration normally happens in static initializers (CONTEND_LAB_REGISTER).
class Registry {
 public:
  static Registry& global();

  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Adds p. Returns false and changes nothing if the name is taken or p is
  // incomplete (empty name or null run).
  bool add(Primitive p);
  // The primitive registered as `name`, if any.
  std::optional<Primitive> find(std::string_view name) const;
  // Every primitive, sorted by name.
  std::vector<Primitive> list() const;

 private:
  Registry() = default;
  mutable std::mutex mu_;
  std::vector<Primitive> primitives_;  // guarded by mu_
};

}  // namespace contend::lab

// Registers a primitive from a static initializer in a .cc file; `id` is any
// identifier unique in that file. The cc_library holding the file needs
// `alwayslink = True`, or the linker drops the unreferenced object file.
//   CONTEND_LAB_REGISTER(mutex, "mutex", "contend::Mutex", "Go's sync.Mutex",
//                        false, &run_mutex);
#define CONTEND_LAB_REGISTER(id, ...)                              \
  [[maybe_unused]] static const bool contend_lab_registered_##id = \
      ::contend::lab::Registry::global().add(                      \
          ::contend::lab::Primitive{__VA_ARGS__})

#endif  // CONTEND_BENCH_LAB_REGISTRY_H_
