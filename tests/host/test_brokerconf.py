"""`tynys broker config`: the Mosquitto files for ingest over MQTT (tynys.brokerconf)."""

import shutil
import stat

import pytest

from tynys import brokerconf

pytestmark = pytest.mark.host


def test_passwords_come_from_the_keys_and_stay_hashed_and_private(tmp_path):
    if shutil.which("mosquitto_passwd") is None:
        pytest.skip("mosquitto_passwd is not installed (apt-get install mosquitto; scripts/system-deps.sh)")
    keys = {"osk-01": bytes(range(32)), "osk-02": bytes(range(1, 33))}
    out = brokerconf.write(tmp_path, sorted(keys), keys.get, port=18830, bind="127.0.0.1")
    assert out["nodes"] == {n: brokerconf.node_password(k) for n, k in keys.items()}
    assert len(set(out["nodes"].values())) == 2 and all(len(p) == 32 for p in out["nodes"].values())
    passwd = (tmp_path / "passwd").read_text()
    assert "osk-01:$7$" in passwd and out["nodes"]["osk-01"] not in passwd  # hashed, not plain
    for name in ("passwd", "ingest.password"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    conf = (tmp_path / "mosquitto.conf").read_text()
    assert "listener 18830 127.0.0.1" in conf and "allow_anonymous false" in conf
    acl = (tmp_path / "acl").read_text()
    assert "pattern write tynys/%u/records" in acl and "pattern read tynys/%u/ack" in acl
