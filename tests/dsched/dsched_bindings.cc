// Copyright 2026 The contend Authors.
//
// contend's dsched explorer for Python tests (tests/python/test_dsched.py):
// run one registered scenario under a given decision list and get its
// outcome, so that Hypothesis can draw the decision list and shrink a
// failure to a minimal interleaving. Each run happens in a forked child
// (dsched.h), so a failing or crashing schedule cannot hurt the interpreter.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "tests/dsched/dsched.h"

namespace py = pybind11;

namespace contend::dsched {
namespace {

const Scenario& scenario_named(const std::string& name) {
  const Scenario* s = find_scenario(name);
  if (s == nullptr) {
    throw py::value_error("contend: dsched.run: no scenario named '" + name +
                          "'");
  }
  return *s;
}

py::dict to_dict(const RunResult& r) {
  py::dict d;
  d["outcome"] = outcome_name(r.outcome);
  d["ok"] = r.outcome == Outcome::kOk;
  d["message"] = r.message;
  d["decisions"] = r.decisions;
  d["steps"] = r.steps;
  return d;
}

}  // namespace
}  // namespace contend::dsched

PYBIND11_MODULE(_dsched, m) {
  using namespace contend::dsched;  // NOLINT: binding module
  m.doc() = "contend's deterministic-schedule explorer (test-only).";
  m.def(
      "scenarios",
      [] {
        std::vector<std::string> names;
        for (const Scenario* s : all_scenarios()) names.push_back(s->name);
        return names;
      },
      "Names of every registered scenario.");
  m.def(
      "run",
      [](const std::string& name, const std::vector<uint32_t>& decisions) {
        const Scenario& s = scenario_named(name);
        RunResult r;
        {
          py::gil_scoped_release nogil;
          r = replay(s, decisions);
        }
        return to_dict(r);
      },
      py::arg("name"), py::arg("decisions"),
      "Runs scenario `name` under `decisions` (entry i picks among the "
      "candidates of the i-th choice point, modulo their number; missing "
      "entries are 0, 'keep running'). Returns {outcome, ok, message, "
      "decisions, steps}.");
  m.def(
      "replay_flag",
      [](const std::string& name, const std::vector<uint32_t>& decisions) {
        RunResult r;
        r.decisions = decisions;
        return replay_flag(scenario_named(name), r);
      },
      py::arg("name"), py::arg("decisions"),
      "The --dsched_replay flag that reruns this schedule in the C++ test.");
}
