import csv

import pytest

from jumin.synth.cli import main


def rows(path):
    with path.open(encoding="utf-8", newline="") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def test_seed_writes_the_files(tmp_path, capsys):
    out = tmp_path / "city"
    assert main(["--residents", "300", "--seed", "7", "--out", str(out)]) == 0
    assert rows(out / "residents.csv") == 300
    err = capsys.readouterr().err
    assert "300 residents" in err
    assert "\r" not in err  # no progress bar when stderr is not a terminal
    assert not list(out.glob(".*.part"))


def test_quiet_prints_nothing(tmp_path, capsys):
    assert main(["--residents", "50", "--out", str(tmp_path / "q"), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("count", ["0", "-3", "abc", "1.5", ""])
def test_bad_resident_count_is_a_clear_error(tmp_path, capsys, count):
    assert main(["--residents", count, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "--residents" in err
    assert "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_missing_arguments(capsys):
    assert main([]) == 2
    assert "required" in capsys.readouterr().err


def test_help_exits_zero(capsys):
    assert main(["--help"]) == 0
    assert "--residents" in capsys.readouterr().out


def test_non_empty_output_needs_force(tmp_path, capsys):
    out = tmp_path / "city"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    assert main(["--residents", "20", "--out", str(out)]) == 1
    assert "--force" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert main(["--residents", "20", "--out", str(out), "--force", "--quiet"]) == 0
    assert rows(out / "residents.csv") == 20
    assert (out / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_unwritable_output_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    assert main(["--residents", "5", "--out", str(blocker)]) == 1
    assert "not a directory" in capsys.readouterr().err
    assert main(["--residents", "5", "--out", str(blocker / "sub")]) == 1
    assert "cannot create" in capsys.readouterr().err


def test_directory_that_cannot_be_created(capsys):
    # /proc refuses new directories even to root, so this holds in CI too.
    assert main(["--residents", "5", "--out", "/proc/jumin-city"]) == 1
    err = capsys.readouterr().err
    assert "/proc/jumin-city" in err
    assert "Traceback" not in err


def test_bad_as_of_date(tmp_path, capsys):
    assert main(["--residents", "5", "--out", str(tmp_path / "c"), "--as-of", "2026-02-30"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_as_of_moves_the_register_date(tmp_path):
    out = tmp_path / "c"
    assert main(["--residents", "200", "--out", str(out), "--as-of", "2020-01-01", "--quiet"]) == 0
    with (out / "history.csv").open(encoding="utf-8", newline="") as fh:
        latest = max(row["notified_on"] for row in csv.DictReader(fh))
    assert latest <= "2020-01-01"
