"""contend_deps(): every external repository contend needs, for contend and its users.

contend's own WORKSPACE and a consumer's both call it (README "Use contend from your
workspace"), so there is one list. Each repository is declared only if the calling
WORKSPACE has not declared one of that name already: a consumer that brings its own
@com_google_absl or @com_google_googletest keeps it (declare it before contend_deps()).

Labels are built with Label() so that they name contend's repository whatever the
consumer calls it; a plain "//third_party:x" string would resolve in the consumer's.
"""

def _maybe(repo_rule, name, **kwargs):
    if not native.existing_rule(name):
        repo_rule(name = name, **kwargs)

def _in_tree_stub_impl(ctx):
    # The stub lives in contend's tree (third_party/<dir>/); its absolute path is only
    # known here, once the anchor label has been resolved, so a local_repository with
    # a literal path cannot do this from a consumer's WORKSPACE.
    src = ctx.path(ctx.attr._anchor).dirname.get_child(ctx.attr.dir)
    for entry in src.readdir():
        ctx.symlink(entry, entry.basename)

# A local_repository whose path is a directory under contend's third_party/.
_in_tree_stub = repository_rule(
    implementation = _in_tree_stub_impl,
    attrs = {
        "dir": attr.string(mandatory = True),
        "_anchor": attr.label(default = Label("//third_party:BUILD.bazel")),
    },
    local = True,
)

# Debian packages installed by tools/setup: (repository, BUILD file, header directory).
_SYSTEM_LIBRARIES = [
    ("com_google_absl", "absl.BUILD", "/usr/include"),
    ("com_google_googletest", "googletest.BUILD", "/usr/include"),
    ("com_github_google_benchmark", "benchmark.BUILD", "/usr/include"),
    ("pybind11", "pybind11.BUILD", "/usr/include"),
    ("python_headers", "python_headers.BUILD", "/usr/include/python3.11"),
    ("zlib", "zlib.BUILD", "/usr/include"),
    ("cpp_httplib", "cpp_httplib.BUILD", "/usr/include"),
    ("onetbb", "tbb.BUILD", "/usr/include"),
    ("concurrentqueue", "concurrentqueue.BUILD", "/usr/include/concurrentqueue"),
    ("libdw", "libdw.BUILD", "/usr/include"),
    ("hiredis", "hiredis.BUILD", "/usr/include"),
    ("liburcu", "liburcu.BUILD", "/usr/include"),
    ("libcuckoo", "libcuckoo.BUILD", "/usr/include/libcuckoo"),
]

def contend_deps():
    """Declares contend's external repositories that the WORKSPACE has not declared."""

    # Bazel 4.2.3 appends a WORKSPACE suffix that would download these three; declared
    # first (offline stubs kept in third_party/), the suffix leaves rules_cc and
    # rules_java alone. It redeclares remote_coverage_tools unconditionally (so the
    # stub loses, as it did before this macro); only `bazel coverage` fetches that one.
    for name in ["rules_cc", "rules_java", "remote_coverage_tools"]:
        _maybe(_in_tree_stub, name, dir = name)

    for name, build_file, path in _SYSTEM_LIBRARIES:
        _maybe(
            native.new_local_repository,
            name,
            # new_local_repository takes the label as a string: str() of a Label is
            # "@contend//third_party:…" from a consumer, "//third_party:…" here.
            build_file = str(Label("//third_party:" + build_file)),
            path = path,
        )
