"""The property tests' settings: the same examples at every `make test` run, new ones under `make fuzz`."""
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

FUZZ = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
# collected by `make fuzz` (pytest -m hypothesis) too, so each side of the profiles is checked
pytestmark = pytest.mark.hypothesis


def test_the_test_run_draws_the_same_examples_every_time():
    assert settings.default.derandomize is not FUZZ
    assert settings.default.deadline is None  # no time limit per example on a slow machine
    # the example database, where `make fuzz` keeps a failure to replay it (a derandomized run
    # uses none: its examples come again anyway)
    assert (settings.default.database is not None) is FUZZ


def test_two_runs_of_a_property_test_draw_the_same_examples_unless_fuzzing():
    drawn: list = []

    @settings(max_examples=25, database=None)
    @given(st.text(min_size=3))
    def prop(s):
        drawn[-1].append(s)

    for _ in range(2):
        drawn.append([])
        prop()
    assert len(set(drawn[0])) > 5
    assert (drawn[0] == drawn[1]) is not FUZZ
