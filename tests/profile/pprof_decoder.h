// Copyright 2026 The contend Authors.
//
// Test support: an independent reader for gzipped profile.proto, written
// from the schema (github.com/google/pprof/proto/profile.proto) rather than
// from profile/profile.cc, so that the in-repo decoder test checks the
// encoder against the format and not against itself.

#ifndef CONTEND_TESTS_PROFILE_PPROF_DECODER_H_
#define CONTEND_TESTS_PROFILE_PPROF_DECODER_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace profile_testing {

struct DecodedProfile {
  struct ValueType {
    std::string type;
    std::string unit;
  };
  struct Label {
    std::string key;
    std::string str;
  };
  struct Sample {
    std::vector<uint64_t> location_ids;  // leaf first
    std::vector<int64_t> values;
    std::vector<Label> labels;
  };
  struct Mapping {
    uint64_t id = 0;
    uint64_t start = 0;
    uint64_t limit = 0;
    uint64_t offset = 0;
    std::string filename;
    bool has_functions = false;
  };
  struct Location {
    uint64_t id = 0;
    uint64_t mapping_id = 0;
    uint64_t address = 0;
    // From the Line entries, innermost first: functions inlined at the
    // address, then the one they were inlined into.
    std::vector<uint64_t> function_ids;
    std::vector<int64_t> lines;  // parallel to function_ids; 0 if unknown
  };
  struct Function {
    uint64_t id = 0;
    std::string name;
    std::string system_name;
  };

  std::vector<ValueType> sample_types;
  ValueType period_type;
  int64_t period = 0;
  int64_t time_nanos = 0;
  int64_t duration_nanos = 0;
  std::vector<Sample> samples;
  std::vector<Mapping> mappings;
  std::map<uint64_t, Location> locations;
  std::map<uint64_t, Function> functions;
  std::vector<std::string> comments;
  std::vector<std::string> strings;

  // Function names of a sample's stack, leaf first, as pprof shows it: a
  // location with inlined functions contributes one frame per Line ("" for
  // a location without a function).
  std::vector<std::string> stack(const Sample& s) const;
  // The value of label `key` on `s`, or "".
  static std::string label(const Sample& s, const std::string& key);
};

// Inflates gzip data. Returns false (with *error set) on a corrupt stream.
bool Gunzip(const std::string& gz, std::string* out, std::string* error);

// Decodes a gzipped profile.proto. Returns false (with *error set) if the
// data is not valid gzip, not valid protobuf wire format, or refers to
// strings, locations or functions that do not exist.
bool DecodeProfile(const std::string& gz, DecodedProfile* out,
                   std::string* error);

}  // namespace profile_testing

#endif  // CONTEND_TESTS_PROFILE_PPROF_DECODER_H_
