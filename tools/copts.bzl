"""Compiler flags shared by every contend target (one place, per STYLE.md §BUILD)."""

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

# Tests and benchmarks: same warnings; gtest/benchmark macros trip -Wconversion-free code
# rarely, so they keep the full set too.
CONTEND_TEST_COPTS = CONTEND_COPTS
