// Copyright 2026 The contend Authors.
//
// Lab workloads for contend's core locks (sync/mutex.h, sync/rw_mutex.h).

#include "bench/lab/lock_workload.h"
#include "bench/lab/registry.h"
#include "sync/mutex.h"
#include "sync/rw_mutex.h"

namespace contend::lab {
namespace {

CONTEND_LAB_REGISTER(mutex, "mutex", "contend::Mutex",
                     "Go's sync.Mutex: barging + adaptive spinning, "
                     "starvation mode after 1 ms",
                     false, &run_lock_workload<contend::Mutex>);
CONTEND_LAB_REGISTER(rwmutex, "rwmutex", "contend::RWMutex",
                     "Go's sync.RWMutex: writer-preferring reader/writer lock",
                     true, &run_lock_workload<contend::RWMutex>);

}  // namespace
}  // namespace contend::lab
