// Copyright 2026 The contend Authors.
//
// For dsched scenarios that use hazard pointers (directly or through
// Snapshot and the read-mostly maps): the domain is process-wide and outlives
// a run, so each run must start from the same domain for its decision list to
// replay exactly in a fresh process.

#ifndef CONTEND_TESTS_SYNC_INTERNAL_HAZARD_DSCHED_DOMAIN_H_
#define CONTEND_TESTS_SYNC_INTERNAL_HAZARD_DSCHED_DOMAIN_H_

#include <vector>

#include "sync/internal/hazard_pointer.h"

namespace contend::internal {

// Call first in the body: leaves 16 free records (more than any scenario
// uses), so a scan walks the same list in every run and every replay.
inline void same_hazard_domain_every_run() {
  std::vector<HazardPointer> hps;
  for (int i = 0; i < 16; ++i) hps.push_back(make_hazard_pointer());
  hps.clear();
  hazard_thread_detach();
}

}  // namespace contend::internal

#endif  // CONTEND_TESTS_SYNC_INTERNAL_HAZARD_DSCHED_DOMAIN_H_
