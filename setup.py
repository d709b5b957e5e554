"""Builds contend._native for `pip install .` from the C++ sources Bazel builds.

The extension is compiled from the same files as Bazel's
//python/contend:_native.so: sync/, sync/internal/, profile/ (without the HTTP
debug server), the lab engine in bench/lab/ (without its CLI) with the calibrated busy work
of bench/sync/busy_work.cc, and the bindings
in python/contend/. Abseil comes from the system (Debian libabsl-dev, or any
install whose headers and libabsl_*.so are on the default search paths;
ABSL_PREFIX=/opt/absl points elsewhere), as do zlib and elfutils libdw (file:line).
"""

import glob
import os

from pybind11.setup_helpers import ParallelCompile, Pybind11Extension, build_ext
from setuptools import setup

ROOT = os.path.dirname(os.path.abspath(__file__))

SOURCES = [
    "sync/*.cc",
    "sync/internal/*.cc",
    "profile/*.cc",
    "bench/lab/*.cc",
    "bench/sync/busy_work.cc",  # calibrated busy work (lab and benchmarks)
    "python/contend/*.cc",
]
EXCLUDE = {
    "profile/debug_server.cc",  # the HTTP endpoint is opt-in, never in the module
    "bench/lab/lab_main.cc",  # the lab CLI's main()
}

# The Abseil components the sources use, as Debian splits them (one shared
# library each; see third_party/absl.BUILD for the same mapping in Bazel).
ABSL_LIBS = [
    "synchronization", "time", "time_zone", "civil_time", "int128",
    "symbolize", "demangle_internal", "debugging_internal", "stacktrace",
    "status", "statusor", "cord", "strings", "strings_internal",
    "str_format_internal", "base", "raw_logging_internal", "spinlock_wait",
    "log_severity", "throw_delegate",
]


def sources():
    out = []
    for pattern in SOURCES:
        for path in sorted(glob.glob(os.path.join(ROOT, pattern))):
            rel = os.path.relpath(path, ROOT)
            if rel not in EXCLUDE:
                out.append(rel)
    return out


absl_prefix = os.environ.get("ABSL_PREFIX")
include_dirs = [ROOT]
library_dirs = []
if absl_prefix:
    include_dirs.append(os.path.join(absl_prefix, "include"))
    library_dirs.append(os.path.join(absl_prefix, "lib"))

ext = Pybind11Extension(
    "contend._native",
    sources(),
    include_dirs=include_dirs,
    library_dirs=library_dirs,
    libraries=["absl_" + lib for lib in ABSL_LIBS] + ["z", "dw", "elf"],
    define_macros=[("NDEBUG", "1")],
    extra_compile_args=["-fno-omit-frame-pointer", "-pthread", "-O2"],
    extra_link_args=["-pthread"],
    cxx_std=20,
)

# Compile the ~25 translation units in parallel (CONTEND_BUILD_JOBS=N to cap).
ParallelCompile("CONTEND_BUILD_JOBS", default=0).install()

setup(ext_modules=[ext], cmdclass={"build_ext": build_ext})
