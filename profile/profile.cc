// Copyright 2026 The contend Authors.
//
// Export side of the profiler: symbolization, the pprof encoder (a minimal
// hand-written protobuf writer, as Go's runtime/pprof does), gzip, the text
// report, the Amdahl analysis and the Chrome-trace timeline.

#include "profile/profile.h"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <pthread.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/debugging/internal/demangle.h"
#include "absl/debugging/symbolize.h"
#include "absl/synchronization/mutex.h"
#include "profile/caller_frames.h"
#include "profile/hooks.h"
#include "sync/internal/clock.h"
#include "sync/internal/wait_observer.h"

namespace contend::profile {
namespace {

using internal::ProfileSnapshot;
using internal::ProfileType;
using internal::StackRecord;
using internal::WaitKind;

// ---------------------------------------------------------------------------
// Symbolization: once per unique PC, cached for the life of the process.

// Stands for the "stack table full" pseudo-frame. Never a real return
// address (page 0 is never mapped).
constexpr uintptr_t kOverflowPc = 1;
constexpr const char* kOverflowName = "[contend: stack table full]";

// A function the compiler inlined at a PC, and the source line in it.
struct InlinedFrame {
  std::string function;  // demangled as absl::Symbolize does; "" if unknown
  std::string file;
  int64_t line = 0;
};

// Where a PC's code came from; line 0 (and file "") where unknown.
struct SourceLine {
  // The line in the function the symbol table names (for a PC in inlined
  // code: the call site of the outermost inlined function).
  std::string file;
  int64_t line = 0;
  // The functions inlined at the PC, innermost first, each with its own
  // line (as pprof's Location.line lists them before the caller's).
  std::vector<InlinedFrame> inlined;
};

struct SymbolCache {
  absl::Mutex mu;
  // Value: demangled name, or "" when the PC could not be symbolized.
  std::unordered_map<uintptr_t, std::string> names ABSL_GUARDED_BY(mu);
  // Value: file:line from DWARF, for the same PCs.
  std::unordered_map<uintptr_t, SourceLine> lines ABSL_GUARDED_BY(mu);
  // Slow-path name -> public name ("X::unlock_slow()" -> "X::unlock()"),
  // for leaves whose public method was inlined into its caller.
  std::unordered_map<std::string, std::string> public_names ABSL_GUARDED_BY(mu);
};

SymbolCache& symbol_cache();

// fork(): the cache's lock is held across fork() (and released in both
// processes) so that the child never inherits it locked; the names stay
// valid in the child (same binary and mappings).
void symbol_cache_fork_prepare() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  symbol_cache().mu.Lock();
}
void symbol_cache_fork_release() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  symbol_cache().mu.Unlock();
}

SymbolCache& symbol_cache() {
  static SymbolCache* const cache = [] {
    auto* c = new SymbolCache();
    pthread_atfork(&symbol_cache_fork_prepare, &symbol_cache_fork_release,
                   &symbol_cache_fork_release);
    return c;
  }();
  return *cache;
}

std::string demangle_if_mangled(const char* name) {
  if (std::strncmp(name, "_Z", 2) != 0) return name;
  int status = 0;
  char* demangled = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string out = status == 0 && demangled != nullptr ? demangled : name;
  std::free(demangled);
  return out;
}

// File and line of code addresses, from the DWARF of this process's own
// modules, through elfutils' libdwfl (Debian: libdw-dev).
//
// Why libdw: it is packaged by Debian (the build is offline, system
// libraries only), runs in process (an export must not fork addr2line or
// llvm-symbolizer from a loaded server, nor after fork()), reads what GCC 12
// and clang 14 emit by default (DWARF 5: .debug_str_offsets, .debug_addr,
// .debug_rnglists, .debug_line_str; compressed sections) and can enumerate
// the process's modules itself (dwfl_linux_proc_report). Its licence
// (LGPL-3+ / GPL-2+) allows linking from any program. The alternatives:
// libbacktrace has no Debian package of its own, libbfd (binutils-dev) is
// GPL-3 with an unstable ABI, and absl::Symbolize (kept for the names) has
// no line tables.
//
// Finding the compilation unit of an address: libdw 0.188 (Debian 12) looks
// it up in .debug_aranges only (dwarf_addrdie, dwfl_module_addrdie,
// dwfl_module_getsrc), and clang does not emit that section unless asked
// (-gdwarf-aranges); elfutils 0.191 added the fallback. Where the aranges
// lookup finds nothing, the units' own address ranges (DW_AT_low_pc/high_pc
// or DW_AT_ranges, read by dwarf_ranges) are indexed once per module and
// searched instead, so clang-built objects get file:line as GCC's do.
//
// Separate debug files (.gnu_debuglink, -dbgsym packages) are not searched,
// and debuginfod is never asked: only DWARF inside the mapped files counts,
// so an export stays local and bounded. For a PC in code that the compiler
// inlined, the inlined functions are listed innermost first, each with its
// own line (the line table's for the innermost, the DW_AT_call_file/line of
// the next inner one for the others); the line given for the function the
// symbol table names is the call site of the outermost inlined function, so
// name and line always agree.
//
// Not thread-safe: used under SymbolCache::mu, one session per batch of new
// PCs (so modules loaded since the previous export are seen).
class DwarfLines {
 public:
  DwarfLines() {
    static const Dwfl_Callbacks kCallbacks = {
        &dwfl_linux_proc_find_elf, &no_separate_debuginfo, nullptr, nullptr};
    dwfl_ = dwfl_begin(&kCallbacks);
    if (dwfl_ == nullptr) return;
    dwfl_report_begin(dwfl_);
    const int rc = dwfl_linux_proc_report(dwfl_, getpid());
    dwfl_report_end(dwfl_, nullptr, nullptr);
    if (rc != 0) {
      dwfl_end(dwfl_);
      dwfl_ = nullptr;
    }
  }
  ~DwarfLines() {
    if (dwfl_ != nullptr) dwfl_end(dwfl_);
  }
  DwarfLines(const DwarfLines&) = delete;
  DwarfLines& operator=(const DwarfLines&) = delete;

  // Source paths as the compiler recorded them, less a leading "./" or
  // "/proc/self/cwd/" (Bazel's working-directory prefixes).
  static std::string clean_path(const char* path) {
    std::string_view p = path;
    for (std::string_view prefix : {"/proc/self/cwd/", "./"}) {
      if (p.substr(0, prefix.size()) == prefix) p.remove_prefix(prefix.size());
    }
    return std::string(p);
  }

  SourceLine lookup(uintptr_t address) {
    SourceLine out;
    if (dwfl_ == nullptr) return out;
    Dwfl_Module* mod = dwfl_addrmodule(dwfl_, address);
    if (mod == nullptr) return out;
    Dwarf_Addr bias = 0;
    Dwarf_Die* cu = unit_of(mod, address, &bias);
    if (cu == nullptr) return out;
    const Dwarf_Addr pc = address - bias;
    // The line table's row: the line of the innermost function at the PC.
    std::string file;
    int64_t line = 0;
    if (Dwarf_Line* l = dwarf_getsrc_die(cu, pc)) {
      int n = 0;
      const char* name = dwarf_linesrc(l, nullptr, nullptr);
      if (name != nullptr && dwarf_lineno(l, &n) == 0 && n > 0) {
        file = clean_path(name);
        line = n;
      }
    }
    // The scopes containing the PC, outermost first. The innermost
    // subprogram is the function the code belongs to; the inlined
    // subroutines below it are what was inlined there.
    std::vector<Dwarf_Die> path;
    scopes_containing(cu, pc, &path);
    size_t inner = path.size();
    for (size_t i = path.size(); i-- > 0;) {
      if (dwarf_tag(&path[i]) == DW_TAG_subprogram) break;
      inner = i;
    }
    Dwarf_Files* files = nullptr;
    size_t nfiles = 0;
    for (size_t i = path.size(); i-- > inner;) {
      Dwarf_Die* scope = &path[i];
      if (dwarf_tag(scope) != DW_TAG_inlined_subroutine) continue;
      // This inlined function runs at (file, line); its caller, the next
      // scope out, at the call site.
      out.inlined.push_back(
          InlinedFrame{function_name(scope), std::move(file), line});
      file.clear();
      line = 0;
      Dwarf_Attribute attr;
      Dwarf_Word call_file = 0;
      Dwarf_Word call_line = 0;
      if (files == nullptr && dwarf_getsrcfiles(cu, &files, &nfiles) != 0) {
        files = nullptr;
      }
      if (files != nullptr &&
          dwarf_formudata(dwarf_attr(scope, DW_AT_call_file, &attr),
                          &call_file) == 0 &&
          dwarf_formudata(dwarf_attr(scope, DW_AT_call_line, &attr),
                          &call_line) == 0 &&
          call_file < nfiles && call_line > 0) {
        if (const char* name =
                dwarf_filesrc(files, call_file, nullptr, nullptr)) {
          file = clean_path(name);
          line = static_cast<int64_t>(call_line);
        }
      }
    }
    if (line > 0) {
      out.file = std::move(file);
      out.line = line;
    }
    return out;
  }

 private:
  struct UnitRange {
    Dwarf_Addr low;
    Dwarf_Addr high;  // exclusive
    Dwarf_Die unit;
  };

  static int no_separate_debuginfo(Dwfl_Module*, void**, const char*,
                                   Dwarf_Addr, const char*, const char*,
                                   GElf_Word, char**) {
    return -1;
  }

  // Appends the DIEs under `parent` whose code contains `pc`, outermost
  // first; returns whether it found any. Namespaces are searched too: clang
  // nests function definitions in their namespace's DIE (GCC puts them at
  // the unit's top level), and libdw 0.188's dwarf_getscopes() finds no
  // scope in clang's units (it fails with "no address value"), so the walk
  // is done here, the same for both compilers. Types are not searched: a
  // class holds member declarations, and their definitions (the code) are
  // outside it.
  static bool scopes_containing(Dwarf_Die* parent, Dwarf_Addr pc,
                                std::vector<Dwarf_Die>* path) {
    Dwarf_Die child;
    if (dwarf_child(parent, &child) != 0) return false;
    do {
      switch (dwarf_tag(&child)) {
        case DW_TAG_subprogram:
        case DW_TAG_inlined_subroutine:
        case DW_TAG_lexical_block:
        case DW_TAG_try_block:
        case DW_TAG_catch_block:
          if (dwarf_haspc(&child, pc) > 0) {
            path->push_back(child);
            scopes_containing(&child, pc, path);
            return true;
          }
          break;
        case DW_TAG_namespace:
          if (scopes_containing(&child, pc, path)) return true;
          break;
        default:
          break;
      }
    } while (dwarf_siblingof(&child, &child) == 0);
    return false;
  }

  // The compilation unit whose code contains `address`, or nullptr: through
  // .debug_aranges where the module has them (GCC), else through the units'
  // own ranges (clang; see the class comment).
  Dwarf_Die* unit_of(Dwfl_Module* mod, Dwarf_Addr address, Dwarf_Addr* bias) {
    if (Dwarf_Die* cu = dwfl_module_addrdie(mod, address, bias)) return cu;
    auto [it, inserted] = unit_ranges_.try_emplace(mod);
    std::vector<UnitRange>& ranges = it->second;
    if (inserted) {
      Dwarf_Addr unit_bias = 0;
      for (Dwarf_Die* cu = dwfl_module_nextcu(mod, nullptr, &unit_bias);
           cu != nullptr; cu = dwfl_module_nextcu(mod, cu, &unit_bias)) {
        Dwarf_Addr base = 0, low = 0, high = 0;
        for (ptrdiff_t at = dwarf_ranges(cu, 0, &base, &low, &high); at > 0;
             at = dwarf_ranges(cu, at, &base, &low, &high)) {
          if (low < high) ranges.push_back(UnitRange{low, high, *cu});
        }
      }
      std::sort(
          ranges.begin(), ranges.end(),
          [](const UnitRange& a, const UnitRange& b) { return a.low < b.low; });
    }
    if (ranges.empty() || dwfl_module_getdwarf(mod, bias) == nullptr) {
      return nullptr;
    }
    const Dwarf_Addr pc = address - *bias;
    auto after = std::upper_bound(
        ranges.begin(), ranges.end(), pc,
        [](Dwarf_Addr a, const UnitRange& r) { return a < r.low; });
    if (after == ranges.begin()) return nullptr;
    UnitRange& r = *std::prev(after);
    return pc < r.high ? &r.unit : nullptr;
  }

  // An inlined function's name, demangled by the demangler absl::Symbolize
  // uses (so that it matches the name of the same function's out-of-line
  // copies); the linkage name comes from the abstract origin or the
  // declaration it specifies.
  static std::string function_name(Dwarf_Die* die) {
    Dwarf_Attribute attr;
    const char* linkage =
        dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
    if (linkage == nullptr) {
      linkage = dwarf_formstring(
          dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
    }
    if (linkage != nullptr) {
      char buf[4096];
      if (absl::debugging_internal::Demangle(linkage, buf, sizeof(buf))) {
        return buf;
      }
      return demangle_if_mangled(linkage);
    }
    const char* name =
        dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
    return name != nullptr ? name : "";
  }

  Dwfl* dwfl_ = nullptr;
  // Built on first use per module, only where the aranges lookup failed.
  std::unordered_map<Dwfl_Module*, std::vector<UnitRange>> unit_ranges_;
};

bool is_machinery_frame(const std::string& name);
std::string_view primitive_class(const std::string& name);

// The inlined functions a profile shows at a PC whose code belongs to
// `function` (the symbol table's name): the ParkingLot's and the
// profiler's own are dropped, as their out-of-line frames are, and a
// primitive's private members inlined into another member of the same
// primitive fold into it (Mutex::unlock_and_wake into Mutex::unlock_slow),
// so stacks show the primitive's public methods only. Depends on the PC
// alone, as a Location must.
void drop_inlined_internals(const std::string& function,
                            std::vector<InlinedFrame>* inlined) {
  std::vector<InlinedFrame> kept;
  for (size_t i = 0; i < inlined->size(); ++i) {
    InlinedFrame& f = (*inlined)[i];
    if (is_machinery_frame(f.function)) continue;
    const std::string& outer =
        i + 1 < inlined->size() ? (*inlined)[i + 1].function : function;
    const std::string_view cls = primitive_class(f.function);
    if (!cls.empty() && cls == primitive_class(outer)) continue;
    kept.push_back(std::move(f));
  }
  *inlined = std::move(kept);
}

// Names (and, where `lines` is given, file:line) for return addresses; the
// call instruction is at pc - 1, which keeps a call at the very end of a
// function attributed to that function.
std::vector<const std::string*> symbolize_all(
    const std::vector<uintptr_t>& pcs,
    std::vector<const SourceLine*>* lines = nullptr) {
  SymbolCache& cache = symbol_cache();
  std::vector<const std::string*> out(pcs.size());
  if (lines != nullptr) lines->assign(pcs.size(), nullptr);
  absl::MutexLock lock(&cache.mu);
  std::unique_ptr<DwarfLines> dwarf;  // opened for the first new PC
  for (size_t i = 0; i < pcs.size(); ++i) {
    auto [it, inserted] = cache.names.try_emplace(pcs[i]);
    auto [line_it, line_inserted] = cache.lines.try_emplace(pcs[i]);
    if (inserted || line_inserted) {
      std::string function, file;
      int line = 0;
      // A frame of an embedding interpreter (caller_frames.h): its name and
      // file:line are the strings it interned, not anything in DWARF.
      if (internal::caller_frame_info(pcs[i], &function, &file, &line)) {
        it->second = std::move(function);
        line_it->second = SourceLine{std::move(file), line, {}};
        inserted = line_inserted = false;
      }
    }
    if (inserted) {
      if (pcs[i] == kOverflowPc) {
        it->second = kOverflowName;
      } else {
        char buf[4096];
        if (absl::Symbolize(reinterpret_cast<const void*>(pcs[i] - 1), buf,
                            sizeof(buf))) {
          it->second = demangle_if_mangled(buf);
        }
      }
    }
    if (line_inserted && pcs[i] != kOverflowPc) {
      if (dwarf == nullptr) dwarf = std::make_unique<DwarfLines>();
      line_it->second = dwarf->lookup(pcs[i] - 1);
      drop_inlined_internals(it->second, &line_it->second.inlined);
    }
    // unordered_map nodes are stable: the pointers stay valid.
    out[i] = &it->second;
    if (lines != nullptr) (*lines)[i] = &line_it->second;
  }
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Frames of the ParkingLot and of the profiler itself: dropped from the top
// of every stack, then the primitive's internals (public_leaf), so that a
// mutex-profile stack starts at contend::Mutex::unlock as Go's starts at
// sync.(*Mutex).Unlock.
bool is_machinery_frame(const std::string& name) {
  return starts_with(name, "contend::internal::");
}

// "contend::Mutex::unlock_slow()" -> "contend::Mutex": the class of a
// member of one of the public primitives, i.e. a type directly in namespace
// contend (types are PascalCase, namespaces lower case: STYLE.md); "" for
// anything else (contend::internal, contend::profile, free functions, other
// namespaces), whose frames are never collapsed.
std::string_view primitive_class(const std::string& name) {
  constexpr std::string_view kNamespace = "contend::";
  if (!starts_with(name, kNamespace)) return {};
  std::string_view n = name;
  n = n.substr(0, n.find('('));
  const size_t at = n.rfind("::");
  if (at == std::string_view::npos || at <= kNamespace.size()) return {};
  const std::string_view type =
      n.substr(kNamespace.size(), at - kNamespace.size());
  if (type.empty() || type.front() < 'A' || type.front() > 'Z' ||
      type.find("::") != std::string_view::npos) {
    return {};
  }
  return n.substr(0, at);
}

// The leaf a sample shows, as Go shows sync.(*Mutex).Unlock and not the
// runtime's internals: the primitive's own frames on top of the stack
// (contend::Mutex::unlock_and_wake <- unlock_slow <- unlock) collapse to the
// outermost one, its public entry point. Where the compiler inlined the
// public method into its caller (-c opt), the outermost is the out-of-line
// "<method>_slow" it calls: it is shown under the public name (its address,
// inside the slow path, is kept). Returns the index of the new leaf.
size_t public_leaf(const std::vector<const std::string*>& names, size_t first,
                   size_t n) {
  while (first + 1 < n) {
    const std::string_view cls = primitive_class(*names[first]);
    if (cls.empty() || cls != primitive_class(*names[first + 1])) break;
    ++first;
  }
  return first;
}

// Private helpers of the primitives' slow paths that can be a sample's
// leaf with no frame of the public method above them: at -c opt the public
// method is inlined into its caller and Mutex::unlock_slow ends in a sibling
// call (a jump) to unlock_and_wake, so neither unlock nor unlock_slow has a
// frame; lock_slow likewise ends in give_back_woken when a lock gives up.
// Members named "<method>_slow" need no entry (the suffix is dropped).
constexpr std::pair<std::string_view, std::string_view> kPublicEntry[] = {
    {"contend::Mutex::unlock_and_wake", "contend::Mutex::unlock"},
    {"contend::Mutex::give_back_woken", "contend::Mutex::lock"},
};

// A primitive's internal member -> the public method it serves
// ("contend::Mutex::unlock_slow()" -> "contend::Mutex::unlock()"); any other
// name unchanged. The result lives in the symbol cache.
const std::string* public_name(const std::string* name) {
  if (primitive_class(*name).empty()) return name;
  const size_t paren = name->find('(');
  const std::string_view head = std::string_view(*name).substr(0, paren);
  std::string_view entry;
  for (const auto& [internal_name, public_method] : kPublicEntry) {
    if (head == internal_name) entry = public_method;
  }
  constexpr std::string_view kSlow = "_slow";
  if (entry.empty() && head.size() > kSlow.size() &&
      head.substr(head.size() - kSlow.size()) == kSlow) {
    entry = head.substr(0, head.size() - kSlow.size());
  }
  if (entry.empty()) return name;
  SymbolCache& cache = symbol_cache();
  absl::MutexLock lock(&cache.mu);
  auto [it, inserted] = cache.public_names.try_emplace(*name);
  if (inserted) {
    it->second = std::string(entry) +
                 (paren == std::string::npos ? "" : name->substr(paren));
  }
  return &it->second;
}

// Frames that are not the user's: skipped when naming a site.
bool is_library_frame(const std::string& name) {
  return name.empty() || starts_with(name, "contend::") ||
         starts_with(name, "std::") || starts_with(name, "__gnu_cxx::") ||
         starts_with(name, "absl::");
}

// ---------------------------------------------------------------------------
// A snapshot with symbolized, trimmed and merged stacks.

struct Sample {
  std::vector<uintptr_t> pcs;  // innermost first, machinery trimmed
  std::vector<const std::string*> names;
  std::vector<const SourceLine*> lines;  // parallel to names; never null
  WaitKind kind;
  const char* label;
  double count;
  int64_t delay_ns;
};

struct Resolved {
  ProfileSnapshot snapshot;     // records moved out into samples
  std::vector<Sample> samples;  // by delay, descending
};

[[noreturn]] void fatal(const char* msg) noexcept {
  std::fputs(msg, stderr);
  std::fputc('\n', stderr);
  std::abort();
}

struct RecordKeyHash {
  size_t operator()(const StackRecord* r) const noexcept {
    uint64_t h = static_cast<uint64_t>(r->kind) * 0x9e3779b97f4a7c15ULL ^
                 reinterpret_cast<uintptr_t>(r->label);
    for (uintptr_t pc : r->pcs) {
      h = (h ^ pc) * 0xff51afd7ed558ccdULL;
      h ^= h >> 32;
    }
    return static_cast<size_t>(h);
  }
};
struct RecordKeyEq {
  bool operator()(const StackRecord* a, const StackRecord* b) const noexcept {
    return a->kind == b->kind && a->label == b->label && a->pcs == b->pcs;
  }
};

// Turns `now` into what was recorded after `since` (same profile). Within
// one epoch every record, the overflow bucket and the enabled time only
// grow, so the differences are the events in between; stacks with no new
// event are dropped. Across a reset `now` is already "since the reset".
void subtract(ProfileSnapshot* now, const ProfileSnapshot& since) {
  if (since.epoch != now->epoch) return;
  std::unordered_map<const StackRecord*, const StackRecord*, RecordKeyHash,
                     RecordKeyEq>
      before;
  before.reserve(since.records.size());
  for (const StackRecord& r : since.records) before.emplace(&r, &r);
  std::vector<StackRecord> kept;
  kept.reserve(now->records.size());
  for (StackRecord& r : now->records) {
    auto it = before.find(&r);
    if (it != before.end()) {
      r.count -= it->second->count;
      r.delay_ns -= it->second->delay_ns;
    }
    if (r.count > 0) kept.push_back(std::move(r));
  }
  now->records = std::move(kept);
  now->overflow_count =
      std::max(0.0, now->overflow_count - since.overflow_count);
  now->overflow_delay_ns =
      std::max<int64_t>(0, now->overflow_delay_ns - since.overflow_delay_ns);
  now->alloc_failures = now->alloc_failures >= since.alloc_failures
                            ? now->alloc_failures - since.alloc_failures
                            : 0;
  now->enabled_ns = std::max<int64_t>(0, now->enabled_ns - since.enabled_ns);
}

// `since` == nullptr: the whole profile.
Resolved resolve(ProfileType type, const ProfileSnapshot* since = nullptr) {
  Resolved out;
  out.snapshot = internal::profiler_snapshot(type);
  if (since != nullptr) subtract(&out.snapshot, *since);
  std::vector<StackRecord>& records = out.snapshot.records;
  std::vector<uintptr_t> all_pcs;
  for (const StackRecord& r : records) {
    all_pcs.insert(all_pcs.end(), r.pcs.begin(), r.pcs.end());
  }
  std::vector<const SourceLine*> all_lines;
  const std::vector<const std::string*> all_names =
      symbolize_all(all_pcs, &all_lines);
  // Merge records that become equal once machinery frames are trimmed:
  // samples bucketed by a hash of (trimmed pcs, kind, label address), then
  // compared exactly. Labels have static storage, so equal addresses mean
  // the same label.
  std::unordered_map<uint64_t, std::vector<size_t>> index;
  index.reserve(records.size());
  out.samples.reserve(records.size() + 1);
  size_t offset = 0;
  for (StackRecord& r : records) {
    const size_t n = r.pcs.size();
    size_t first = 0;
    while (first + 1 < n && is_machinery_frame(*all_names[offset + first])) {
      ++first;
    }
    first = public_leaf(all_names, offset + first, offset + n) - offset;
    // Where the public method was inlined into its caller (-c opt), the
    // caller's frame lists it as an inlined function: that frame becomes
    // the leaf, as Go's sync.(*Mutex).Unlock is an inlined line of the
    // caller's location, and the out-of-line slow path is dropped.
    if (first + 1 < n) {
      const std::string_view cls = primitive_class(*all_names[offset + first]);
      const std::vector<InlinedFrame>& caller_inlined =
          all_lines[offset + first + 1]->inlined;
      if (!cls.empty() && !caller_inlined.empty() &&
          primitive_class(caller_inlined.front().function) == cls) {
        ++first;
      }
    }
    uint64_t h = static_cast<uint64_t>(r.kind) * 0x9e3779b97f4a7c15ULL ^
                 reinterpret_cast<uintptr_t>(r.label);
    for (size_t i = first; i < n; ++i) {
      h = (h ^ r.pcs[i]) * 0xff51afd7ed558ccdULL;
      h ^= h >> 32;
    }
    std::vector<size_t>& bucket = index[h];
    Sample* same = nullptr;
    for (size_t k : bucket) {
      Sample& c = out.samples[k];
      if (c.kind == r.kind && c.label == r.label && c.pcs.size() == n - first &&
          std::equal(c.pcs.begin(), c.pcs.end(),
                     r.pcs.begin() + static_cast<ptrdiff_t>(first))) {
        same = &c;
        break;
      }
    }
    if (same != nullptr) {
      same->count += r.count;
      same->delay_ns += r.delay_ns;
    } else {
      bucket.push_back(out.samples.size());
      if (first > 0) {
        r.pcs.erase(r.pcs.begin(),
                    r.pcs.begin() + static_cast<ptrdiff_t>(first));
      }
      out.samples.push_back(
          Sample{std::move(r.pcs),
                 std::vector<const std::string*>(
                     all_names.begin() + static_cast<ptrdiff_t>(offset + first),
                     all_names.begin() + static_cast<ptrdiff_t>(offset + n)),
                 std::vector<const SourceLine*>(
                     all_lines.begin() + static_cast<ptrdiff_t>(offset + first),
                     all_lines.begin() + static_cast<ptrdiff_t>(offset + n)),
                 r.kind, r.label, r.count, r.delay_ns});
      Sample& added = out.samples.back();
      if (!added.names.empty()) added.names[0] = public_name(added.names[0]);
    }
    offset += n;
  }
  records.clear();
  if (out.snapshot.overflow_count > 0) {
    static const SourceLine kNoLine;
    out.samples.push_back(Sample{{kOverflowPc},
                                 symbolize_all({kOverflowPc}),
                                 {&kNoLine},
                                 WaitKind::kOther,
                                 nullptr,
                                 out.snapshot.overflow_count,
                                 out.snapshot.overflow_delay_ns});
  }
  std::stable_sort(
      out.samples.begin(), out.samples.end(),
      [](const Sample& a, const Sample& b) { return a.delay_ns > b.delay_ns; });
  return out;
}

int64_t round_count(double count) {
  if (!(count < 9.2e18)) return std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(std::llround(count));
}

// ---------------------------------------------------------------------------
// Minimal protobuf writer (wire format: varints and length-delimited fields).

class ProtoWriter {
 public:
  static size_t varint_size(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
      v >>= 7;
      ++n;
    }
    return n;
  }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      buf_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    buf_.push_back(static_cast<char>(v));
  }
  void key(uint32_t field, uint32_t wire_type) {
    varint((static_cast<uint64_t>(field) << 3) | wire_type);
  }
  // proto3 scalars: zero is the default and is omitted, as Go's encoder does.
  void uint64_opt(uint32_t field, uint64_t v) {
    if (v == 0) return;
    key(field, 0);
    varint(v);
  }
  void int64_opt(uint32_t field, int64_t v) {
    uint64_opt(field, static_cast<uint64_t>(v));  // two's complement varint
  }
  void bool_opt(uint32_t field, bool v) { uint64_opt(field, v ? 1 : 0); }
  void bytes(uint32_t field, std::string_view s) {
    key(field, 2);
    varint(s.size());
    buf_.append(s.data(), s.size());
  }
  void message(uint32_t field, const ProtoWriter& m) { bytes(field, m.buf_); }
  // Packed repeated varints: the payload length first, so the values are
  // encoded twice (once to size them); no temporary buffer.
  void packed(uint32_t field, const uint64_t* vs, size_t n) {
    size_t len = 0;
    for (size_t i = 0; i < n; ++i) len += varint_size(vs[i]);
    key(field, 2);
    varint(len);
    for (size_t i = 0; i < n; ++i) varint(vs[i]);
  }
  void clear() { buf_.clear(); }
  void reserve(size_t n) { buf_.reserve(n); }
  const std::string& data() const { return buf_; }

 private:
  std::string buf_;
};

// perftools.profiles.Profile field numbers (profile.proto).
namespace pb {
constexpr uint32_t kSampleType = 1, kSample = 2, kMapping = 3, kLocation = 4,
                   kFunction = 5, kStringTable = 6, kTimeNanos = 9,
                   kDurationNanos = 10, kPeriodType = 11, kPeriod = 12,
                   kComment = 13;
constexpr uint32_t kValueTypeType = 1, kValueTypeUnit = 2;
constexpr uint32_t kSampleLocationId = 1, kSampleValue = 2, kSampleLabel = 3;
constexpr uint32_t kLabelKey = 1, kLabelStr = 2;
constexpr uint32_t kMappingId = 1, kMappingStart = 2, kMappingLimit = 3,
                   kMappingOffset = 4, kMappingFilename = 5,
                   kMappingHasFunctions = 7, kMappingHasFilenames = 8,
                   kMappingHasLineNumbers = 9;
constexpr uint32_t kLocationId = 1, kLocationMappingId = 2,
                   kLocationAddress = 3, kLocationLine = 4;
constexpr uint32_t kLineFunctionId = 1, kLineLine = 2;
constexpr uint32_t kFunctionId = 1, kFunctionName = 2, kFunctionSystemName = 3,
                   kFunctionFilename = 4;
}  // namespace pb

class StringTable {
 public:
  StringTable() { index(""); }
  int64_t index(const std::string& s) {
    auto [it, inserted] =
        ids_.try_emplace(s, static_cast<int64_t>(strings_.size()));
    if (inserted) strings_.push_back(s);
    return it->second;
  }
  const std::vector<std::string>& strings() const { return strings_; }

 private:
  std::unordered_map<std::string, int64_t> ids_;
  std::vector<std::string> strings_;
};

struct MappingInfo {
  uint64_t start;
  uint64_t limit;
  uint64_t offset;
  std::string file;
};

// Executable mappings of this process, the main executable first (pprof
// treats the first mapping as the main binary).
std::vector<MappingInfo> read_executable_mappings() {
  std::vector<MappingInfo> out;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long long start = 0, limit = 0, offset = 0, inode = 0;
    char perms[8] = {};
    char dev[32] = {};
    int path_at = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %31s %llu %n", &start,
                    &limit, perms, &offset, dev, &inode, &path_at) < 6) {
      continue;
    }
    if (std::strchr(perms, 'x') == nullptr) continue;
    std::string file =
        path_at > 0 && static_cast<size_t>(path_at) <= line.size()
            ? line.substr(static_cast<size_t>(path_at))
            : std::string();
    out.push_back(MappingInfo{start, limit, offset, std::move(file)});
  }
  char exe[4096];
  const ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (len > 0) {
    const std::string exe_path(exe, static_cast<size_t>(len));
    std::stable_partition(out.begin(), out.end(), [&](const MappingInfo& m) {
      return m.file == exe_path;
    });
  }
  return out;
}

int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string encode_pprof(const Resolved& r) {
  StringTable strings;
  ProtoWriter profile;
  auto value_type = [&](uint32_t field, const char* type, const char* unit) {
    ProtoWriter vt;
    vt.int64_opt(pb::kValueTypeType, strings.index(type));
    vt.int64_opt(pb::kValueTypeUnit, strings.index(unit));
    profile.message(field, vt);
  };
  // Go's layout for both the mutex and the block profile
  // (runtime/pprof printCountCycleProfile): values are already scaled.
  value_type(pb::kSampleType, "contentions", "count");
  value_type(pb::kSampleType, "delay", "nanoseconds");

  const std::vector<MappingInfo> maps = read_executable_mappings();
  std::vector<uint64_t> mapping_ids(maps.size(), 0);  // 0 = not emitted
  // Per mapping: whether every location in it has a function name, and a
  // file:line. pprof re-symbolizes the mappings where a flag is false.
  std::vector<char> all_named(maps.size(), 1);
  std::vector<char> all_lined(maps.size(), 1);
  uint64_t next_mapping_id = 1;
  std::vector<ProtoWriter> mapping_msgs;
  // Index into maps, or maps.size() if the address is in none.
  auto mapping_for = [&](uintptr_t address) -> size_t {
    for (size_t i = 0; i < maps.size(); ++i) {
      if (address >= maps[i].start && address < maps[i].limit) {
        if (mapping_ids[i] == 0) mapping_ids[i] = next_mapping_id++;
        return i;
      }
    }
    return maps.size();
  };

  struct FunctionInfo {
    const std::string* name;
    const std::string* file;  // the first file seen for it; "" if none
  };
  std::unordered_map<std::string, uint64_t> function_ids;
  std::vector<FunctionInfo> functions;
  std::unordered_map<uintptr_t, uint64_t> location_ids;
  std::vector<ProtoWriter> location_msgs;

  const int64_t kind_key = strings.index("kind");
  const int64_t lock_key = strings.index("lock");
  profile.reserve(r.samples.size() * 64 + 4096);
  std::vector<uint64_t> locs;
  ProtoWriter sample;
  for (const Sample& s : r.samples) {
    locs.clear();
    for (size_t i = 0; i < s.pcs.size(); ++i) {
      const uintptr_t pc = s.pcs[i];
      auto [it, inserted] =
          location_ids.try_emplace(pc, location_ids.size() + 1);
      if (inserted) {
        ProtoWriter loc;
        loc.uint64_opt(pb::kLocationId, it->second);
        const std::string& name = *s.names[i];
        const SourceLine& source = *s.lines[i];
        if (pc != kOverflowPc && !internal::is_caller_frame(pc)) {
          // The call instruction, as pprof expects for non-leaf frames.
          const uintptr_t address = pc - 1;
          const size_t m = mapping_for(address);
          if (m < maps.size()) {
            loc.uint64_opt(pb::kLocationMappingId, mapping_ids[m]);
            if (name.empty()) all_named[m] = 0;
            if (source.line == 0) all_lined[m] = 0;
          }
          loc.uint64_opt(pb::kLocationAddress, address);
        }
        // One Line per function at the PC: the inlined ones innermost
        // first, then the one the symbol table names (pprof's order).
        auto add_line = [&](const std::string& function,
                            const std::string& file, int64_t line_number) {
          auto [fit, finserted] =
              function_ids.try_emplace(function, function_ids.size() + 1);
          if (finserted) functions.push_back(FunctionInfo{&function, nullptr});
          FunctionInfo& fn = functions[fit->second - 1];
          if (fn.file == nullptr && line_number != 0) fn.file = &file;
          ProtoWriter line;
          line.uint64_opt(pb::kLineFunctionId, fit->second);
          line.int64_opt(pb::kLineLine, line_number);
          loc.message(pb::kLocationLine, line);
        };
        if (!name.empty()) {
          for (const InlinedFrame& f : source.inlined) {
            if (!f.function.empty()) add_line(f.function, f.file, f.line);
          }
          add_line(name, source.file, source.line);
        }
        location_msgs.push_back(std::move(loc));
      }
      locs.push_back(it->second);
    }
    sample.clear();
    sample.packed(pb::kSampleLocationId, locs.data(), locs.size());
    const uint64_t values[2] = {static_cast<uint64_t>(round_count(s.count)),
                                static_cast<uint64_t>(s.delay_ns)};
    sample.packed(pb::kSampleValue, values, 2);
    if (s.pcs.size() != 1 || s.pcs[0] != kOverflowPc) {
      ProtoWriter kind;
      kind.int64_opt(pb::kLabelKey, kind_key);
      kind.int64_opt(pb::kLabelStr,
                     strings.index(internal::wait_kind_name(s.kind)));
      sample.message(pb::kSampleLabel, kind);
      if (s.label != nullptr) {
        ProtoWriter lock;
        lock.int64_opt(pb::kLabelKey, lock_key);
        lock.int64_opt(pb::kLabelStr, strings.index(s.label));
        sample.message(pb::kSampleLabel, lock);
      }
    }
    profile.message(pb::kSample, sample);
  }

  for (size_t i = 0; i < maps.size(); ++i) {
    if (mapping_ids[i] != 0) {
      ProtoWriter m;
      m.uint64_opt(pb::kMappingId, mapping_ids[i]);
      m.uint64_opt(pb::kMappingStart, maps[i].start);
      m.uint64_opt(pb::kMappingLimit, maps[i].limit);
      m.uint64_opt(pb::kMappingOffset, maps[i].offset);
      m.int64_opt(pb::kMappingFilename, strings.index(maps[i].file));
      // Set only when true of every location in the mapping, so that pprof
      // re-symbolizes (with the binary at hand) what we could not.
      m.bool_opt(pb::kMappingHasFunctions, all_named[i] != 0);
      m.bool_opt(pb::kMappingHasFilenames, all_lined[i] != 0);
      m.bool_opt(pb::kMappingHasLineNumbers, all_lined[i] != 0);
      mapping_msgs.push_back(std::move(m));
    }
  }
  // Mapping ids were handed out in first-use order; emit them sorted by id.
  std::vector<std::pair<uint64_t, const ProtoWriter*>> ordered;
  {
    size_t k = 0;
    for (size_t i = 0; i < maps.size(); ++i) {
      if (mapping_ids[i] != 0)
        ordered.emplace_back(mapping_ids[i], &mapping_msgs[k++]);
    }
    std::sort(ordered.begin(), ordered.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  for (const auto& [id, msg] : ordered) profile.message(pb::kMapping, *msg);
  for (const ProtoWriter& loc : location_msgs) {
    profile.message(pb::kLocation, loc);
  }
  for (size_t i = 0; i < functions.size(); ++i) {
    ProtoWriter fn;
    fn.uint64_opt(pb::kFunctionId, i + 1);
    fn.int64_opt(pb::kFunctionName, strings.index(*functions[i].name));
    fn.int64_opt(pb::kFunctionSystemName, strings.index(*functions[i].name));
    if (functions[i].file != nullptr) {
      fn.int64_opt(pb::kFunctionFilename, strings.index(*functions[i].file));
    }
    profile.message(pb::kFunction, fn);
  }

  profile.int64_opt(pb::kTimeNanos, wall_clock_ns());
  profile.int64_opt(pb::kDurationNanos, r.snapshot.enabled_ns);
  value_type(pb::kPeriodType, "contentions", "count");
  profile.int64_opt(pb::kPeriod, 1);
  const std::string comment =
      std::string("contend ") +
      (r.snapshot.type == ProfileType::kMutex ? "mutex profile, fraction "
                                              : "block profile, rate_ns ") +
      std::to_string(r.snapshot.period);
  const int64_t comment_index = strings.index(comment);
  int64_t overflow_index = 0;
  if (r.snapshot.overflow_count > 0) {
    overflow_index = strings.index(
        "contend: stack table full (cap " +
        std::to_string(r.snapshot.max_stacks) +
        "): " + std::to_string(round_count(r.snapshot.overflow_count)) +
        " events, " + std::to_string(r.snapshot.overflow_delay_ns) +
        " ns not attributed to a stack");
  }
  int64_t alloc_index = 0;
  if (r.snapshot.alloc_failures > 0) {
    alloc_index =
        strings.index("contend: " + std::to_string(r.snapshot.alloc_failures) +
                      " sampled events dropped (allocation failed)");
  }
  // Strings last: every index above is final now.
  for (const std::string& s : strings.strings()) {
    profile.bytes(pb::kStringTable, s);
  }
  profile.key(pb::kComment, 0);
  profile.varint(static_cast<uint64_t>(comment_index));
  for (const int64_t index : {overflow_index, alloc_index}) {
    if (index == 0) continue;
    profile.key(pb::kComment, 0);
    profile.varint(static_cast<uint64_t>(index));
  }
  return profile.data();
}

std::string gzip(const std::string& in) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  // windowBits 15 + 16: zlib writes a gzip header and trailer. Level 1
  // (Z_BEST_SPEED), as Go's runtime/pprof uses gzip.BestSpeed: profiles are
  // written while the process runs, so time matters more than bytes.
  if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return std::string();
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(in.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END ? out : std::string();
}

// ---------------------------------------------------------------------------
// UTF-8. Labels and thread names are arbitrary bytes; every output format
// that promises text (JSON, Go-quoted strings) decodes them here.

constexpr uint32_t kInvalidRune = 0xFFFFFFFF;

// Decodes one UTF-8 sequence at s[*i] and advances *i past it. Returns the
// code point, or kInvalidRune (advancing one byte) for a byte that does not
// start a well-formed sequence: overlong forms, surrogates and values above
// U+10FFFF are invalid, as in Go's utf8.DecodeRuneInString.
uint32_t decode_rune(std::string_view s, size_t* i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(*i);
  if (b0 < 0x80) {
    ++*i;
    return b0;
  }
  size_t n;
  uint32_t r;
  uint32_t min;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2, r = b0 & 0x1Fu, min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3, r = b0 & 0x0Fu, min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4, r = b0 & 0x07u, min = 0x10000;
  } else {
    ++*i;
    return kInvalidRune;
  }
  if (*i + n > s.size()) {
    ++*i;
    return kInvalidRune;
  }
  for (size_t k = 1; k < n; ++k) {
    const unsigned char b = byte(*i + k);
    if ((b & 0xC0u) != 0x80u) {
      ++*i;
      return kInvalidRune;
    }
    r = (r << 6) | (b & 0x3Fu);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) {
    ++*i;
    return kInvalidRune;
  }
  *i += n;
  return r;
}

void append_utf8(std::string* out, uint32_t r) {
  if (r < 0x80) {
    out->push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (r >> 6)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (r >> 12)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (r >> 18)));
    out->push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}

// Non-ASCII code points that Go's strconv.IsPrint rejects and that a label
// could plausibly hold: C1 controls, non-ASCII spaces, the soft hyphen,
// zero-width and
// directional formatting characters, line/paragraph separators, the BOM,
// and non-characters. (Unassigned code points, which IsPrint also rejects,
// are kept as they are: the table would be Unicode's.)
bool is_unprintable_non_ascii(uint32_t r) {
  return (r >= 0x80 && r <= 0x9F) || r == 0xA0 || r == 0xAD || r == 0x1680 ||
         (r >= 0x2000 && r <= 0x200F) || (r >= 0x2028 && r <= 0x202F) ||
         r == 0x205F || r == 0x3000 || (r >= 0x2060 && r <= 0x206F) ||
         r == 0xFEFF || (r >= 0xFFF9 && r <= 0xFFFB) ||
         (r & 0xFFFE) == 0xFFFE || (r >= 0xFDD0 && r <= 0xFDEF) ||
         (r >= 0xE000 && r <= 0xF8FF) || r >= 0xF0000;
}

// `s` as Go's strconv.Quote writes it: double quotes; \a \b \f \n \r \t
// \v \\ \"; other ASCII controls and invalid UTF-8 bytes as \xHH;
// unprintable code points as \uHHHH or \UHHHHHHHH; the rest verbatim.
std::string go_quote(std::string_view s) {
  std::string out = "\"";
  char buf[16];
  for (size_t i = 0; i < s.size();) {
    const size_t at = i;
    const uint32_t r = decode_rune(s, &i);
    if (r == kInvalidRune) {
      std::snprintf(buf, sizeof(buf), "\\x%02x",
                    static_cast<unsigned char>(s[at]));
      out += buf;
      continue;
    }
    switch (r) {
      case '\a':
        out += "\\a";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\v':
        out += "\\v";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '"':
        out += "\\\"";
        continue;
      default:
        break;
    }
    if (r < 0x20 || r == 0x7F) {
      std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(r));
      out += buf;
    } else if (r >= 0x80 && is_unprintable_non_ascii(r)) {
      std::snprintf(buf, sizeof(buf), r < 0x10000 ? "\\u%04x" : "\\U%08x",
                    static_cast<unsigned>(r));
      out += buf;
    } else {
      append_utf8(&out, r);
    }
  }
  out += '"';
  return out;
}

// ---------------------------------------------------------------------------
// Text (Go's debug=1 legacy format, plus labels and the overflow line).

std::string hex(uintptr_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%#" PRIxPTR, v);
  return buf;
}

void append_hex(std::string* out, uintptr_t v) {
  char buf[24];
  const int n = std::snprintf(buf, sizeof(buf), "%#" PRIxPTR, v);
  out->append(buf, static_cast<size_t>(n));
}

void write_text(const Resolved& r, std::ostream& out) {
  // Built in one string: ostream insertion per field is several times
  // slower for large profiles.
  std::string text;
  text += r.snapshot.type == ProfileType::kMutex ? "--- mutex:\n"
                                                 : "--- contention:\n";
  // Delays are in nanoseconds, so a "cycle" is a nanosecond.
  text += "cycles/second=1000000000\n";
  text += "sampling period=" + std::to_string(r.snapshot.period) + "\n";
  for (const Sample& s : r.samples) {
    text += std::to_string(s.delay_ns);
    text += ' ';
    text += std::to_string(round_count(s.count));
    text += " @";
    for (uintptr_t pc : s.pcs) {
      text += ' ';
      append_hex(&text, pc);
    }
    text += '\n';
    for (size_t i = 0; i < s.pcs.size(); ++i) {
      const std::string& name = *s.names[i];
      text += "#\t";
      append_hex(&text, s.pcs[i] == kOverflowPc               ? 0
                        : internal::is_caller_frame(s.pcs[i]) ? s.pcs[i]
                                                              : s.pcs[i] - 1);
      text += '\t';
      // Functions inlined at the PC first, one line each at the same
      // address (as Go's debug=1 text lists them).
      if (!name.empty()) {
        for (const InlinedFrame& f : s.lines[i]->inlined) {
          if (f.function.empty()) continue;
          text += f.function;
          if (f.line != 0) {
            text += '\t';
            text += f.file;
            text += ':';
            text += std::to_string(f.line);
          }
          text += "\n#\t";
          append_hex(&text, s.pcs[i] == kOverflowPc ? 0 : s.pcs[i] - 1);
          text += '\t';
        }
      }
      text += name.empty() ? "??" : name;
      if (s.lines[i]->line != 0) {
        text += '\t';
        text += s.lines[i]->file;
        text += ':';
        text += std::to_string(s.lines[i]->line);
      }
      text += '\n';
    }
    if (s.pcs.size() != 1 || s.pcs[0] != kOverflowPc) {
      text += "#\tlabels: kind=";
      text += internal::wait_kind_name(s.kind);
      if (s.label != nullptr) {
        text += " lock=";
        text += go_quote(s.label);
      }
      text += '\n';
    }
    text += '\n';
  }
  if (r.snapshot.overflow_count > 0) {
    text += "# overflow: stack table full (cap " +
            std::to_string(r.snapshot.max_stacks) +
            "): " + std::to_string(round_count(r.snapshot.overflow_count)) +
            " events, " + std::to_string(r.snapshot.overflow_delay_ns) +
            " ns not attributed to a stack\n";
  } else {
    text += "# overflow: 0 events\n";
  }
  if (r.snapshot.alloc_failures > 0) {
    text += "# dropped: " + std::to_string(r.snapshot.alloc_failures) +
            " sampled events (allocation failed)\n";
  }
  out << text;
}

// ---------------------------------------------------------------------------
// Analysis.

ProfileAnalysis analyze_resolved(const Resolved& r, size_t top) {
  ProfileAnalysis a;
  a.enabled = r.snapshot.period > 0;
  a.wall_seconds = static_cast<double>(r.snapshot.enabled_ns) / 1e9;
  a.overflow_contentions = r.snapshot.overflow_count;
  auto fill_rates = [&](int64_t delay_ns, double* per_second, double* f,
                        double* ceiling) {
    *per_second =
        a.wall_seconds > 0 ? static_cast<double>(delay_ns) / a.wall_seconds : 0;
    *f = std::min(1.0, *per_second / 1e9);
    *ceiling = *f > 0 ? 1.0 / *f : std::numeric_limits<double>::infinity();
  };
  std::map<std::pair<std::string, std::string>, size_t> by_site;
  std::vector<Site> sites;
  for (const Sample& s : r.samples) {
    const int64_t count = round_count(s.count);
    a.contentions += count;
    a.delay_ns += s.delay_ns;
    // The site is the first frame of the user's code: an embedding's caller
    // frame (caller_frames.h: the Python function) where the stack has one,
    // else the first native frame outside contend, the standard library and
    // Abseil.
    size_t owner = 0;
    while (owner < s.pcs.size() && !internal::is_caller_frame(s.pcs[owner])) {
      ++owner;
    }
    if (owner == s.pcs.size()) {
      owner = 0;
      while (owner < s.names.size() && is_library_frame(*s.names[owner])) {
        ++owner;
      }
    }
    if (owner == s.names.size()) owner = 0;
    std::string function =
        s.names.empty() || s.names[owner]->empty() ? "??" : *s.names[owner];
    std::string label = s.label != nullptr ? s.label : "";
    auto [it, inserted] =
        by_site.try_emplace(std::make_pair(function, label), sites.size());
    if (inserted) {
      Site site;
      site.function = std::move(function);
      site.label = std::move(label);
      for (const std::string* name : s.names) {
        site.stack.push_back(name->empty() ? "??" : *name);
      }
      sites.push_back(std::move(site));
    }
    Site& site = sites[it->second];
    site.contentions += count;
    site.delay_ns += s.delay_ns;
  }
  for (Site& site : sites) {
    fill_rates(site.delay_ns, &site.delay_per_second_ns,
               &site.serialized_fraction, &site.amdahl_ceiling);
  }
  fill_rates(a.delay_ns, &a.delay_per_second_ns, &a.serialized_fraction,
             &a.amdahl_ceiling);
  std::stable_sort(
      sites.begin(), sites.end(),
      [](const Site& x, const Site& y) { return x.delay_ns > y.delay_ns; });
  if (sites.size() > top) sites.resize(top);
  a.sites = std::move(sites);
  return a;
}

std::string format_seconds(double ns) {
  char buf[64];
  if (ns >= 1e9) {
    std::snprintf(buf, sizeof(buf), "%.3f s", ns / 1e9);
  } else if (ns >= 1e6) {
    std::snprintf(buf, sizeof(buf), "%.3f ms", ns / 1e6);
  } else if (ns >= 1e3) {
    std::snprintf(buf, sizeof(buf), "%.3f us", ns / 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%.0f ns", ns);
  }
  return buf;
}

std::string format_ceiling(double c) {
  if (std::isinf(c)) return "unbounded";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1fx", c);
  return buf;
}

std::string format_percent(double f) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", f * 100);
  return buf;
}

void write_analysis(const ProfileAnalysis& a, const char* title,
                    const char* site_title, std::ostream& out) {
  out << title << ": ";
  if (!a.enabled && a.contentions == 0) {
    out << "off\n";
    return;
  }
  char window[64];
  std::snprintf(window, sizeof(window), "%.3f", a.wall_seconds);
  out << "window " << window << " s, total delay "
      << format_seconds(static_cast<double>(a.delay_ns)) << " in "
      << a.contentions << " events = " << format_seconds(a.delay_per_second_ns)
      << "/s -> serialized ~" << format_percent(a.serialized_fraction)
      << ", Amdahl ceiling ~" << format_ceiling(a.amdahl_ceiling) << "\n";
  if (a.overflow_contentions > 0) {
    out << "  (" << round_count(a.overflow_contentions)
        << " events in the overflow bucket: stack table full)\n";
  }
  out << "  " << site_title << ":\n";
  int rank = 0;
  for (const Site& s : a.sites) {
    out << "  " << ++rank << ". " << s.function;
    if (!s.label.empty()) out << " [lock=" << go_quote(s.label) << "]";
    out << "  delay " << format_seconds(static_cast<double>(s.delay_ns)) << " ("
        << format_seconds(s.delay_per_second_ns) << "/s, f~"
        << format_percent(s.serialized_fraction) << ", ceiling "
        << format_ceiling(s.amdahl_ceiling) << "), " << s.contentions
        << " events\n";
  }
}

// ---------------------------------------------------------------------------
// Timeline JSON.

// A JSON string (RFC 8259) holding `s` decoded as UTF-8, each invalid byte
// replaced by U+FFFD, so the document is valid UTF-8 whatever `s` holds.
void json_string(std::ostream& out, std::string_view s) {
  std::string text = "\"";
  for (size_t i = 0; i < s.size();) {
    const uint32_t r = decode_rune(s, &i);
    switch (r) {
      case '"':
        text += "\\\"";
        break;
      case '\\':
        text += "\\\\";
        break;
      case '\n':
        text += "\\n";
        break;
      case '\t':
        text += "\\t";
        break;
      case kInvalidRune:
        append_utf8(&text, 0xFFFD);
        break;
      default:
        if (r < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(r));
          text += buf;
        } else {
          append_utf8(&text, r);
        }
    }
  }
  text += '"';
  out << text;
}

// Microseconds with nanosecond precision, exactly ("12.345").
std::string micros(int64_t ns) {
  char buf[40];
  const char* sign = ns < 0 ? "-" : "";
  const uint64_t a =
      ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  std::snprintf(buf, sizeof(buf), "%s%" PRIu64 ".%03" PRIu64, sign, a / 1000,
                a % 1000);
  return buf;
}

const char* status_name(internal::ParkStatus s) {
  switch (s) {
    case internal::ParkStatus::kUnparked:
      return "unparked";
    case internal::ParkStatus::kInvalid:
      return "invalid";
    case internal::ParkStatus::kTimedOut:
      return "timed_out";
    case internal::ParkStatus::kCancelled:
      return "cancelled";
  }
  return "?";
}

std::string thread_name(uint32_t tid) {
  std::ifstream comm("/proc/self/task/" + std::to_string(tid) + "/comm");
  std::string name;
  if (comm && std::getline(comm, name) && !name.empty()) {
    return name + " (" + std::to_string(tid) + ")";
  }
  return "thread " + std::to_string(tid);
}

void write_resolved(const Resolved& r, std::ostream& out, int debug) {
  if (debug > 0) {
    write_text(r, out);
  } else {
    out << gzip(encode_pprof(r));
  }
}

}  // namespace

int set_mutex_profile_fraction(int n) {
  return internal::profiler_set_mutex_fraction(n);
}

int64_t set_block_profile_rate(int64_t rate_ns) {
  return internal::profiler_set_block_rate(rate_ns);
}

void write_mutex_profile(std::ostream& out, int debug) {
  write_resolved(resolve(ProfileType::kMutex), out, debug);
}

void write_block_profile(std::ostream& out, int debug) {
  write_resolved(resolve(ProfileType::kBlock), out, debug);
}

Snapshot::Snapshot(std::shared_ptr<const internal::ProfileSnapshot> data)
    : data_(std::move(data)) {}

Snapshot::~Snapshot() = default;

Snapshot Snapshot::mutex() {
  return Snapshot(std::make_shared<const ProfileSnapshot>(
      internal::profiler_snapshot(ProfileType::kMutex)));
}

Snapshot Snapshot::block() {
  return Snapshot(std::make_shared<const ProfileSnapshot>(
      internal::profiler_snapshot(ProfileType::kBlock)));
}

int64_t Snapshot::time_ns() const noexcept { return data_->now_ns; }

void write_mutex_profile(std::ostream& out, const Snapshot& since, int debug) {
  if (since.data_->type != ProfileType::kMutex) {
    fatal("contend: write_mutex_profile: since is a block-profile Snapshot");
  }
  write_resolved(resolve(ProfileType::kMutex, since.data_.get()), out, debug);
}

void write_block_profile(std::ostream& out, const Snapshot& since, int debug) {
  if (since.data_->type != ProfileType::kBlock) {
    fatal("contend: write_block_profile: since is a mutex-profile Snapshot");
  }
  write_resolved(resolve(ProfileType::kBlock, since.data_.get()), out, debug);
}

std::string symbolize(uintptr_t address) {
  // The cache is keyed by return address and looks up pc - 1.
  return *symbolize_all({address + 1})[0];
}

void write_text_report(std::ostream& out) {
  const Resolved mutex = resolve(ProfileType::kMutex);
  const Resolved block = resolve(ProfileType::kBlock);
  write_text(mutex, out);
  out << '\n';
  write_text(block, out);
  out << "\n--- analysis:\n";
  write_analysis(analyze_resolved(mutex, 10),
                 "mutex profile (charged to the releaser)",
                 "top bottleneck owners", out);
  write_analysis(analyze_resolved(block, 10),
                 "block profile (charged to the waiter)", "top blocked sites",
                 out);
}

void reset() { internal::profiler_reset(); }

void start_timeline(const TimelineOptions& options) {
  internal::timeline_start(options.events_per_thread, options.max_threads);
}

void stop_timeline() { internal::timeline_stop(); }

void write_timeline_json(std::ostream& out) {
  const internal::TimelineSnapshot snap = internal::timeline_snapshot();
  const int pid = static_cast<int>(getpid());
  // Timestamps relative to the earliest event (or the start), so that they
  // stay small and non-negative.
  int64_t base = snap.start_ns;
  for (const auto& t : snap.threads) {
    for (const auto& e : t.entries) base = std::min(base, e.start_ns);
  }
  std::vector<uint32_t> tids;
  std::ostringstream events;
  bool first = true;
  auto begin_event = [&]() {
    events << (first ? "\n" : ",\n");
    first = false;
  };
  uint64_t next_flow = 1;
  for (const auto& t : snap.threads) {
    tids.push_back(t.tid);
    for (const auto& e : t.entries) {
      const char* kind = internal::wait_kind_name(e.kind);
      const char* label = e.label;
      if (e.type == internal::TimelineEntry::Type::kRelease) {
        begin_event();
        events << R"({"ph":"i","s":"t","cat":"contend","pid":)" << pid
               << ",\"tid\":" << t.tid
               << ",\"ts\":" << micros(e.start_ns - base) << ",\"name\":";
        json_string(events, std::string("contended release ") + kind);
        events << ",\"args\":{\"key\":\""
               << hex(reinterpret_cast<uintptr_t>(e.key))
               << "\",\"delay_ns\":" << e.delay_ns
               << ",\"waiters\":" << e.waiters << "}}";
        continue;
      }
      const bool woken = e.other_tid != 0;
      const uint64_t flow = woken ? next_flow++ : 0;
      begin_event();
      events << R"({"ph":"X","cat":"contend","pid":)" << pid
             << ",\"tid\":" << t.tid << ",\"ts\":" << micros(e.start_ns - base)
             << ",\"dur\":" << micros(e.end_ns - e.start_ns) << ",\"name\":";
      json_string(events, label != nullptr ? std::string(label)
                                           : std::string("wait ") + kind);
      events << ",\"args\":{\"key\":\""
             << hex(reinterpret_cast<uintptr_t>(e.key)) << "\",\"kind\":\""
             << kind << "\",\"status\":\"" << status_name(e.status)
             << "\",\"wait_ns\":" << (e.end_ns - e.start_ns);
      if (label != nullptr) {
        events << ",\"label\":";
        json_string(events, label);
      }
      if (woken) events << ",\"waker_tid\":" << e.other_tid;
      events << "}";
      if (woken) {
        events << ",\"bind_id\":\"" << hex(flow) << "\",\"flow_in\":true}";
        // The waker's side: a zero-length slice at the dequeue time, the
        // source of the flow arrow.
        tids.push_back(e.other_tid);
        begin_event();
        events << R"({"ph":"X","cat":"contend","pid":)" << pid
               << ",\"tid\":" << e.other_tid
               << ",\"ts\":" << micros(e.end_ns - base)
               << ",\"dur\":0.000,\"name\":";
        json_string(events, std::string("wake ") + kind);
        events << ",\"args\":{\"key\":\""
               << hex(reinterpret_cast<uintptr_t>(e.key))
               << "\",\"woken_tid\":" << t.tid << "},\"bind_id\":\""
               << hex(flow) << "\",\"flow_out\":true}";
      } else {
        events << "}";
      }
    }
  }
  std::sort(tids.begin(), tids.end());
  tids.erase(std::unique(tids.begin(), tids.end()), tids.end());
  out << "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[";
  out << R"({"ph":"M","pid":)" << pid
      << R"(,"name":"process_name","args":{"name":"contend timeline"}})";
  for (uint32_t tid : tids) {
    out << ",\n"
        << R"({"ph":"M","pid":)" << pid << ",\"tid\":" << tid
        << R"(,"name":"thread_name","args":{"name":)";
    json_string(out, thread_name(tid));
    out << "}}";
  }
  if (!first) out << ',';
  out << events.str()
      << "\n],\"otherData\":{\"running\":" << (snap.running ? "true" : "false")
      << ",\"duration_ns\":" << (snap.stop_ns - snap.start_ns)
      << ",\"overwritten_events\":" << snap.overwritten
      << ",\"dropped_events\":" << snap.dropped
      << ",\"alloc_failures\":" << snap.alloc_failures
      << ",\"events_per_thread\":" << snap.events_per_thread
      << ",\"max_threads\":" << snap.max_threads << "}}\n";
}

Analysis analyze(const AnalyzeOptions& options) {
  Analysis a;
  a.mutex = analyze_resolved(resolve(ProfileType::kMutex), options.top);
  a.block = analyze_resolved(resolve(ProfileType::kBlock), options.top);
  return a;
}

}  // namespace contend::profile
