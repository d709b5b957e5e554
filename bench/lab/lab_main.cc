// Copyright 2026 The contend Authors.
//
// `lab`: runs contention workloads from the command line and prints one JSON
// object per run on stdout (progress goes to stderr). Every list flag takes
// comma-separated values and the runs are their cartesian product.
//
//   bazel run -c opt //bench/lab:lab -- --primitive=mutex,rwmutex
//       --threads=4 --read_share=0.9,0.99 --critical_ns=50,5000   (one line)
//   bazel run -c opt //bench/lab:lab -- --list
//
// tools/lab (the decision matrix, tables, plots, report) is built on the same
// engine through the Python package; this binary is for ad-hoc sweeps and
// scripts that want raw JSON lines.

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/lab/engine.h"
#include "bench/lab/json.h"

namespace contend::lab {
namespace {

constexpr char kUsage[] = R"(usage: lab [flags]
  --list                     print the registered primitives (JSON lines)
  --primitive=a,b,...        registry names (default mutex,rwmutex)
  --threads=N,...            threads per run (default 4)
  --writers=N,...            -1: per-op draw with --read_share; N >= 0:
                             N writer threads, the rest readers (default -1)
  --read_share=F,...         fraction of shared ops, 0..1 (default 0.9)
  --critical_ns=N,...        busy work under the lock (default 50)
  --outside_ns=N,...         busy work between ops (default 100)
  --duration_ms=N            run time when --ops=0 (default 200)
  --ops=N                    total ops split evenly over threads (default 0)
  --keys=N                   key space for map-shaped primitives (default 0)
  --seed=N                   PRNG seed (default 1)
  --latency_sample=N         time 1 in N acquisitions, 0 = off (default 8)
  --reps=N                   repetitions of each configuration (default 1)
  --profile_dir=DIR          capture mutex/block pprof files per run into DIR
)";

[[noreturn]] void usage_error(const std::string& msg) {
  std::cerr << "lab: " << msg << "\n" << kUsage;
  std::exit(2);
}

template <class T>
std::vector<T> parse_list(const std::string& flag, const std::string& value) {
  std::vector<T> out;
  for (absl::string_view part : absl::StrSplit(value, ',', absl::SkipEmpty())) {
    T v{};
    bool ok;
    if constexpr (std::is_same_v<T, double>) {
      ok = absl::SimpleAtod(part, &v);
    } else {
      ok = absl::SimpleAtoi(part, &v);
    }
    if (!ok) usage_error(absl::StrCat("bad value \"", part, "\" for --", flag));
    out.push_back(v);
  }
  if (out.empty()) usage_error(absl::StrCat("--", flag, " needs a value"));
  return out;
}

int main_impl(int argc, char** argv) {
  std::map<std::string, std::string> flags = {
      {"primitive", "mutex,rwmutex"},
      {"threads", "4"},
      {"writers", "-1"},
      {"read_share", "0.9"},
      {"critical_ns", "50"},
      {"outside_ns", "100"},
      {"duration_ms", "200"},
      {"ops", "0"},
      {"keys", "0"},
      {"seed", "1"},
      {"latency_sample", "8"},
      {"reps", "1"},
      {"profile_dir", ""},
  };
  bool list = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--list") {
      list = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg.rfind("--", 0) != 0) usage_error("unexpected argument " + arg);
    const size_t eq = arg.find('=');
    if (eq == std::string::npos) usage_error("flag needs =value: " + arg);
    const std::string name = arg.substr(2, eq - 2);
    if (!flags.count(name)) usage_error("unknown flag --" + name);
    flags[name] = arg.substr(eq + 1);
  }

  if (list) {
    for (const Primitive& p : primitives()) std::cout << to_json(p) << "\n";
    return 0;
  }

  const std::vector<std::string> prims =
      absl::StrSplit(flags["primitive"], ',', absl::SkipEmpty());
  const auto threads = parse_list<int>("threads", flags["threads"]);
  const auto writers = parse_list<int>("writers", flags["writers"]);
  const auto shares = parse_list<double>("read_share", flags["read_share"]);
  const auto crits = parse_list<int64_t>("critical_ns", flags["critical_ns"]);
  const auto outs = parse_list<int64_t>("outside_ns", flags["outside_ns"]);
  const int64_t duration_ms =
      parse_list<int64_t>("duration_ms", flags["duration_ms"])[0];
  const int64_t ops = parse_list<int64_t>("ops", flags["ops"])[0];
  const int64_t keys = parse_list<int64_t>("keys", flags["keys"])[0];
  const uint64_t seed = parse_list<uint64_t>("seed", flags["seed"])[0];
  const int sample =
      parse_list<int>("latency_sample", flags["latency_sample"])[0];
  const int reps = parse_list<int>("reps", flags["reps"])[0];
  const std::string profile_dir = flags["profile_dir"];

  int index = 0;
  for (const std::string& prim : prims)
    for (int t : threads)
      for (int wr : writers)
        for (double share : shares)
          for (int64_t crit : crits)
            for (int64_t out : outs)
              for (int rep = 0; rep < reps; ++rep) {
                Workload w;
                w.primitive = prim;
                w.threads = t;
                w.writers = wr;
                w.read_share = share;
                w.critical_ns = crit;
                w.outside_ns = out;
                w.duration_ns = duration_ms * 1'000'000;
                w.ops = ops;
                w.keys = keys;
                w.seed = seed + static_cast<uint64_t>(rep);
                w.latency_sample = sample;
                w.capture_profile = !profile_dir.empty();
                absl::StatusOr<Result> r = run(w);
                if (!r.ok()) {
                  std::cerr << "lab: " << r.status().message() << "\n";
                  return 1;
                }
                std::cerr << absl::StrFormat(
                    "lab: %-18s threads=%d share=%.3f crit=%dns  %.3g ops/s\n",
                    prim, t, share, crit, r->ops_per_sec);
                std::cout << to_json(*r) << std::endl;
                if (w.capture_profile) {
                  const std::string base =
                      absl::StrCat(profile_dir, "/run", index);
                  std::ofstream(base + ".mutex.pb.gz", std::ios::binary)
                      << r->mutex_profile;
                  std::ofstream(base + ".block.pb.gz", std::ios::binary)
                      << r->block_profile;
                }
                ++index;
              }
  return 0;
}

}  // namespace
}  // namespace contend::lab

int main(int argc, char** argv) { return contend::lab::main_impl(argc, argv); }
