"""The cross-domain protocols: what each holds out, that every recipe meets the same test,
and that nothing held out reaches training."""

import json

import numpy as np
import pandas as pd
import pytest

from cclib.errors import CclibError
from cclib.protocols import (Protocol, Recipe, compared_recipes, foreign_training_set,
                             list_protocols, protocol_dataset, reading, run_protocol, summarise)
from cclib.sampling import read_dataset
from cclib.store import read_manifest
from tests.conftest import TINY_08, TINY_RECIPE

pytestmark = pytest.mark.slow


def test_the_store_allows_every_kind_of_protocol(mixed_corpus):
    names = [p.name for p in list_protocols(read_manifest(mixed_corpus / "store"), min_pieces=2)]
    assert names[:2] == ["within", "composer"]
    assert {"soundfont: TimGM6mb", "soundfont: MuseScore_General_Lite",
            "texture: string quartet", "texture: voice and piano"} <= set(names)
    assert "texture: voices" not in names  # only baroque is voices here, and only voices


@pytest.mark.parametrize("protocol, column", [(Protocol("soundfont", "TimGM6mb"), "soundfont"),
                                              (Protocol("texture", "string quartet"), "ensemble")])
def test_a_held_out_part_is_all_of_the_test_and_none_of_training(mixed_corpus, protocol, column):
    manifest = read_manifest(mixed_corpus / "store")
    dataset, summary = protocol_dataset(manifest, protocol, Recipe("r", None, per_composer=20),
                                        seed=0)
    test, rest = dataset[dataset.split == "test"], dataset[dataset.split != "test"]
    assert set(test[column]) == {protocol.held_out}
    assert protocol.held_out not in set(rest[column])
    assert not set(test.work) & set(rest.work)  # no work group on both sides
    assert summary["parameters"]["hold_out"] == [column, protocol.held_out]


def test_a_period_found_only_in_the_held_out_part_is_left_out(mixed_corpus):
    manifest = read_manifest(mixed_corpus / "store")
    assert set(manifest[manifest.period == "romantic"].ensemble) == {"voice and piano"}
    protocol = Protocol("texture", "voice and piano")  # romantic here is only songs
    dataset, summary = protocol_dataset(manifest, protocol, Recipe("r", None, per_composer=20),
                                        seed=0)
    assert "romantic" in summary["periods_left_out"]
    assert "romantic" not in set(dataset.period) and "romantic" not in summary["classes"]
    assert set(dataset[dataset.split == "test"].period) == {"classical"}


def test_another_store_trains_without_any_test_work_or_composer(mixed_corpus):
    manifest = read_manifest(mixed_corpus / "store")
    protocol = Protocol("composer")
    recipe = Recipe("r", None, per_composer=20)
    dataset, _ = protocol_dataset(manifest, protocol, recipe, seed=0)
    test = dataset[dataset.split == "test"]
    train, _ = foreign_training_set(manifest, test, protocol, recipe, seed=0)
    assert not set(train.work) & set(test.work)
    assert not set(train.composer) & set(test.composer)


def test_every_recipe_meets_the_same_test_and_the_runs_are_reproducible(protocol_runs,
                                                                         mixed_corpus, tmp_path,
                                                                         data_dir):
    root, all_rows = protocol_runs
    store = mixed_corpus / "store"
    protocol = Protocol("soundfont", "MuseScore_General_Lite")
    rows = [row for row in all_rows if row["protocol"] == protocol.name]
    frame = pd.DataFrame(rows)
    assert frame.model.tolist() == ["mobilenet", "reference", "mobilenet", "reference",
                                    "mobilenet"]
    assert frame.recipe.tolist() == ["project", "project", "study", "study", "old-corpus"]
    assert frame.n_pieces.nunique() == 1 and frame.chance.nunique() == 1
    assert frame.piece_balanced.between(0, 1).all()
    assert frame[frame.model == "mobilenet"].out_of_domain_share.between(0, 1).all()
    trained = read_dataset(root / "runs" / "soundfont-MuseScore_General_Lite-0-old-corpus"
                           / "dataset")
    assert "MuseScore_General_Lite" not in set(trained.soundfont)
    # every recipe trained again from nothing (another folder, an empty bottleneck cache)
    recipes = compared_recipes(**TINY_08, old_corpus=store)
    again = run_protocol(store, protocol, recipes, seed=0, out=tmp_path / "again")
    assert [r["piece_balanced"] for r in again] == [r["piece_balanced"] for r in rows]
    table = summarise(rows)
    row = table.loc[(protocol.name, "project", "mobilenet")]
    assert row["seeds"] == 1 and row["test pieces"] == rows[0]["n_pieces"]
    assert row["pieces mean"] == round(100 * rows[0]["piece_balanced"], 1)
    assert table.columns.name == "balanced accuracy, %"
    assert reading(rows)[0].startswith("soundfont: MuseScore_General_Lite: project MobileNet")


def test_a_run_folder_made_with_another_recipe_is_refused_not_reused(protocol_runs,
                                                                      mixed_corpus):
    root, _ = protocol_runs
    store = mixed_corpus / "store"
    longer = compared_recipes(**{**TINY_08, "steps": 31}, old_corpus=store)
    before = {p: p.stat().st_mtime_ns for p in (root / "runs").rglob("*") if p.is_file()}
    with pytest.raises(CclibError, match=r"within-0-project/model: holds a model made with "
                                         r"other settings \(train\.steps: 30 there, 31 asked\)"):
        run_protocol(store, Protocol("within"), longer, seed=0, out=root / "runs")
    after = {p: p.stat().st_mtime_ns for p in (root / "runs").rglob("*") if p.is_file()}
    assert after == before


def test_a_period_the_model_does_not_know_counts_as_missed(mixed_corpus, tmp_path, data_dir):
    from cclib.classify import load_period_model
    from cclib.protocols import score_rows
    from cclib.sampling import make_dataset, write_dataset
    from cclib.training import TrainConfig, train_model

    store = mixed_corpus / "store"
    manifest = read_manifest(store)
    known = manifest[manifest.period != "romantic"]
    dataset, summary = make_dataset(known, per_composer=20, seed=0)
    write_dataset(dataset, summary, store, tmp_path / "dataset")
    train_model(tmp_path / "dataset", tmp_path / "model", TrainConfig(**TINY_RECIPE, export=False))
    model = load_period_model(tmp_path / "model")
    romantic = manifest[manifest.period == "romantic"]
    found = score_rows(model, romantic, store)
    assert found["periods"] == ["romantic"] and found["piece"]["balanced_accuracy"] == 0.0
    assert json.loads((tmp_path / "model" / "config.json").read_text())["classes"] == [
        "baroque", "classical"]
    assert np.isclose(found["slice"]["accuracy"], 0.0)
