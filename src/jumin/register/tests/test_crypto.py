"""個人番号 encryption at rest, lookup hashes, key file and key rotation (ADR 0004)."""

from __future__ import annotations

import base64
import json
import random
import re
import stat
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from jumin.accounts.actor import Actor
from jumin.audit.models import Category, OperationLogEntry, Outcome
from jumin.core.errors import IdentifierError
from jumin.core.identifiers import generate_my_number
from jumin.register import crypto
from jumin.register.models import EncryptedMyNumber

pytestmark = pytest.mark.django_db

NUMBER = "123456789018"
OTHER = "023456789013"


@pytest.fixture(autouse=True)
def key_file(settings, tmp_path):
    path = tmp_path / "secrets" / "keys.json"
    settings.KEY_FILE = path
    crypto.reset_keyring_cache()
    yield path
    crypto.reset_keyring_cache()


@pytest.fixture
def actor():
    return Actor.system("cli", label="tester")


def numbers(count, seed=6):
    rng = random.Random(seed)
    return [generate_my_number(rng) for _ in range(count)]


def encodings(number):
    """Every way the number could leak into bytes."""
    fullwidth = number.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    return [
        number.encode("ascii"),
        number.encode("utf-16-le"),
        number.encode("utf-16-be"),
        number.encode("utf-32-le"),
        fullwidth.encode("utf-8"),
        fullwidth.encode("utf-16-le"),
        int(number).to_bytes(8, "big"),
        int(number).to_bytes(8, "little"),
    ]


def assert_no_clear_number(blob, number):
    data = bytes(blob)
    for form in encodings(number):
        assert form not in data
    assert number.encode("ascii").hex().encode() not in data.hex().encode()


def read_file(path):
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- round trip


def test_round_trip():
    row = crypto.protect_my_number(NUMBER)
    row.refresh_from_db()
    assert crypto.reveal_my_number(row) == NUMBER
    assert row.key_id == crypto.load_keyring().active_id


def test_round_trip_normalises_input():
    row = crypto.protect_my_number("１２３４ ５６７８-９０１８")
    assert crypto.reveal_my_number(row) == NUMBER
    assert row.lookup_hash == crypto.my_number_lookup_hash(NUMBER)


def test_round_trip_many_numbers_keyring_only():
    ring = crypto.load_keyring()
    for number in numbers(200):
        key_id, blob = ring.encrypt(number)
        assert ring.decrypt(key_id, blob) == number
        assert len(blob) == 12 + 12 + 16  # nonce + 12 ASCII digits + tag


def test_same_number_encrypts_differently_each_time():
    ring = crypto.load_keyring()
    assert ring.encrypt(NUMBER)[1] != ring.encrypt(NUMBER)[1]


# --------------------------------------------------------------------------- invariant 6


# DESIGN invariant 6
def test_ciphertext_contains_no_encoding_of_the_number():
    ring = crypto.load_keyring()
    for number in [NUMBER, OTHER, *numbers(50)]:
        _, blob = ring.encrypt(number)
        assert_no_clear_number(blob, number)


# DESIGN invariant 6
def test_database_row_holds_no_clear_number():
    stored = [NUMBER, OTHER, *numbers(20)]
    for number in stored:
        crypto.protect_my_number(number)
    table = connection.ops.quote_name(EncryptedMyNumber._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")
        columns = [c[0] for c in cursor.description]
        rows = cursor.fetchall()
    assert len(rows) == len(stored)
    for raw in rows:
        for column, value in zip(columns, raw, strict=True):
            if value is None:
                continue
            if isinstance(value, bytes | memoryview | bytearray):
                data = bytes(value)
                for number in stored:
                    assert_no_clear_number(data, number)
                assert not re.search(rb"\d{12}", data), column
                continue
            text = str(value)
            for number in stored:
                assert number not in text, column
            if column == "lookup_hash":
                assert re.fullmatch(r"[0-9a-f]{64}", text)
            else:
                assert not re.search(r"\d{12}", text), column


# DESIGN invariant 6
def test_key_material_never_in_repr():
    ring = crypto.load_keyring()
    doc = read_file(crypto.key_file_path())
    text = repr(ring) + str(ring)
    for value in [*doc["keys"].values(), doc["hmac_key"]]:
        assert value not in text
        assert repr(base64.b64decode(value)) not in text
    assert ring.active_id in text


# --------------------------------------------------------------------------- lookup hash


# DESIGN invariant 6
def test_lookup_hash_equal_for_same_number_and_differs_across_numbers():
    a = crypto.my_number_lookup_hash(NUMBER)
    assert a == crypto.my_number_lookup_hash(NUMBER)
    assert a == crypto.my_number_lookup_hash("1234-5678-9018")
    assert a != crypto.my_number_lookup_hash(OTHER)
    assert NUMBER not in a
    hashes = {crypto.my_number_lookup_hash(n) for n in numbers(100)}
    assert len(hashes) == len(set(numbers(100)))


def test_lookup_hash_finds_the_row():
    row = crypto.protect_my_number(NUMBER)
    crypto.protect_my_number(OTHER)
    found = EncryptedMyNumber.objects.get(lookup_hash=crypto.my_number_lookup_hash(NUMBER))
    assert found.pk == row.pk


# DESIGN invariant 6
def test_lookup_hash_is_keyed():
    """Without the HMAC key, the hash is not a plain SHA-256 anyone could precompute."""
    import hashlib

    assert crypto.my_number_lookup_hash(NUMBER) != hashlib.sha256(NUMBER.encode()).hexdigest()


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("bad", ["", "12345678901", "123456789019", "12345678901a", "１２３"])
def test_bad_number_rejected_and_nothing_written(bad):
    with pytest.raises(IdentifierError):
        crypto.protect_my_number(bad)
    with pytest.raises(IdentifierError):
        crypto.my_number_lookup_hash(bad)
    assert not EncryptedMyNumber.objects.exists()


def test_tampered_ciphertext_is_refused():
    row = crypto.protect_my_number(NUMBER)
    blob = bytearray(bytes(row.ciphertext))
    for position in (0, 12, len(blob) - 1):  # nonce, body, tag
        tampered = bytearray(blob)
        tampered[position] ^= 0x01
        row.ciphertext = bytes(tampered)
        with pytest.raises(crypto.DecryptionError, match="改ざん"):
            crypto.reveal_my_number(row)
    row.ciphertext = bytes(blob[:20])
    with pytest.raises(crypto.DecryptionError):
        crypto.reveal_my_number(row)


def test_unknown_key_id_is_a_clear_error():
    row = crypto.protect_my_number(NUMBER)
    row.key_id = "k19990101a"
    with pytest.raises(crypto.DecryptionError, match="k19990101a"):
        crypto.reveal_my_number(row)


def test_ciphertext_bound_to_its_key():
    crypto.protect_my_number(OTHER)
    row = crypto.protect_my_number(NUMBER)
    crypto.rotate_keys(Actor.system("cli"))
    row.refresh_from_db()
    old = next(k for k in crypto.load_keyring().keys if k != row.key_id)
    row.key_id = old
    with pytest.raises(crypto.DecryptionError):
        crypto.reveal_my_number(row)


# --------------------------------------------------------------------------- rotation


def test_rotation_re_encrypts_every_row(actor):
    originals = numbers(7)
    rows = [crypto.protect_my_number(n) for n in originals]
    key_a = crypto.load_keyring().active_id
    hashes = {r.pk: r.lookup_hash for r in rows}

    count = crypto.rotate_keys(actor, batch_size=3)

    ring = crypto.load_keyring()
    key_b = ring.active_id
    assert count == len(originals)
    assert key_b != key_a
    assert set(ring.keys) == {key_a, key_b}  # the old key stays for readers
    after = list(EncryptedMyNumber.objects.order_by("pk"))
    assert [r.pk for r in after] == [r.pk for r in rows]  # rewritten in place
    for row, number in zip(after, originals, strict=True):
        assert row.key_id == key_b
        assert crypto.reveal_my_number(row) == number
        assert row.lookup_hash == hashes[row.pk]
        assert row.lookup_hash == crypto.my_number_lookup_hash(number)


def test_rotation_keeps_hmac_key(actor):
    crypto.protect_my_number(NUMBER)
    before = read_file(crypto.key_file_path())["hmac_key"]
    crypto.rotate_keys(actor)
    assert read_file(crypto.key_file_path())["hmac_key"] == before
    assert crypto.load_keyring().hmac_key == base64.b64decode(before)


# DESIGN invariant 6
def test_rotation_writes_one_log_entry_without_the_number(actor):
    stored = [NUMBER, OTHER]
    for number in stored:
        crypto.protect_my_number(number)
    before = OperationLogEntry.objects.count()
    crypto.rotate_keys(actor)
    entries = list(OperationLogEntry.objects.order_by("seq")[before:])
    assert len(entries) == 1
    entry = entries[0]
    assert entry.category == Category.SETTINGS_CHANGE
    assert entry.function == "個人番号暗号鍵の更新"
    assert entry.outcome == Outcome.SUCCESS
    assert entry.detail == {"new_key_id": crypto.load_keyring().active_id, "re_encrypted": 2}
    assert entry.operator_code == "cli:tester"
    dumped = json.dumps(
        {f.name: str(getattr(entry, f.attname)) for f in entry._meta.concrete_fields},
        ensure_ascii=False,
    )
    doc = read_file(crypto.key_file_path())
    for secret in [*stored, *doc["keys"].values(), doc["hmac_key"]]:
        assert secret not in dumped


def test_rows_created_after_rotation_use_the_new_key(actor):
    crypto.protect_my_number(NUMBER)
    crypto.rotate_keys(actor)
    new = crypto.protect_my_number(OTHER)
    assert new.key_id == crypto.load_keyring().active_id
    assert crypto.reveal_my_number(new) == OTHER


def test_readers_decrypt_old_and_new_rows_during_rotation(actor):
    """No downtime: between batches, every row (old key or new) still decrypts."""
    originals = numbers(6)
    for number in originals:
        crypto.protect_my_number(number)
    seen = []

    def check(done):
        rows = list(EncryptedMyNumber.objects.order_by("pk"))
        assert [crypto.reveal_my_number(r) for r in rows] == originals
        seen.append(len({r.key_id for r in rows}))

    assert crypto.rotate_keys(actor, batch_size=2, progress=check) == 6
    assert seen[0] == 2  # mid-rotation: both keys in use, both readable
    assert seen[-1] == 1


def test_rotation_with_no_rows(actor):
    assert crypto.rotate_keys(actor) == 0
    assert len(crypto.load_keyring().keys) == 2


def test_rotation_twice_re_encrypts_from_both_old_keys(actor):
    crypto.protect_my_number(NUMBER)
    crypto.rotate_keys(actor)
    # a row still under the first key, as if written by a process that had not yet
    # seen the first rotation
    ring = crypto.load_keyring()
    first = sorted(ring.keys)[0]
    straggler = crypto.protect_my_number(OTHER)
    old_ring = crypto.KeyRing(first, ring.keys, ring.hmac_key)
    straggler.key_id, straggler.ciphertext = old_ring.encrypt(OTHER)
    straggler.save()
    assert crypto.rotate_keys(actor) == 2
    ring = crypto.load_keyring()
    assert set(crypto.key_usage()) == {ring.active_id}
    assert crypto.reveal_my_number(EncryptedMyNumber.objects.get(pk=straggler.pk)) == OTHER


def test_key_ids_are_unique_and_dated(actor):
    for _ in range(3):
        crypto.rotate_keys(actor)
    ids = list(crypto.load_keyring().keys)
    assert len(set(ids)) == 4
    assert all(re.fullmatch(r"k\d{8}[a-z]+", k) for k in ids)


def test_key_file_change_seen_without_reset():
    """Another process rotating the key file is picked up on the next call."""
    ring = crypto.load_keyring()
    path = crypto.key_file_path()
    doc = read_file(path)
    doc["keys"]["kexternal"] = base64.b64encode(b"\x07" * 32).decode()
    doc["active"] = "kexternal"
    path.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    assert crypto.load_keyring().active_id == "kexternal"
    assert ring.active_id != "kexternal"
    assert crypto.protect_my_number(NUMBER).key_id == "kexternal"


def test_rotation_failure_is_logged_and_raised(actor):
    row = crypto.protect_my_number(NUMBER)
    EncryptedMyNumber.objects.filter(pk=row.pk).update(ciphertext=b"\x00" * 40)
    with pytest.raises(crypto.DecryptionError):
        crypto.rotate_keys(actor)
    entry = OperationLogEntry.objects.order_by("-seq").first()
    assert entry.outcome == Outcome.FAILED
    assert entry.detail["error"] == "DecryptionError"


# --------------------------------------------------------------------------- retire


def test_retire_refuses_active_and_used_keys_and_removes_unused(actor):
    crypto.protect_my_number(NUMBER)
    key_a = crypto.load_keyring().active_id
    crypto.rotate_keys(actor)
    key_b = crypto.load_keyring().active_id
    # a third key, never used by any row
    crypto.rotate_keys(actor)
    key_c = crypto.load_keyring().active_id
    # put one row back under key_b so that it is "still used"
    ring = crypto.load_keyring()
    row = EncryptedMyNumber.objects.get()
    row.key_id, row.ciphertext = crypto.KeyRing(key_b, ring.keys, ring.hmac_key).encrypt(NUMBER)
    row.save()

    with pytest.raises(crypto.KeyManagementError, match="有効な鍵"):
        crypto.retire_unused_keys([key_c])
    with pytest.raises(crypto.KeyManagementError, match="1 件"):
        crypto.retire_unused_keys([key_b])
    with pytest.raises(crypto.KeyManagementError, match="ありません"):
        crypto.retire_unused_keys(["knope"])
    assert set(crypto.load_keyring().keys) == {key_a, key_b, key_c}

    assert crypto.retire_unused_keys() == [key_a]
    assert set(crypto.load_keyring().keys) == {key_b, key_c}
    assert crypto.reveal_my_number(EncryptedMyNumber.objects.get()) == NUMBER
    assert crypto.retire_unused_keys() == []


def test_retire_named_unused_key_and_log(actor):
    key_a = crypto.load_keyring().active_id
    crypto.rotate_keys(actor)
    assert crypto.retire_unused_keys([key_a], actor=actor) == [key_a]
    entry = OperationLogEntry.objects.order_by("-seq").first()
    assert entry.function == "個人番号暗号鍵の廃棄"
    assert entry.detail == {"retired_key_ids": [key_a]}


# --------------------------------------------------------------------------- key file


def test_demo_mode_creates_missing_key_file_with_mode_0600(key_file):
    assert not key_file.exists()
    ring = crypto.load_keyring()
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    doc = read_file(key_file)
    assert doc["version"] == 1
    assert doc["active"] == ring.active_id
    assert len(base64.b64decode(doc["keys"][ring.active_id])) == 32
    assert len(base64.b64decode(doc["hmac_key"])) == 32
    assert list(key_file.parent.glob("*.tmp")) == []


def test_production_mode_missing_key_file_is_improperly_configured(settings, key_file):
    settings.JUMIN = {**settings.JUMIN, "MODE": "production"}
    with pytest.raises(ImproperlyConfigured) as info:
        crypto.load_keyring()
    message = str(info.value)
    assert "JUMIN_KEY_FILE" in message
    assert "jumin keys init" in message
    assert "鍵ファイル" in message
    assert not key_file.exists()
    with pytest.raises(ImproperlyConfigured):
        crypto.protect_my_number(NUMBER)
    assert not EncryptedMyNumber.objects.exists()


def test_production_mode_uses_an_initialised_file(settings, key_file):
    settings.JUMIN = {**settings.JUMIN, "MODE": "production"}
    crypto.init_keys()
    assert crypto.reveal_my_number(crypto.protect_my_number(NUMBER)) == NUMBER


def _valid_doc():
    key = base64.b64encode(b"\x01" * 32).decode()
    return {"version": 1, "active": "ka", "keys": {"ka": key}, "hmac_key": key}


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda d: "not json{", "JSON"),
        (lambda d: [], "オブジェクト"),
        (lambda d: {**d, "version": 2}, "version"),
        (lambda d: {**d, "keys": {}}, "keys"),
        (lambda d: {**d, "active": "kb"}, "active"),
        (lambda d: {**d, "keys": {"ka": "!!!"}}, "base64"),
        (lambda d: {**d, "keys": {"ka": base64.b64encode(b"short").decode()}}, "32"),
        (lambda d: {**d, "hmac_key": None}, "hmac_key"),
        (lambda d: {**d, "keys": {"bad id!": d["keys"]["ka"]}, "active": "bad id!"}, "鍵ID"),
    ],
)
def test_malformed_key_file_is_improperly_configured(key_file, mutate, fragment):
    key_file.parent.mkdir(parents=True)
    doc = mutate(_valid_doc())
    key_file.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    with pytest.raises(ImproperlyConfigured, match=fragment):
        crypto.load_keyring()


def test_init_creates_and_refuses_to_overwrite(key_file):
    assert crypto.init_keys() == key_file
    before = key_file.read_bytes()
    with pytest.raises(crypto.KeyManagementError, match="既にあります"):
        crypto.init_keys()
    assert key_file.read_bytes() == before


def test_init_force_overwrites_only_without_rows(key_file):
    crypto.init_keys()
    first = read_file(key_file)
    crypto.init_keys(force=True)
    second = read_file(key_file)
    assert second["keys"] != first["keys"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    crypto.protect_my_number(NUMBER)
    with pytest.raises(crypto.KeyManagementError, match="--force"):
        crypto.init_keys(force=True)
    assert read_file(key_file) == second
    assert crypto.reveal_my_number(EncryptedMyNumber.objects.get()) == NUMBER


# --------------------------------------------------------------------------- the command


def run(*args):
    out = StringIO()
    call_command("keys", *args, stdout=out)
    return out.getvalue()


def test_command_init_and_refusal(key_file):
    output = run("init")
    assert str(key_file) in output
    assert key_file.exists()
    with pytest.raises(CommandError, match="既にあります"):
        run("init")


# DESIGN invariant 6
def test_command_status_shows_ids_and_counts_not_key_material(actor):
    crypto.protect_my_number(NUMBER)
    key_a = crypto.load_keyring().active_id
    output = run("status")
    assert f"有効な鍵ID: {key_a}" in output
    assert f"{key_a}\t1\t有効" in output
    doc = read_file(crypto.key_file_path())
    for secret in [*doc["keys"].values(), doc["hmac_key"], NUMBER]:
        assert secret not in output


def test_command_status_flags_rows_under_missing_keys():
    row = crypto.protect_my_number(NUMBER)
    EncryptedMyNumber.objects.filter(pk=row.pk).update(key_id="kgone")
    with pytest.raises(CommandError, match="kgone"):
        run("status")


# DESIGN invariant 6
def test_command_rotate_and_retire():
    for number in (NUMBER, OTHER):
        crypto.protect_my_number(number)
    key_a = crypto.load_keyring().active_id
    output = run("rotate", "--batch-size", "1")
    key_b = crypto.load_keyring().active_id
    assert "2 件の個人番号を再暗号化しました" in output
    assert key_b in output
    assert NUMBER not in output and OTHER not in output
    status = run("status")
    assert f"{key_a}\t0\t旧鍵（未使用・廃棄可）" in status
    assert f"{key_b}\t2\t有効" in status

    with pytest.raises(CommandError, match="有効な鍵"):
        run("retire", key_b)
    assert key_a in run("retire")
    assert set(crypto.load_keyring().keys) == {key_b}
    assert "廃棄できる旧鍵はありません" in run("retire")


def test_command_rotate_with_retire():
    crypto.protect_my_number(NUMBER)
    key_a = crypto.load_keyring().active_id
    output = run("rotate", "--retire")
    assert f"旧鍵を廃棄しました: {key_a}" in output
    assert list(crypto.load_keyring().keys) == [crypto.load_keyring().active_id]
    assert crypto.reveal_my_number(EncryptedMyNumber.objects.get()) == NUMBER


def test_command_errors_without_traceback(settings):
    settings.JUMIN = {**settings.JUMIN, "MODE": "production"}
    with pytest.raises(CommandError, match="jumin keys init"):
        run("status")
    with pytest.raises(CommandError, match="batch-size"):
        run("rotate", "--batch-size", "0")
