// A consumer's program (tests/consumer/run.sh runs it and checks its output): a
// contended contend::Mutex, a contend::WaitGroup, the mutex profile, and the
// /debug/pprof endpoint read back over HTTP. Prints one line per check and
// "consumer: OK" last; returns 1 at the first failed check.

#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "httplib.h"
#include "profile/debug_server.h"
#include "profile/profile.h"
#include "sync/mutex.h"
#include "sync/wait_group.h"

namespace {

constexpr int kThreads = 4;
constexpr int kRounds = 20;

// Prints the check's line; main returns 1 at the first false one.
bool check(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAILED", what.c_str());
  return ok;
}

// Holds the lock long enough that the other threads park behind it, so every
// round produces contended releases for the mutex profile.
void HoldCounterLock(contend::Mutex& mu, int& counter) {
  std::scoped_lock lock(mu);
  ++counter;
  std::this_thread::sleep_for(std::chrono::microseconds(200));
}

}  // namespace

int main() {
  contend::profile::set_mutex_profile_fraction(1);  // record every event

  contend::Mutex mu{"consumer.counter"};
  contend::WaitGroup wg;
  int counter = 0;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  wg.add(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) HoldCounterLock(mu, counter);
      wg.done();
    });
  }
  wg.wait();  // every increment happens-before this return
  const bool counted =
      check(counter == kThreads * kRounds,
            "counter = " + std::to_string(counter) + " after WaitGroup::wait");
  for (auto& t : threads) t.join();
  if (!counted) return 1;

  std::ostringstream report;
  contend::profile::write_text_report(report);
  if (!check(report.str().find("consumer.counter") != std::string::npos,
             "text report names the labeled Mutex")) {
    return 1;
  }

  auto server = contend::profile::serve_debug(0);
  if (!check(server.ok(), "serve_debug(0) started")) return 1;
  httplib::Client client("127.0.0.1", server->port());
  auto res = client.Get("/debug/pprof/mutex?debug=1");
  if (!check(res && res->status == 200,
             "GET /debug/pprof/mutex?debug=1 -> 200") ||
      !check(res->body.rfind("--- mutex:\n", 0) == 0 &&
                 res->body.find("HoldCounterLock") != std::string::npos,
             "mutex profile charges HoldCounterLock")) {
    return 1;
  }
  server->stop();

  std::printf("consumer: OK\n");
  return 0;
}
