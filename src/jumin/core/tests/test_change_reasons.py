from jumin.core.change_reasons import Applies, ChangeKind, ChangeReason


def test_every_reason_has_kind_label_and_scope():
    # std 1.2.2 (j210): every reason maps to entry, removal or amendment
    for reason in ChangeReason:
        assert reason.kind in set(ChangeKind)
        assert reason.label
        assert reason.applies_to in set(Applies)


def test_counts_per_kind_match_the_standard():
    # std 1.2.2 (j210): 9 entry, 9 removal, 19 amendment categories
    kinds = [r.kind for r in ChangeReason]
    assert kinds.count(ChangeKind.ENTRY) == 9
    assert kinds.count(ChangeKind.REMOVAL) == 9
    assert kinds.count(ChangeKind.AMENDMENT) == 19


def test_scope_rules():
    # std 1.2.2 (j210): naturalisation entry is Japanese-only, its removal foreign-only
    assert ChangeReason.EX_OFFICIO_ENTRY_NATURALISATION.allowed_for(foreign=False)
    assert not ChangeReason.EX_OFFICIO_ENTRY_NATURALISATION.allowed_for(foreign=True)
    assert ChangeReason.EX_OFFICIO_REMOVAL_NATURALISATION.allowed_for(foreign=True)
    assert not ChangeReason.EX_OFFICIO_REMOVAL_NATURALISATION.allowed_for(foreign=False)
    assert ChangeReason.BIRTH.allowed_for(foreign=True)
    assert ChangeReason.ALIAS_ENTRY.allowed_for(foreign=True)
    assert not ChangeReason.ALIAS_ENTRY.allowed_for(foreign=False)


def test_no_move_within_cancellation_category():
    # std 1.2.2 (j210) 【実装しない機能】: no 「転居取消」 category
    assert all("転居取消" not in r.label for r in ChangeReason)


def test_labels():
    assert ChangeKind.ENTRY.label == "記載"
    assert ChangeKind.REMOVAL.label == "消除"
    assert ChangeKind.AMENDMENT.label == "修正"
