// Copyright 2026 The contend Authors.
//
// A real redis-server for tests: started by the test on a free loopback port
// with no persistence, in its own temporary directory; killed (fault
// injection) and restarted on the same port; stopped by the destructor.

#ifndef CONTEND_TESTS_POOL_REDIS_SERVER_H_
#define CONTEND_TESTS_POOL_REDIS_SERVER_H_

#include <sys/types.h>

#include <string>

namespace contend::testing {

class RedisServer {
 public:
  // Path of redis-server, or "" if it is not installed.
  static std::string binary();

  RedisServer();   // picks a free port; does not start the server
  ~RedisServer();  // stops it
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts the server (on port()) and waits until it answers PING. Returns
  // false with a message in *error if it did not come up.
  bool start(std::string* error);
  // SIGKILL, reaped: the outage begins when this returns.
  void kill();
  // SIGTERM and reap.
  void stop();

  int port() const { return port_; }
  bool running() const { return pid_ > 0; }

 private:
  int port_;
  std::string dir_;
  pid_t pid_ = -1;
};

}  // namespace contend::testing

#endif  // CONTEND_TESTS_POOL_REDIS_SERVER_H_
