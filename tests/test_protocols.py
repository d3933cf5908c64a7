"""The cross-domain protocols: what each holds out, that every recipe meets the same test,
and that nothing held out reaches training."""

import json

import numpy as np
import pandas as pd
import pytest

from cclib.errors import CclibError
from cclib.protocols import (Protocol, ProtocolError, Recipe, compared_recipes, coverage,
                             foreign_training_set, list_protocols, protocol_dataset, reading,
                             run_protocol, select_protocols, summarise)
from cclib.sampling import read_dataset
from cclib.store import read_manifest
from tests.conftest import TINY_08, TINY_RECIPE

pytestmark = pytest.mark.slow


def pieces_manifest(rows) -> pd.DataFrame:
    """One slice per piece: (period, ensemble, origin) per piece, eight pieces each."""
    return pd.DataFrame([{"piece": f"p{i}-{n}", "period": period, "ensemble": ensemble,
                          "origin": origin, "soundfont": "A"}
                         for i, (period, ensemble, origin) in enumerate(rows) for n in range(8)])


def test_a_texture_heard_in_three_periods_and_every_source_are_held_out():
    manifest = pieces_manifest([
        ("baroque", "keyboard", "mutopia"), ("classical", "keyboard", "polish"),
        ("romantic", "keyboard", "mutopia"), ("baroque", "organ", "polish"),
        ("classical", "organ", "mutopia"), ("romantic", "voices", "polish")])
    names = [p.name for p in list_protocols(manifest)]
    assert "texture: keyboard" in names  # three periods
    assert "texture: organ" not in names and "texture: voices" not in names  # two, one
    assert {"source: mutopia", "source: polish"} <= set(names)
    assert Protocol("source", "mutopia").sampling() == {"split": "piece",
                                                        "hold_out": ("origin", "mutopia")}
    assert [p.name for p in select_protocols(manifest, ["source: polish", "within"])] == \
        ["source: polish", "within"]
    with pytest.raises(ProtocolError, match="'texture: organ' is not a protocol of this store"):
        select_protocols(manifest, ["texture: organ"])


def test_a_recipe_is_parsed_from_its_name_and_options():
    recipe = Recipe.parse("today:store=data/old,share=0.5,period=2000,per=50", steps=600)
    assert (recipe.name, recipe.store, recipe.max_ensemble_share) == ("today", "data/old", 0.5)
    assert recipe.sampling == {"method": "per-composer", "per_composer": 50, "per_period": 2000}
    assert recipe.config.steps == 600 and recipe.config.augment == 2
    assert Recipe.parse("s:study=1").config.augment == 0
    for text, message in [("x:augment=two", "invalid literal"), ("x:mode=foo", "mode 'foo'"),
                          ("x:steps", "key=value"), ("x:colour=red", "unknown option 'colour'")]:
        with pytest.raises(ProtocolError, match=message):
            Recipe.parse(text)


def test_coverage_counts_training_and_test_pieces_by_period_and_ensemble():
    dataset = pd.DataFrame({"piece": ["a", "a", "b", "c", "d"],
                            "period": ["baroque", "baroque", "baroque", "romantic", "romantic"],
                            "ensemble": ["organ", "organ", "keyboard", "keyboard", "keyboard"],
                            "split": ["train", "train", "test", "train", "validation"]})
    table = coverage(dataset)
    assert table.loc["baroque"].to_dict() == {"keyboard": "0 / 1", "organ": "1 / 0"}
    assert table.loc["romantic"].to_dict() == {"keyboard": "1 / 0", "organ": ""}


def test_the_store_allows_every_kind_of_protocol(mixed_corpus):
    names = [p.name for p in list_protocols(read_manifest(mixed_corpus / "store"), min_pieces=2,
                                            min_texture_periods=2)]
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


def test_a_period_found_only_in_the_held_out_part_is_left_out():
    rows = []  # baroque only sung; classical sung and played by quartets
    for period, ensembles in (("baroque", ["voices"]), ("classical", ["voices", "string quartet"])):
        for c in range(3):
            for n, ensemble in enumerate(ensembles * 2):
                piece = f"{period}{c}_{n}"
                rows += [{"slice_id": f"{piece}_{i}", "piece": piece, "composer": f"{period}{c}",
                          "period": period, "work": piece, "ensemble": ensemble, "index": i,
                          "start_s": 3.0 * i, "path": f"slices/{piece}.npy", "row": i}
                         for i in range(5)]
    manifest = pd.DataFrame(rows)
    protocol = Protocol("texture", "voices")  # baroque here is only voices
    dataset, summary = protocol_dataset(manifest, protocol, Recipe("r", None, per_composer=20),
                                        seed=0)
    assert "baroque" in summary["periods_left_out"]
    assert "baroque" not in set(dataset.period) and "baroque" not in summary["classes"]
    assert set(dataset[dataset.split == "test"].period) == {"classical"}
    assert set(dataset[dataset.split == "test"].ensemble) == {"voices"}


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
