// Copyright 2026 The contend Authors.

#include "bench/lab/registry.h"

#include <algorithm>
#include <utility>

namespace contend::lab {

Registry& Registry::global() {
  // Never destroyed: static initializers of other files may register after
  // this one is constructed and before main, and lookups may happen during
  // static destruction.
  static Registry* const registry = new Registry();
  return *registry;
}

bool Registry::add(Primitive p) {
  if (p.name.empty() || p.run == nullptr) return false;
  std::lock_guard<std::mutex> guard(mu_);
  for (const Primitive& q : primitives_) {
    if (q.name == p.name) return false;
  }
  primitives_.push_back(std::move(p));
  return true;
}

std::optional<Primitive> Registry::find(std::string_view name) const {
  std::lock_guard<std::mutex> guard(mu_);
  for (const Primitive& p : primitives_) {
    if (p.name == name) return p;
  }
  return std::nullopt;
}

std::vector<Primitive> Registry::list() const {
  std::vector<Primitive> out;
  {
    std::lock_guard<std::mutex> guard(mu_);
    out = primitives_;
  }
  std::sort(out.begin(), out.end(), [](const Primitive& a, const Primitive& b) {
    return a.name < b.name;
  });
  return out;
}

}  // namespace contend::lab
