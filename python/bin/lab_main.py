"""Entry point of //python:lab (the binary tools/lab builds and runs).

It lives outside python/ on purpose: Python puts the script's real directory
first on sys.path, and python/ holds the source package without the built
_native extension, which would shadow the one in Bazel's runfiles."""

import sys

from contend.lab import cli

if __name__ == "__main__":
    sys.exit(cli.main())
