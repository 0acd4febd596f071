"""`jumin cs …` and the node key file."""

from __future__ import annotations

import io
import json
import stat

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jumin.jukinet import keys
from jumin.jukinet.client import CsClient
from jumin.jukinet.conf import config
from jumin.jukinet.models import CsSetting, IdentityRecord
from jumin.jukinet.tests import helpers as h
from jumin.jukinet.tests.fakenet import FakeNetsim
from jumin.outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db


def cs(*args: str) -> str:
    out = io.StringIO()
    call_command("cs", *args, stdout=out)
    return out.getvalue()


def test_deliver_once_status_and_failures(fake):
    _, [a] = h.move_in()
    _, [_b] = h.move_in()
    fake.faults.append("400")
    out = cs("deliver", "--once", "--concurrency", "1")
    assert "受理 3件" in out and "拒否 1件" in out
    status = cs("status")
    assert "自動送信中" in status
    assert "送信失敗 1件" in status and "jumin cs resend" in status
    failures = cs("failures")
    assert a.atena_no in failures and "送信失敗" in failures
    assert "項目が正しくありません" in failures


def test_manual_switch_and_deliver_sends_nothing(fake):
    h.move_in()
    assert "手動連携に切り替えました" in cs("manual", "on", "--reason", "保守")
    assert CsSetting.objects.get(pk=1).manual
    out = cs("deliver", "--once")
    assert "手動連携中のため送信しません" in out and fake.requests == 0
    assert "手動連携中" in cs("status")
    assert "自動送信に戻しました" in cs("manual", "off")
    assert "受理 2件" in cs("deliver", "--once")


def test_resend_and_sent_list(fake):
    _, [r] = h.move_in()
    cs("deliver", "--once")
    first = h.cs_outbox(r.atena_no)[0]
    assert "送信待ちに戻しました" in cs("resend", str(first.pk))
    out = cs("resend", str(h.cs_outbox(r.atena_no)[1].pk))
    assert "送信待ちに戻しました" in out
    with pytest.raises(CommandError, match="送信待ちです"):
        cs("resend", str(first.pk))
    cs("deliver", "--once")
    listing = cs("sent", "--person", r.atena_no)
    assert "送信履歴 4件" in listing and "本人確認情報の更新" in listing
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        cs("sent", "--from", "yesterday")


def test_reconcile_command(fake):
    _, [r] = h.move_in()
    cs("deliver", "--once")
    assert "不一致はありません" in cs("reconcile")
    IdentityRecord.objects.filter(atena_no=r.atena_no).delete()
    out = cs("reconcile")
    assert "CSに本人確認情報がない: 1件" in out and "--repair" in out
    out = cs("reconcile", "--repair")
    assert "1件の本人確認情報を送信待ちに追加しました" in out
    assert OutboxMessage.objects.filter(idempotency_key__startswith="reconcile:").count() == 1


def test_keygen_refuses_to_overwrite_and_file_is_private(cs_env):
    out = cs("keygen")
    assert "公開鍵:" in out and "jumin netsim node add --code 141500" in out
    mode = stat.S_IMODE(cs_env.key_file.stat().st_mode)
    assert mode == 0o600
    with pytest.raises(CommandError, match="既にあります"):
        cs("keygen")
    before = json.loads(cs_env.key_file.read_text())["private_key"]
    cs("keygen", "--force")
    assert json.loads(cs_env.key_file.read_text())["private_key"] != before


def test_production_needs_an_explicit_key(cs_env, settings):
    settings.PRODUCTION = True
    with pytest.raises(keys.KeyFileError, match="jumin cs keygen"):
        keys.node_key(config())
    assert not cs_env.key_file.exists()


def test_key_for_another_city_is_refused(cs_env, monkeypatch):
    keys.node_key(config())
    monkeypatch.setenv("JUMIN_CS_NODE", "131016")
    with pytest.raises(keys.KeyFileError, match="141500"):
        keys.node_key(config())


def test_register_with_the_national_side_and_pin_its_keys(cs_env, monkeypatch):
    net = FakeNetsim().up()
    try:
        monkeypatch.setenv("JUMIN_NETSIM_URL", net.url)
        out = cs("register", "--name", "相模原市")
        assert "netsim に登録しました" in out
        assert "141500" in net.cities
        pinned = keys.pinned(config())
        assert pinned["jlis"] == net.nodes["jlis"].public_b64
        assert pinned["pref-14"] == net.nodes["pref-14"].public_b64
    finally:
        net.down()


def test_trust_pins_a_key_and_rejects_garbage(cs_env):
    other = FakeNetsim()
    cs("trust", "pref-14", other.nodes["pref-14"].public_b64)
    assert keys.pinned(config())["pref-14"] == other.nodes["pref-14"].public_b64
    with pytest.raises(CommandError, match="公開鍵の形式"):
        cs("trust", "pref-14", "not-base64!")
    with pytest.raises(CommandError, match="ノードコード"):
        cs("trust", "141500", other.nodes["jlis"].public_b64)


def test_demo_fetches_and_pins_a_national_key_once(fake):
    client = CsClient.from_config()
    assert "pref-14" not in keys.pinned(config())
    _, [_r] = h.move_in()
    h.drain(h.worker())
    assert keys.pinned(config())["pref-14"] == fake.nodes["pref-14"].public_b64
    assert client.node == "141500"


def test_production_refuses_an_unpinned_national_key(fake, settings):
    keys.node_key(config())
    settings.PRODUCTION = True
    _, [r] = h.move_in()
    result = h.batch()
    assert result.retried == 1
    message = h.cs_outbox(r.atena_no)[0]
    assert "jumin cs trust pref-14" in message.last_error
    assert fake.requests == 0  # not sent: its answer could not be verified
