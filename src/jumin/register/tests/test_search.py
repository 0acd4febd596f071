"""住民検索: std 2.1.1 (j320) search history, 2.1.2 (j330) fuzzy characters, 2.1.3 (j340)
basic search; logged reads (DESIGN invariant 5) and the masked 個人番号 (invariant 6)."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone
from pydantic import ValidationError

from jumin.accounts.actor import Actor
from jumin.accounts.tests.factories import OrgUnitFactory, StaffFactory, TerminalFactory
from jumin.audit.models import Category, OperationLogEntry, Outcome
from jumin.core.change_reasons import ChangeReason
from jumin.core.findings import FindingsError
from jumin.register import crypto, search, services
from jumin.register.models import Change, Resident, ResidentHistory, SearchHistory
from jumin.register.procedures import move_in
from jumin.register.records import search_keys, snapshot, to_json
from jumin.register.search import SearchCriteria, search_history, search_residents
from jumin.register.tests import factories as f

pytestmark = pytest.mark.django_db

MY_NUMBER = "123456789018"
OTHER_NUMBER = "023456789013"
TODAY = dt.date.today()


@pytest.fixture(autouse=True)
def key_file(settings, tmp_path):
    settings.KEY_FILE = tmp_path / "secrets" / "keys.json"
    # Staff are created by the dozen here; a fast hasher keeps the suite quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    crypto.reset_keyring_cache()
    _searcher.clear()
    yield
    crypto.reset_keyring_cache()


_searcher: list[Actor] = []


@pytest.fixture
def clerk():
    return f.clerk()


def one(**person):
    """Move one person in (and commit); return the current record."""
    _, [resident] = f.committed_move_in(f.person(**person))
    return resident


def amend(resident, *, occurred_on=None, reason=ChangeReason.EX_OFFICIO_AMENDMENT, **changes):
    """Commit a change of some items of one person, built directly with the framework."""
    current = Resident.objects.get(atena_no=resident.atena_no)
    after = snapshot(current)
    after.update(to_json(changes))
    day = occurred_on or TODAY
    plan = services.DraftPlan(
        procedure="test_amend",
        change_reason=reason,
        occurred_on=day,
        notified_on=day,
        persons=[services.PersonPlan(current.atena_no, current.history_no, after)],
    )
    change = services.save_draft(f.clerk(), plan)
    services.commit_change(f.reviewer(), change.pk)
    return Resident.objects.get(atena_no=resident.atena_no)


def find(actor=None, **criteria):
    if actor is None:
        if not _searcher:
            _searcher.append(f.clerk())
        actor = _searcher[0]
    return search_residents(actor, SearchCriteria(**criteria))


def atenas(actor=None, **criteria):
    return {r.atena_no for r in find(actor, **criteria).rows}


def codes(exc):
    return {x.code for x in exc.value.findings}


# --------------------------------------------------------------------------- std 2.1.2


FUZZY_PAIRS = [
    # 清音・濁音・半濁音 (ヂ/ジ, ズ/ヅ, ワ/ハ, ヴァ/バ, ヴィ/ビ, ヴ/ブ, オ/ヲ, ヒ/ピ)
    ("アヂサカ ハナコ", "アジサカ ハナコ"),
    ("スズキ イチロウ", "スヅキ イチロウ"),
    ("ワタリ ケン", "ハタリ ケン"),
    ("ヴァレンティノ マリア", "バレンティノ マリア"),
    ("ヴィクトル イワン", "ビクトル イワン"),
    ("ヴ ミン", "ブ ミン"),
    ("ヲサダ カズ", "オサダ カズ"),
    ("ヒロセ タク", "ピロセ タク"),
    # 拗音・促音の小文字と大文字 (ッ/ツ, ャ/ヤ, ュ/ユ, ョ/ヨ)
    ("ハットリ ケイ", "ハツトリ ケイ"),
    ("キャノ シュン", "キヤノ シユン"),
    ("ジョウ リョウ", "ジヨウ リヨウ"),
    # オ段 + ウ → オ, and the long vowel ignored
    ("オウノ ジュン", "オオノ ジュン"),
    ("サトウ ハナ", "サトー ハナ"),
    ("サトウ ハナエ", "サト ハナエ"),
    # 入力ゆらぎ: ー ― － ‐ ｰ - and full/half-width spaces
    ("コーノ ミキ", "コ―ノ ミキ"),
    ("コーダ ミキ", "コ－ダ ミキ"),
    ("コーガ ミキ", "コ‐ガ ミキ"),
    ("コーサカ ミキ", "ｺｰｻｶ ﾐｷ"),
    ("コーベ ミキ", "コ-ベ ミキ"),
    ("ヤマモト タロウ", "ヤマモト　タロウ"),
    # the space between family and given name ignored; hiragana accepted
    ("ヤマカワ ジロウ", "ヤマカワジロウ"),
    ("ヤマノ サブロウ", "やまの さぶろう"),
]


@pytest.mark.parametrize(("stored", "query"), FUZZY_PAIRS)
def test_fuzzy_kana_pairs_meet(stored, query):
    # std 2.1.2 (j330): あいまい検索
    resident = one(name_kana=stored, birth_date="1970-05-05")
    assert resident.atena_no in atenas(name_kana=query)
    assert resident.atena_no in atenas(name_kana=query, birth_date="1970-05-05")


def test_exact_kana_search_tells_voicing_apart():
    # std 2.1.2 (j330): 文字列一致検索（完全一致・部分一致）
    resident = one(name_kana="アヂサカ ハナコ")
    assert resident.atena_no not in atenas(name_kana="アジサカ ハナコ", kana_mode="exact")
    assert resident.atena_no in atenas(name_kana="アヂサカハナコ", kana_mode="exact")
    assert resident.atena_no in atenas(name_kana="ｱﾁﾞｻｶ ﾊﾅｺ", kana_mode="exact")
    assert resident.atena_no not in atenas(name_kana="アヂサカ", kana_mode="exact")


def test_prefix_and_partial_kana_search():
    # std 2.1.2 (j330): 完全一致・部分一致; 前方一致 as well
    resident = one(name_kana="ミナミノ ヴァイオレット")
    other = one(name_kana="ミナミノ バイオレット")
    assert atenas(name_kana="ミナミノ ヴ", kana_mode="prefix") == {resident.atena_no}
    assert atenas(name_kana="ミナミノ", kana_mode="prefix") == {resident.atena_no, other.atena_no}
    assert atenas(name_kana="ヴァイオレ", kana_mode="partial") == {resident.atena_no}
    assert atenas(name_kana="ナミノバイ", kana_mode="partial") == {other.atena_no}
    # the fuzzy default starts with, so the family name alone finds both
    assert atenas(name_kana="ミナミノ") == {resident.atena_no, other.atena_no}


def test_given_name_only():
    # std 2.1.2 (j330): 名（氏名の名）のみの検索
    taro = one(name_kana="サガミ タロウ")
    family_taro = one(name_kana="タロウ ジロウ")
    found = atenas(given_name_kana="タロー")
    assert taro.atena_no in found
    assert family_taro.atena_no not in found
    assert taro.atena_no in atenas(given_name_kana="タロウ", kana_mode="exact")
    assert taro.atena_no not in atenas(given_name_kana="タ", kana_mode="exact")
    assert taro.atena_no in atenas(given_name_kana="ロ", kana_mode="partial")


def test_kanji_variants_and_spaces_in_names():
    # std 2.1.2 (j330): 異体字・正字を包含した検索; 氏と名の間のスペースを無視
    watanabe = one(family_name="渡邊", given_name="一郎", name_kana="ワタナベ イチロウ")
    takahashi = one(family_name="髙橋", given_name="花子", name_kana="タカハシ ハナコ", sex="2")
    assert watanabe.atena_no in atenas(name="渡辺")
    assert watanabe.atena_no in atenas(name="渡邉 一郎", name_mode="exact")
    assert watanabe.atena_no in atenas(name="渡辺　一")
    assert watanabe.atena_no in atenas(name="辺一", name_mode="partial")
    assert watanabe.atena_no not in atenas(name="辺一", name_mode="prefix")
    assert watanabe.atena_no in atenas(name="渡辺一", name_mode="prefix")
    assert takahashi.atena_no in atenas(name="高橋")


def test_alphabet_names():
    # std 2.1.3 (j340): 氏名（アルファベットを含む）
    smith = one(
        resident_type="foreign",
        family_name="",
        given_name="",
        honseki="",
        koseki_head="",
        name_alphabet="SMITH JOHN",
        name_kana="スミス ジョン",
        nationality="アメリカ合衆国",
        foreign_category="mid_long_term",
        residence_status="技術・人文知識・国際業務",
        period_of_stay="3年",
        residence_card_no="AB12345678CD",
    )
    kim = one(
        resident_type="foreign",
        family_name="金",
        given_name="英子",
        honseki="",
        koseki_head="",
        name_alphabet="KIM YOUNGJA",
        name_kana="キム ヨンジャ",
        sex="2",
        nationality="韓国",
        foreign_category="special_permanent",
        residence_card_no="XY00000001ZZ",
    )
    assert smith.atena_no in atenas(name="smith")
    assert smith.atena_no in atenas(name="ＳＭＩＴＨ　ＪＯＨＮ", name_mode="exact")
    assert smith.atena_no in atenas(name="SMITHJOHN", name_mode="exact")
    # kanji name and alphabet name both find a person who has both
    assert kim.atena_no in atenas(name="金英子")
    assert kim.atena_no in atenas(name="kim young")
    assert kim.atena_no in atenas(name="Kim", name_mode="prefix")


def test_former_family_name_and_alias():
    # std 2.1.3 (j340): 旧氏・通称・（旧氏・通称の）フリガナ
    hanako = one(
        family_name="相模",
        given_name="花子",
        name_kana="サガミ ハナコ",
        sex="2",
        former_family_name="渡邊",
        former_family_name_kana="ワタナベ",
    )
    lee = one(
        resident_type="foreign",
        family_name="",
        given_name="",
        honseki="",
        koseki_head="",
        name_alphabet="LEE MINHO",
        name_kana="イ ミンホ",
        alias="高山　実",
        alias_kana="タカヤマ ミノル",
        nationality="韓国",
        foreign_category="special_permanent",
    )
    assert atenas(former_family_name="渡辺") == {hanako.atena_no}
    assert atenas(former_family_name="渡辺", name_mode="exact") == {hanako.atena_no}
    assert atenas(former_family_name_kana="ワタナヘ") == {hanako.atena_no}
    assert atenas(former_family_name_kana="ワタナベ", kana_mode="exact") == {hanako.atena_no}
    assert atenas(alias="髙山") == {lee.atena_no}
    assert atenas(alias="高山　実", name_mode="exact") == {lee.atena_no}
    assert atenas(alias_kana="タカヤマ") == {lee.atena_no}
    assert atenas(alias_kana="ヤマミノ", kana_mode="partial") == {lee.atena_no}


def test_bad_kana_is_refused_with_the_field():
    with pytest.raises(FindingsError) as exc:
        find(name_kana="山田")
    assert codes(exc) == {"name_kana.script"}
    assert exc.value.findings.items[0].field == "name_kana"
    with pytest.raises(FindingsError) as exc:
        find(name_kana="ーー")
    assert codes(exc) == {"name_kana.no_characters"}


# --------------------------------------------------------------------------- std 2.1.3


@pytest.mark.parametrize(
    "text",
    ["S55.4.1", "昭和55年4月1日", "1980-04-01", "19800401", "S550401", "１９８０年４月１日"],
)
def test_birth_date_in_era_or_western_form(text):
    # std 2.1.3 (j340): 生年月日（西暦・和暦）
    resident = one(name_kana="ウマレビ タロウ", birth_date="1980-04-01")
    one(name_kana="ウマレビ ジロウ", birth_date="1980-04-02")
    assert atenas(birth_date=text, name_kana="ウマレビ") == {resident.atena_no}


@pytest.mark.parametrize(
    ("text", "hit"),
    [
        ("S55", True),
        ("1980", True),
        ("昭和55年", True),
        ("S56", False),
        ("1980年4月", True),
        ("S55.5", False),
    ],
)
def test_birth_year_or_month_means_the_whole_period(text, hit):
    # std 2.1.3 (j340): 西暦と和暦はそれぞれ対応する年に置き換えられ検索がされること
    resident = one(name_kana="トシダケ タロウ", birth_date="1980-04-01")
    assert (resident.atena_no in atenas(birth_date=text, name_kana="トシダケ")) is hit


def test_era_year_is_the_western_year():
    # std 2.1.3 (j340): 昭和64年 and 平成元年 are both 1989
    early = one(name_kana="ヘイセイ イチ", birth_date="1989-01-05")
    late = one(name_kana="ヘイセイ ニ", birth_date="1989-06-01")
    both = {early.atena_no, late.atena_no}
    assert atenas(birth_date="S64", name_kana="ヘイセイ") == both
    assert atenas(birth_date="H1", name_kana="ヘイセイ") == both
    assert atenas(birth_date="平成元年", name_kana="ヘイセイ") == both


def test_birth_range():
    # std 2.1.3 (j340): 年月日を指定して複数条件検索
    a = one(name_kana="ハンイ イチ", birth_date="1970-01-01")
    b = one(name_kana="ハンイ ニ", birth_date="1975-06-30")
    c = one(name_kana="ハンイ サン", birth_date="1980-12-31")
    assert atenas(name_kana="ハンイ", birth_from="S45.1.1", birth_to="1975-06-30") == {
        a.atena_no,
        b.atena_no,
    }
    assert atenas(name_kana="ハンイ", birth_from="1975") == {b.atena_no, c.atena_no}
    assert atenas(name_kana="ハンイ", birth_to="S50") == {a.atena_no, b.atena_no}
    with pytest.raises(FindingsError) as exc:
        find(name_kana="ハンイ", birth_from="1980", birth_to="1970")
    assert codes(exc) == {"birth_range.order"}


def test_bad_birth_dates_are_refused_with_the_field():
    with pytest.raises(FindingsError) as exc:
        find(birth_date="昭和70年")
    assert codes(exc) == {"wareki.year_range"}
    assert exc.value.findings.items[0].field == "birth_date"
    with pytest.raises(FindingsError) as exc:
        find(birth_to="きのう")
    assert exc.value.findings.items[0].field == "birth_to"
    assert "生年月日（まで）" in exc.value.findings.items[0].message


def test_sex_relationship_and_household():
    # std 2.1.3 (j340): 性別・続柄・世帯番号
    _, members = f.family()
    head, wife, son, daughter = members
    household = head.household_no
    assert atenas(household_no=household) == {m.atena_no for m in members}
    assert atenas(household_no=household, sex="2") == {wife.atena_no, daughter.atena_no}
    assert atenas(household_no=household, relationship="子") == {son.atena_no, daughter.atena_no}
    assert atenas(name_kana="サガミ", relationship=" 妻 ") == {wife.atena_no}
    assert atenas(atena_no=son.atena_no) == {son.atena_no}


def test_address_address_code_katagaki_and_ward():
    # std 2.1.3 (j340): 住所・住所コード・方書; 指定都市は区からも検索
    chuo = one(name_kana="チュウオウ タロウ")
    midori = f.committed_move_in(
        f.person(name_kana="ミドリ タロウ"),
        address={
            "address_code": f.OTHER_ADDRESS_CODE,
            "banchi": "1丁目2番3号",
            "katagaki": "A棟　グリーンハイツ１０１号室",
        },
    )[1][0]
    assert atenas(address="上矢部２丁目") == {chuo.atena_no}
    assert atenas(address="町屋1丁目") == {midori.atena_no}
    assert atenas(address_code="14151") == {midori.atena_no}
    assert atenas(address_code=f.ADDRESS_CODE) == {chuo.atena_no}
    assert atenas(katagaki="ハイツ101") == {midori.atena_no}
    assert atenas(katagaki="a棟") == {midori.atena_no}  # the same on SQLite and PostgreSQL
    assert atenas(name_kana="タロウ", kana_mode="partial", ward="緑区") == {midori.atena_no}
    assert atenas(name_kana="タロウ", kana_mode="partial", ward="中央区") == {chuo.atena_no}
    assert atenas(name_kana="タロウ", kana_mode="partial", ward="南区") == set()
    with pytest.raises(ValidationError):
        SearchCriteria(ward="北区")


def test_default_ward_follows_the_org_unit():
    # std 2.1.3 (j340): 操作者の所属により管轄区を自動判定
    ward_office = OrgUnitFactory(code="midori-kumin", name="緑区役所 区民課")
    staff = StaffFactory(roles=["counter_clerk"], org_unit=ward_office)
    assert search.default_ward(Actor.of(staff, None, "web")) == "緑区"
    counter = OrgUnitFactory(code="minami-1", name="窓口", parent=OrgUnitFactory(name="南区役所"))
    terminal = TerminalFactory(org_unit=counter)
    assert search.default_ward(Actor.of(staff, terminal, "web")) == "南区"
    assert search.default_ward(f.clerk()) is None


def remove(resident, reason=ChangeReason.DOMESTIC_MOVE_OUT):
    return amend(
        resident,
        reason=reason,
        status="removed",
        removal_reason=reason.value,
        removed_on=TODAY,
    )


def test_removed_records_included_or_excluded():
    # std 2.1.3 (j340): 当該住民票を消除した事由; 除票 are searched too
    staying = one(name_kana="ショウジョ イチ")
    leaving = remove(one(name_kana="ショウジョ ニ"))
    dead = remove(one(name_kana="ショウジョ サン"), ChangeReason.DEATH)
    everyone = {staying.atena_no, leaving.atena_no, dead.atena_no}
    assert atenas(name_kana="ショウジョ") == everyone
    assert atenas(name_kana="ショウジョ", status="resident") == {staying.atena_no}
    assert atenas(name_kana="ショウジョ", status="removed") == {leaving.atena_no, dead.atena_no}
    assert atenas(removal_reason="death") == {dead.atena_no}
    row = next(r for r in find(atena_no=leaving.atena_no).rows)
    assert (row.status, row.removal_reason) == ("removed", "domestic_move_out")
    with pytest.raises(ValidationError):
        SearchCriteria(removal_reason="no_such_reason")


def test_identifiers():
    # std 2.1.3 (j340): 住民票コード・在留カード番号・特別永住者証明書番号
    japanese = one(name_kana="コード タロウ", juminhyo_code="70669074393")
    resident_card = one(
        resident_type="foreign",
        family_name="",
        given_name="",
        honseki="",
        koseki_head="",
        name_alphabet="NGUYEN VAN AN",
        name_kana="グエン ヴァン アン",
        nationality="ベトナム",
        foreign_category="mid_long_term",
        residence_card_no="DK08063608AA",
    )
    special = one(
        resident_type="foreign",
        family_name="朴",
        given_name="明",
        honseki="",
        koseki_head="",
        name_kana="パク ミョン",
        nationality="韓国",
        foreign_category="special_permanent",
        residence_card_no="SP12345678ZZ",
    )
    assert atenas(juminhyo_code="70669074393") == {japanese.atena_no}
    assert atenas(juminhyo_code="７０６６９０７４３９３") == {japanese.atena_no}
    assert atenas(residence_card_no="dk08063608aa") == {resident_card.atena_no}
    assert atenas(residence_card_no="SP12345678ZZ") == {special.atena_no}


def test_my_number_search_is_exact_and_never_kept_in_clear(clerk):
    # std 2.1.3 (j340): 個人番号から検索; DESIGN invariant 6
    resident = one(name_kana="バンゴウ タロウ", my_number=MY_NUMBER)
    one(name_kana="バンゴウ ジロウ", my_number=OTHER_NUMBER)
    assert atenas(clerk, my_number=MY_NUMBER) == {resident.atena_no}
    assert atenas(clerk, my_number="1234 5678 9018") == {resident.atena_no}
    history = SearchHistory.objects.filter(staff=clerk.staff).order_by("-id").first()
    assert history.criteria == {"my_number": "***"}
    entry = OperationLogEntry.objects.filter(function="住民検索").order_by("-seq").first()
    assert entry.detail["criteria"] == ["my_number"]
    assert entry.targets == [resident.atena_no]
    # std 10.2 (j1370): 個人番号へのアクセス有無 — a search by the number uses it
    assert entry.my_number_accessed is True
    for row in [*SearchHistory.objects.all(), *OperationLogEntry.objects.all()]:
        dumped = json.dumps(getattr(row, "criteria", None) or row.detail, ensure_ascii=False)
        assert MY_NUMBER not in dumped


def test_a_mistyped_my_number_is_refused_without_echoing_it():
    with pytest.raises(FindingsError) as exc:
        find(my_number="123456789019")
    assert codes(exc) == {"my_number.check_digit"}
    assert "123456789019" not in str(exc.value)


def test_empty_items():
    # std 2.1.3 (j340): データ未入力項目についても検索できること
    no_kana = one(name_kana="", family_name="無仮名", given_name="太郎")
    with_kana = one(name_kana="アリ カナ", family_name="有仮名")
    found = atenas(empty_fields=["name_kana"], name="仮名")
    assert found == {no_kana.atena_no}
    assert with_kana.atena_no in atenas(empty_fields=["my_number", "katagaki"], name="有仮名")
    numbered = one(name_kana="アリ バンゴウ", my_number=MY_NUMBER)
    assert numbered.atena_no not in atenas(empty_fields=["my_number"], name_kana="アリ")
    with pytest.raises(ValidationError):
        SearchCriteria(empty_fields=["honseki_unknown_item"])


def test_past_names_and_addresses_are_searched():
    # std 2.1.3 (j340): 氏名及び住所の検索は、過去のものも横断的に検索できること
    resident = one(
        family_name="旧姓",
        given_name="花子",
        name_kana="キュウセイ ハナコ",
        sex="2",
        birth_date="1985-02-03",
    )
    amend(
        resident,
        occurred_on=TODAY - dt.timedelta(days=1),
        family_name="新姓",
        name_kana="シンセイ ハナコ",
    )
    amend(
        resident,
        reason=ChangeReason.MOVE_WITHIN,
        address_code=f.OTHER_ADDRESS_CODE,
        address="神奈川県相模原市緑区町屋3丁目4番5号",
        katagaki="",
    )
    atena = resident.atena_no
    for criteria in (
        {"name": "旧姓"},
        {"name_kana": "キュウセイ"},
        {"name_kana": "キュウセイ", "birth_date": "S60.2.3"},
        {"name": "旧姓", "address": "町屋"},  # old name, new address
        {"address": "上矢部"},
        {"address_code": f.ADDRESS_CODE, "name_kana": "キュウセイ"},
    ):
        rows = find(**criteria).rows
        assert [r.atena_no for r in rows] == [atena], criteria
        assert rows[0].matched_on_history is True, criteria
        assert rows[0].name == "新姓　花子"  # the current record is returned
    current = find(name="新姓", address="町屋").rows
    assert [(r.atena_no, r.matched_on_history) for r in current] == [(atena, False)]
    assert atenas(name="旧姓", include_history=False) == set()
    assert atenas(address="上矢部", include_history=False) == set()


def test_drafts_are_invisible_to_search():
    # std 4.0.8 (j530): only committed records are searched
    change = move_in.submit(f.clerk(), f.move_in_input(f.person(name_kana="シタガキ タロウ")))
    assert atenas(name_kana="シタガキ") == set()
    services.commit_change(f.reviewer(), change.pk)
    assert len(atenas(name_kana="シタガキ")) == 1


def test_no_criteria_is_refused():
    with pytest.raises(FindingsError) as exc:
        find()
    assert codes(exc) == {"search.no_criteria"}
    with pytest.raises(FindingsError) as exc:
        find(ward="緑区", status="resident", name="  ")
    assert codes(exc) == {"search.no_criteria"}
    with pytest.raises(ValidationError):
        SearchCriteria(surname="山田")
    with pytest.raises(ValidationError):
        SearchCriteria(name="x", limit=501)


def test_limit_offset_total_and_truncation():
    f.committed_move_in(
        *[
            f.person(
                name_kana=f"ペイジ {kana}",
                relationship="世帯主" if i == 0 else "同居人",
                birth_date=f"19{70 + i}-01-01",
            )
            for i, kana in enumerate(["アイ", "イウ", "ウエ", "エオ", "オカ"])
        ]
    )
    first = find(name_kana="ペイジ", limit=2)
    assert [r.name_kana for r in first.rows] == ["ペイジ アイ", "ペイジ イウ"]
    assert (first.total, first.truncated) == (5, True)
    last = find(name_kana="ペイジ", limit=2, offset=4)
    assert [r.name_kana for r in last.rows] == ["ペイジ オカ"]
    assert (last.total, last.truncated) == (5, False)
    beyond = find(name_kana="ペイジ", limit=2, offset=10)
    assert (beyond.rows, beyond.total, beyond.truncated) == ([], 5, False)
    every = find(name_kana="ペイジ")
    assert (every.total, every.truncated) == (5, False)


def test_total_is_capped(monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    f.committed_move_in(
        *[
            f.person(name_kana=f"キャップ {k}", relationship="世帯主" if k == "ア" else "同居人")
            for k in "アイウエオ"
        ]
    )
    result = find(name_kana="キャップ", limit=1)
    assert (len(result.rows), result.total, result.truncated) == (1, 3, True)


def test_rows_carry_the_listed_items():
    resident = one(
        family_name="行",
        given_name="太郎",
        name_kana="ギョウ タロウ",
        birth_date="昭和55年月日不詳",
    )
    [row] = find(name_kana="ギョウ タロウ").rows
    assert row.atena_no == resident.atena_no
    assert row.household_no == resident.household_no
    assert row.name == "行　太郎"
    assert row.birth_date == dt.date(1980, 1, 1)
    assert row.birth_date_text == resident.birth_date_text != ""
    assert (row.sex, row.status, row.relationship) == ("1", "resident", "世帯主")
    assert row.address == resident.address
    assert row.matched_on_history is False


# --------------------------------------------------------------------------- logging, rights


def test_every_search_is_logged_once_without_values(clerk):
    # DESIGN invariant 5: who, when, terminal, function, which persons
    resident = one(family_name="記録", given_name="太郎", name_kana="キロク タロウ")
    before = OperationLogEntry.objects.count()
    result = find(clerk, name="記録", name_kana="キロク", birth_from="1970")
    assert OperationLogEntry.objects.count() == before + 1
    entry = OperationLogEntry.objects.order_by("-seq").first()
    assert entry.category == Category.INQUIRY
    assert entry.function == "住民検索"
    assert entry.operator == clerk.staff
    assert entry.terminal_name == clerk.terminal.name
    assert entry.targets == [resident.atena_no] == [r.atena_no for r in result.rows]
    assert entry.detail["criteria"] == ["name", "name_kana", "birth_from"]
    assert entry.detail["count"] == 1
    assert "記録" not in json.dumps(entry.detail, ensure_ascii=False)
    assert "キロク" not in json.dumps(entry.detail, ensure_ascii=False)


def test_a_refused_search_writes_no_log_entry():
    before = OperationLogEntry.objects.count()
    with pytest.raises(FindingsError):
        find(name_kana="山田")
    assert OperationLogEntry.objects.count() == before


@pytest.mark.parametrize("role", ["auditor", "administrator"])
def test_staff_without_the_search_permission_are_refused(role):
    actor = Actor.of(StaffFactory(roles=[role]), None, "web")
    with pytest.raises(PermissionDenied):
        search_residents(actor, SearchCriteria(name="相模"))
    entry = OperationLogEntry.objects.order_by("-seq").first()
    assert entry.outcome == Outcome.DENIED
    assert entry.detail == {"missing_permission": "register:resident:search"}
    with pytest.raises(PermissionDenied):
        search_history(actor)
    assert not SearchHistory.objects.exists()


# --------------------------------------------------------------------------- std 2.1.1


def test_search_history_is_kept_per_user(clerk):
    # std 2.1.1 (j320): 検索履歴 per user, reusable for a new search
    one(name_kana="リレキ タロウ")
    find(clerk, name_kana="リレキ", birth_date="S55.4.1")
    find(clerk, name="相模", status="resident", my_number=MY_NUMBER)
    other = f.clerk()
    find(other, name="他人")
    mine = search_history(clerk)
    assert [h.criteria for h in mine] == [
        {"name": "相模", "status": "resident", "my_number": "***"},
        {"name_kana": "リレキ", "birth_date": "S55.4.1"},
    ]
    assert [h.result_count for h in mine] == [0, 1]
    assert [h.criteria for h in search_history(other)] == [{"name": "他人"}]
    again = SearchCriteria.from_history(mine[0].criteria)
    assert again.my_number is None and again.name == "相模" and again.status == "resident"
    assert len(search_history(clerk, limit=1)) == 1


def test_search_history_keeps_a_fixed_number(clerk, monkeypatch):
    # std 2.1.1 (j320): 一定の件数保存
    monkeypatch.setattr(search, "HISTORY_KEEP", 3)
    for i in range(5):
        find(clerk, name=f"名前{i}")
    assert [h.criteria["name"] for h in search_history(clerk)] == ["名前4", "名前3", "名前2"]
    assert SearchHistory.objects.filter(staff=clerk.staff).count() == 3


def test_system_actor_searches_without_history():
    one(name_kana="システム タロウ")
    result = search_residents(
        Actor.system("cli", label="ops"), SearchCriteria(name_kana="システム")
    )
    assert len(result.rows) == 1
    assert not SearchHistory.objects.exists()
    assert search_history(Actor.system("cli", label="ops")) == []


# --------------------------------------------------------------------------- indexes


def _bulk_residents(count):
    """Many plain residents written straight to the tables (one committed change), so that
    the planners see a realistic spread of keys; only for the plan tests."""
    rng = random.Random(7)
    syllables = (
        "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワ"
    )
    kanji = "山川田中村林森木本井上下原野松竹梅花太郎子一二三"
    codes = ["14151001000", "14152001000", "14153001000", "14151002000", "14152003000"]
    staff = StaffFactory()
    change = Change.objects.create(
        procedure="bulk",
        change_reason="domestic_move_in",
        status="committed",
        occurred_on=TODAY,
        created_by=staff,
    )
    residents, history = [], []
    for i in range(count):
        family = "".join(rng.choice(syllables) for _ in range(3))
        given = "".join(rng.choice(syllables) for _ in range(3))
        record = {
            "atena_no": f"9{i:09d}",
            "household_no": f"8{i:09d}",
            "resident_type": "japanese",
            "status": "resident",
            "relationship": "世帯主",
            "family_name": rng.choice(kanji) + rng.choice(kanji),
            "given_name": rng.choice(kanji) + rng.choice(kanji),
            "name_kana": f"{family} {given}",
            "birth_date": dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(90 * 365)),
            "sex": "1",
            "address_code": rng.choice(codes),
            "address": "神奈川県相模原市",
            "juminhyo_code": f"{i:011d}",
            "residence_card_no": f"AA{i:08d}BB" if i % 20 == 0 else "",
        }
        record.update(search_keys(record))
        residents.append(Resident(**record, history_no=1))
        history.append(
            ResidentHistory(
                **record,
                history_no=1,
                change=change,
                change_reason="domestic_move_in",
                occurred_on=TODAY,
                processed_at=timezone.now(),
                operator=staff,
            )
        )
    Resident.objects.bulk_create(residents, batch_size=500)
    ResidentHistory.objects.bulk_create(history, batch_size=500)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _plan(criteria):
    c = SearchCriteria(**criteria)
    terms = search._terms(c, search.Findings())
    qs = search._queryset(c, terms).values(*search._ROW_FIELDS)[:101]
    return qs.explain()


PLANS = [
    (
        {"name_kana": "サガミ タロウ", "birth_date": "1980-04-01"},
        {"resident_birth", "resident_kana_birth"},
    ),
    (
        {"name_kana": "サガミ タロウ", "birth_date": "1980-04-01", "include_history": False},
        {"resident_kana_birth", "resident_birth"},
    ),
    (
        {"given_name_kana": "タロウ", "birth_date": "1980-04-01", "include_history": False},
        {"resident_given_birth", "resident_birth"},
    ),
    ({"name_kana": "サガミ タロウ"}, {"history_kana"}),
    ({"name_kana": "サガミ タロウ", "include_history": False}, {"resident_kana_birth"}),
    ({"name": "相模太郎", "name_mode": "prefix"}, {"history_name_key"}),
    ({"name": "相模太郎", "name_mode": "exact"}, {"history_name_key"}),
    ({"name_kana": "サガミ", "kana_mode": "exact"}, {"history_kana"}),
    ({"address_code": "14152001"}, {"history_address_code"}),
    ({"juminhyo_code": "70669074393"}, {"resident_juminhyo_code"}),
    ({"household_no": "0000000019"}, {"resident_household"}),
    ({"residence_card_no": "AB12345678CD"}, {"resident_card_no"}),
]


def test_searches_use_the_indexes():
    # Performance: exact and prefix searches use the indexes on SQLite and PostgreSQL
    _bulk_residents(2000)
    for criteria, indexes in PLANS:
        plan = _plan(criteria)
        assert any(name in plan for name in indexes), (criteria, plan)
