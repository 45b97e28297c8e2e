"""The synthetic city the store examples in docs/host.md, docs/calibration.md and docs/aqi.md run on
(tests/host/test_store_docs.py runs them and compares what they print).

Five nodes in Oskemen (PMS5003 + SHT3x + SO2-B4 on an ISB) for three January days, signed and
ingested through the real ingest path; osk-01 stands beside Kazhydromet post 1, whose hourly
export (local time, mg/m³) is written as ``kazhydromet-oskemen-1.csv``; the ISB calibration sheet
as ``so2-b4-sheet.json``. Everything is seeded: the same numbers every time.

    build(Path("docs-city"))      # -> city.db, city.keys, kazhydromet-oskemen-1.csv, so2-b4-sheet.json
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from factory import fill

from tynys.calibrate.corrections import temperature_factor
from tynys.calibrate.data import load
from tynys.keys import KeyFile
from tynys.store import Store

T0 = 1_768_003_200  # 2026-01-10T00:00Z
DAYS = 3
N = DAYS * 288
UTC_OFFSET = 5 * 3600  # Oskemen: UTC+05:00 (all Kazakhstan since 2024-03-01)
NODES = {  # id: (district, PM scale, share of the smelter plume, sensor gain)
    "osk-01": ("Ulba", 1.00, 0.2, 1.00), "osk-02": ("Ulba", 1.15, 0.3, 1.08), "osk-03": ("Ulba", 0.90, 0.25, 0.95),
    "osk-04": ("Centre", 1.25, 1.0, 1.05), "osk-05": ("Centre", 1.10, 0.8, 0.97),
}
SHEET = {"sensor_model": "so2-b4", "we_e_mv": 270.0, "ae_e_mv": 275.0, "we_0_mv": 12.0, "ae_0_mv": 8.0,
         "sensitivity_mv_ppb": 0.30}


def build(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2026)
    t = T0 + 300 * np.arange(N)
    local_h = (t + UTC_OFFSET) % 86400 / 3600
    # Winter PM2.5: heating peaks in the morning and evening under an inversion.
    truth = (14 + 22 * np.exp(-((local_h - 8.5) / 2.0) ** 2) + 30 * np.exp(-((local_h - 20) / 2.5) ** 2)
             + rng.gamma(2.0, 1.5, N))
    rh = np.clip(72 + 12 * np.cos(2 * np.pi * (local_h - 5) / 24) + rng.normal(0, 2, N), 30, 98)
    t_c = -14 + 6 * np.sin(2 * np.pi * (local_h - 9) / 24) + rng.normal(0, 0.3, N)
    # SO2: a few ppb, and a smelter plume on the third morning that reaches the Centre.
    plume = 230 * np.exp(-((t - (T0 + 2 * 86400 + 5 * 3600)) / 5400.0) ** 2)
    kpp = temperature_factor(load("alphasense/aan803-temperature.json")["tables"]["so2-b4"]["kpp_t_mv"], t_c)
    store = Store.open(root / "city.db")
    keys = KeyFile(root / "city.keys")
    for nid, (district, scale, share, gain) in NODES.items():
        pm = truth * scale * (1 + rng.normal(0, 0.04, N))
        cf1 = (pm - 1.5 + 0.04 * rh) / 0.6 * gain  # the Plantower reads high, more so in humid air
        so2 = 3 + share * plume + rng.normal(0, 0.3, N)
        we = SHEET["we_e_mv"] + SHEET["we_0_mv"] + kpp + SHEET["sensitivity_mv_ppb"] * so2 + rng.normal(0, 0.1, N)
        ae = SHEET["ae_e_mv"] + SHEET["ae_0_mv"] + 0.2 * (t_c - 20) + rng.normal(0, 0.1, N)
        fill(store, keys, nid, T0, {"pm.pm25_cf1": cf1, "pm.pm25_atm": cf1 / (1 + 0.004 * cf1), "th.rh": rh, "th.t_c": t_c,
                                    "so2.we_mv": we, "so2.ae_mv": ae}, district=district)
        if nid == "osk-01":
            station_pm, station_so2 = pm, so2
    store.close()
    hours = t.reshape(-1, 12)[:, 0]
    # The station's own measurement error: ±1.5 µg/m³.
    ref_pm = (station_pm.reshape(-1, 12).mean(axis=1) + rng.normal(0, 1.5, len(hours))) / 1000.0  # mg/m3
    ref_so2 = station_so2.reshape(-1, 12).mean(axis=1) * 2.62e-3  # ppb -> mg/m3 at 25 °C
    lines = ["Дата и время,PM2.5 (mg/m3),SO2 (mg/m3)"]
    for h, a, b in zip(hours, ref_pm, ref_so2):
        local = np.datetime64(int(h + UTC_OFFSET), "s").astype(str).replace("T", " ")[:16]
        lines.append(f"{local},{a:.4f},{b:.4f}")
    (root / "kazhydromet-oskemen-1.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "so2-b4-sheet.json").write_text(json.dumps(SHEET) + "\n")
    return root / "city.db"
