"""`tynys broker config`: the Mosquitto files for ingest over MQTT (tynys.brokerconf)."""

import stat

import pytest

from tynys import brokerconf

pytestmark = pytest.mark.host


def test_passwords_come_from_the_keys_and_stay_hashed_and_private(tmp_path, need_service):
    need_service("mosquitto_passwd", brokerconf.passwd_tool() is not None,
                 "apt-get install mosquitto; scripts/system-deps.sh does it")
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


def test_a_second_run_for_a_new_node_keeps_the_hosts_login(tmp_path, need_service):
    need_service("mosquitto_passwd", brokerconf.passwd_tool() is not None,
                 "apt-get install mosquitto; scripts/system-deps.sh does it")
    keys = {"osk-01": bytes(range(32)), "osk-02": bytes(range(1, 33))}
    first = brokerconf.write(tmp_path, ["osk-01"], keys.get)
    again = brokerconf.write(tmp_path, sorted(keys), keys.get)  # after `tynys nodes add osk-02`
    assert again["ingest_password"] == first["ingest_password"]  # tynys ingest mqtt logs in as before
    assert (tmp_path / "ingest.password").read_text().strip() == first["ingest_password"]
    assert "osk-02:$7$" in (tmp_path / "passwd").read_text()
