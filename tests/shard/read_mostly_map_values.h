// Copyright 2026 The contend Authors.
//
// Value types for ReadMostlyMap's tests, one per value storage the map picks
// at compile time (ReadMostlyMap<K, V>::kInlineValues):
// - int, int64_t and TwoWords are stored inline in the index slot (one word
//   and two words: the single-buffer and the double-buffered protocol);
// - Boxed<T> wraps a T behind a user-provided copy constructor, so it is not
//   trivially copyable and the map keeps it in its own hazard-protected node.
// ValueCodec<V> turns an int64_t into a V and back, so one test body can run
// against every storage; ValueTypeName names the storage in typed tests'
// names. This header does not include the map (the dsched
// scenarios build against its _dsched twin): each test asserts the storage
// it expects with `static_assert(ReadMostlyMap<int, V>::kInlineValues)`.

#ifndef CONTEND_TESTS_SHARD_READ_MOSTLY_MAP_VALUES_H_
#define CONTEND_TESTS_SHARD_READ_MOSTLY_MAP_VALUES_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <type_traits>

namespace contend::testing {

// A T the map must box: the copy constructor is user-provided, which makes
// the type not trivially copyable. Converts implicitly from T so that test
// bodies can write `m.store(k, 5)` and `*v == 5` for every value type.
template <class T>
struct Boxed {
  Boxed(T x) : v(x) {}  // NOLINT(google-explicit-constructor)
  Boxed(const Boxed& o) noexcept : v(o.v) {}
  Boxed& operator=(const Boxed&) = default;
  friend bool operator==(const Boxed&, const Boxed&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Boxed& b) {
    return os << "Boxed(" << b.v << ")";
  }
  T v;
};
static_assert(!std::is_trivially_copyable_v<Boxed<int>>);

// A two-word inline value. The tests store {x, ~x}: a read that mixes the
// words of two stores breaks b == ~a.
struct TwoWords {
  int64_t a;
  int64_t b;
  friend bool operator==(const TwoWords&, const TwoWords&) = default;
  friend std::ostream& operator<<(std::ostream& os, const TwoWords& w) {
    return os << "{" << w.a << ", " << w.b << "}";
  }
};
static_assert(std::is_trivially_copyable_v<TwoWords> && sizeof(TwoWords) == 16);

// make(x): the V a test stores for x. get(v): the x it was made from, or
// kTorn if v is no value make() returns (a torn TwoWords).
template <class V>
struct ValueCodec;

inline constexpr int64_t kTorn = std::numeric_limits<int64_t>::min();

template <>
struct ValueCodec<int> {
  static constexpr const char* kName = "InlineInt";
  static int make(int64_t x) { return static_cast<int>(x); }
  static int64_t get(int v) { return v; }
};

template <>
struct ValueCodec<int64_t> {
  static constexpr const char* kName = "InlineInt64";
  static int64_t make(int64_t x) { return x; }
  static int64_t get(int64_t v) { return v; }
};

template <class T>
struct ValueCodec<Boxed<T>> {
  static constexpr const char* kName = "Boxed";
  static Boxed<T> make(int64_t x) { return Boxed<T>(static_cast<T>(x)); }
  static int64_t get(const Boxed<T>& v) { return static_cast<int64_t>(v.v); }
};

template <>
struct ValueCodec<TwoWords> {
  static constexpr const char* kName = "InlineTwoWords";
  static TwoWords make(int64_t x) { return TwoWords{x, ~x}; }
  static int64_t get(const TwoWords& v) { return v.b == ~v.a ? v.a : kTorn; }
};

// gtest's name generator for typed tests over value types
// (TYPED_TEST_SUITE(Suite, Types, ValueTypeName)).
struct ValueTypeName {
  template <class V>
  static std::string GetName(int) {
    return ValueCodec<V>::kName;
  }
};

// Every key in one shard: an insert of one key copies the index that holds
// the others (dropping their deleted slots or expunging their deleted
// cells), so writes and loads of those keys race the re-index.
struct OneShardHash {
  std::size_t operator()(int) const { return 0; }
};

}  // namespace contend::testing

#endif  // CONTEND_TESTS_SHARD_READ_MOSTLY_MAP_VALUES_H_
