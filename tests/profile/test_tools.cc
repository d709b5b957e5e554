// Copyright 2026 The contend Authors.

#include "tests/profile/test_tools.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace profile_testing {

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr && dir[0] != '\0' ? dir : "/tmp";
}

std::string FindExecutable(const std::string& preferred,
                           const std::string& name) {
  if (!preferred.empty() && access(preferred.c_str(), X_OK) == 0) {
    return preferred;
  }
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string FindGo() {
  const char* forced = std::getenv("CONTEND_TEST_GO");
  if (forced != nullptr) {
    return forced[0] != '\0' && access(forced, X_OK) == 0 ? forced : "";
  }
  return FindExecutable("/usr/bin/go", "go");
}

std::string GoEnvPrefix() {
  const std::string home = TempDir() + "/gohome";
  mkdir(home.c_str(), 0755);
  return "env HOME=" + home + " GOCACHE=" + home + "/cache GOPATH=" + home +
         "/path PPROF_TMPDIR=" + home + "/pprof GOFLAGS= GOTOOLCHAIN=local ";
}

int RunCommand(const std::string& command, std::string* output) {
  output->clear();
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) {
    output->append(buf, n);
  }
  const int status = pclose(pipe);
  if (status == -1) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
  return static_cast<bool>(out);
}

}  // namespace profile_testing
