"""Retraining, evaluation, determinism, the bottleneck cache, saving and classifying."""

import json
from dataclasses import replace
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("keras")

from cclib.classify import ModelError, load_period_model  # noqa: E402
from cclib.errors import CclibError  # noqa: E402
from cclib.fileio import write_csv, write_json  # noqa: E402
from cclib.evaluation import confusion_matrix  # noqa: E402
from cclib.sampling import make_dataset, read_dataset, write_dataset  # noqa: E402
from cclib.spectrogram import FrontEnd  # noqa: E402
from cclib.store import MANIFEST_FIELDS, StoreError, file_digest  # noqa: E402
from cclib.training import TrainConfig, train_model  # noqa: E402

PERIODS = {"baroque": ("Bach", "Handel"), "romantic": ("Chopin", "Liszt")}
TINY = TrainConfig(steps=80, batch_size=16, input_size=32, log_every=20, seed=7, export=False)


@pytest.fixture(scope="module", autouse=True)
def scratch_data(tmp_path_factory):
    """Keep the ImageNet weight cache these tests build out of the project's data/."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CCLIB_DATA", str(tmp_path_factory.mktemp("data")))
        yield


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    """A slice store where baroque slices are loud in low bands, romantic in high ones."""
    root = tmp_path_factory.mktemp("training")
    store = root / "store"
    (store / "slices").mkdir(parents=True)
    front_end = FrontEnd()
    write_json(store / "params.json", {"front_end": front_end.to_dict()})
    rng = np.random.default_rng(0)
    rows = []
    for period, composers in PERIODS.items():
        for composer in composers:
            for number in (1, 2, 3):
                piece = f"{composer}_{number}"
                slices = rng.normal(-50, 3, (8, 128, front_end.frames_per_slice))
                bands = slice(10, 40) if period == "baroque" else slice(80, 110)
                slices[:, bands, :] += 50
                np.save(store / "slices" / f"{piece}.npy", slices.astype(np.float16))
                digest = file_digest(store / "slices" / f"{piece}.npy")
                rows += [{"slice_id": f"{piece}_{i + 1}", "piece": piece, "composer": composer,
                          "period": period, "work": piece, "ensemble": "unknown",
                          "soundfont": "", "index": i, "start_s": 3.0 * i,
                          "path": f"slices/{piece}.npy", "row": i, "digest": digest,
                          "source": ""} for i in range(8)]
    write_csv(store / "manifest.csv", MANIFEST_FIELDS, rows)
    dataset, summary = make_dataset(pd.DataFrame(rows), method="all", split="piece", seed=0)
    write_dataset(dataset, summary, store, root / "dataset")
    return root / "dataset"


@pytest.fixture(scope="module")
def trained(dataset_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("model")
    cache = tmp_path_factory.mktemp("cache")
    metrics = train_model(dataset_dir, out, replace(TINY, export=True), cache_root=cache)
    return out, metrics, cache


def test_training_writes_the_model_folder(trained):
    out, metrics, _ = trained
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "domain.npz", "history.csv",
                                                     "metrics.json", "model.keras", "model.tflite"]
    config = json.loads((out / "config.json").read_text())
    assert config["classes"] == ["baroque", "romantic"]
    assert config["trained_on"]["periods"]["baroque"]["composers"] == 2
    assert 0.25 <= config["temperature"] <= 20 and config["out_of_domain_threshold"] > 0
    assert config["front_end"] == FrontEnd().to_dict()
    assert config["train"]["seed"] == 7 and config["train"]["weights"] == "imagenet"
    history = pd.read_csv(out / "history.csv")
    assert history.step.tolist() == [20, 40, 60, 80]


def test_metrics_report_mobilenet_next_to_the_reference(trained):
    _, metrics, _ = trained
    test = metrics["test"]
    for model in ("mobilenet", "reference"):
        for level in ("slice", "piece"):
            assert set(test[model][level]) == {"accuracy", "balanced_accuracy", "macro_f1"}
        assert test[model]["chance"] == 0.5
        assert np.asarray(test[model]["confusion_matrix"]).sum() == test[model]["n_slices"]
    assert test["mobilenet"]["slice"]["accuracy"] > 0.9  # the two periods are easy to tell apart
    assert test["reference"]["slice"]["accuracy"] > 0.9
    assert metrics["protocol"]["split"] == "piece"


def test_same_seed_same_numbers(trained, dataset_dir, tmp_path):
    out, metrics, cache = trained
    again = train_model(dataset_dir, tmp_path / "again", TINY, cache_root=cache)
    for split in ("test", "validation"):
        assert again[split] == metrics[split]
    pd.testing.assert_frame_equal(pd.read_csv(out / "history.csv"),
                                  pd.read_csv(tmp_path / "again" / "history.csv"))


def test_a_model_is_reused_only_if_trained_as_asked(trained, dataset_dir):
    out, _, _ = trained
    saved = json.loads((out / "metrics.json").read_text())
    assert train_model(dataset_dir, out, replace(TINY, export=True), reuse=True) == saved
    before = (out / "model.keras").stat().st_mtime_ns
    with pytest.raises(CclibError, match=r"holds a model made with other settings "
                                         r"\(train\.steps: 80 there, 81 asked\)"):
        train_model(dataset_dir, out, replace(TINY, export=True, steps=81), reuse=True)
    assert (out / "model.keras").stat().st_mtime_ns == before


def test_bottlenecks_are_cached_once_per_array_and_shared_by_trials(trained, dataset_dir,
                                                                   tmp_path):
    _, _, cache = trained
    other_seed = TrainConfig(**{**TINY.__dict__, "seed": 8})
    train_model(dataset_dir, tmp_path / "seed8", other_seed, cache_root=cache)
    (key,) = [p for p in cache.iterdir()]  # one cache for both seeds: one network
    rows = read_dataset(dataset_dir)
    plain = [p for p in key.glob("*.npy") if ".aug-" not in p.name]
    assert sorted(p.stem for p in plain) == sorted(rows["digest"].unique())
    (key / ".0123456789abcdef.npy.tmp-99999").write_bytes(b"half an array")  # a killed run's
    train_model(dataset_dir, tmp_path / "resumed", other_seed, cache_root=cache)
    assert json.loads((tmp_path / "resumed" / "metrics.json").read_text())["test"] == \
        json.loads((tmp_path / "seed8" / "metrics.json").read_text())["test"]
    assert not list(key.glob(".*"))
    assert np.load(plain[0]).shape == (8, 1280)


def test_a_bad_cache_entry_is_named_and_computed_again(trained, dataset_dir, tmp_path, capfd):
    """Training through a damaged bottleneck cache gives the model a good cache gives (each
    kind of damage is tested on the cache alone, in test_bottlenecks.py)."""
    out, metrics, cache = trained
    (key,) = [p for p in cache.iterdir()]
    entry = sorted(p for p in key.glob("*.npy") if ".aug-" not in p.name)[0]
    good = np.load(entry)
    bad = good.copy()
    bad[0, :5] = np.nan
    np.save(entry, bad)
    again = train_model(dataset_dir, tmp_path / "again", TINY, cache_root=cache)
    assert again["test"] == metrics["test"]  # the same model as with a good cache
    assert f"bottleneck cache: {entry}" in capfd.readouterr().err
    np.testing.assert_array_equal(np.load(entry), good)


def test_a_store_array_changed_behind_the_manifest_is_refused(dataset_dir, tmp_path):
    import shutil

    store = tmp_path / "store"
    shutil.copytree(json.loads((dataset_dir / "summary.json").read_text())["store"], store)
    manifest = pd.read_csv(store / "manifest.csv", keep_default_na=False)
    dataset, summary = make_dataset(manifest, method="all", split="piece", seed=0)
    write_dataset(dataset, summary, store, tmp_path / "dataset")
    array = np.load(store / "slices" / "Bach_1.npy")
    np.save(store / "slices" / "Bach_1.npy", array + 1)  # rebuilt from other audio
    with pytest.raises(StoreError, match="Bach_1.npy: changed since its manifest was written"):
        train_model(tmp_path / "dataset", tmp_path / "model", TINY, cache_root=tmp_path / "cache")


def test_saved_model_reproduces_the_reported_test_results(trained, dataset_dir):
    out, metrics, _ = trained
    period_model = load_period_model(out)  # as cclib classify loads it: safe mode, from disk
    rows = read_dataset(dataset_dir)
    test = rows[rows.split == "test"]
    slices = np.stack([np.load(p)[r] for p, r in zip(test.path, test.row)]).astype(np.float32)
    probabilities = period_model.predict(slices)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    truth = test.period.map({"baroque": 0, "romantic": 1}).to_numpy()
    matrix = confusion_matrix(truth, probabilities.argmax(axis=1), 2)
    assert matrix.tolist() == metrics["test"]["mobilenet"]["confusion_matrix"]


def test_the_litert_export_gives_kerass_verdicts_without_tensorflow(trained, dataset_dir,
                                                                     tmp_path, capsys):
    out, _, _ = trained
    record = json.loads((out / "config.json").read_text())["litert"]
    assert record["file"] == "model.tflite" and record["max_difference"] <= 1e-4
    rows = read_dataset(dataset_dir)
    slices = np.stack([np.load(p)[r] for p, r in zip(rows.path, rows.row)]).astype(np.float32)
    keras_model = load_period_model(out)
    litert_model = load_period_model(out, runtime="litert")
    assert type(litert_model.model).__name__ == "LiteRTNetwork"
    for got, want in zip(litert_model.analyse(slices), keras_model.analyse(slices)):
        np.testing.assert_allclose(got, want, atol=1e-4)
    probe = ("import sys; from cclib.classify import load_period_model; "
             f"m = load_period_model({str(out)!r}, runtime='auto'); "
             "m.predict(__import__('numpy').zeros((2,) + m.model.slice_shape)); "
             "print(type(m.model).__name__, 'tensorflow' in sys.modules)")
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert ran.stdout.split() == ["LiteRTNetwork", "False"] and ran.stderr == "", ran.stderr

    stale = tmp_path / "stale"
    shutil.copytree(out, stale)
    (stale / "model.tflite").write_bytes((stale / "model.tflite").read_bytes()[:-10] + b"0" * 10)
    fallback = load_period_model(stale, runtime="auto")
    assert "does not match the SHA-256 in config.json" in capsys.readouterr().err
    assert type(fallback.model).__name__ != "LiteRTNetwork"
    with pytest.raises(ModelError, match="stale or damaged"):
        load_period_model(stale, runtime="litert")


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "cclib.cli", *map(str, args)],
                          capture_output=True, text=True)


def test_classify_prints_the_study_lines(trained, dataset_dir):
    out, _, _ = trained
    store = json.loads((dataset_dir / "summary.json").read_text())["store"]
    one = run_cli("classify", out, f"{store}/slices/Chopin_2.npy#3")
    assert one.returncode == 0, one.stderr
    lines = one.stdout.strip().splitlines()
    assert re.fullmatch(r"romantic \(score=[01]\.\d{5}\)", lines[0])
    assert re.fullmatch(r"baroque \(score=0\.\d{5}\)", lines[1])
    assert re.fullmatch(r"Evaluation time \(1-slice\): \d+\.\d{3}s", lines[2])
    assert re.fullmatch(r"Out of domain: \d+\.\d\d \(threshold \d+\.\d\d\): .*", lines[3])

    several = run_cli("classify", out, f"{store}/slices/Bach_1.npy#0", "missing.wav",
                      f"{store}/slices/Liszt_1.npy#1", "--top", "1")
    assert several.returncode == 0
    assert several.stdout.count("== ") == 2 and "skipped missing.wav" in several.stderr
    as_json = json.loads(run_cli("classify", out, f"{store}/slices/Bach_1.npy#0", "--json").stdout)
    assert as_json[0]["scores"][0]["period"] == "baroque"
    assert as_json[0]["out_of_domain"] > 0 and as_json[0]["out_of_domain_threshold"] > 0


def test_classify_fails_clearly(trained, tmp_path):
    out, _, _ = trained
    nothing = run_cli("classify", out, tmp_path / "missing.wav")
    assert nothing.returncode == 1
    no_model = run_cli("classify", tmp_path, tmp_path / "x.wav")
    assert no_model.returncode == 2 and "no model.keras" in no_model.stderr
    assert "Traceback" not in no_model.stderr + nothing.stderr
    with pytest.raises(ModelError):
        (tmp_path / "model.keras").write_text("not a model")
        (tmp_path / "config.json").write_text('{"classes": [], "front_end": {}}')
        load_period_model(tmp_path)


@pytest.mark.parametrize("mode", ["finetune", "scratch"])
def test_finetune_and_scratch_train_the_network_with_augmentation(dataset_dir, tmp_path, mode):
    config = TrainConfig(mode=mode, steps=4, batch_size=8, input_size=32, log_every=2, seed=1,
                         export=False)
    metrics = train_model(dataset_dir, tmp_path / mode, config, cache_root=tmp_path / "cache")
    history = pd.read_csv(tmp_path / mode / "history.csv")
    assert history.step.tolist() == ([2, 4, 6, 8] if mode == "finetune" else [2, 4])
    assert "network_s" in metrics["timings"]
    model = load_period_model(tmp_path / mode).model
    assert model.get_layer("to_image").augment  # augmentation is on while training only


@pytest.mark.parametrize("setting, message", [({"mode": "tune"}, "mode 'tune': choose one of"),
                                              ({"normalize": "z"}, "normalize 'z': choose one of")])
def test_a_recipe_with_an_unknown_setting_is_refused_before_anything_is_built(setting, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**setting)


def test_keras_own_weights_load_or_fail_in_one_clear_line():
    from cclib.model import WeightsError, build_base

    try:
        base = build_base(96, "keras-imagenet")
    except WeightsError as error:  # offline, with nothing in ~/.keras (as in CI)
        assert "use --weights imagenet" in str(error) and "\n" not in str(error)
    else:
        assert tuple(base.output.shape) == (None, 1280)


def test_an_erased_nuisance_is_folded_into_the_saved_head(dataset_dir, tmp_path):
    config = TrainConfig(**{**TINY.__dict__, "erase": ("composer",)})
    metrics = train_model(dataset_dir, tmp_path / "erased", config, cache_root=tmp_path / "cache")
    period_model = load_period_model(tmp_path / "erased")
    rows = read_dataset(dataset_dir)
    test = rows[rows.split == "test"]
    slices = np.stack([np.load(p)[r] for p, r in zip(test.path, test.row)]).astype(np.float32)
    truth = test.period.map({"baroque": 0, "romantic": 1}).to_numpy()
    matrix = confusion_matrix(truth, period_model.predict(slices).argmax(axis=1), 2)
    assert matrix.tolist() == metrics["test"]["mobilenet"]["confusion_matrix"]
    assert json.loads((tmp_path / "erased" / "config.json").read_text())["train"]["erase"] == [
        "composer"]


def test_augmented_copies_add_training_examples_from_their_own_cache(dataset_dir, tmp_path):
    config = TINY  # the project's recipe: two augmented copies of every training slice
    metrics = train_model(dataset_dir, tmp_path / "augmented", config,
                          cache_root=tmp_path / "cache")
    (key,) = list((tmp_path / "cache").iterdir())
    augmented = sorted(key.glob("*.aug-*.npy"))
    rows = read_dataset(dataset_dir)
    assert len(augmented) == rows[rows.split == "train"]["digest"].nunique()
    copies = np.load(augmented[0])
    assert copies.shape == (2, 8, 1280)
    trained_rows = np.isfinite(copies[0, :, 0])
    assert trained_rows.any()  # computed for the training rows only
    assert metrics["recipe"]["augment"] == 2
