"""Bad configuration fails at construction with one plain line naming the problem and the fix;
command tables are the published bytes; drivers are imported only when named."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.firmware

CASES = [
    ("drivers.create('pms9000', 1)",
     "unknown sensor type 'pms9000'; use one of bme280, dgs, isb, pms5003, pms5003t, pms7003, "
     "pmsa003, sds011, sht3x, sps30, ze03"),
    ("drivers.driver('pms5003')(1, model='pms9000')",
     "pms5003: unsupported model 'pms9000'; use one of pms5003, pms7003, pmsa003"),
    ("drivers.create('pms7003', 1, model='pms5003')",
     "pms7003: model 'pms5003' contradicts the type; set type to the model's name"),
    ("drivers.create('isb', 0, model='so2-b5')",
     "isb: unsupported model 'so2-b5'; use one of so2-b4, so2-a4"),
    ("drivers.create('pms5003', 1, tx=99, rx=16)",
     "pms5003: tx=99 is not a usable pin on this board (invalid pin); set tx to the GPIO the "
     "sensor is wired to"),
    ("drivers.create('sds011', 2, tx=35, rx=16)",
     "sds011: tx=35 is not a usable pin on this board (pin can only be input); set tx to the GPIO "
     "the sensor is wired to"),
    ("drivers.create('sps30', 1, tx=17, rx=20)",
     "sps30: rx=20 is not a usable pin on this board (invalid pin); set rx to the GPIO the sensor "
     "is wired to"),
    ("drivers.create('sht3x', 0, scl=40, sda=21)",
     "sht3x: scl=40 is not a usable pin on this board (invalid pin); set scl to the GPIO the "
     "sensor is wired to"),
    ("drivers.create('pms5003', 5)",
     "pms5003: cannot open UART5 (UART(5) doesn't exist); use UART 1 or 2 (UART 0 is the USB "
     "console)"),
    ("drivers.create('bme280', 3)", "bme280: cannot open I2C3 (I2C(3) doesn't exist); use I2C 0 or 1"),
    ("drivers.create('bme280', 0, addr=0x40)",
     "bme280: unsupported I2C address 0x40; use one of 0x76, 0x77"),
    ("drivers.create('sds011', 2, period=31)",
     "sds011: working period 31 min is out of range; use 0 (continuous) to 30"),
    ("drivers.create('pms5003', 1, mode='query')",
     "pms5003: unsupported mode 'query'; use one of active, passive"),
    ("drivers.create('isb', 0, we=1, ae=1)",
     "isb: we and ae are both AIN1; wire OP1 (WE) and OP2 (AE) to different ADS1115 inputs"),
    ("drivers.create('isb', 0, fsr_mv=6144)",
     "isb: unsupported fsr_mv (ADS1115 full scale) 6144; use one of 4096, 2048, 1024, 512, 256"),
    ("drivers.create('ze03', 2, resolution_ppb=5)",
     "ze03: unsupported resolution_ppb 5; use one of 1, 10, 100"),
]


@pytest.mark.parametrize("call, message", CASES, ids=[c[0] for c in CASES])
def test_bad_config_is_one_plain_line(run_mpy, call, message):
    out = run_mpy(
        "from node import drivers\n"
        "try:\n"
        f"    {call}\n"
        "    print('no error')\n"
        "except ValueError as e:\n"
        "    print('ValueError:', e)\n")
    assert out == ["ValueError: " + message]


def test_sensor_that_sends_nothing_is_counted_not_fatal(run_mpy):
    out = run_mpy(
        "import time\n"
        "from node import drivers\n"
        "ds = [drivers.create(n, 1, warmup_ms=0) for n in ('pms5003', 'sps30', 'dgs', 'ze03')]\n"
        "ds += [drivers.create(n, 0, warmup_ms=0) for n in ('sht3x', 'bme280', 'isb')]\n"
        "for _ in range(4):\n"
        "    for d in ds:\n"
        "        time.sleep_ms(d.start()); d.poll(); d.poll()\n"
        "print([d.missing for d in ds], [d.frames for d in ds])\n")
    assert out == ["[3, 3, 3, 3, 3, 3, 3] [0, 0, 0, 0, 0, 0, 0]"]


def test_drivers_are_imported_only_when_named(run_mpy):
    out = run_mpy(
        "import sys\n"
        "from node import drivers\n"
        "drivers.create('sht3x', 0)\n"
        "print(sorted(m for m in sys.modules if m.startswith('node.drivers.')))\n")
    assert out == ["['node.drivers.base', 'node.drivers.bus', 'node.drivers.sht3x']"]


def test_command_tables_are_the_published_bytes(run_mpy):
    # firmware-anchors.md 4.1 (PMS), 4.3 (SPS30), 4.4a (ZE03); SDS011 commands are checked on
    # the wire in test_simulators.py
    out = run_mpy(
        "from node.drivers import pms, sps30, ze03\n"
        "for c in (pms.ACTIVE, pms.PASSIVE, pms.READ, pms.SLEEP, pms.WAKE, sps30.START, sps30.STOP,"
        " sps30.READ, sps30.SLEEP, sps30.WAKE, sps30.SERIAL, ze03.QA_MODE, ze03.ACTIVE_MODE, ze03.READ):\n"
        "    print(c.hex())\n")
    assert out == ["424de100010171", "424de100000170", "424de200000171", "424de400000173",
                   "424de400010174", "7e0000020103f97e", "7e000100fe7e", "7e000300fc7e",
                   "7e001000ef7e", "ff7e001100ee7e", "7e00d001032b7e", "ff0178040000000083",
                   "ff0178030000000084", "ff0186000000000079"]


def test_sht3x_crc8_published_vector(run_mpy):
    out = run_mpy("from node.drivers.sht3x import crc8\nprint(hex(crc8(b'\\xbe\\xef', 0)))\n")
    assert out == ["0x92"]  # Sensirion: CRC(0xBEEF) = 0x92
