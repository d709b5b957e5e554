// Copyright 2026 The contend Authors.

#include "tests/profile/pprof_decoder.h"

#include <zlib.h>

#include <cstring>
#include <string_view>

namespace profile_testing {
namespace {

// Protobuf wire-format reader over a byte range.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }
  bool ok() const { return ok_; }

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) {
        ok_ = false;
        return 0;
      }
      const uint8_t b = static_cast<uint8_t>(data_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    ok_ = false;
    return 0;
  }
  std::string_view bytes() {
    const uint64_t n = varint();
    if (!ok_ || n > data_.size() - pos_) {
      ok_ = false;
      return {};
    }
    std::string_view s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  // Skips a field of the given wire type.
  void skip(uint32_t wire_type) {
    switch (wire_type) {
      case 0:
        varint();
        break;
      case 1:
        advance(8);
        break;
      case 2:
        bytes();
        break;
      case 5:
        advance(4);
        break;
      default:
        ok_ = false;
    }
  }

 private:
  void advance(size_t n) {
    if (n > data_.size() - pos_) {
      ok_ = false;
      return;
    }
    pos_ += n;
  }
  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Reads repeated uint64 fields that may be packed (wire type 2) or not (0).
void read_repeated(Reader& r, uint32_t wire_type, std::vector<uint64_t>* out) {
  if (wire_type == 2) {
    Reader packed(r.bytes());
    while (packed.ok() && !packed.done()) out->push_back(packed.varint());
    if (!packed.ok()) r.skip(99);  // poison
  } else {
    out->push_back(r.varint());
  }
}

struct RawValueType {
  int64_t type = 0;
  int64_t unit = 0;
};

RawValueType read_value_type(std::string_view data, bool* ok) {
  RawValueType vt;
  Reader r(data);
  while (r.ok() && !r.done()) {
    const uint64_t key = r.varint();
    const uint32_t field = static_cast<uint32_t>(key >> 3);
    const uint32_t wt = static_cast<uint32_t>(key & 7);
    if (field == 1 && wt == 0) {
      vt.type = static_cast<int64_t>(r.varint());
    } else if (field == 2 && wt == 0) {
      vt.unit = static_cast<int64_t>(r.varint());
    } else {
      r.skip(wt);
    }
  }
  *ok = *ok && r.ok();
  return vt;
}

}  // namespace

std::vector<std::string> DecodedProfile::stack(const Sample& s) const {
  std::vector<std::string> names;
  for (uint64_t id : s.location_ids) {
    auto it = locations.find(id);
    if (it == locations.end() || it->second.function_ids.empty()) {
      names.emplace_back();
      continue;
    }
    for (uint64_t function_id : it->second.function_ids) {
      auto fn = functions.find(function_id);
      names.push_back(fn == functions.end() ? std::string() : fn->second.name);
    }
  }
  return names;
}

std::string DecodedProfile::label(const Sample& s, const std::string& key) {
  for (const Label& l : s.labels) {
    if (l.key == key) return l.str;
  }
  return "";
}

bool Gunzip(const std::string& gz, std::string* out, std::string* error) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  // 15 + 16: expect a gzip header (not zlib, not raw deflate).
  if (inflateInit2(&zs, 15 + 16) != Z_OK) {
    *error = "inflateInit2 failed";
    return false;
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  out->clear();
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out->append(buf, sizeof(buf) - zs.avail_out);
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    *error = "gzip stream is corrupt or truncated (zlib rc " +
             std::to_string(rc) + ")";
    return false;
  }
  return true;
}

bool DecodeProfile(const std::string& gz, DecodedProfile* out,
                   std::string* error) {
  std::string raw;
  if (!Gunzip(gz, &raw, error)) return false;
  *out = DecodedProfile();

  // First pass into raw (string-index) form; strings are resolved at the end
  // because the string table may come after the messages that use it.
  std::vector<RawValueType> sample_types;
  RawValueType period_type;
  struct RawSample {
    std::vector<uint64_t> locs;
    std::vector<uint64_t> values;
    std::vector<std::pair<int64_t, int64_t>> labels;
  };
  std::vector<RawSample> samples;
  struct RawMapping {
    DecodedProfile::Mapping m;
    int64_t filename = 0;
  };
  std::vector<RawMapping> mappings;
  struct RawFunction {
    uint64_t id = 0;
    int64_t name = 0;
    int64_t system_name = 0;
  };
  std::vector<RawFunction> functions;
  std::vector<uint64_t> comments;
  bool ok = true;

  Reader r(raw);
  while (r.ok() && !r.done() && ok) {
    const uint64_t key = r.varint();
    const uint32_t field = static_cast<uint32_t>(key >> 3);
    const uint32_t wt = static_cast<uint32_t>(key & 7);
    switch (field) {
      case 1:  // sample_type
        sample_types.push_back(read_value_type(r.bytes(), &ok));
        break;
      case 2: {  // sample
        RawSample s;
        Reader m(r.bytes());
        while (m.ok() && !m.done()) {
          const uint64_t k = m.varint();
          const uint32_t f = static_cast<uint32_t>(k >> 3);
          const uint32_t w = static_cast<uint32_t>(k & 7);
          if (f == 1) {
            read_repeated(m, w, &s.locs);
          } else if (f == 2) {
            read_repeated(m, w, &s.values);
          } else if (f == 3 && w == 2) {
            Reader l(m.bytes());
            std::pair<int64_t, int64_t> kv{0, 0};
            while (l.ok() && !l.done()) {
              const uint64_t lk = l.varint();
              const uint32_t lf = static_cast<uint32_t>(lk >> 3);
              const uint32_t lw = static_cast<uint32_t>(lk & 7);
              if (lf == 1 && lw == 0) {
                kv.first = static_cast<int64_t>(l.varint());
              } else if (lf == 2 && lw == 0) {
                kv.second = static_cast<int64_t>(l.varint());
              } else {
                l.skip(lw);
              }
            }
            ok = ok && l.ok();
            s.labels.push_back(kv);
          } else {
            m.skip(w);
          }
        }
        ok = ok && m.ok();
        samples.push_back(std::move(s));
        break;
      }
      case 3: {  // mapping
        RawMapping rm;
        Reader m(r.bytes());
        while (m.ok() && !m.done()) {
          const uint64_t k = m.varint();
          const uint32_t f = static_cast<uint32_t>(k >> 3);
          const uint32_t w = static_cast<uint32_t>(k & 7);
          if (w != 0) {
            m.skip(w);
            continue;
          }
          const uint64_t v = m.varint();
          switch (f) {
            case 1:
              rm.m.id = v;
              break;
            case 2:
              rm.m.start = v;
              break;
            case 3:
              rm.m.limit = v;
              break;
            case 4:
              rm.m.offset = v;
              break;
            case 5:
              rm.filename = static_cast<int64_t>(v);
              break;
            case 7:
              rm.m.has_functions = v != 0;
              break;
            default:
              break;
          }
        }
        ok = ok && m.ok();
        mappings.push_back(rm);
        break;
      }
      case 4: {  // location
        DecodedProfile::Location loc;
        Reader m(r.bytes());
        while (m.ok() && !m.done()) {
          const uint64_t k = m.varint();
          const uint32_t f = static_cast<uint32_t>(k >> 3);
          const uint32_t w = static_cast<uint32_t>(k & 7);
          if (f == 1 && w == 0) {
            loc.id = m.varint();
          } else if (f == 2 && w == 0) {
            loc.mapping_id = m.varint();
          } else if (f == 3 && w == 0) {
            loc.address = m.varint();
          } else if (f == 4 && w == 2) {
            Reader line(m.bytes());
            uint64_t function_id = 0;
            int64_t line_number = 0;
            while (line.ok() && !line.done()) {
              const uint64_t lk = line.varint();
              if ((lk >> 3) == 1 && (lk & 7) == 0) {
                function_id = line.varint();
              } else if ((lk >> 3) == 2 && (lk & 7) == 0) {
                line_number = static_cast<int64_t>(line.varint());
              } else {
                line.skip(static_cast<uint32_t>(lk & 7));
              }
            }
            ok = ok && line.ok();
            loc.function_ids.push_back(function_id);
            loc.lines.push_back(line_number);
          } else {
            m.skip(w);
          }
        }
        ok = ok && m.ok();
        if (loc.id == 0 || out->locations.count(loc.id) != 0) {
          *error = "location id 0 or duplicated";
          return false;
        }
        out->locations[loc.id] = loc;
        break;
      }
      case 5: {  // function
        RawFunction fn;
        Reader m(r.bytes());
        while (m.ok() && !m.done()) {
          const uint64_t k = m.varint();
          const uint32_t f = static_cast<uint32_t>(k >> 3);
          const uint32_t w = static_cast<uint32_t>(k & 7);
          if (w != 0) {
            m.skip(w);
            continue;
          }
          const uint64_t v = m.varint();
          if (f == 1) fn.id = v;
          if (f == 2) fn.name = static_cast<int64_t>(v);
          if (f == 3) fn.system_name = static_cast<int64_t>(v);
        }
        ok = ok && m.ok();
        functions.push_back(fn);
        break;
      }
      case 6:  // string_table
        out->strings.emplace_back(r.bytes());
        break;
      case 9:
        out->time_nanos = static_cast<int64_t>(r.varint());
        break;
      case 10:
        out->duration_nanos = static_cast<int64_t>(r.varint());
        break;
      case 11:
        period_type = read_value_type(r.bytes(), &ok);
        break;
      case 12:
        out->period = static_cast<int64_t>(r.varint());
        break;
      case 13:
        read_repeated(r, wt, &comments);
        break;
      default:
        r.skip(wt);
    }
  }
  if (!ok || !r.ok()) {
    *error = "malformed protobuf";
    return false;
  }
  if (out->strings.empty() || !out->strings[0].empty()) {
    *error = "string_table[0] must be the empty string";
    return false;
  }
  const int64_t n_strings = static_cast<int64_t>(out->strings.size());
  bool bad_string = false;
  auto str = [&](int64_t i) -> std::string {
    if (i < 0 || i >= n_strings) {
      bad_string = true;
      return "";
    }
    return out->strings[static_cast<size_t>(i)];
  };
  for (const RawValueType& vt : sample_types) {
    out->sample_types.push_back({str(vt.type), str(vt.unit)});
  }
  out->period_type = {str(period_type.type), str(period_type.unit)};
  for (const RawMapping& rm : mappings) {
    DecodedProfile::Mapping m = rm.m;
    m.filename = str(rm.filename);
    out->mappings.push_back(m);
  }
  for (const RawFunction& fn : functions) {
    if (fn.id == 0 || out->functions.count(fn.id) != 0) {
      *error = "function id 0 or duplicated";
      return false;
    }
    out->functions[fn.id] = {fn.id, str(fn.name), str(fn.system_name)};
  }
  for (const RawSample& rs : samples) {
    DecodedProfile::Sample s;
    s.location_ids = rs.locs;
    for (uint64_t v : rs.values) s.values.push_back(static_cast<int64_t>(v));
    for (const auto& [k, v] : rs.labels) s.labels.push_back({str(k), str(v)});
    if (s.values.size() != out->sample_types.size()) {
      *error = "sample has " + std::to_string(s.values.size()) +
               " values for " + std::to_string(out->sample_types.size()) +
               " sample types";
      return false;
    }
    for (uint64_t id : s.location_ids) {
      if (out->locations.count(id) == 0) {
        *error = "sample refers to missing location " + std::to_string(id);
        return false;
      }
    }
    out->samples.push_back(std::move(s));
  }
  for (const auto& [id, loc] : out->locations) {
    for (uint64_t fid : loc.function_ids) {
      if (out->functions.count(fid) == 0) {
        *error = "location refers to missing function";
        return false;
      }
    }
    if (loc.mapping_id != 0) {
      bool found = false;
      for (const auto& m : out->mappings)
        found = found || m.id == loc.mapping_id;
      if (!found) {
        *error = "location refers to missing mapping";
        return false;
      }
    }
  }
  for (uint64_t c : comments)
    out->comments.push_back(str(static_cast<int64_t>(c)));
  if (bad_string) {
    *error = "string index out of range";
    return false;
  }
  return true;
}

}  // namespace profile_testing
