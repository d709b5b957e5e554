"""Runs one test file under pytest: `python3 pytest_main.py <test_file.py>`
(what run_pytest.sh does for every test target here)."""

import os
import sys

import pytest


def main(test_file: str) -> int:
    args = [test_file, "-q", "-rs", "-p", "no:cacheprovider"]
    # Bazel collects a JUnit XML report from here.
    if "XML_OUTPUT_FILE" in os.environ:
        args.append("--junitxml=" + os.environ["XML_OUTPUT_FILE"])
    return pytest.main(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
