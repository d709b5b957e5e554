// Copyright 2026 The contend Authors.

#include "profile/debug_server.h"

// @cpp_httplib defines the CPPHTTPLIB_* macros Debian's library was built
// with (third_party/cpp_httplib.BUILD).
#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "profile/profile.h"

namespace contend::profile {
namespace {

int debug_level(const httplib::Request& req) {
  if (!req.has_param("debug")) return 0;
  return std::atoi(req.get_param_value("debug").c_str());
}

void serve_profile(const httplib::Request& req, httplib::Response& res,
                   void (*writer)(std::ostream&, int), const char* name) {
  const int debug = debug_level(req);
  std::ostringstream out;
  writer(out, debug);
  if (debug > 0) {
    res.set_content(out.str(), "text/plain; charset=utf-8");
  } else {
    res.set_header("Content-Disposition",
                   std::string("attachment; filename=\"") + name + "\"");
    res.set_content(out.str(), "application/octet-stream");
  }
}

constexpr const char* kIndex =
    "<html><head><title>/debug/pprof/</title></head><body>\n"
    "<p>contend /debug/pprof/</p>\n"
    "<ul>\n"
    "<li><a href=\"mutex?debug=1\">mutex</a>: stacks that released "
    "contended locks (bottleneck owners)</li>\n"
    "<li><a href=\"block?debug=1\">block</a>: stacks that waited</li>\n"
    "<li><a href=\"trace\">trace</a>: timeline, Chrome Trace Event JSON "
    "(?seconds=N records N seconds)</li>\n"
    "<li><a href=\"report\">report</a>: both profiles and the Amdahl "
    "analysis</li>\n"
    "</ul></body></html>\n";

}  // namespace

struct DebugServer::Impl {
  httplib::Server server;
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
  server.new_task_queue = [] { return new httplib::ThreadPool(2); };
  // httplib's default options add SO_REUSEPORT, which would let a second
  // server bind the same port and silently share its connections. Keep
  // only SO_REUSEADDR (restart without waiting out TIME_WAIT).
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server.Get("/debug/pprof/mutex",
             [](const httplib::Request& req, httplib::Response& res) {
               serve_profile(req, res, &write_mutex_profile, "mutex.pb.gz");
             });
  server.Get("/debug/pprof/block",
             [](const httplib::Request& req, httplib::Response& res) {
               serve_profile(req, res, &write_block_profile, "block.pb.gz");
             });
  server.Get("/debug/pprof/trace", [](const httplib::Request& req,
                                      httplib::Response& res) {
    if (req.has_param("seconds")) {
      int seconds = std::atoi(req.get_param_value("seconds").c_str());
      if (seconds < 1) seconds = 1;
      if (seconds > 60) seconds = 60;
      start_timeline();
      std::this_thread::sleep_for(std::chrono::seconds(seconds));
      stop_timeline();
    }
    std::ostringstream out;
    write_timeline_json(out);
    res.set_content(out.str(), "application/json");
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
