"""The docs comparison's number tolerance: one unit in the last digit shown, text exact."""

import pytest
from numtext import differences

pytestmark = pytest.mark.host


def test_numbers_within_one_unit_of_the_last_digit_shown_match():
    assert differences('{"pm25": 35.02651458884531}', '{"pm25": 35.026514588845316}') == []
    assert differences("pm25 35.03  aqi 98", "pm25 35.02  aqi 99") == []
    assert differences("so2 1.2e-3", "so2 0.0013") == [] and differences("so2 1.2e-3", "so2 0.0014") != []
    assert differences("pm25 35.03", "pm25 35.05") == ["35.03 shown, 35.05 printed"]
    assert differences("aqi 98", "aqi 100") == ["98 shown, 100 printed"]


def test_words_identifiers_and_layout_must_match_exactly():
    assert differences("osk-04  2026-01-12T03:00:00Z  Moderate", "osk-04  2026-01-12T03:00:00Z  Moderate") == []
    assert differences("a Moderate", "a Good") != []
    assert differences("pm25 35.0", "pm25 35.0 1") != []
    assert differences("x  1", "x 1") != []
