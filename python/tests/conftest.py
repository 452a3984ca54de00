"""Shared paths and helpers for the recur package's tests."""
import json
import os

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
CONVERT_FIXTURES = os.path.join(FIXTURES, "convert")

# fp32 tolerance against an fp64 or another runtime's reference (the project's rule).
ATOL, RTOL = 1e-5, 1e-4


def assert_close(actual, expected, atol=ATOL, rtol=RTOL):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, atol=atol, rtol=rtol)


def case_args(case):
    """The `recur convert` options a committed fixture is converted with (its case.json)."""
    with open(os.path.join(CONVERT_FIXTURES, case, "case.json")) as f:
        return json.load(f)["args"]


def convert_cases(prefix):
    """Names of the committed convert fixtures whose name starts with `prefix`."""
    return sorted(n for n in os.listdir(CONVERT_FIXTURES) if n.startswith(prefix))


@pytest.fixture
def lstm_file(tmp_path):
    """A small converted LSTM (the pt_lstm_1l fixture), time-major, input 5, hidden 7."""
    import recur
    out = tmp_path / "lstm.recur"
    recur.convert(os.path.join(CONVERT_FIXTURES, "pt_lstm_1l", "model.pt"), out, **case_args("pt_lstm_1l"))
    return str(out)
