import pytest

from cclib.corpus import CORPUS_COMPOSERS
from cclib.periods import PERIOD_ORDER, PeriodsError, load_periods, normalize_name

STUDY_PERIODS = ["renaissance", "baroque", "classical", "romantic", "impressionist",
                 "20thcentury", "21stcentury"]


def write_lists(folder, **lists):
    folder.mkdir(exist_ok=True)
    for period, text in lists.items():
        (folder / f"{period}.txt").write_text(text, encoding="utf-8")
    return folder


def test_project_lists_cover_the_study_periods_and_the_canon():
    table = load_periods()
    assert set(STUDY_PERIODS) <= set(table.periods)
    names = {name for name, _ in table.composers.values()}
    assert len(names) >= 150
    assert table.period_of("Kats-Chernin") == "21stcentury"
    assert table.period_of("Rimsky-Korsakov") == "romantic"
    assert table.period_of("Bach") == "baroque"
    assert table.period_of("Schumann-Clara") == "romantic"


def test_every_default_corpus_composer_has_a_period():
    table = load_periods()
    missing = [name for name in CORPUS_COMPOSERS.values() if table.period_of(name) is None]
    assert missing == []


def test_lookup_ignores_case_accents_and_spacing():
    table = load_periods()
    for spelling, name in [("dvorak", "Dvořák"), ("Dvořák", "Dvořák"), ("DVORAK", "Dvořák"),
                           ("Rimsky Korsakov", "Rimsky-Korsakov"),
                           ("rimsky-korsakov", "Rimsky-Korsakov"), ("Saint Saens", "Saint-Saëns")]:
        assert (table.period_of(spelling), table.canonical_name(spelling)) == ("romantic", name)
    assert table.canonical_name("rachmaninov") == "Rachmaninoff"
    assert table.period_of("bartok") == "20thcentury" and table.period_of("Palestrina") == \
        "renaissance"


def test_unknown_composer_is_not_guessed():
    assert load_periods().period_of("Nobody-Atall") is None


def test_a_composer_in_two_lists_is_an_error(tmp_path):
    folder = write_lists(tmp_path / "p", baroque="Bach\nHandel\n", classical="Haydn\nbach\n")
    with pytest.raises(PeriodsError, match=r"classical\.txt:2.*baroque\.txt:1"):
        load_periods(folder)


def test_an_alias_clash_is_an_error(tmp_path):
    folder = write_lists(tmp_path / "p", romantic="Rachmaninoff, Rachmaninov\n",
                         impressionist="Rachmaninov\n")
    with pytest.raises(PeriodsError, match="Rachmaninov"):
        load_periods(folder)


def test_a_new_file_adds_a_period_in_order(tmp_path):
    folder = write_lists(tmp_path / "p", baroque="Bach\n", medieval="# old\n\nMachaut\n",
                         jazz="Ellington\n")
    table = load_periods(folder)
    assert table.periods == ("medieval", "baroque", "jazz")
    assert table.period_of("machaut") == "medieval"


def test_empty_folder_is_an_error(tmp_path):
    with pytest.raises(PeriodsError, match="no period lists"):
        load_periods(tmp_path)


def test_period_order_lists_the_study_periods_chronologically():
    positions = [PERIOD_ORDER.index(p) for p in STUDY_PERIODS]
    assert positions == sorted(positions)


def test_normalize_name_keeps_hyphenated_names_distinct_from_surnames():
    assert normalize_name("Schumann-Clara") != normalize_name("Schumann")
