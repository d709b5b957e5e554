// Copyright 2026 The contend Authors.
//
// The Redis adapter for ResourcePool tests and benchmarks: a hiredis
// connection as a pooled resource. Lives with the tests (pool/ stays
// generic).

#ifndef CONTEND_TESTS_POOL_REDIS_CONN_H_
#define CONTEND_TESTS_POOL_REDIS_CONN_H_

#include <sys/time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hiredis/hiredis.h"
#include "pool/resource_pool.h"

namespace contend::testing {

class RedisConn {
 public:
  using Clock = std::chrono::steady_clock;

  // Connects to 127.0.0.1:port before `deadline`; commands time out after
  // `command_timeout` (so a dead server means an error, never a hang).
  static absl::StatusOr<RedisConn> dial(
      int port, Clock::time_point deadline,
      std::chrono::milliseconds command_timeout =
          std::chrono::milliseconds(500)) {
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(
        deadline - Clock::now());
    if (left.count() <= 0) left = std::chrono::microseconds(1);
    timeval tv{static_cast<time_t>(left.count() / 1'000'000),
               static_cast<suseconds_t>(left.count() % 1'000'000)};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (c == nullptr) return absl::ResourceExhaustedError("redis: no context");
    if (c->err != 0) {
      absl::Status s =
          absl::UnavailableError(std::string("redis: ") + c->errstr);
      redisFree(c);
      return s;
    }
    const auto ms = command_timeout.count();
    timeval ct{static_cast<time_t>(ms / 1000),
               static_cast<suseconds_t>((ms % 1000) * 1000)};
    redisSetTimeout(c, ct);
    return RedisConn(c);
  }

  RedisConn(RedisConn&&) noexcept = default;
  RedisConn& operator=(RedisConn&&) noexcept = default;

  // A unique id per connection made by this process, increasing.
  uint64_t id() const { return id_; }
  // Every connection made after this call has an id above its result.
  static uint64_t last_id() {
    return counter().load(std::memory_order_relaxed);
  }

  // Runs a command with an integer reply (INCR); false on any error.
  bool integer(const char* cmd, long long* out) {
    auto* r = static_cast<redisReply*>(redisCommand(ctx_.get(), cmd));
    bool ok = r != nullptr && r->type == REDIS_REPLY_INTEGER;
    if (ok) *out = r->integer;
    if (r != nullptr) freeReplyObject(r);
    return ok;
  }
  // PING; false on any error.
  bool ping() {
    auto* r = static_cast<redisReply*>(redisCommand(ctx_.get(), "PING"));
    bool ok = r != nullptr && r->type == REDIS_REPLY_STATUS;
    if (r != nullptr) freeReplyObject(r);
    return ok;
  }
  // A bulk-string reply (GET, CLIENT LIST); false on any error.
  bool string(const char* cmd, std::string* out) {
    auto* r = static_cast<redisReply*>(redisCommand(ctx_.get(), cmd));
    bool ok = r != nullptr && r->type == REDIS_REPLY_STRING;
    if (ok) out->assign(r->str, r->len);
    if (r != nullptr) freeReplyObject(r);
    return ok;
  }

 private:
  struct Free {
    void operator()(redisContext* c) const { redisFree(c); }
  };
  explicit RedisConn(redisContext* c) : ctx_(c), id_(next_id()) {}
  static std::atomic<uint64_t>& counter() {
    static std::atomic<uint64_t> n{0};
    return n;
  }
  // Relaxed: ids only need to be unique and increasing per connection.
  static uint64_t next_id() {
    return counter().fetch_add(1, std::memory_order_relaxed) + 1;
  }
  std::unique_ptr<redisContext, Free> ctx_;
  uint64_t id_;
};

// A ResourcePool of Redis connections to `port`, health-checked by PING.
inline ResourcePool<RedisConn>::Options redis_pool_options(int port,
                                                           int max_open) {
  ResourcePool<RedisConn>::Options o;
  o.create = [port](RedisConn::Clock::time_point deadline) {
    return RedisConn::dial(port, deadline);
  };
  o.health_check = [](RedisConn& c) { return c.ping(); };
  o.max_open = max_open;
  o.create_timeout = std::chrono::milliseconds(500);
  o.label = "tests.redis";
  return o;
}

}  // namespace contend::testing

#endif  // CONTEND_TESTS_POOL_REDIS_CONN_H_
