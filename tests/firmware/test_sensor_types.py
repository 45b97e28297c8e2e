"""One table per sensor type (firmware/node/drivers/types.json): the drivers, the node's config
check and wiring, the simulators, tynys decode and the host all read it, so they cannot disagree."""

from __future__ import annotations

import importlib
import json

import pytest

from tynys import boards, decode, nodeconfig, sensortypes
from tynys.cli import main

pytestmark = pytest.mark.firmware

KEY = "00" * 32


def test_every_type_has_a_driver_on_its_bus_at_its_baud_rate(run_mpy):
    out = run_mpy(
        "import json\n"
        "from node import drivers\n"
        "for t, e in sorted(drivers.types().items()):\n"
        "    c = drivers.driver(t)\n"
        "    print(json.dumps([t, getattr(c, 'BAUD', None), c.TYPE, list(c.CHANNELS)]))\n")
    seen = {t: baud for t, baud, _, _ in map(json.loads, out)}
    assert set(seen) == set(sensortypes.names())
    for t, baud in seen.items():
        e = sensortypes.entry(t)
        assert baud == e.get("baud"), t  # UART drivers: the table's rate; I2C drivers: none
        assert (e["bus"] == "uart") == (baud is not None), t


def test_every_type_has_a_simulator_and_its_default_address_is_the_drivers():
    import sim

    for t in sensortypes.names():
        e = sensortypes.entry(t)
        mod, cls, fixed, bus, addr, baud = sim.SIMS[t]
        assert hasattr(importlib.import_module("sim." + mod), cls) and bus == e["bus"]
        assert addr == (e["addr"][0] if bus == "i2c" else None) and baud == e.get("baud")


@pytest.mark.parametrize("t", sensortypes.names())
def test_the_node_and_the_host_accept_every_type_and_wire_it(run_mpy, t, tmp_path):
    e = sensortypes.entry(t)
    cfg = {"node": "n1", "key": KEY, "sensors": {"s": {"type": t, e["bus"]: 1 if e["bus"] == "uart" else 0}}}
    assert nodeconfig.check(cfg, "virtual") == []  # the host, on CPython
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    (tmp_path / "board.json").write_text(boards.node_json("virtual"))
    out = run_mpy(
        "import json\n"
        "from node import config\n"
        "c = config.load('config.json', 'board.json')\n"
        "s = c['sensors']['s']\n"
        "print(json.dumps([s['driver'], s['bus'], s['every_s'], s['sample_s'], s.get('addr')]))\n",
        cwd=tmp_path)
    assert json.loads(out[-1]) == [[e["module"], e["class"]], e["bus"], e["every_s"], e["sample_s"],
                                   e["addr"][0] if e["bus"] == "i2c" else None]


def test_an_unknown_type_is_refused_with_the_same_list_everywhere(capsys):
    listed = ", ".join(sensortypes.names())
    probs = nodeconfig.check({"node": "n1", "key": KEY, "sensors": {"pm": {"type": "pms9000"}}})
    assert probs == [f'config.json.sensors.pm.type: unknown sensor type "pms9000"; use one of {listed}']
    with pytest.raises(sensortypes.UnknownSensorError, match=listed):
        sensortypes.entry("pms9000")


def test_decode_takes_every_uart_type_the_node_config_takes(capsys):
    assert set(decode.SENSORS) == set(sensortypes.names(bus="uart"))
    frame = "42 4D 00 1C 00 00 00 08 00 08 00 00 00 08 00 08 00 D2 00 46 00 2D 00 1E 00 00 00 00 97 00 02 C5"
    assert main(["decode", "--sensor", "pms7003", "--hex", frame, "--nl"]) == 0  # was refused
    out = capsys.readouterr().out.splitlines()
    assert json.loads(out[0])["pm25_atm"] == 8 and json.loads(out[-1]) == {"frames": 1, "rejected": 0}
