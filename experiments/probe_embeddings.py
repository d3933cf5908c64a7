"""Can the frozen embedding be made to hear the period instead of the texture? Three probes.

Each probe reads protocol runs that ``cclib protocols`` left (a ``dataset/``
and a ``model/`` per run folder), takes the 1280-number embeddings of their
slices from the bottleneck cache, and prints piece-level balanced accuracy
(%) over each run's test periods, one row per run:

``debias``
    A balanced logistic regression on the embedding three ways: ``plain``
    (standardised); ``per-ensemble`` (each training ensemble standardised by
    its own mean and spread, the test slices by theirs: test-time adaptation
    in the manner of AdaBN, Li et al. 2016); ``drop k`` (the first k principal
    components of the training slices projected out, k = 3, 10, 30).
``adversary``
    A 1280 -> 256 -> periods head, class-balanced, trained three ways with the
    same seed: ``no adversary``; ``ensembles`` (a second head tells the
    training ensembles apart from the 256 numbers and the first layer is
    trained against it through gradient reversal, Ganin and Lempitsky 2015);
    ``held-out music`` (the adversary tells training slices from the test
    slices, whose periods it never sees).
``cqt``
    Every slice computed again from its audio as a constant-Q spectrogram (84
    semitone bins from C1, one second of context each side) and as a chroma
    folded from it, each embedded by the recipe's ImageNet MobileNet at 128 px
    and probed like ``debias``'s ``plain``; also the mel and chroma embeddings
    side by side and the CQT bins' statistics with no network. The pitch
    embeddings are kept in ``<data>/runs/probe-cqt/`` by slice id and piece
    digest, so a second run only computes the slices it adds.

Usage (from the repository root):
    python experiments/probe_embeddings.py debias data/runs/generalization/within-0-project \\
        data/runs/generalization/texture-keyboard-0-project ...

The results and what was kept: experiments/README.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from cclib import paths
from cclib.audio import AudioError
from cclib.classify import load_period_model
from cclib.errors import CclibError
from cclib.evaluation import piece_predictions
from cclib.fileio import atomic_path, read_json
from cclib.training import TrainConfig, load_dataset, open_bottleneck_cache


def piece_balanced(rows: pd.DataFrame, probabilities: np.ndarray, classes: list) -> float:
    """Balanced accuracy of the pieces' verdicts (their slices' mean) over the periods tested."""
    means = piece_predictions(probabilities, rows["piece"].to_numpy())
    truth = rows.drop_duplicates("piece").set_index("piece").loc[means.index, "period"].to_numpy()
    verdict = np.asarray(classes)[means.to_numpy().argmax(axis=1)]
    return float(np.mean([(verdict[truth == period] == period).mean() for period in set(truth)]))


def probe_score(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                test_rows: pd.DataFrame, classes: list, *, seed: int) -> float:
    """Piece-level balanced accuracy (%) of a balanced logistic regression fitted on
    ``x_train`` and scored on ``x_test``: the probe every variant is measured with."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():  # 300 iterations are close enough for a probe
        warnings.simplefilter("ignore", ConvergenceWarning)
        head = LogisticRegression(max_iter=300, C=0.1, class_weight="balanced",
                                  random_state=seed).fit(x_train, y_train)
    probabilities = np.zeros((len(x_test), len(classes)))
    probabilities[:, head.classes_] = head.predict_proba(x_test)
    return round(100 * piece_balanced(test_rows, probabilities, classes), 1)


def run_embeddings(run: Path):
    """The run's dataset rows, training and test masks, labels, classes and embeddings."""
    config = TrainConfig.from_dict(read_json(run / "model" / "config.json")["train"])
    data = load_dataset(run / "dataset")
    cache = open_bottleneck_cache(load_period_model(run / "model").model, config, data.front_end)
    rows = data.rows.reset_index(drop=True)
    return rows, data.parts["train"], data.parts["test"], data.labels, data.classes, \
        cache.embeddings(rows)


# --- debias ---------------------------------------------------------------------------------

def standardised_by(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each group of rows standardised by its own mean and spread."""
    out = np.empty_like(x)
    for group in np.unique(groups):
        rows = groups == group
        out[rows] = (x[rows] - x[rows].mean(axis=0)) / (x[rows].std(axis=0) + 1e-6)
    return out


def without_components(x: np.ndarray, components: np.ndarray) -> np.ndarray:
    """Rows of ``x`` with their projection on each (orthonormal) component removed."""
    return x - (x @ components.T) @ components


def probe_debias(run: Path, *, seed: int = 0) -> dict:
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    rows, train, test, labels, classes, x = run_embeddings(run)
    scaler = StandardScaler().fit(x[train])
    pca = PCA(n_components=30, random_state=seed).fit(scaler.transform(x[train]))
    variants = {"plain": (scaler.transform(x[train]), scaler.transform(x[test])),
                "per-ensemble": (standardised_by(x[train], rows["ensemble"].to_numpy()[train]),
                                 standardised_by(x[test], np.zeros(test.sum())))}
    for k in (3, 10, 30):
        variants[f"drop {k}"] = tuple(without_components(part, pca.components_[:k])
                                      for part in variants["plain"])
    return {name: probe_score(x_train, labels[train], x_test, rows[test], classes, seed=seed)
            for name, (x_train, x_test) in variants.items()}



# --- adversary ------------------------------------------------------------------------------

STEPS = 1500
BATCH = 128


def train_head(x: np.ndarray, labels: np.ndarray, n_classes: int, domains: np.ndarray | None,
               labelled: np.ndarray, *, seed: int, weight: float = 1.0):
    """Train the head (and, given ``domains``, its adversary); return the period model.

    ``x`` holds every row the adversary sees; ``labelled`` marks the rows whose
    ``labels`` the period head learns from.
    """
    from cclib.model import keras, tf

    keras.utils.set_random_seed(seed)
    features = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(256, "relu")])
    periods = keras.Sequential([keras.Input((256,)), keras.layers.Dense(n_classes)])
    n_domains = int(domains.max()) + 1 if domains is not None else 1
    adversary = keras.Sequential([keras.Input((256,)), keras.layers.Dense(64, "relu"),
                                  keras.layers.Dense(n_domains)])
    counts = np.bincount(labels[labelled], minlength=n_classes).astype(np.float32)
    class_weight = tf.constant(np.where(counts > 0, counts.sum() / np.maximum(counts, 1), 0)
                               / n_classes, tf.float32)
    entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")
    main_opt, adv_opt = keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3)
    rng = np.random.default_rng(seed)
    labelled_rows, all_rows = np.flatnonzero(labelled), np.arange(len(x))
    for _ in range(STEPS):
        batch = rng.choice(labelled_rows, BATCH)
        other = rng.choice(all_rows, BATCH)
        with tf.GradientTape(persistent=True) as tape:
            y = tf.constant(labels[batch])
            period_loss = tf.reduce_mean(entropy(y, periods(features(x[batch])))
                                         * tf.gather(class_weight, y))
            domain_loss = (tf.reduce_mean(entropy(domains[other], adversary(features(x[other]))))
                           if domains is not None else tf.constant(0.0))
            main_loss = period_loss - weight * domain_loss
        trainable = features.trainable_variables + periods.trainable_variables
        main_opt.apply_gradients(zip(tape.gradient(main_loss, trainable), trainable))
        if domains is not None:
            adv_vars = adversary.trainable_variables
            adv_opt.apply_gradients(zip(tape.gradient(domain_loss, adv_vars), adv_vars))
        del tape
    return lambda rows: tf.nn.softmax(periods(features(rows))).numpy()


def probe_adversary(run: Path, *, seed: int = 0) -> dict:
    rows, train, test, labels, classes, x = run_embeddings(run)
    mean, spread = x[train].mean(axis=0), x[train].std(axis=0) + 1e-6
    x = ((x - mean) / spread).astype(np.float32)
    ensembles = pd.factorize(rows["ensemble"])[0]
    seen = train | test
    settings = {"no adversary": (None, train),
                "ensembles": (np.where(train, ensembles, 0), train),
                "held-out music": (test.astype(int), train)}
    found = {}
    for name, (domains, labelled) in settings.items():
        # the adversary sees the training rows, or the training and test rows
        keep = train if name != "held-out music" else seen
        model = train_head(x[keep], labels[keep], len(classes),
                           None if domains is None else domains[keep], labelled[keep], seed=seed)
        found[name] = round(100 * piece_balanced(rows[test], model(x[test]), classes), 1)
    return found


# --- cqt ------------------------------------------------------------------------------------

SR, HOP, SECONDS, CONTEXT_S = 22050, 512, 3.0, 1.0
N_BINS, FMIN_HZ = 84, 32.703  # C1 to B7, one bin a semitone
FRAMES = int(SECONDS * SR // HOP)
LOW_DB = -80.0


def cqt_slices(source: str, starts: np.ndarray) -> np.ndarray:
    """dB constant-Q slices [shape=(len(starts), N_BINS, FRAMES)] of one audio file."""
    import librosa
    import soundfile as sf

    try:
        audio = sf.SoundFile(source)
    except (sf.LibsndfileError, OSError) as error:
        raise AudioError(f"{source}: cannot be read ({error})") from None
    with audio:
        n_samples, native = audio.frames, audio.samplerate
        out = np.full((len(starts), N_BINS, FRAMES), LOW_DB, np.float32)
        for i, start_s in enumerate(starts):
            first = max(0, int((start_s - CONTEXT_S) * native))
            last = min(n_samples, int((start_s + SECONDS + CONTEXT_S) * native))
            audio.seek(first)
            y = audio.read(last - first, dtype="float32", always_2d=True).mean(axis=1)
            if native != SR:
                y = librosa.resample(y, orig_sr=native, target_sr=SR)
            if not np.any(y):
                continue
            magnitude = np.abs(librosa.cqt(y, sr=SR, hop_length=HOP, fmin=FMIN_HZ,
                                           n_bins=N_BINS, bins_per_octave=12))
            offset = int(round((start_s - first / native) * SR / HOP))
            kept = magnitude[:, offset:offset + FRAMES]
            db = 20 * np.log10(np.maximum(kept, 1e-10) / max(kept.max(), 1e-10))
            out[i, :, :kept.shape[1]] = np.maximum(db, LOW_DB)
    return out


def chroma_of(cqt_db: np.ndarray) -> np.ndarray:
    """The slices' chroma as dB-like images: energy per pitch class, each frame's loudest 0 dB."""
    power = 10 ** (cqt_db / 10)
    classes = power.reshape(len(power), N_BINS // 12, 12, -1).sum(axis=1)
    classes /= np.maximum(classes.max(axis=1, keepdims=True), 1e-12)
    return (LOW_DB * (1 - classes)).astype(np.float32)


def embed(images: np.ndarray) -> np.ndarray:
    """ImageNet MobileNet embeddings of dB images, as the recipe's network sees them."""
    from cclib.model import SpectrogramToImage, build_base, keras, predict_in_batches

    inputs = keras.Input(images.shape[1:])
    x = SpectrogramToImage(128, LOW_DB, 0.0)(inputs)
    network = keras.Model(inputs, build_base(128, "imagenet")(x))
    return predict_in_batches(network, images, batch_size=128)


def _cqt_job(job):
    source, starts = job
    return cqt_slices(source, starts)


def slice_sources(run: Path, rows: pd.DataFrame) -> pd.Series:
    """Each dataset row's audio file, from the slice store the dataset was drawn from."""
    store = (run / "dataset" / rows["path"].iloc[0]).resolve().parent.parent
    sources = pd.read_csv(store / "manifest.csv", usecols=["slice_id", "source"])
    return rows[["slice_id"]].merge(sources, on="slice_id", how="left")["source"]


def pitch_embeddings(run: Path, rows: pd.DataFrame, wanted: np.ndarray) -> dict:
    """The cqt and chroma embeddings and CQT statistics of the wanted rows, cached by slice id."""
    folder = paths.runs_dir() / "probe-cqt"
    folder.mkdir(parents=True, exist_ok=True)
    cache_file = folder / "embeddings.npz"
    cached = dict(np.load(cache_file)) if cache_file.exists() else {}
    if sorted(cached) != ["chroma", "cqt", "cqt stats", "key"]:  # none yet, or another layout
        cached = {}
    # a slice is known by its id and its piece's digest: a piece rendered again is new
    keys = (rows["slice_id"] + "@" + rows["digest"]).to_numpy()
    todo = rows[wanted & ~np.isin(keys, cached.get("key", []))].copy()
    if len(todo):
        todo["source"] = slice_sources(run, todo).to_numpy()
        groups = [group for _, group in todo.groupby("source")]
        jobs = [(group["source"].iloc[0], group["start_s"].to_numpy()) for group in groups]
        # spawned, not forked: this process has TensorFlow's threads running
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
            cqt = np.concatenate(list(pool.map(_cqt_job, jobs, chunksize=4)))
        order = np.concatenate([group.index for group in groups])
        new = {"key": keys[order].astype(str), "cqt": embed(cqt), "chroma": embed(chroma_of(cqt)),
               "cqt stats": np.concatenate([cqt.mean(axis=2), cqt.std(axis=2)], axis=1)}
        cached = {key: np.concatenate([cached[key], new[key]]) if cached else new[key]
                  for key in new}
        with atomic_path(cache_file) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, **cached)
    position = pd.Series(np.arange(len(cached["key"])), index=cached["key"])
    where = position.loc[keys[wanted]].to_numpy()
    return {key: cached[key][where] for key in ("cqt", "chroma", "cqt stats")}


def probe_cqt(run: Path, *, seed: int = 0) -> dict:
    from sklearn.preprocessing import StandardScaler

    rows, train, test, labels, classes, mel = run_embeddings(run)
    wanted = train | test
    pitch = pitch_embeddings(run, rows, wanted)
    features = {"mel": mel[wanted], **pitch,
                "mel + chroma": np.concatenate([mel[wanted], pitch["chroma"]], axis=1)}
    train, test, labels = train[wanted], test[wanted], labels[wanted]
    found = {}
    for name, x in features.items():
        scaler = StandardScaler().fit(x[train])
        found[name] = probe_score(scaler.transform(x[train]), labels[train],
                                  scaler.transform(x[test]), rows[wanted][test], classes,
                                  seed=seed)
    return found



PROBES = {"debias": probe_debias, "adversary": probe_adversary, "cqt": probe_cqt}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("probe", choices=sorted(PROBES))
    parser.add_argument("runs", nargs="+", type=Path, help="protocol run folders")
    args = parser.parse_args(argv)
    try:
        table = pd.DataFrame({run.name: PROBES[args.probe](run) for run in args.runs}).T
    except CclibError as error:  # a folder that is not a run: one line, as from cclib
        raise SystemExit(f"probe_embeddings: {error}") from None
    print(table.to_string())


if __name__ == "__main__":
    main()
