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

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "profile/hooks.h"
#include "profile/profile.h"
#include "sync/internal/wait_observer.h"
#include "sync/mutex.h"
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

std::string MutexUrl(int port) {
  return "http://127.0.0.1:" + std::to_string(port) + "/debug/pprof/mutex";
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
  if (profile_testing::kNoFunctionNames) {
    GTEST_SKIP() << profile_testing::kNoFunctionNamesWhy;
  }
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
  if (profile_testing::kNoFunctionNames) {
    GTEST_SKIP() << profile_testing::kNoFunctionNamesWhy;
  }
  const std::string go = profile_testing::FindGo();
  if (go.empty()) {
    GTEST_SKIP() << "missing tool: go (/usr/bin/go or $PATH): install "
                    "Debian's golang-go (tools/setup) to run go tool pprof "
                    "against the endpoint";
  }
  absl::StatusOr<contend::profile::DebugServer> server =
      contend::profile::serve_debug(0);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string url = MutexUrl(server->port());
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

// Go's /debug/pprof/symbol: pprof falls back to it for mappings without
// has_functions, and fails the whole fetch if it is missing.
TEST_F(DebugServerTest, ServesGoSymbolProtocol) {
  if (profile_testing::kNoFunctionNames) {
    GTEST_SKIP() << profile_testing::kNoFunctionNamesWhy;
  }
  absl::StatusOr<contend::profile::DebugServer> server =
      contend::profile::serve_debug(0);
  ASSERT_TRUE(server.ok()) << server.status();
  const HttpResponse probe = Get(server->port(), "/debug/pprof/symbol");
  EXPECT_EQ(probe.status, 200);
  EXPECT_EQ(probe.body, "num_symbols: 1\n");
  char query[64];
  const auto address =
      reinterpret_cast<uintptr_t>(&profile_testing::HoldLockLong) + 4;
  std::snprintf(query, sizeof(query), "?%#llx+0x1+junk",
                static_cast<unsigned long long>(address));
  const HttpResponse names =
      Get(server->port(), std::string("/debug/pprof/symbol") + query);
  EXPECT_EQ(names.status, 200);
  EXPECT_THAT(names.body, StartsWith("num_symbols: 1\n"));
  char expected[96];
  std::snprintf(expected, sizeof(expected),
                "%#llx profile_testing::HoldLockLong(",
                static_cast<unsigned long long>(address));
  EXPECT_THAT(names.body, HasSubstr(expected)) << names.body;
  EXPECT_THAT(names.body, ::testing::Not(HasSubstr("0x1 "))) << names.body;
}

TEST_F(DebugServerTest, BadSecondsIsA400WithAMessage) {
  absl::StatusOr<contend::profile::DebugServer> server =
      contend::profile::serve_debug(0);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = server->port();
  for (const char* route : {"mutex", "block", "trace"}) {
    const std::string max = std::string(route) == "trace" ? "61" : "301";
    for (const std::string& value : std::vector<std::string>{
             "abc", "-1", "0", "", "2.5", "1e3", "99999999999999999999", max}) {
      const std::string target =
          std::string("/debug/pprof/") + route + "?seconds=" + value;
      const HttpResponse r = Get(port, target);
      EXPECT_EQ(r.status, 400) << target;
      EXPECT_THAT(r.body, HasSubstr("seconds must be an integer in [1, "))
          << target;
    }
  }
}

ABSL_ATTRIBUTE_NOINLINE void DeltaWindowHolder(contend::Mutex& mu) {
  mu.lock();
  // Holding (not ordering): long enough that the waiter parks.
  std::this_thread::sleep_for(std::chrono::microseconds(2000));
  mu.unlock();
  asm volatile("" ::: "memory");
}

// Contention in DeltaWindowHolder for as long as the object lives.
class BackgroundContention {
 public:
  BackgroundContention() {
    threads_.emplace_back([this] {
      // Acquire: pairs with the release in the destructor.
      while (!stop_.load(std::memory_order_acquire)) DeltaWindowHolder(mu_);
    });
    threads_.emplace_back([this] {
      while (!stop_.load(std::memory_order_acquire)) {
        profile_testing::WaitForLock(mu_);
      }
    });
  }
  ~BackgroundContention() {
    // Release: pairs with the threads' acquire loads.
    stop_.store(true, std::memory_order_release);
    for (auto& t : threads_) t.join();
  }

 private:
  contend::Mutex mu_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

// Go >= 1.16 semantics: ?seconds=N returns only what happened during those
// N seconds. SetUp's contention (HoldLockLong) ended before the request; the
// background contention (DeltaWindowHolder) runs throughout it.
TEST_F(DebugServerTest, SecondsGivesADeltaProfile) {
  if (profile_testing::kNoFunctionNames) {
    GTEST_SKIP() << profile_testing::kNoFunctionNamesWhy;
  }
  absl::StatusOr<contend::profile::DebugServer> server =
      contend::profile::serve_debug(0);
  ASSERT_TRUE(server.ok()) << server.status();
  const HttpResponse whole = Get(server->port(), "/debug/pprof/mutex?debug=1");
  ASSERT_THAT(whole.body, HasSubstr("HoldLockLong"));
  BackgroundContention background;
  const HttpResponse delta =
      Get(server->port(), "/debug/pprof/mutex?seconds=1");
  ASSERT_EQ(delta.status, 200) << delta.body;
  profile_testing::DecodedProfile p;
  std::string error;
  ASSERT_TRUE(profile_testing::DecodeProfile(delta.body, &p, &error)) << error;
  bool window = false;
  for (const auto& s : p.samples) {
    std::string stack;
    for (const std::string& f : p.stack(s)) stack += f + "\n";
    EXPECT_THAT(stack, ::testing::Not(HasSubstr("HoldLockLong"))) << stack;
    if (stack.find("DeltaWindowHolder") != std::string::npos) window = true;
  }
  EXPECT_TRUE(window);
  EXPECT_GE(p.duration_nanos, 1'000'000'000);
  EXPECT_LT(p.duration_nanos, 30'000'000'000);
  const HttpResponse block =
      Get(server->port(), "/debug/pprof/block?seconds=1&debug=1");
  EXPECT_EQ(block.status, 200);
  EXPECT_THAT(block.body, HasSubstr("WaitForLock"));
  EXPECT_THAT(block.body, ::testing::Not(HasSubstr("HoldLockLong")));
}

TEST_F(DebugServerTest, GoToolPprofSecondsSeesOnlyThoseSeconds) {
  if (profile_testing::kNoFunctionNames) {
    GTEST_SKIP() << profile_testing::kNoFunctionNamesWhy;
  }
  const std::string go = profile_testing::FindGo();
  if (go.empty()) GTEST_SKIP() << "missing tool: go: install golang-go";
  absl::StatusOr<contend::profile::DebugServer> server =
      contend::profile::serve_debug(0);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string url = MutexUrl(server->port());
  std::string out;
  {
    BackgroundContention background;
    // -timeout: pprof's default wait for the response headers is 1.5 x the
    // window (3 s), which a loaded CI machine under TSan can miss while the
    // new PCs are symbolized.
    const int rc = profile_testing::RunCommand(
        "timeout 120 " + profile_testing::GoEnvPrefix() + go +
            " tool pprof -seconds 2 -timeout 60 -top -nodecount=500 " + url,
        &out);
    ASSERT_EQ(rc, 0) << out;
  }
  EXPECT_THAT(out, HasSubstr("DeltaWindowHolder"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("HoldLockLong")));
  EXPECT_THAT(out, HasSubstr("contend::Mutex::"));
}

// Polls (bounded) until the timeline records; false on timeout.
bool WaitForTimelineRecording(bool recording) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (contend::internal::timeline_snapshot().running == recording)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

// One ?seconds trace at a time: a second request, or one while the
// application's own timeline records, gets 409 and changes nothing; stop()
// cuts the pending request short (503) and returns within a second.
TEST_F(DebugServerTest, TraceIsExclusiveAndStopCancelsIt) {
  absl::StatusOr<contend::profile::DebugServer> server =
      contend::profile::serve_debug(0);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = server->port();

  // The application's timeline is left alone.
  contend::profile::start_timeline({});
  static int key = 0;
  contend::internal::profiler_on_wait_end(contend::internal::WaitEvent{
      &key, contend::internal::WaitKind::kEvent,
      contend::internal::ParkStatus::kTimedOut, 100, 200, 1, 0});
  const uint64_t app_generation =
      contend::internal::timeline_snapshot().generation;
  const HttpResponse busy = Get(port, "/debug/pprof/trace?seconds=1");
  EXPECT_EQ(busy.status, 409);
  EXPECT_THAT(busy.body, HasSubstr("already recording"));
  contend::internal::TimelineSnapshot app =
      contend::internal::timeline_snapshot();
  EXPECT_TRUE(app.running);
  EXPECT_EQ(app.generation, app_generation);
  ASSERT_EQ(app.threads.size(), 1u);
  contend::profile::stop_timeline();

  // A request in flight; a second one is refused.
  HttpResponse first;
  std::thread pending(
      [&] { first = Get(port, "/debug/pprof/trace?seconds=30"); });
  ASSERT_TRUE(WaitForTimelineRecording(true)) << "trace never started";
  const uint64_t trace_generation =
      contend::internal::timeline_snapshot().generation;
  const HttpResponse second = Get(port, "/debug/pprof/trace?seconds=1");
  EXPECT_EQ(second.status, 409);
  EXPECT_EQ(contend::internal::timeline_snapshot().generation,
            trace_generation);
  // Other routes are still served meanwhile.
  EXPECT_EQ(Get(port, "/debug/pprof/").status, 200);

  const auto t0 = std::chrono::steady_clock::now();
  server->stop();
  const auto took = std::chrono::steady_clock::now() - t0;
  pending.join();
  EXPECT_LT(took, std::chrono::seconds(1));
  EXPECT_EQ(first.status, 503);
  EXPECT_THAT(first.body, HasSubstr("server stopping"));
  // The request stopped its own timeline and freed it.
  const contend::internal::TimelineSnapshot after =
      contend::internal::timeline_snapshot();
  EXPECT_FALSE(after.running);
  EXPECT_TRUE(after.threads.empty());
}

}  // namespace
