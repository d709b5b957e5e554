"""Shared pytest/Hypothesis configuration for contend's Python tests.

Hypothesis profiles, chosen by CONTEND_HYPOTHESIS_PROFILE:
  ci        (the default, what CI and `bazel test` run) derandomized: the same
            examples every run, so a red run is reproducible and a green one
            means the same thing each time;
  thorough  randomized, 10x the examples (sync_testing.examples) and longer
            state-machine runs, for long local runs:
            bazel test --test_env=CONTEND_HYPOTHESIS_PROFILE=thorough \\
                --test_timeout=3600 //tests/python:test_sync_model
Timing on the reference machine is noisy (2 shared cores, tests run two at a
time), so Hypothesis runs without deadlines, and no example database is
written (Bazel's runfiles are read-only).
"""

import os

from hypothesis import HealthCheck, settings

_common = dict(
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("ci", derandomize=True, **_common)
settings.register_profile("thorough", stateful_step_count=100, **_common)
settings.load_profile(os.environ.get("CONTEND_HYPOTHESIS_PROFILE", "ci"))
