"""wait_until, the tests' wait on a state: it returns as soon as the state holds and otherwise fails telling
what it waited for and what it saw last."""

import itertools

import pytest

from console.testing.waits import wait_until


def test_wait_until_returns_the_predicates_first_truthy_value():
    values = iter([0, None, "", 3, 4])

    assert wait_until(lambda: next(values), message="a number", interval=0) == 3


def test_wait_until_returns_at_once_when_the_state_already_holds():
    calls = itertools.count(1)

    wait_until(lambda: next(calls), message="anything", timeout=0)

    assert next(calls) == 2


def test_a_timeout_names_what_was_awaited_and_the_last_value_seen():
    values = itertools.count()

    with pytest.raises(AssertionError) as failed:
        wait_until(lambda: next(values) < 0, message="a negative count", timeout=0.05, interval=0.01)

    assert str(failed.value).startswith("timed out after 0.05 s waiting for a negative count; last observed: False")


def test_a_timeout_reports_what_observe_reads_when_the_predicate_is_a_bare_boolean():
    state = {"objects_done": 3}

    with pytest.raises(AssertionError) as failed:
        wait_until(
            lambda: state["objects_done"] >= 8,
            message="8 objects done",
            timeout=0,
            observe=lambda: state["objects_done"],
        )

    assert str(failed.value) == "timed out after 0 s waiting for 8 objects done; last observed: 3"
