// Copyright 2026 The contend Authors.
//
// internal::FrozenHashTable<K, P, Eq>: a hash table that is filled once and
// then only read, laid out so that a hit usually reads one cache line.

#ifndef CONTEND_SHARD_INTERNAL_FROZEN_HASH_TABLE_H_
#define CONTEND_SHARD_INTERNAL_FROZEN_HASH_TABLE_H_

#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <tuple>
#include <utility>

namespace contend::internal {

// A FrozenHashTable maps keys to payloads. It is built by emplace() calls
// with distinct keys (at most the capacity the constructor was given) and is
// then read only, by any number of threads: ReadMostlyMap's copy-on-write
// shard index (shard/read_mostly_map.h), which a writer rebuilds whole.
//
// Layout: open addressing with linear probing over a power-of-two array of
// entries, each {tag, key, payload} in one cache-line-aligned block (the tag
// is the key's full hash, odd so that 0 means empty). The array is at most
// half full, so a hit is usually the entry at the hash's own position: one
// cache miss where a table with separate control bytes (absl's SwissTable)
// takes two, at the price of about twice the memory per key. No erase: a
// rebuild drops what it does not copy.
//
// Contract:
// - FrozenHashTable(n) reserves room for n keys; emplace(h, k, args...)
//   constructs the payload from args for key k with hash h. Requires: k is
//   not in the table yet, size() < n, and h is the hash find() will be given
//   for equal keys.
// - find(k, h) returns the entry of k, or nullptr.
// - Iteration visits every entry once, in position order; an iterator's
//   hash() may be given to emplace() in place of the key's hash.
//
// Thread safety: const members may run concurrently; emplace() is for the
// builder, before the table is shared.
//
// Cost: capacity = the next power of two >= 2n entries (at least 8; none
// for n = 0), each sizeof(K) + sizeof(P) + 8 bytes rounded up to a power of
// two (at most a cache line) or to a multiple of 64. find() is one probe
// run: 1.5 entries expected for a hit at the half-full worst case.
template <class K, class P, class Eq>
class FrozenHashTable {
 public:
  using value_type = std::pair<const K, P>;

 private:
  static constexpr std::size_t kRaw = sizeof(uint64_t) + sizeof(value_type);
  static constexpr std::size_t kAlign =
      kRaw <= 64 ? std::bit_ceil(kRaw) : std::size_t{64};

  struct alignas(kAlign > alignof(value_type) ? kAlign
                                              : alignof(value_type)) Entry {
    Entry() noexcept {}
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;
    ~Entry() {
      if (tag != 0) kv.~value_type();
    }
    uint64_t tag = 0;  // 0: empty; else the key's hash with bit 0 set
    union {
      value_type kv;
    };
  };

 public:
  class const_iterator {
   public:
    const value_type& operator*() const noexcept { return e_->kv; }
    const value_type* operator->() const noexcept { return &e_->kv; }
    // What emplace() takes as the hash, to copy the entry into a new table
    // without hashing its key again.
    std::size_t hash() const noexcept {
      return static_cast<std::size_t>(e_->tag);
    }
    const_iterator& operator++() noexcept {
      ++e_;
      skip();
      return *this;
    }
    friend bool operator==(const const_iterator& a,
                           const const_iterator& b) noexcept {
      return a.e_ == b.e_;
    }

   private:
    friend class FrozenHashTable;
    const_iterator(const Entry* e, const Entry* end) noexcept
        : e_(e), end_(end) {
      skip();
    }
    void skip() noexcept {
      while (e_ != end_ && e_->tag == 0) ++e_;
    }
    const Entry* e_;
    const Entry* end_;
  };

  // An empty table allocates nothing.
  FrozenHashTable() noexcept = default;
  explicit FrozenHashTable(std::size_t n)
      : mask_(n == 0 ? 0 : std::bit_ceil(n < 4 ? std::size_t{8} : 2 * n) - 1),
        entries_(n == 0 ? nullptr : new Entry[mask_ + 1]) {}
  FrozenHashTable(FrozenHashTable&&) noexcept = default;
  FrozenHashTable& operator=(FrozenHashTable&&) noexcept = default;

  template <class... A>
  void emplace(std::size_t h, const K& k, A&&... a) {
    assert(entries_ != nullptr && size_ < (mask_ + 1) / 2);
    const uint64_t tag = static_cast<uint64_t>(h) | 1;
    std::size_t i = position(tag);
    while (entries_[i].tag != 0) i = (i + 1) & mask_;
    Entry& e = entries_[i];
    new (&e.kv) value_type(std::piecewise_construct, std::forward_as_tuple(k),
                           std::forward_as_tuple(std::forward<A>(a)...));
    e.tag = tag;  // only once constructed: a throwing copy leaves it empty
    ++size_;
  }

  [[nodiscard]] const value_type* find(const K& k,
                                       std::size_t h) const noexcept {
    if (entries_ == nullptr) return nullptr;
    const uint64_t tag = static_cast<uint64_t>(h) | 1;
    for (std::size_t i = position(tag);; i = (i + 1) & mask_) {
      const Entry& e = entries_[i];
      if (e.tag == 0) return nullptr;
      if (e.tag == tag && Eq{}(e.kv.first, k)) return &e.kv;
    }
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  const_iterator begin() const noexcept {
    return const_iterator(entries_.get(), limit());
  }
  const_iterator end() const noexcept {
    return const_iterator(limit(), limit());
  }

 private:
  // Bit 0 of a tag is always set: the position comes from the bits above.
  std::size_t position(uint64_t tag) const noexcept {
    return static_cast<std::size_t>(tag >> 1) & mask_;
  }

  const Entry* limit() const noexcept {
    return entries_ == nullptr ? nullptr : entries_.get() + mask_ + 1;
  }

  std::size_t mask_ = 0;
  std::unique_ptr<Entry[]> entries_;
  std::size_t size_ = 0;
};

}  // namespace contend::internal

#endif  // CONTEND_SHARD_INTERNAL_FROZEN_HASH_TABLE_H_
