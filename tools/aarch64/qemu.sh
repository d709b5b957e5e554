#!/usr/bin/env bash
# Runs an aarch64 binary under qemu-user (--config=aarch64's --run_under; .bazelrc).
#
#   tools/aarch64/qemu.sh BINARY ARGS...
#
# -L / : the guest's dynamic loader and libraries come from the host's multiarch
# tree (/lib/ld-linux-aarch64.so.1, /usr/lib/aarch64-linux-gnu: libc6:arm64 and
# the libfoo:arm64 packages tools/setup installs), the same files a native arm64
# Debian loads. Not -L /usr/aarch64-linux-gnu, the cross compiler's own glibc
# (libc6-arm64-cross): measured here, every threaded binary hangs at 100% CPU
# under it, while with -L / a gtest + Mutex test runs in ~20 ms.
#
# Re-exec: GoogleTest's "threadsafe" death tests (most of ours) execv() their own
# argv[0]. Under qemu-user that execv is a host execve of an aarch64 ELF, which
# fails with ENOEXEC unless binfmt_misc routes it to qemu, and containers (CI's
# included) have no binfmt_misc. So the guest's argv[0] (qemu's -0) is a shim
# script that runs the binary under this same qemu again; the kernel runs a #!
# script itself, and the re-executed child sees the shim as its argv[0] too.
set -euo pipefail
qemu=${CONTEND_QEMU:-/usr/bin/qemu-aarch64}
if [ ! -x "$qemu" ]; then
  echo "contend: tools/aarch64/qemu.sh: $qemu not found (Debian qemu-user; run tools/setup)" >&2
  exit 127
fi
[ $# -ge 1 ] || { echo "usage: tools/aarch64/qemu.sh BINARY ARGS..." >&2; exit 2; }
binary=$(realpath -- "$1")
shift
shimdir=$(mktemp -d "${TEST_TMPDIR:-${TMPDIR:-/tmp}}/qemu-shim.XXXXXX")
shim=$shimdir/$(basename -- "$binary")
{
  echo '#!/bin/bash'
  printf 'exec %q -L / -0 %q %q "$@"\n' "$qemu" "$shim" "$binary"
} >"$shim"
chmod +x "$shim"
exec "$qemu" -L / -0 "$shim" "$binary" "$@"
