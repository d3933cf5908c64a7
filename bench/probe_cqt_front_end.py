"""Does a pitch front end carry the period across textures? MobileNet on CQT and chroma images.

For protocol runs that bench_generalization.py left, recomputes each training
and test slice from its audio (the slice store's ``source`` file, the same
three seconds, one second of context each side so the long low-frequency
windows see real music) as

- ``cqt``: a constant-Q spectrogram, 84 semitone bins from C1 (librosa.cqt,
  hop 512 as the mel slices), in dB below the slice's loudest bin;
- ``chroma``: the same bins folded to 12 pitch classes, each frame scaled to
  its loudest class (timbre and register gone, harmony kept);

turns each into the network's 128-pixel image as a mel slice is turned
(SpectrogramToImage, the dB range -80 to 0) and embeds it with the ImageNet
MobileNet base the recipe uses. Then fits the balanced logistic regression of
probe_embedding_debiasing.py on the run's training slices, five ways:

- ``mel``: the run's own cached embedding (the recipe's input), as a baseline;
- ``cqt``, ``chroma``: the embeddings of the two pitch images;
- ``mel + chroma``: both embeddings side by side;
- ``cqt stats``: no network, each CQT bin's mean and spread over the slice.

Prints piece-level balanced accuracy (%) over the test periods for each run.
The pitch embeddings are kept in ``data/runs/probe-cqt/`` by slice id and piece
digest, so a second run only computes the slices it adds.

Usage:
    python bench/probe_cqt_front_end.py data/runs/gen-explore/within-0-project \\
        data/runs/gen-explore/texture-string_quartet-0-project ...
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
from sklearn.preprocessing import StandardScaler

from cclib.audio import AudioError
from probe_embedding_debiasing import probe_score, run_embeddings, run_probes

CACHE = Path("data/runs/probe-cqt")
SR, HOP, SECONDS, CONTEXT_S = 22050, 512, 3.0, 1.0
N_BINS, FMIN_HZ = 84, 32.703  # C1 to B7, one bin a semitone
FRAMES = int(SECONDS * SR // HOP)
LOW_DB = -80.0


def cqt_slices(source: str, starts: np.ndarray) -> np.ndarray:
    """dB constant-Q slices [shape=(len(starts), N_BINS, FRAMES)] of one audio file."""
    import librosa

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
    CACHE.mkdir(parents=True, exist_ok=True)
    cache_file = CACHE / "embeddings.npz"
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
        partial = cache_file.with_suffix(".part.npz")
        np.savez(partial, **cached)
        partial.replace(cache_file)
    position = pd.Series(np.arange(len(cached["key"])), index=cached["key"])
    where = position.loc[keys[wanted]].to_numpy()
    return {key: cached[key][where] for key in ("cqt", "chroma", "cqt stats")}


def probe(run: Path, *, seed: int = 0) -> dict:
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


if __name__ == "__main__":
    run_probes(probe, __doc__)
