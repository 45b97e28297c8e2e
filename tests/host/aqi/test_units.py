"""ppb <-> ug/m3 at a stated temperature."""

import pytest

from tynys.aqi import units
from tynys.aqi.tables import AqiError

pytestmark = pytest.mark.host


@pytest.mark.parametrize("pollutant, t, factor", [
    # research note 2.7 (ug/m3 per ppb, to the printed precision): 25 degC / 20 degC
    ("so2", 25, 2.62), ("so2", 20, 2.66), ("no2", 25, 1.88), ("no2", 20, 1.91),
    ("o3", 25, 1.96), ("o3", 20, 2.00), ("co", 25, 1.145), ("co", 20, 1.16),
])
def test_factors_match_the_published_ones(pollutant, t, factor):
    digits = len(str(factor).split(".")[1])
    assert round(units.ugm3_per_ppb(pollutant, t), digits) == factor


def test_round_trips_and_mass_units():
    x = units.convert([100.0], "so2", "ppb", "ug/m3", temperature_c=25)
    assert units.convert(x, "so2", "ug/m3", "ppb", temperature_c=25).tolist() == pytest.approx([100.0])
    assert units.convert([1.0], "co", "ppm", "mg/m3", temperature_c=25).tolist() == pytest.approx([1.1449], abs=1e-4)  # ideal gas: 24.465 L/mol (EPA rounds to 24.45)
    assert units.convert([250.0], "pm25", "ug/m3", "mg/m3").tolist() == [0.25]
    assert units.convert([0.5], "so2", "ppm", "ppb").tolist() == [500.0]


@pytest.mark.parametrize("call, message", [
    (lambda: units.convert([1], "pm25", "ppb", "ug/m3", temperature_c=25), "PM2.5 is measured by mass; it has no ppb (use ug/m3)"),
    (lambda: units.convert([1], "so2", "ppb", "ug/m3"),
     "converting so2 from ppb to ug/m3 needs a temperature: name one (e.g. --temperature 25 for US EPA, 20 for EU/UK)"),
    (lambda: units.convert([1], "so2", "ppb", "ug/m3", temperature_c=-300), "temperature -300 degC and pressure 101325 Pa are not physical"),
])
def test_impossible_conversions_are_refused(call, message):
    with pytest.raises(AqiError) as e:
        call()
    assert str(e.value) == message
