"""The operator commands: ``jumin netsim node|keys|identity|messages`` (subprocesses on the
session's netsim database)."""

from __future__ import annotations

from jumin.netproto.envelope import NodeKey
from jumin.netsim.client import Client

from .conftest import identity, new_municipality_code


def test_node_add_then_the_city_can_send(netsim_server, public_keys):
    code = new_municipality_code()
    key = NodeKey.generate(code)
    done = netsim_server.command(
        "node", "add", "--code", code, "--name", "コマンド市", "--public-key", key.public_b64
    )
    assert f"登録しました: {code} コマンド市" in done.stdout
    listed = netsim_server.command("node", "list").stdout
    assert code in listed and key.public_b64 in listed and "jlis" in listed
    with Client(netsim_server.url, key) as client:
        _, response = client.message("codes.request", {"count": 1})
        assert response.status == 200
        assert response.verified(public_keys["jlis"]).kind == "codes.request.result"


def test_node_add_explains_a_bad_code(netsim_server):
    failed = netsim_server.command(
        "node",
        "add",
        "--code",
        "141501",  # check digit of 相模原市 is 0
        "--name",
        "誤り市",
        "--public-key",
        NodeKey.generate("x").public_b64,
        check=False,
    )
    assert failed.returncode != 0
    assert "チェックデジット" in failed.stderr


def test_node_add_refuses_a_second_key_without_replace(netsim_server, city):
    other = NodeKey.generate(city.code).public_b64
    args = ["node", "add", "--code", city.code, "--name", "試験市", "--public-key", other]
    refused = netsim_server.command(*args, check=False)
    assert refused.returncode != 0
    assert "--replace-key" in refused.stderr
    replaced = netsim_server.command(*args, "--replace-key")
    assert replaced.returncode == 0
    with Client(netsim_server.url) as client:
        assert client.node(city.code).json()["public_key"] == other


def test_keys_show_prints_the_public_keys_the_nodes_endpoint_serves(netsim_server, public_keys):
    shown = netsim_server.command("keys", "show").stdout
    lines = {line.split()[0]: line.split()[1] for line in shown.splitlines()}
    assert lines["jlis"] == public_keys["jlis"]
    assert lines["pref-14"] == public_keys["pref-14"]
    assert len(lines) == 48  # J-LIS and 47 prefectures
    assert "private" not in shown.lower()


def test_keys_init_refuses_to_overwrite(netsim_server):
    refused = netsim_server.command("keys", "init", check=False)
    assert refused.returncode != 0
    assert "上書きしません" in refused.stderr


def test_identity_show_masks_the_number_unless_asked(netsim_server, city, jcode):
    code = jcode()
    city.ok("identity.update", identity(city, code, 1, my_number="271828182840"))
    shown = netsim_server.command("identity", "show", code).stdout
    assert code in shown and "山田" in shown and city.code in shown
    assert "271828182840" not in shown
    assert "********2840" in shown
    revealed = netsim_server.command("identity", "show", code, "--show-my-number").stdout
    assert "271828182840" in revealed
    unknown = netsim_server.command("identity", "show", "00000000000", check=False)
    assert unknown.returncode != 0
    assert "情報はありません" in unknown.stderr


def test_messages_lists_the_log(netsim_server, city):
    city.ok("codes.request", {"count": 1})
    listed = netsim_server.command("messages", "--sender", city.code).stdout
    assert "codes.request" in listed and "反映" in listed


def test_help_is_japanese(netsim_server):
    shown = netsim_server.command("serve", "--help").stdout
    assert "待ち受ける" in shown
