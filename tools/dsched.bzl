"""contend_cc_library: a cc_library plus its deterministic-schedule twin.

Every library in sync/ (and later shard/, pool/) is declared with this macro. Besides
`name` it declares `name + "_dsched"`: the same sources compiled with CONTEND_DSCHED=1,
where internal::Atomic, the futex, the clock and the spin hints call the explorer's
hooks (sync/internal/dsched_hooks.h). The twins depend on each other's twins, so a
dsched test links one consistent variant of the whole stack and never the normal one;
`defines` propagates CONTEND_DSCHED to the test's own translation units, so the inline
code of the headers it includes is the dsched variant too. Twins are test-only and
visible inside the repository only.
"""

def _twin(dep):
    # Libraries of this repository have a twin; external ones (@com_google_absl) do not.
    if dep.startswith("@"):
        return dep
    return dep + "_dsched"

def contend_cc_library(name, deps = [], dsched_deps = [], visibility = None, **kwargs):
    """cc_library `name` and its twin `name_dsched`.

    Args:
      name: the library's name.
      deps: dependencies; this repository's are mapped to their twins in the twin.
      dsched_deps: extra dependencies of the twin only.
      visibility: visibility of `name` (the twin is visible to //:__subpackages__).
      **kwargs: passed to both cc_library rules.
    """
    native.cc_library(name = name, deps = deps, visibility = visibility, **kwargs)
    native.cc_library(
        name = name + "_dsched",
        deps = [_twin(d) for d in deps] + dsched_deps,
        defines = ["CONTEND_DSCHED=1"],
        testonly = True,
        visibility = ["//:__subpackages__"],
        **kwargs
    )
