// Copyright 2026 The contend Authors.

#include "tests/testing/wait_counter.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "sync/internal/wait_observer.h"

namespace contend::testing {
namespace {

constexpr int kKinds = static_cast<int>(internal::WaitKind::kOther) + 1;
constexpr int kStatuses =
    static_cast<int>(internal::ParkStatus::kCancelled) + 1;

// The observer is a pair of plain function pointers, so its state is global.
std::atomic<bool> g_active{false};
std::atomic<const void*> g_only_key{nullptr};
std::atomic<int> g_ended[kKinds][kStatuses];
std::atomic<int> g_releases[kKinds];
std::atomic<int64_t> g_last_delay[kKinds];
std::atomic<const void*> g_last_key[kKinds];

bool wanted(const void* key) {
  const void* only = g_only_key.load();
  return only == nullptr || only == key;
}

void on_wait_end(const internal::WaitEvent& e) {
  if (!wanted(e.key)) return;
  g_ended[static_cast<int>(e.kind)][static_cast<int>(e.status)].fetch_add(1);
}

void on_release(const internal::ReleaseEvent& e) {
  if (!wanted(e.key)) return;
  const int k = static_cast<int>(e.kind);
  g_last_delay[k].store(e.delay_ns);
  g_last_key[k].store(e.key);
  g_releases[k].fetch_add(1);
}

const internal::WaitObserver kCounter{&on_wait_end, &on_release};

}  // namespace

WaitCounter::WaitCounter(const void* only_key)
    : previous_(internal::wait_observer()) {
  if (g_active.exchange(true)) {
    std::fprintf(stderr, "WaitCounter: two at once\n");
    std::abort();
  }
  for (auto& row : g_ended) {
    for (auto& c : row) c.store(0);
  }
  for (int k = 0; k < kKinds; ++k) {
    g_releases[k].store(0);
    g_last_delay[k].store(0);
    g_last_key[k].store(nullptr);
  }
  g_only_key.store(only_key);
  internal::set_wait_observer(&kCounter);
}

WaitCounter::~WaitCounter() {
  internal::set_wait_observer(previous_);
  g_active.store(false);
}

int WaitCounter::ended(internal::WaitKind kind,
                       internal::ParkStatus status) const {
  return g_ended[static_cast<int>(kind)][static_cast<int>(status)].load();
}

int WaitCounter::ended(internal::WaitKind kind) const {
  int n = 0;
  for (const auto& c : g_ended[static_cast<int>(kind)]) n += c.load();
  return n;
}

int WaitCounter::releases(internal::WaitKind kind) const {
  return g_releases[static_cast<int>(kind)].load();
}

int64_t WaitCounter::last_release_delay_ns(internal::WaitKind kind) const {
  return g_last_delay[static_cast<int>(kind)].load();
}

const void* WaitCounter::last_release_key(internal::WaitKind kind) const {
  return g_last_key[static_cast<int>(kind)].load();
}

}  // namespace contend::testing
