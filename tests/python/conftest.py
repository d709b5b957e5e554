"""Shared pytest/Hypothesis configuration for contend's Python tests.

Timing on the reference machine is noisy (2 shared cores, tests run two at a
time), so Hypothesis runs without deadlines, and no example database is
written (Bazel's runfiles are read-only).
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "contend",
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("CONTEND_HYPOTHESIS_PROFILE", "contend"))
