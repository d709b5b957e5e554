// Copyright 2026 The contend Authors.
//
// Test support: locating and running the real clients (go tool pprof,
// python3) from inside a Bazel test sandbox.

#ifndef CONTEND_TESTS_PROFILE_TEST_TOOLS_H_
#define CONTEND_TESTS_PROFILE_TEST_TOOLS_H_

#include <string>

namespace profile_testing {

// $TEST_TMPDIR (Bazel), else /tmp.
std::string TempDir();

// The path of an executable: `preferred` if it is executable, else the first
// `name` on $PATH; "" if neither exists.
std::string FindExecutable(const std::string& preferred,
                           const std::string& name);

// The `go` binary: $CONTEND_TEST_GO if set (an empty or non-executable value
// means "no Go", to exercise the skip path), else /usr/bin/go, else `go` on
// $PATH; "" if none.
std::string FindGo();

// Environment assignments that let `go tool pprof` run in a sandbox: HOME,
// GOCACHE, GOPATH and PPROF_TMPDIR under TempDir(), GOFLAGS and GOTOOLCHAIN
// neutral. Suitable as a prefix of a shell command ("env A=1 B=2 ").
std::string GoEnvPrefix();

// Runs `command` with /bin/sh, capturing stdout and stderr together.
// Returns the exit status (-1 if it could not run).
int RunCommand(const std::string& command, std::string* output);

// Writes `data` to `path` (binary). Returns false on failure.
bool WriteFile(const std::string& path, const std::string& data);

// Function names in profiles come from absl::Symbolize, which reads
// /proc/self/task/<tid>/maps. qemu-user (Debian's 7.2, --config=aarch64)
// emulates /proc/self/maps but not that path, so the guest reads the host
// qemu's own x86-64 mappings and every frame symbolizes as "??" (file:line
// from libdw still works: it walks the loaded objects with dl_iterate_phdr).
// A test that asserts on function names skips there with this message.
#if defined(CONTEND_EMULATED)
inline constexpr bool kNoFunctionNames = true;
#else
inline constexpr bool kNoFunctionNames = false;
#endif
inline constexpr const char* kNoFunctionNamesWhy =
    "qemu-user: absl::Symbolize reads /proc/self/task/<tid>/maps, which "
    "qemu-user does not emulate (tests/profile/test_tools.h)";

}  // namespace profile_testing

#endif  // CONTEND_TESTS_PROFILE_TEST_TOOLS_H_
