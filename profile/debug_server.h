// Copyright 2026 The contend Authors.
//
// A /debug/pprof endpoint for C++ processes, so that
//   go tool pprof http://127.0.0.1:PORT/debug/pprof/mutex
// works against a process using contend, as it does against a Go service
// importing net/http/pprof. A separate target (//profile:debug_server) so
// that nobody links an HTTP server by accident.
//
// Routes (GET):
//   /debug/pprof/          an index of the routes below
//   /debug/pprof/mutex     mutex profile: gzipped profile.proto; ?debug=1 text.
//                          ?seconds=N (1..300): a delta profile, only what
//                          happened during the next N seconds (Go >= 1.16;
//                          `go tool pprof -seconds N URL` asks for it).
//   /debug/pprof/block     block profile: likewise
//   /debug/pprof/trace     timeline as Chrome Trace Event JSON (Perfetto UI).
//                          ?seconds=N (1..60) records a fresh timeline for N
//                          seconds (TimelineOptions defaults: 16384 events
//                          of 56 B per waiting thread, at most 256 threads)
//                          and frees it after the reply. Exclusive: while
//                          any timeline records (another such request, or
//                          the application's own start_timeline) it answers
//                          409 and touches nothing. Without ?seconds, the
//                          current timeline is returned.
//   /debug/pprof/report    write_text_report(): both profiles + analysis
//   /debug/pprof/symbol    Go's symbol protocol (GET ?0xA+0xB or POST body):
//                          pprof asks it to name locations in mappings
//                          without has_functions ("num_symbols: 1", then
//                          "0xA name" per address we can name)
// A `seconds` that is not a decimal integer in range gets 400 with a message
// (no silent clamp). While stop() runs, pending ?seconds=N requests end at
// once with 503.
// The profiles only contain data while enabled with
// set_mutex_profile_fraction / set_block_profile_rate (profile/profile.h);
// the server does not change those settings.
//
// HTTP library: cpp-httplib 0.11 from Debian's libcpp-httplib-dev. Chosen
// because it is packaged by Debian (the build is offline and uses system
// libraries only), is a small single-header API that serves GET routes from
// a thread pool with no event loop to integrate, and binds to an explicit
// host so the endpoint can be restricted to loopback. Debian builds it as a
// shared library (libcpp-httplib.so) with OpenSSL/zlib/brotli support, so
// this target compiles the header with the same CPPHTTPLIB_* macros (they
// change the layout of httplib::Request) and links -lcpp-httplib.
//
// Contract:
//  - Requires: nothing; any number of servers may run (on different ports).
//  - Guarantees: listens on 127.0.0.1 only (profiles reveal code structure:
//    never expose them beyond the host without an authenticating proxy).
//    Requests are served on a pool of 4 threads, one request per
//    connection. The returned DebugServer owns the server: stop() or its
//    destructor closes the socket, cuts short every ?seconds=N wait, and
//    joins the server thread; it returns within about a second even with
//    such requests in flight (an export in progress finishes first).
// Thread safety: port() may be called concurrently; stop() and the
// destructor must not race with each other.
// Cost: one listening thread plus 4 workers, idle until a request arrives;
// a request costs one export (~25 ms for 10,000 stacks; new PCs are
// symbolized once).

#ifndef CONTEND_PROFILE_DEBUG_SERVER_H_
#define CONTEND_PROFILE_DEBUG_SERVER_H_

#include <memory>

#include "absl/status/statusor.h"

namespace contend::profile {

// A running /debug/pprof server. Move-only handle; the destructor stops it.
class DebugServer {
 public:
  DebugServer(DebugServer&& other) noexcept;
  DebugServer& operator=(DebugServer&& other) noexcept;
  DebugServer(const DebugServer&) = delete;
  DebugServer& operator=(const DebugServer&) = delete;
  ~DebugServer();

  // The bound TCP port (the ephemeral one when serve_debug(0) was used).
  int port() const noexcept;

  // Stops accepting, waits for in-flight requests and the server thread.
  // Idempotent; a moved-from handle's stop() does nothing.
  void stop();

 private:
  struct Impl;
  explicit DebugServer(std::unique_ptr<Impl> impl) noexcept;
  friend absl::StatusOr<DebugServer> serve_debug(int port);
  std::unique_ptr<Impl> impl_;
};

// Starts serving /debug/pprof on 127.0.0.1:port (0 = an ephemeral port; read
// it back with port()). Returns an error status if the port cannot be bound
// (e.g. kUnavailable when it is in use).
//
//   auto server = contend::profile::serve_debug(6060);
//   if (!server.ok()) return server.status();
//   // go tool pprof http://127.0.0.1:6060/debug/pprof/mutex
[[nodiscard]] absl::StatusOr<DebugServer> serve_debug(int port);

}  // namespace contend::profile

#endif  // CONTEND_PROFILE_DEBUG_SERVER_H_
