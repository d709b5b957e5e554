// Copyright 2026 The contend Authors.

#include "bench/lab/json.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace contend::lab {
namespace {

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string number(double v) {
  if (!std::isfinite(v)) return "null";
  return absl::StrFormat("%.6g", v);
}

std::string latency(const LatencySummary& s) {
  return absl::StrCat(
      "{\"count\":", s.count, ",\"mean_ns\":", number(s.mean_ns),
      ",\"min_ns\":", s.min_ns, ",\"p50_ns\":", s.p50_ns,
      ",\"p90_ns\":", s.p90_ns, ",\"p99_ns\":", s.p99_ns,
      ",\"p999_ns\":", s.p999_ns, ",\"max_ns\":", s.max_ns, "}");
}

const char* boolean(bool b) { return b ? "true" : "false"; }

}  // namespace

std::string to_json(const Result& r) {
  const Workload& w = r.workload;
  std::string threads = "[";
  for (size_t i = 0; i < r.per_thread.size(); ++i) {
    const ThreadResult& t = r.per_thread[i];
    absl::StrAppend(&threads, i ? "," : "", "{\"ops\":", t.ops,
                    ",\"reads\":", t.reads, ",\"writes\":", t.writes,
                    ",\"elapsed_ns\":", t.elapsed_ns, "}");
  }
  threads += "]";
  return absl::StrCat(
      "{\"primitive\":", quote(w.primitive),
      ",\"display_name\":", quote(r.display_name), ",\"threads\":", w.threads,
      ",\"writers\":", w.writers, ",\"read_share\":", number(w.read_share),
      ",\"critical_ns\":", w.critical_ns, ",\"outside_ns\":", w.outside_ns,
      ",\"duration_ns\":", w.duration_ns, ",\"ops\":", w.ops,
      ",\"keys\":", w.keys, ",\"seed\":", w.seed,
      ",\"latency_sample\":", w.latency_sample,
      ",\"elapsed_ns\":", r.elapsed_ns, ",\"total_ops\":", r.total_ops,
      ",\"reads\":", r.reads, ",\"writes\":", r.writes,
      ",\"ops_per_sec\":", number(r.ops_per_sec),
      ",\"ns_per_op\":", number(r.ns_per_op),
      ",\"fairness\":", number(r.fairness), ",\"per_thread\":", threads,
      ",\"latency\":", latency(r.latency),
      ",\"read_latency\":", latency(r.read_latency),
      ",\"write_latency\":", latency(r.write_latency),
      ",\"exclusion_ok\":", boolean(r.exclusion_ok),
      ",\"cancelled\":", boolean(r.cancelled),
      ",\"busy_iterations_per_ns\":", number(r.busy_iterations_per_ns),
      ",\"mutex_profile_bytes\":", r.mutex_profile.size(),
      ",\"block_profile_bytes\":", r.block_profile.size(), "}");
}

std::string to_json(const Primitive& p) {
  return absl::StrCat("{\"name\":", quote(p.name),
                      ",\"display_name\":", quote(p.display_name),
                      ",\"description\":", quote(p.description),
                      ",\"has_shared_mode\":", boolean(p.has_shared_mode), "}");
}

}  // namespace contend::lab
