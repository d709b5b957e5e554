"""Builds contend._native for `pip install .` from the C++ sources Bazel builds.

The extension is compiled from the same files as Bazel's
//python/contend:_native.so: sync/, sync/internal/, shard/sharded_counter.cc,
shard/distributed_rw_mutex.cc and shard/internal/, profile/ (with the
/debug/pprof HTTP server), the lab engine in bench/lab/ (without its CLI) with
the calibrated busy work of bench/sync/busy_work.cc, and the bindings in
python/contend/ (with the header-only pool/resource_pool.h). Abseil comes from
the system (Debian libabsl-dev, or any install whose headers and libabsl_*.so
are on the default search paths; ABSL_PREFIX=/opt/absl points elsewhere); its
flags come from pkg-config when it knows Abseil, from a hand list otherwise.
zlib and elfutils libdw (file:line) come from the system too. cpp-httplib
(Debian libcpp-httplib-dev, a compiled library) comes from pkg-config
cpp-httplib, whose CPPHTTPLIB_* macros every includer of <httplib.h> must share
with the library; where pkg-config does not know it, the module is built
without profile/debug_server.cc and contend.profile.serve_debug raises
RuntimeError naming the package.
"""

import glob
import shlex
import subprocess
import os
import sys

from pybind11.setup_helpers import ParallelCompile, Pybind11Extension, build_ext
from setuptools import setup

ROOT = os.path.dirname(os.path.abspath(__file__))

SOURCES = [
    "sync/*.cc",
    "sync/internal/*.cc",
    "shard/sharded_counter.cc",  # ShardedCounter (shard_counter_bindings.cc)
    "shard/distributed_rw_mutex.cc",  # DistributedRWMutex (sync_bindings.cc)
    "shard/internal/*.cc",
    "pool/*.cc",  # BufferPool (the lab's pool workloads, bench/lab/pool_primitives.cc)
    "profile/*.cc",
    "bench/lab/*.cc",
    "bench/sync/busy_work.cc",  # calibrated busy work (lab and benchmarks)
    "python/contend/*.cc",
]
EXCLUDE = {
    "bench/lab/lab_main.cc",  # the lab CLI's main()
}
# Compiled only with cpp-httplib (httplib_flags()).
DEBUG_SERVER = "profile/debug_server.cc"

# The Abseil components the sources include (absl/<component>/...), as
# pkg-config modules; pkg-config adds the libraries they depend on.
ABSL_PKGS = [
    "absl_base", "absl_flat_hash_map", "absl_symbolize", "absl_any_invocable",
    "absl_function_ref", "absl_status", "absl_statusor", "absl_strings",
    "absl_str_format", "absl_synchronization",
]
# Without pkg-config (or with ABSL_PREFIX): the same libraries by hand, as
# Debian splits them (see third_party/absl.BUILD for the mapping in Bazel).
ABSL_LIBS = [
    "synchronization", "time", "time_zone", "civil_time", "int128",
    "symbolize", "demangle_internal", "debugging_internal", "stacktrace",
    "status", "statusor", "cord", "strings", "strings_internal",
    "str_format_internal", "base", "raw_logging_internal", "spinlock_wait",
    "log_severity", "throw_delegate",
]


def absl_flags():
    """(include_dirs, library_dirs, libraries, extra_compile_args) for Abseil:
    from pkg-config when it knows Abseil and ABSL_PREFIX is unset."""
    prefix = os.environ.get("ABSL_PREFIX")
    if prefix:
        return ([os.path.join(prefix, "include")], [os.path.join(prefix, "lib")],
                ["absl_" + lib for lib in ABSL_LIBS], [])
    try:
        known = [p for p in ABSL_PKGS if subprocess.run(
            ["pkg-config", "--exists", p]).returncode == 0]
        if not known:
            raise OSError("pkg-config knows no Abseil module")
        cflags = shlex.split(subprocess.check_output(
            ["pkg-config", "--cflags"] + known, text=True))
        libs = shlex.split(subprocess.check_output(
            ["pkg-config", "--libs"] + known, text=True))
    except (OSError, subprocess.CalledProcessError):
        return [], [], ["absl_" + lib for lib in ABSL_LIBS], []
    return ([f[2:] for f in cflags if f.startswith("-I")],
            [f[2:] for f in libs if f.startswith("-L")],
            [f[2:] for f in libs if f.startswith("-l")],
            [f for f in cflags if not f.startswith("-I")])


def httplib_flags():
    """(extra_compile_args, library_dirs, libraries) for cpp-httplib from
    pkg-config, or None when pkg-config (or its cpp-httplib module) is
    missing."""
    try:
        cflags = shlex.split(subprocess.check_output(
            ["pkg-config", "--cflags", "cpp-httplib"], text=True,
            stderr=subprocess.DEVNULL))
        libs = shlex.split(subprocess.check_output(
            ["pkg-config", "--libs", "cpp-httplib"], text=True))
    except (OSError, subprocess.CalledProcessError):
        return None
    return (cflags, [f[2:] for f in libs if f.startswith("-L")],
            [f[2:] for f in libs if f.startswith("-l")])


def sources(exclude):
    out = []
    for pattern in SOURCES:
        for path in sorted(glob.glob(os.path.join(ROOT, pattern))):
            rel = os.path.relpath(path, ROOT)
            if rel not in exclude:
                out.append(rel)
    return out


absl_includes, absl_libdirs, absl_libs, absl_cflags = absl_flags()
httplib = httplib_flags()
if httplib is None:
    print("contend: setup.py: pkg-config knows no cpp-httplib (Debian: "
          "libcpp-httplib-dev); building without contend.profile.serve_debug",
          file=sys.stderr)
    httplib_cflags, httplib_libdirs, httplib_libs = [], [], []
    exclude = EXCLUDE | {DEBUG_SERVER}
    debug_server = "0"
else:
    httplib_cflags, httplib_libdirs, httplib_libs = httplib
    exclude = EXCLUDE
    debug_server = "1"

ext = Pybind11Extension(
    "contend._native",
    sources(exclude),
    include_dirs=[ROOT] + absl_includes,
    library_dirs=absl_libdirs + httplib_libdirs,
    libraries=absl_libs + httplib_libs + ["z", "dw", "elf"],
    # CONTEND_PYTHON_DEBUG_SERVER: debug_server_bindings.cc binds serve_debug.
    define_macros=[("NDEBUG", "1"), ("CONTEND_PYTHON_DEBUG_SERVER", debug_server)],
    extra_compile_args=(["-fno-omit-frame-pointer", "-pthread", "-O2"] + absl_cflags
                        + httplib_cflags),
    extra_link_args=["-pthread"],
    cxx_std=20,
)

# Compile the ~25 translation units in parallel (CONTEND_BUILD_JOBS=N to cap).
ParallelCompile("CONTEND_BUILD_JOBS", default=0).install()

setup(ext_modules=[ext], cmdclass={"build_ext": build_ext})
