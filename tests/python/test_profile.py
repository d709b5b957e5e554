"""contend.profile from Python: real workloads, the pprof decoded here (a
minimal profile.proto reader) and by `go tool pprof`; Python frames above
the native ones; one Python wait = one block-profile event; typed analyze()."""

from __future__ import annotations

import dataclasses
import gzip
import os
import shutil
import subprocess
import sys
import threading
import time

import pytest

import contend
from contend import profile
from sync_testing import STATE_TIMEOUT, start, wait_parked

# ------------------------------------------------------------------ decoder


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def _fields(buf: bytes):
    """(field number, wire type, value) of one protobuf message."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            n, i = _varint(buf, i)
            value, i = buf[i:i + n], i + n
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield field, wire, value


def _packed(value, wire) -> list[int]:
    if wire == 0:
        return [value]
    out, i = [], 0
    while i < len(value):
        v, i = _varint(value, i)
        out.append(v)
    return out


@dataclasses.dataclass
class Frame:
    function: str
    file: str
    line: int


@dataclasses.dataclass
class PprofSample:
    frames: list[Frame]  # leaf first, one per location (first line)
    count: int
    delay_ns: int
    labels: dict[str, str]


def decode(gz: bytes) -> list[PprofSample]:
    """The samples of a gzipped profile.proto, frames symbolized."""
    raw = gzip.decompress(gz)
    strings: list[str] = []
    functions: dict[int, tuple[int, int]] = {}  # id -> (name, filename)
    locations: dict[int, tuple[int, int]] = {}  # id -> (function id, line)
    samples = []
    for field, wire, value in _fields(raw):
        if field == 6:
            strings.append(value.decode())
        elif field == 5:
            f = {k: v for k, _, v in _fields(value)}
            functions[f.get(1, 0)] = (f.get(2, 0), f.get(4, 0))
        elif field == 4:
            loc = {1: 0}
            fn_line = (0, 0)
            for k, _, v in _fields(value):
                if k == 1:
                    loc[1] = v
                elif k == 4 and fn_line == (0, 0):
                    ln = {kk: vv for kk, _, vv in _fields(v)}
                    fn_line = (ln.get(1, 0), ln.get(2, 0))
            locations[loc[1]] = fn_line
        elif field == 2:
            samples.append(value)
    out = []
    for s in samples:
        locs: list[int] = []
        values: list[int] = []
        labels = {}
        for k, w, v in _fields(s):
            if k == 1:
                locs += _packed(v, w)
            elif k == 2:
                values += _packed(v, w)
            elif k == 3:
                lab = {kk: vv for kk, _, vv in _fields(v)}
                labels[strings[lab.get(1, 0)]] = strings[lab.get(2, 0)]
        frames = []
        for loc in locs:
            fn, line = locations.get(loc, (0, 0))
            name, file = functions.get(fn, (0, 0))
            frames.append(Frame(strings[name], strings[file], line))
        out.append(PprofSample(frames, values[0], values[1], labels))
    return out


def names(sample: PprofSample) -> list[str]:
    return [f.function for f in sample.frames]


def with_function(samples: list[PprofSample], function: str) -> list[PprofSample]:
    return [s for s in samples if function in names(s)]


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def profiling():
    """Both profiles on, recording every event, cleared before and after."""
    old_fraction = profile.set_mutex_profile_fraction(1)
    old_rate = profile.set_block_profile_rate(1)
    profile.reset()
    yield
    profile.set_mutex_profile_fraction(old_fraction)
    profile.set_block_profile_rate(old_rate)
    profile.reset()


def wait_until(predicate, timeout: float = 30.0) -> None:
    """Polls a state (never sleeps for ordering)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "state not reached"
        time.sleep(0.001)


# The workload: the holder (this thread) releases only while the waiter is
# parked, so its releases are contended: mutex-profile events charged to
# python_lock_holder_until_done, block-profile waits of python_lock_waiter.
def python_lock_waiter(mu: contend.Mutex, rounds: int) -> None:
    for _ in range(rounds):
        # The holder has it (and keeps it until this thread is parked).
        wait_until(mu.locked)
        with mu:
            pass


def python_lock_holder_until_done(mu: contend.Mutex, waiter: threading.Thread) -> None:
    while waiter.is_alive():
        with mu:
            wait_until(lambda: mu._native._parked() >= 1 or not waiter.is_alive())


def contended_workload(rounds: int = 20) -> None:
    mu = contend.Mutex()
    waiter = start(python_lock_waiter, mu, rounds)
    python_lock_holder_until_done(mu, waiter)
    waiter.join(30)


# ------------------------------------------------------------------- tests


def test_mutex_profile_names_the_python_function_that_released(profiling):
    contended_workload()
    samples = decode(profile.write_mutex_profile())
    mine = with_function(samples, "python_lock_holder_until_done")
    assert mine, [names(s) for s in samples]
    s = mine[0]
    n = names(s)
    # Native leaf first (Go's sync.(*Mutex).Unlock), Python callers above it.
    assert n[0].startswith("contend::Mutex::unlock"), n
    py_at = n.index("python_lock_holder_until_done")
    assert py_at > 0
    frame = s.frames[py_at]
    assert frame.file == __file__
    # The `with mu:` line of python_lock_holder_until_done.
    assert frame.line > 0
    assert n[py_at + 1] == "contended_workload", n
    assert "test_mutex_profile_names_the_python_function_that_released" in n
    # contend's own wrappers (_sync.py) are left out.
    package = os.path.dirname(contend.__file__)
    assert not any(f.file.startswith(package) for f in s.frames), s.frames
    assert s.labels["kind"] == "Mutex"


def test_block_profile_names_the_python_function_that_waited(profiling):
    contended_workload()
    samples = decode(profile.write_block_profile())
    mine = with_function(samples, "python_lock_waiter")
    assert mine, [names(s) for s in samples]
    n = names(mine[0])
    assert n[0].startswith("contend::Mutex::lock"), n
    assert n.index("python_lock_waiter") > 0
    assert mine[0].labels["kind"] == "Mutex"


def event_wait_on_main_thread(ev: contend.Event) -> bool:
    return ev.wait(timeout=0.3)


def test_a_sliced_main_thread_wait_is_one_event(profiling):
    # On the main thread Event.wait waits in 50 ms slices (Ctrl-C); before
    # the slices were merged, a 0.3 s wait was recorded as 6-7 events.
    assert threading.current_thread() is threading.main_thread()
    assert not event_wait_on_main_thread(contend.Event())
    mine = with_function(decode(profile.write_block_profile()), "event_wait_on_main_thread")
    assert len(mine) == 1, [names(s) for s in mine]
    assert mine[0].count == 1
    assert mine[0].delay_ns >= 0.29e9
    assert mine[0].labels["kind"] == "Event"


def mutex_acquire_on_main_thread(mu: contend.Mutex) -> None:
    mu.acquire()
    mu.release()


def test_a_main_thread_acquisition_via_the_helper_is_one_event_with_the_callers_stack(profiling):
    # On the main thread a contended acquire tries for 1 ms, then a helper
    # thread keeps its queue place: one wait, charged to the caller's Python
    # stack (not the helper thread's), recorded once.
    assert threading.current_thread() is threading.main_thread()
    mu = contend.Mutex()
    holding = threading.Event()
    release = threading.Event()

    def hold():
        with mu:
            holding.set()
            release.wait(30)

    t = start(hold)
    holding.wait(30)
    # Release only after the main thread has been parked for a while (so the
    # helper-thread path ran); the assertion holds either way.
    def release_when_parked():
        wait_until(lambda: mu._native._parked() >= 1)
        time.sleep(0.1)
        release.set()

    r = start(release_when_parked)
    mutex_acquire_on_main_thread(mu)
    t.join(30)
    r.join(30)
    mine = with_function(decode(profile.write_block_profile()), "mutex_acquire_on_main_thread")
    assert len(mine) == 1, [names(s) for s in mine]
    assert mine[0].count == 1
    assert mine[0].delay_ns >= 0.09e9
    assert mine[0].labels["kind"] == "Mutex"


def test_nothing_is_recorded_with_profiling_off():
    assert profile.set_mutex_profile_fraction(-1) == 0
    assert profile.set_block_profile_rate(-1) == 0
    profile.reset()
    contended_workload(rounds=5)
    assert decode(profile.write_mutex_profile()) == []
    assert decode(profile.write_block_profile()) == []


def test_text_form_names_python_frames(profiling):
    contended_workload(rounds=5)
    text = profile.write_mutex_profile(debug=1).decode()
    assert "python_lock_holder_until_done\t" + __file__ + ":" in text, text


def test_analyze_returns_typed_results_naming_the_python_site(profiling):
    contended_workload()
    a = profile.analyze(top=5)
    assert isinstance(a, profile.Analysis)
    assert isinstance(a.mutex, profile.ProfileAnalysis)
    assert isinstance(a.block, profile.ProfileAnalysis)
    assert dataclasses.is_dataclass(a) and dataclasses.is_dataclass(a.mutex)
    assert a.mutex.enabled and a.mutex.contentions > 0 and a.mutex.delay_ns > 0
    assert a.mutex.sites and all(isinstance(s, profile.Site) for s in a.mutex.sites)
    top = a.mutex.sites[0]
    assert top.function == "python_lock_holder_until_done", a.mutex.sites
    assert isinstance(top.stack, tuple) and all(isinstance(f, str) for f in top.stack)
    assert top.contentions > 0 and 0 <= top.serialized_fraction <= 1
    assert {s.function for s in a.block.sites} & {"python_lock_waiter", "python_lock_holder_until_done"}


def test_serve_debug_serves_the_mutex_profile_over_http(profiling):
    import urllib.request

    if not hasattr(contend._native.profile, "serve_debug"):
        pytest.skip("this contend._native has no HTTP server "
                    "(built without cpp-httplib)")
    contended_workload(rounds=5)
    with profile.serve_debug(0) as server:
        assert isinstance(server, profile.DebugServer) and server.port > 0
        url = f"http://127.0.0.1:{server.port}/debug/pprof/mutex"
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200
            body = response.read()
        assert with_function(decode(body), "python_lock_holder_until_done")
        with urllib.request.urlopen(url + "?debug=1", timeout=30) as response:
            assert b"python_lock_holder_until_done" in response.read()
        # A second server on the same port cannot bind it.
        with pytest.raises(OSError, match="contend: serve_debug"):
            profile.serve_debug(server.port)
    server.stop()  # idempotent
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=5)
    with pytest.raises(TypeError):
        profile.serve_debug("6060")  # type: ignore[arg-type]


def test_profile_stubs_match_the_module():
    # _native.pyi's `class profile` must not drift from contend._native.profile:
    # its functions, its classes and their members, both directions.
    import ast
    import pathlib

    from contend import _native

    stub = pathlib.Path(contend.__file__).with_name("_native.pyi")
    tree = ast.parse(stub.read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "profile"]

    def members(body) -> set[str]:
        out = set()
        for n in body:
            if isinstance(n, (ast.FunctionDef, ast.ClassDef)):
                out.add(n.name)
            elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name):
                out.add(n.target.id)
        return out - {"__init__"}

    module = {m for m in vars(_native.profile) if not m.startswith("__")}
    assert members(cls.body) == module, (
        f"stub-only {sorted(members(cls.body) - module)}, "
        f"module-only {sorted(module - members(cls.body))}")
    for sub in (n for n in cls.body if isinstance(n, ast.ClassDef)):
        native = getattr(_native.profile, sub.name)
        have = {m for m in vars(native) if not m.startswith("__") and m != "_pybind11_conduit_v1_"}
        assert members(sub.body) == have, (sub.name, members(sub.body), have)


# ------------------------------------------- Python frames on every type
# Each workload below runs in uniquely named module-level functions (their
# qualname is their name); the assertions look for those names in the
# sampled events of the type's kind. Holders release once their waiters
# are parked (sync_testing.wait_parked); KeyedMutex, which has no parked
# count, repeats its round until the profiles show a contended one.


def sites(samples: list[PprofSample], function: str, kind_prefix: str) -> list[PprofSample]:
    """The samples naming `function` whose kind label starts with kind_prefix."""
    return [s for s in with_function(samples, function)
            if s.labels.get("kind", "").startswith(kind_prefix)]


def assert_site(samples: list[PprofSample], function: str, kind_prefix: str) -> None:
    assert sites(samples, function, kind_prefix), (
        function, kind_prefix, [(s.labels.get("kind"), names(s)) for s in samples])


def joined(t: threading.Thread) -> None:
    t.join(STATE_TIMEOUT)
    assert not t.is_alive(), "the waiter did not finish"


def python_rw_write_waiter(rw) -> None:
    with rw.write_lock(timeout=STATE_TIMEOUT):
        pass


def python_rw_read_waiter(rw) -> None:
    with rw.read_lock(timeout=STATE_TIMEOUT):
        pass


def python_rw_write_holder(rw, *waiters) -> None:
    # Releases only once every waiter is parked: a contended release.
    with rw.write_lock(timeout=STATE_TIMEOUT):
        threads = [start(w, rw) for w in waiters]
        wait_parked(rw, len(waiters))
    for t in threads:
        joined(t)


def python_rw_read_holder(rw, waiter) -> None:
    with rw.read_lock(timeout=STATE_TIMEOUT):
        t = start(waiter, rw)
        wait_parked(rw, 1)
    joined(t)


def test_rwmutex_writer_contention_names_the_python_functions(profiling):
    rw = contend.RWMutex()
    python_rw_write_holder(rw, python_rw_write_waiter)
    assert_site(decode(profile.write_mutex_profile()), "python_rw_write_holder", "RWMutex")
    assert_site(decode(profile.write_block_profile()), "python_rw_write_waiter", "RWMutex.write")


def test_rwmutex_reader_vs_writer_names_the_python_functions(profiling):
    rw = contend.RWMutex()
    python_rw_read_holder(rw, python_rw_write_waiter)  # a writer waits for a reader
    python_rw_write_holder(rw, python_rw_read_waiter)  # a reader waits for a writer
    mutex = decode(profile.write_mutex_profile())
    assert_site(mutex, "python_rw_read_holder", "RWMutex")
    assert_site(mutex, "python_rw_write_holder", "RWMutex")
    block = decode(profile.write_block_profile())
    assert_site(block, "python_rw_write_waiter", "RWMutex.write")
    assert_site(block, "python_rw_read_waiter", "RWMutex.read")


def test_distributed_rwmutex_names_the_python_functions(profiling):
    rw = contend.DistributedRWMutex()
    # A writer and a reader parked behind a writer (central waits).
    python_rw_write_holder(rw, python_rw_write_waiter, python_rw_read_waiter)
    assert_site(decode(profile.write_mutex_profile()), "python_rw_write_holder", "RWMutex")
    block = decode(profile.write_block_profile())
    assert_site(block, "python_rw_write_waiter", "RWMutex.write")
    assert_site(block, "python_rw_read_waiter", "RWMutex.read")


def python_chan_blocked_receiver(ch, out: list) -> None:
    out.append(ch.get(timeout=STATE_TIMEOUT))


def python_chan_blocked_sender(ch) -> None:
    ch.put("sent", timeout=STATE_TIMEOUT)


def python_chan_blocked_selector(ch, out: list) -> None:
    out.append(contend.select(contend.recv(ch), timeout=STATE_TIMEOUT))


def test_chan_blocked_recv_send_and_select_name_the_python_functions(profiling):
    ch: contend.Chan[str] = contend.Chan(0)
    got: list = []
    t = start(python_chan_blocked_receiver, ch, got)
    wait_parked(ch, 1)
    ch.put("a", timeout=STATE_TIMEOUT)
    joined(t)
    t = start(python_chan_blocked_sender, ch)
    wait_parked(ch, 1)
    assert ch.get(timeout=STATE_TIMEOUT) == "sent"
    t2 = start(python_chan_blocked_selector, ch, got)
    wait_parked(ch, 1)
    ch.put("b", timeout=STATE_TIMEOUT)
    joined(t)
    joined(t2)
    assert got == ["a", (0, "b")]
    block = decode(profile.write_block_profile())
    for function in ("python_chan_blocked_receiver", "python_chan_blocked_sender",
                     "python_chan_blocked_selector"):
        assert_site(block, function, "Chan")


def python_chan_recv_on_main_thread(ch) -> str:
    return ch.get(timeout=STATE_TIMEOUT)


def test_a_sliced_main_thread_chan_recv_is_one_event_with_the_callers_stack(profiling):
    # On the main thread a blocking recv waits in 50 ms slices (Ctrl-C):
    # one block-profile event, charged to the caller's Python stack.
    assert threading.current_thread() is threading.main_thread()
    ch: contend.Chan[str] = contend.Chan(0)

    def send_when_parked():
        wait_parked(ch, 1)
        time.sleep(0.2)  # several slices; the assertions hold either way
        ch.put("x", timeout=STATE_TIMEOUT)

    t = start(send_when_parked)
    assert python_chan_recv_on_main_thread(ch) == "x"
    joined(t)
    mine = sites(decode(profile.write_block_profile()), "python_chan_recv_on_main_thread", "Chan")
    assert len(mine) == 1, [names(s) for s in mine]
    assert mine[0].count == 1


def python_keyed_waiter(km, calling: threading.Event) -> None:
    calling.set()
    with km.lock("k", timeout=STATE_TIMEOUT):
        pass


def python_keyed_holder(km, calling: threading.Event, done: threading.Event,
                        hold: float) -> None:
    with km.lock("k", timeout=STATE_TIMEOUT):
        t = start(python_keyed_waiter, km, calling)
        calling.wait(STATE_TIMEOUT)
        # KeyedMutex has no parked count: the hold only makes the waiter park
        # more likely; whether it did is read from the profile (the caller
        # repeats with longer holds until a contended round was recorded).
        done.wait(hold)
    joined(t)


def test_keyed_mutex_names_the_python_functions(profiling):
    km = contend.KeyedMutex()
    hold = 0.02
    deadline = time.monotonic() + STATE_TIMEOUT
    while True:
        python_keyed_holder(km, threading.Event(), threading.Event(), hold)
        block = decode(profile.write_block_profile())
        mutex = decode(profile.write_mutex_profile())
        waits = [s for s in block if s.labels.get("kind") == "Mutex"]
        releases = [s for s in mutex if s.labels.get("kind") == "Mutex"]
        if waits and releases:
            break
        assert time.monotonic() < deadline, "no contended round was recorded"
        hold *= 2
    assert_site(block, "python_keyed_waiter", "Mutex")
    assert_site(mutex, "python_keyed_holder", "Mutex")


def python_pool_blocked_acquirer(pool) -> None:
    with pool.acquire(timeout=STATE_TIMEOUT):
        pass


def python_pool_releaser(lease) -> None:
    lease.release()


def python_pool_acquire_on_main_thread(pool) -> None:
    with pool.acquire(timeout=STATE_TIMEOUT):
        pass


def test_resource_pool_blocked_acquire_names_the_python_function(profiling):
    pool = contend.ResourcePool(object, max_open=1)
    try:
        # A worker thread: one native wait.
        lease = pool.acquire(timeout=STATE_TIMEOUT)
        t = start(python_pool_blocked_acquirer, pool)
        wait_parked(pool, 1)
        python_pool_releaser(lease)
        joined(t)
        # The main thread: the wait runs on a helper thread, charged to the
        # caller's Python stack.
        assert threading.current_thread() is threading.main_thread()
        lease = pool.acquire(timeout=STATE_TIMEOUT)

        def release_when_parked():
            wait_parked(pool, 1)
            python_pool_releaser(lease)

        r = start(release_when_parked)
        python_pool_acquire_on_main_thread(pool)
        joined(r)
    finally:
        pool.close()
    block = decode(profile.write_block_profile())
    assert_site(block, "python_pool_blocked_acquirer", "ResourcePool")
    assert_site(block, "python_pool_acquire_on_main_thread", "ResourcePool")


def _go() -> str | None:
    return shutil.which("go") or (os.path.exists("/usr/bin/go") and "/usr/bin/go") or None


def test_go_tool_pprof_top_names_the_python_function(profiling, tmp_path):
    # The "done when": `go tool pprof -top` on a mutex profile taken
    # from a Python workload names the Python function.
    go = _go()
    if go is None:
        pytest.skip("missing tool: go (Debian's golang-go, tools/setup): "
                    "cannot run `go tool pprof`")
    contended_workload()
    path = tmp_path / "mutex.pb.gz"
    path.write_bytes(profile.write_mutex_profile())
    env = dict(os.environ, GOCACHE=str(tmp_path / "gocache"), GOFLAGS="-mod=mod",
               HOME=str(tmp_path), PPROF_TMPDIR=str(tmp_path))
    out = subprocess.run([go, "tool", "pprof", "-top", "-nodecount=200", str(path)],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    print(out.stdout)
    top = [line.split()[-1] for line in out.stdout.splitlines() if "%" in line]
    assert "python_lock_holder_until_done" in top, out.stdout
    assert "contend::Mutex::unlock" in top, out.stdout
    traces = subprocess.run([go, "tool", "pprof", "-traces", str(path)],
                            capture_output=True, text=True, timeout=120, env=env)
    assert traces.returncode == 0, traces.stderr
    assert "python_lock_holder_until_done" in traces.stdout


if __name__ == "__main__":
    from pytest_main import main

    sys.exit(main(__file__))
