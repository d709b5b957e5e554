// Copyright 2026 The contend Authors.
//
// CPU pinning for shard/'s tests: which CPUs the process may use, and
// moving a thread onto one of them (the migration tests re-pin threads
// mid-run with these).

#ifndef CONTEND_TESTS_SHARD_PINNING_H_
#define CONTEND_TESTS_SHARD_PINNING_H_

#include <sched.h>
#include <sys/types.h>

#include <vector>

namespace contend::testing {

// The CPUs in the calling thread's affinity mask, ascending.
inline std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  return cpus;
}

// Restricts thread `tid` (0: the caller) to `cpu`. For the caller, the
// kernel has moved it there when this returns (a running task is migrated
// before sched_setaffinity returns).
inline bool pin_thread(pid_t tid, int cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  return sched_setaffinity(tid, sizeof(one), &one) == 0;
}

}  // namespace contend::testing

#endif  // CONTEND_TESTS_SHARD_PINNING_H_
