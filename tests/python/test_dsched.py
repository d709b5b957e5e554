"""The deterministic-schedule explorer from Python, with Hypothesis.

Hypothesis draws the decision list of a dsched run (tests/dsched/dsched.h:
entry i picks who runs at the i-th choice point), so a failing interleaving
shrinks to a minimal one: fewest, earliest, smallest preemptions.
"""

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import _dsched

# Small entries: choice points have 2-5 candidates (threads and timers).
DECISIONS = st.lists(st.integers(min_value=0, max_value=4), max_size=600)

SCENARIOS = sorted(n for n in _dsched.scenarios() if not n.startswith("bug_"))


def test_every_primitive_has_scenarios():
    prefixes = {n.split("_")[0] for n in SCENARIOS}
    for primitive in ["mutex", "event", "once", "wait", "semaphore",
                      "errgroup", "singleflight", "lazy", "parking",
                      "resource"]:
        assert primitive in prefixes, primitive


@pytest.mark.parametrize("name", SCENARIOS)
@settings(max_examples=25)
@given(decisions=DECISIONS)
def test_scenario_holds_under_drawn_schedules(name, decisions):
    r = _dsched.run(name, decisions)
    assert r["ok"], "%s: %s (%s)" % (
        r["outcome"], r["message"], _dsched.replay_flag(name, r["decisions"]))


def test_shrinks_a_known_race_to_a_minimal_interleaving():
    """The explorer's check-then-act lock fixture (a load, then a store, not
    one RMW): the non-preemptive schedule passes, and Hypothesis must shrink
    any failing schedule to the two switches the race needs."""
    name = "bug_check_then_act_lock"
    assert _dsched.run(name, [])["ok"]

    def fails(decisions):
        return not _dsched.run(name, decisions)["ok"]

    minimal = find(DECISIONS, fails,
                   settings=settings(max_examples=2000, database=None))
    r = _dsched.run(name, minimal)
    assert r["outcome"] == "check failed"
    assert "inside.fetch_add" in r["message"]
    print("minimal failing schedule:", minimal)
    # The race needs two switches (into the other thread between the load and
    # the store, and back while it is inside): everything else shrinks to 0
    # ("keep running"), and nothing after the failure remains.
    assert sum(1 for d in minimal if d != 0) <= 3, str(minimal)
    assert len(minimal) <= 8, str(minimal)


def test_unknown_scenario_is_a_clear_error():
    with pytest.raises(ValueError, match="contend: dsched.run: no scenario"):
        _dsched.run("no_such_scenario", [])
