// Copyright 2026 The contend Authors.

#include "profile/debug_server.h"

// @cpp_httplib defines the CPPHTTPLIB_* macros Debian's library was built
// with (third_party/cpp_httplib.BUILD).
#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "profile/hooks.h"
#include "profile/profile.h"

namespace contend::profile {
namespace {

// Shared by the handlers: the cancellable wait of ?seconds=N requests.
class Waiter {
 public:
  // Waits `seconds`, or less if stop() begins; returns false if it did.
  bool wait(int seconds) {
    std::unique_lock<std::mutex> lock(mu_);
    return !cv_.wait_for(lock, std::chrono::seconds(seconds),
                         [this] { return stopping_; });
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_ (std::mutex is not annotated)
};

int debug_level(const httplib::Request& req) {
  if (!req.has_param("debug")) return 0;
  return std::atoi(req.get_param_value("debug").c_str());
}

void reply_error(httplib::Response& res, int status, const std::string& msg) {
  res.status = status;
  res.set_content(msg + "\n", "text/plain; charset=utf-8");
}

// ?seconds=N: absent -> 0; a decimal integer in [1, max] -> N; anything
// else (not a number, 0, negative, too large) -> -1 and a 400 reply.
int parse_seconds(const httplib::Request& req, httplib::Response& res,
                  const char* route, int max) {
  if (!req.has_param("seconds")) return 0;
  const std::string value = req.get_param_value("seconds");
  int seconds = 0;
  // At most 9 digits, so the value cannot overflow an int; a longer one is
  // rejected before any digit is accumulated.
  bool ok = !value.empty() && value.size() <= 9;
  for (char c : value) {
    if (!ok) break;
    if (c < '0' || c > '9') {
      ok = false;
      break;
    }
    seconds = seconds * 10 + (c - '0');
  }
  if (!ok || seconds < 1 || seconds > max) {
    reply_error(res, 400,
                std::string("contend: ") + route +
                    ": seconds must be an integer in [1, " +
                    std::to_string(max) + "], got \"" + value + "\"");
    return -1;
  }
  return seconds;
}

constexpr int kMaxProfileSeconds = 300;
constexpr int kMaxTraceSeconds = 60;

using Writer = void (*)(std::ostream&, int);
using DeltaWriter = void (*)(std::ostream&, const Snapshot&, int);

void serve_profile(const httplib::Request& req, httplib::Response& res,
                   Waiter& waiter, Writer writer, DeltaWriter delta_writer,
                   Snapshot (*take)(), const char* route, const char* name) {
  const int seconds = parse_seconds(req, res, route, kMaxProfileSeconds);
  if (seconds < 0) return;
  const int debug = debug_level(req);
  std::ostringstream out;
  if (seconds == 0) {
    writer(out, debug);
  } else {
    // Go's delta profile: only what happened during the next N seconds.
    const Snapshot since = take();
    if (!waiter.wait(seconds)) {
      reply_error(res, 503,
                  std::string("contend: ") + route + ": server stopping");
      return;
    }
    delta_writer(out, since, debug);
  }
  if (debug > 0) {
    res.set_content(out.str(), "text/plain; charset=utf-8");
  } else {
    res.set_header("Content-Disposition",
                   std::string("attachment; filename=\"") + name + "\"");
    res.set_content(out.str(), "application/octet-stream");
  }
}

// /debug/pprof/trace. With ?seconds=N it owns the process's timeline for N
// seconds: it starts one only if none is recording (else 409, leaving the
// running one untouched), stops only its own generation, and frees the
// rings after replying.
void serve_trace(const httplib::Request& req, httplib::Response& res,
                 Waiter& waiter) {
  constexpr const char* kRoute = "/debug/pprof/trace";
  const int seconds = parse_seconds(req, res, kRoute, kMaxTraceSeconds);
  if (seconds < 0) return;
  if (seconds > 0) {
    const TimelineOptions options;
    const uint64_t generation = internal::timeline_try_start(
        options.events_per_thread, options.max_threads);
    if (generation == 0) {
      reply_error(res, 409,
                  "contend: /debug/pprof/trace: a timeline is already "
                  "recording (another trace request, or the application's "
                  "start_timeline); try again when it stops");
      return;
    }
    const bool waited = waiter.wait(seconds);
    if (!internal::timeline_stop_generation(generation)) {
      reply_error(res, 409,
                  "contend: /debug/pprof/trace: the application restarted "
                  "the timeline during the request");
      return;
    }
    if (!waited) {
      internal::timeline_release(generation);
      reply_error(res, 503, "contend: /debug/pprof/trace: server stopping");
      return;
    }
    std::ostringstream out;
    write_timeline_json(out);
    internal::timeline_release(generation);
    res.set_content(out.str(), "application/json");
    return;
  }
  std::ostringstream out;
  write_timeline_json(out);
  res.set_content(out.str(), "application/json");
}

// Answers a /debug/pprof/symbol query: "num_symbols: 1" (symbols are
// available), then one "0x<address> <name>" line per resolvable address of
// `query` ("0x1+0x2+...", a leading '?' ignored). At most kMaxSymbols
// addresses are looked up per request.
void serve_symbols(std::string_view query, httplib::Response& res) {
  constexpr size_t kMaxSymbols = 100000;
  if (!query.empty() && query.front() == '?') query.remove_prefix(1);
  std::string out = "num_symbols: 1\n";
  size_t looked_up = 0;
  while (!query.empty() && looked_up < kMaxSymbols) {
    const size_t plus = query.find('+');
    const std::string word(query.substr(0, plus));
    query = plus == std::string_view::npos ? std::string_view()
                                           : query.substr(plus + 1);
    char* end = nullptr;
    const unsigned long long address = std::strtoull(word.c_str(), &end, 0);
    if (address == 0 || end == word.c_str() || *end != '\0') continue;
    ++looked_up;
    const std::string name = symbolize(static_cast<uintptr_t>(address));
    if (name.empty()) continue;
    char hex[32];
    std::snprintf(hex, sizeof(hex), "%#llx ", address);
    out += hex;
    out += name;
    out += '\n';
  }
  res.set_content(out, "text/plain; charset=utf-8");
}

constexpr const char* kIndex =
    "<html><head><title>/debug/pprof/</title></head><body>\n"
    "<p>contend /debug/pprof/</p>\n"
    "<ul>\n"
    "<li><a href=\"mutex?debug=1\">mutex</a>: stacks that released "
    "contended locks (bottleneck owners); ?seconds=N: only the next N "
    "seconds</li>\n"
    "<li><a href=\"block?debug=1\">block</a>: stacks that waited; "
    "?seconds=N likewise</li>\n"
    "<li><a href=\"trace\">trace</a>: timeline, Chrome Trace Event JSON "
    "(?seconds=N records N seconds, one request at a time)</li>\n"
    "<li><a href=\"report\">report</a>: both profiles and the Amdahl "
    "analysis</li>\n"
    "</ul></body></html>\n";

constexpr int kWorkers = 4;

}  // namespace

struct DebugServer::Impl {
  httplib::Server server;
  Waiter waiter;
  std::thread thread;
  // Release: set by the server thread when listen_after_bind() returns;
  // pairs with the acquire in serve_debug()'s start-up wait.
  std::atomic<bool> finished{false};
  int port = 0;
  bool stopped = false;
};

DebugServer::DebugServer(std::unique_ptr<Impl> impl) noexcept
    : impl_(std::move(impl)) {}

DebugServer::DebugServer(DebugServer&& other) noexcept = default;

DebugServer& DebugServer::operator=(DebugServer&& other) noexcept {
  if (this != &other) {
    stop();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

DebugServer::~DebugServer() { stop(); }

int DebugServer::port() const noexcept {
  return impl_ != nullptr ? impl_->port : 0;
}

void DebugServer::stop() {
  if (impl_ == nullptr || impl_->stopped) return;
  impl_->stopped = true;
  // Wakes every ?seconds=N wait first, so that the handlers return and
  // httplib's worker join below does not wait for their full N seconds.
  impl_->waiter.stop();
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

absl::StatusOr<DebugServer> serve_debug(int port) {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        "contend: serve_debug: port must be in [0, 65535]");
  }
  auto impl = std::make_unique<DebugServer::Impl>();
  httplib::Server& server = impl->server;
  server.new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
  // One request per connection, and at most 1 s waiting for a connection's
  // request: an idle client then never holds a worker (and stop()) long.
  server.set_keep_alive_max_count(1);
  server.set_keep_alive_timeout(1);
  Waiter* waiter = &impl->waiter;
  // httplib's default options add SO_REUSEPORT, which would let a second
  // server bind the same port and silently share its connections. Keep
  // only SO_REUSEADDR (restart without waiting out TIME_WAIT).
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server.Get("/debug/pprof/mutex", [waiter](const httplib::Request& req,
                                            httplib::Response& res) {
    serve_profile(req, res, *waiter, &write_mutex_profile, &write_mutex_profile,
                  &Snapshot::mutex, "/debug/pprof/mutex", "mutex.pb.gz");
  });
  server.Get("/debug/pprof/block", [waiter](const httplib::Request& req,
                                            httplib::Response& res) {
    serve_profile(req, res, *waiter, &write_block_profile, &write_block_profile,
                  &Snapshot::block, "/debug/pprof/block", "block.pb.gz");
  });
  server.Get("/debug/pprof/trace",
             [waiter](const httplib::Request& req, httplib::Response& res) {
               serve_trace(req, res, *waiter);
             });
  // Go's symbol protocol (net/http/pprof Symbol): pprof posts the addresses
  // of locations whose mapping lacks has_functions, '+'-separated, and reads
  // "<address> <name>" lines back; unknown addresses are left out.
  server.Get("/debug/pprof/symbol", [](const httplib::Request& req,
                                       httplib::Response& res) {
    serve_symbols(
        req.target.substr(std::min(req.target.find('?'), req.target.size())),
        res);
  });
  server.Post("/debug/pprof/symbol",
              [](const httplib::Request& req, httplib::Response& res) {
                serve_symbols(req.body, res);
              });
  server.Get("/debug/pprof/report",
             [](const httplib::Request&, httplib::Response& res) {
               std::ostringstream out;
               write_text_report(out);
               res.set_content(out.str(), "text/plain; charset=utf-8");
             });
  server.Get("/debug/pprof/?",
             [](const httplib::Request&, httplib::Response& res) {
               res.set_content(kIndex, "text/html; charset=utf-8");
             });

  int bound = -1;
  if (port == 0) {
    bound = server.bind_to_any_port("127.0.0.1");
  } else if (server.bind_to_port("127.0.0.1", port)) {
    bound = port;
  }
  if (bound <= 0) {
    return absl::UnavailableError(
        "contend: serve_debug: cannot bind 127.0.0.1:" + std::to_string(port));
  }
  impl->port = bound;
  DebugServer::Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    raw->server.listen_after_bind();
    raw->finished.store(true, std::memory_order_release);
  });
  // httplib's stop() is a no-op until the accept loop has started, so a
  // stop() right after this function returns could otherwise hang the join.
  // Acquire: pairs with the release in the server thread.
  while (!raw->server.is_running() &&
         !raw->finished.load(std::memory_order_acquire)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (raw->finished.load(std::memory_order_acquire)) {
    raw->thread.join();
    raw->stopped = true;
    return absl::InternalError(
        "contend: serve_debug: the server loop exited at start-up");
  }
  return DebugServer(std::move(impl));
}

}  // namespace contend::profile
