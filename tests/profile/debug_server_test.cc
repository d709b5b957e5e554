// Copyright 2026 The contend Authors.
//
// The /debug/pprof endpoint: served on an ephemeral loopback port, fetched
// with a plain HTTP client and with `go tool pprof http://...` (skipped with
// a message where Go is not installed).

#include "profile/debug_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "profile/profile.h"
#include "tests/profile/contention_workload.h"
#include "tests/profile/pprof_decoder.h"
#include "tests/profile/test_tools.h"

namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct HttpResponse {
  int status = 0;  // 0: could not connect
  std::string headers;
  std::string body;
};

// HTTP/1.0 GET against 127.0.0.1:port (the server closes after replying).
HttpResponse Get(int port, const std::string& target) {
  HttpResponse r;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return r;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return r;
  }
  const std::string request =
      "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (send(fd, request.data(), request.size(), 0) !=
      static_cast<ssize_t>(request.size())) {
    close(fd);
    return r;
  }
  std::string raw;
  char buf[8192];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
    raw.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  const size_t split = raw.find("\r\n\r\n");
  if (split == std::string::npos) return r;
  r.headers = raw.substr(0, split);
  r.body = raw.substr(split + 4);
  if (r.headers.size() > 12) r.status = std::atoi(r.headers.c_str() + 9);
  return r;
}

class DebugServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    contend::profile::set_mutex_profile_fraction(1);
    contend::profile::set_block_profile_rate(1);
    contend::profile::reset();
    profile_testing::RunContention(10, std::chrono::microseconds(2000), 2);
  }
  void TearDown() override {
    contend::profile::set_mutex_profile_fraction(0);
    contend::profile::set_block_profile_rate(0);
    contend::profile::reset();
  }
};

TEST_F(DebugServerTest, ServesProfilesOnEphemeralLoopbackPort) {
  absl::StatusOr<contend::profile::DebugServer> server =
      contend::profile::serve_debug(0);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = server->port();
  ASSERT_GT(port, 0);

  const HttpResponse text = Get(port, "/debug/pprof/mutex?debug=1");
  EXPECT_EQ(text.status, 200) << text.headers;
  EXPECT_THAT(text.headers, HasSubstr("text/plain"));
  EXPECT_THAT(text.body, StartsWith("--- mutex:\n"));
  EXPECT_THAT(text.body, HasSubstr("HoldLockLong"));

  const HttpResponse block_text = Get(port, "/debug/pprof/block?debug=1");
  EXPECT_EQ(block_text.status, 200);
  EXPECT_THAT(block_text.body, StartsWith("--- contention:\n"));
  EXPECT_THAT(block_text.body, HasSubstr("WaitForLock"));

  const HttpResponse proto = Get(port, "/debug/pprof/mutex");
  EXPECT_EQ(proto.status, 200);
  profile_testing::DecodedProfile p;
  std::string error;
  ASSERT_TRUE(profile_testing::DecodeProfile(proto.body, &p, &error)) << error;
  EXPECT_FALSE(p.samples.empty());

  const HttpResponse trace = Get(port, "/debug/pprof/trace");
  EXPECT_EQ(trace.status, 200);
  EXPECT_THAT(trace.headers, HasSubstr("application/json"));
  EXPECT_THAT(trace.body, StartsWith("{\"displayTimeUnit\""));

  const HttpResponse report = Get(port, "/debug/pprof/report");
  EXPECT_THAT(report.body, HasSubstr("--- analysis:"));

  const HttpResponse index = Get(port, "/debug/pprof/");
  EXPECT_EQ(index.status, 200);
  EXPECT_THAT(index.body, HasSubstr("mutex"));

  EXPECT_EQ(Get(port, "/debug/pprof/nonexistent").status, 404);

  server->stop();
  EXPECT_EQ(Get(port, "/debug/pprof/mutex").status, 0)
      << "still serving after stop()";
  server->stop();  // idempotent
}

TEST_F(DebugServerTest, TraceWithSecondsRecordsAFreshTimeline) {
  absl::StatusOr<contend::profile::DebugServer> server =
      contend::profile::serve_debug(0);
  ASSERT_TRUE(server.ok()) << server.status();
  const HttpResponse trace =
      Get(server->port(), "/debug/pprof/trace?seconds=1");
  EXPECT_EQ(trace.status, 200);
  EXPECT_THAT(trace.body, HasSubstr("\"running\":false"));
}

TEST_F(DebugServerTest, PortInUseIsAnErrorAndMoveTransfersOwnership) {
  absl::StatusOr<contend::profile::DebugServer> first =
      contend::profile::serve_debug(0);
  ASSERT_TRUE(first.ok()) << first.status();
  const int port = first->port();
  absl::StatusOr<contend::profile::DebugServer> second =
      contend::profile::serve_debug(port);
  EXPECT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(contend::profile::serve_debug(70000).ok());

  contend::profile::DebugServer moved = *std::move(first);
  EXPECT_EQ(moved.port(), port);
  EXPECT_EQ(Get(port, "/debug/pprof/").status, 200);
  {
    contend::profile::DebugServer sink = std::move(moved);
    EXPECT_EQ(sink.port(), port);
  }  // destructor stops it
  EXPECT_EQ(Get(port, "/debug/pprof/").status, 0);
}

TEST_F(DebugServerTest, GoToolPprofReadsTheEndpoint) {
  const std::string go = profile_testing::FindGo();
  if (go.empty()) {
    GTEST_SKIP() << "go not found (/usr/bin/go or $PATH): install Debian's "
                    "golang-go (tools/setup) to run go tool pprof against "
                    "the endpoint";
  }
  absl::StatusOr<contend::profile::DebugServer> server =
      contend::profile::serve_debug(0);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string url = "http://127.0.0.1:" + std::to_string(server->port()) +
                          "/debug/pprof/mutex";
  std::string out;
  const int rc = profile_testing::RunCommand(
      profile_testing::GoEnvPrefix() + go + " tool pprof -raw " + url, &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_THAT(out, HasSubstr("contentions/count delay/nanoseconds"));
  EXPECT_THAT(out, HasSubstr("HoldLockLong"));
  const int rc_top = profile_testing::RunCommand(
      profile_testing::GoEnvPrefix() + go + " tool pprof -top " + url, &out);
  EXPECT_EQ(rc_top, 0) << out;
  EXPECT_THAT(out, HasSubstr("contend::Mutex::"));
}

}  // namespace
