"""Compiler flags shared by every contend target (one place: ARCHITECTURE.md §5)."""

# Warnings are errors for project code. Frame pointers stay on so the profiler's stack
# walk (profile/) sees every frame of contend's own code.
CONTEND_COPTS = [
    "-Wall",
    "-Wextra",
    "-Wshadow",
    "-Wconversion",
    "-Werror",
    "-fno-omit-frame-pointer",
]

# Tests, benchmarks and the lab: the same set, with two clang-only exceptions. Tests call
# try_lock() inside EXPECT_TRUE and unlock on purpose in misuse tests, which the
# thread-safety analysis cannot follow (the library itself is analysed in full); and
# clang's -Wconversion includes -Wsign-conversion (GCC's does not for C++), which
# index arithmetic in tests trips without finding bugs.
CONTEND_TEST_COPTS = CONTEND_COPTS + select({
    "//tools:clang": ["-Wno-thread-safety-analysis", "-Wno-sign-conversion"],
    "//conditions:default": [],
})
