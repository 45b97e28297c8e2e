"""Node registry and keys: 0600 key file, keys never printed unless asked, clear refusals."""

from __future__ import annotations

import json
import os
import stat
import threading

import pytest

from tynys.cli import main
from tynys.keys import KeyFile, KeyFileError
from tynys.registry import RegistryError, add_node, parse_sensor
from tynys.store import Store, StoreError

pytestmark = pytest.mark.host


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_add_generates_a_key_in_a_0600_file(tmp_path):
    os.umask(0o022)
    store, kf = Store.open(tmp_path / "c.db"), KeyFile(tmp_path / "c.keys")
    node, key = add_node(store, kf, "osk-01", lat=49.948, lon=82.628, sensors=[parse_sensor("so2=isb:so2-b4")])
    assert len(key) == 32 and key != bytes(32)
    assert mode(kf.path) == 0o600
    assert json.loads(kf.path.read_text()) == {"format": "tynys-keys-1", "keys": {"osk-01": key.hex()}}
    assert kf.get("osk-01") == key
    assert store.node("osk-01").sensors[0].model == "so2-b4"
    assert add_node(store, kf, "osk-02")[1] != key


def test_cli_never_prints_the_key_unless_asked(tmp_path, capsys):
    db = str(tmp_path / "city.db")
    assert main(["nodes", "add", "osk-01", "--name", "School 12", "--lat", "49.948", "--lon", "82.628",
                 "--sensor", "pm=pms5003", "--db", db]) == 0
    key = KeyFile(tmp_path / "city.keys").get("osk-01").hex()
    out = capsys.readouterr()
    assert key not in out.out + out.err
    assert out.out.startswith("osk-01 (School 12): outdoor at 49.94800, 82.62800; sensors pm=pms5003")
    assert "tynys nodes show osk-01 --show-key" in out.err
    for args in (["nodes", "show", "osk-01"], ["nodes", "show", "osk-01", "--json"], ["nodes", "list", "--json"],
                 ["db", "stats", "--json"]):
        assert main([*args, "--db", db]) == 0
        out = capsys.readouterr()
        assert key not in out.out + out.err, args
    assert main(["nodes", "show", "osk-01", "--show-key", "--db", db]) == 0
    assert f"key: {key}" in capsys.readouterr().out
    assert main(["nodes", "show", "osk-01", "--show-key", "--json", "--db", db]) == 0
    assert json.loads(capsys.readouterr().out)["key"] == key


def test_a_key_file_others_can_read_is_refused(tmp_path):
    kf = KeyFile(tmp_path / "c.keys")
    kf.add("osk-01")
    os.chmod(kf.path, 0o644)
    with pytest.raises(KeyFileError, match=r"readable by others \(mode 0644\): run chmod 600 .*c.keys"):
        kf.load()


def test_damaged_key_file_is_named(tmp_path):
    kf = KeyFile(tmp_path / "c.keys")
    fd = os.open(kf.path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b'{"format": "tynys-keys-1", "keys": {"a": "00ff"}}')
    os.close(fd)
    with pytest.raises(KeyFileError, match="key of 'a' is not 32 bytes; restore it from a backup"):
        kf.load()


@pytest.mark.parametrize("kw,message", [
    (dict(node_id="osk/01"), "node id 'osk/01' is not allowed: 1-64 of letters, digits, '_', '.', '-', starting with a letter or digit"),
    (dict(node_id="a", lat=1.0), "give both --lat and --lon, or neither"),
    (dict(node_id="a", lat=91.0, lon=0.0), "location lat=91.0 lon=0.0 is not on Earth: latitude -90..90, longitude -180..180 (decimal degrees, WGS 84)"),
    (dict(node_id="a", placement="roof"), "placement 'roof': use one of outdoor, indoor"),
    (dict(node_id="a", sensors=[parse_sensor("pm=pms5003"), parse_sensor("pm=sds011")]), "sensor slots must be unique, got pm, pm"),
])
def test_bad_node_descriptions_are_refused(tmp_path, kw, message):
    store, kf = Store.open(tmp_path / "c.db"), KeyFile(tmp_path / "c.keys")
    with pytest.raises(RegistryError) as e:
        add_node(store, kf, **kw)
    assert str(e.value) == message
    assert kf.load() == {} and store.nodes() == []


def test_bad_sensor_text():
    with pytest.raises(RegistryError, match=r"cannot read sensor 'pms5003': write SLOT=TYPE\[:MODEL\]"):
        parse_sensor("pms5003")


def test_duplicate_node_and_retire_twice(tmp_path):
    store, kf = Store.open(tmp_path / "c.db"), KeyFile(tmp_path / "c.keys")
    add_node(store, kf, "a")
    with pytest.raises(RegistryError, match="node 'a' is already registered"):
        add_node(store, kf, "a")
    store.retire_node("a", 1795813200, "stolen")
    with pytest.raises(StoreError, match="node 'a' was already retired on 2026-11-27T21:00:00Z"):
        store.retire_node("a", 1795813300)
    assert store.nodes(include_retired=False) == []
    assert store.node("a").retired_reason == "stolen"


def test_concurrent_adds_keep_every_key(tmp_path):
    errors = []

    def add(i):
        try:
            with Store.open(tmp_path / "c.db") as s:
                add_node(s, KeyFile(tmp_path / "c.keys"), f"n{i:02d}")
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(KeyFile(tmp_path / "c.keys").load()) == [f"n{i:02d}" for i in range(12)]
    assert mode(tmp_path / "c.keys") == 0o600
