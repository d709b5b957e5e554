// Copyright 2026 The contend Authors.
//
// The one clock every contend deadline is expressed in: CLOCK_MONOTONIC, as
// int64 nanoseconds, with kNoDeadline meaning "wait forever".

#ifndef CONTEND_SYNC_INTERNAL_CLOCK_H_
#define CONTEND_SYNC_INTERNAL_CLOCK_H_

#if !defined(__linux__)
#error "contend's platform layer supports Linux only (x86-64 and aarch64)"
#endif

#include <time.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <ratio>
#include <type_traits>

#if defined(CONTEND_DSCHED)
#include "sync/internal/dsched_hooks.h"
#endif

namespace contend::internal {

// A deadline that never arrives. Every deadline in the platform layer is an
// absolute CLOCK_MONOTONIC time in nanoseconds, or this value.
inline constexpr int64_t kNoDeadline = INT64_MAX;

// Returns CLOCK_MONOTONIC in nanoseconds.
//
// Guarantees: non-decreasing across all threads of the process (the kernel
// clock is global, not per CPU); never negative.
// Cost: one clock_gettime() served by the vDSO, no syscall. Measured at 32 ns
// per call on AMD EPYC (Zen 3, KVM guest, TSC clocksource), the same as
// std::chrono::steady_clock::now(); see bench/sync/internal/RESULTS.md
// (//bench/sync/internal:clock_benchmark). Under a hypervisor that does not
// expose a stable TSC the vDSO falls back to a real syscall (~0.5 us); callers
// on hot paths should read the clock once per slow-path entry, not per spin.
inline int64_t monotonic_now_ns() noexcept {
#if defined(CONTEND_DSCHED)
  // The explorer's virtual time (dsched_hooks.h), while a run is installed.
  if (const dsched::Hooks* h = dsched::hooks()) return h->now_ns();
#endif
  struct timespec ts;
  // CLOCK_MONOTONIC cannot fail on Linux with a valid pointer.
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 +
         static_cast<int64_t>(ts.tv_nsec);
}

namespace clock_detail {

// d in nanoseconds, rounded up (toward +infinity) so that a deadline computed
// from it is never earlier than asked, widened to 128 bits so that no finite
// std::chrono duration overflows (hours::max() is ~2^105 ns). Floating-point
// counts are clamped to +-2^100 ns first; NaN counts as +infinity.
template <class Rep, class Period>
constexpr __int128 to_ns_ceil(std::chrono::duration<Rep, Period> d) noexcept {
  using R = std::ratio_divide<Period, std::nano>;
  if constexpr (std::is_floating_point_v<Rep>) {
    constexpr long double kClamp = 1267650600228229401496703205376.0L;  // 2^100
    const long double ns = std::ceil(static_cast<long double>(d.count()) *
                                     static_cast<long double>(R::num) /
                                     static_cast<long double>(R::den));
    if (!(ns < kClamp)) return static_cast<__int128>(kClamp);  // NaN, +inf
    if (ns < -kClamp) return -static_cast<__int128>(kClamp);
    return static_cast<__int128>(ns);
  } else {
    static_assert(std::is_integral_v<Rep> && sizeof(Rep) <= 8,
                  "duration reps wider than 64 bits are not supported");
    const __int128 scaled = static_cast<__int128>(d.count()) * R::num;
    __int128 q = scaled / R::den;
    if (scaled % R::den != 0 && scaled > 0) ++q;  // ceil for positives
    return q;
  }
}

// now + delta_ns, saturating at kNoDeadline; delta_ns <= 0 yields now.
constexpr int64_t add_saturating(int64_t now, __int128 delta_ns) noexcept {
  if (delta_ns <= 0) return now;
  if (delta_ns >= static_cast<__int128>(kNoDeadline - now)) return kNoDeadline;
  return now + static_cast<int64_t>(delta_ns);
}

}  // namespace clock_detail

// Returns the absolute monotonic deadline `d` from now.
//
// Guarantees: rounds up to whole nanoseconds; saturates: a duration too large
// to represent (e.g. hours::max(), +infinity) gives kNoDeadline, a zero or
// negative one gives monotonic_now_ns() (an already-expired deadline).
template <class Rep, class Period>
int64_t deadline_after(std::chrono::duration<Rep, Period> d) noexcept {
  return clock_detail::add_saturating(monotonic_now_ns(),
                                      clock_detail::to_ns_ceil(d));
}

// libstdc++ implements std::chrono::steady_clock::now() with
// clock_gettime(CLOCK_MONOTONIC) (_GLIBCXX_USE_CLOCK_MONOTONIC, see
// libstdc++-v3/src/c++11/chrono.cc), so a steady_clock time_point's epoch *is*
// the CLOCK_MONOTONIC epoch and converts without reading any clock. The test
// ClockTest.SteadyClockIsClockMonotonic checks this on the machine it runs on.
static_assert(std::chrono::steady_clock::is_steady);
static_assert(std::is_same_v<std::chrono::steady_clock::duration,
                             std::chrono::nanoseconds>);

// Converts a time point of any clock to an absolute monotonic deadline.
//
// Guarantees: steady_clock time points map exactly (rounded up to whole
// nanoseconds; a point before the epoch gives 0, which is in the past).
// Other clocks (system_clock, user clocks) are converted by their distance from
// Clock::now() added to monotonic_now_ns(), saturating like deadline_after();
// a later change of that clock (settimeofday, NTP step) is therefore *not*
// followed: the wait lasts the distance measured at the call, as with
// std::condition_variable::wait_until in libstdc++.
template <class Clock, class Dur>
int64_t to_monotonic_deadline(std::chrono::time_point<Clock, Dur> tp) noexcept {
  if constexpr (std::is_same_v<Clock, std::chrono::steady_clock>) {
    return clock_detail::add_saturating(
        0, clock_detail::to_ns_ceil(tp.time_since_epoch()));
  } else {
    const auto clock_now = Clock::now();
    const int64_t mono_now = monotonic_now_ns();
    const __int128 delta =
        clock_detail::to_ns_ceil(tp.time_since_epoch()) -
        clock_detail::to_ns_ceil(clock_now.time_since_epoch());
    return clock_detail::add_saturating(mono_now, delta);
  }
}

}  // namespace contend::internal

#endif  // CONTEND_SYNC_INTERNAL_CLOCK_H_
