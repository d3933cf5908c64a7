"""Can an adversary teach the head to ignore texture? A domain-adversarial probe.

For protocol runs that bench_generalization.py left, reads the cached
1280-number embeddings of their slices (as probe_embedding_debiasing.py does)
and trains a small head on the training slices three ways, each with the same
seed, steps and layers:

- ``no adversary``: 1280 -> 256 (ReLU) -> periods, class-balanced
  cross-entropy;
- ``ensembles``: the same, while a second head tries to tell the training
  slices' ensembles apart from the 256 numbers and the first layer is trained
  against it (gradient reversal, Ganin and Lempitsky 2015, weight 1);
- ``held-out music``: the adversary tells training slices from the test
  slices, whose periods it never sees (the unsupervised domain adaptation of
  the same paper: the held-out texture or soundfont as an unlabelled folder).

Prints piece-level balanced accuracy (%) over the test periods for each run.

Usage:
    python bench/probe_adversarial_head.py data/runs/gen-explore/within-0-project \\
        data/runs/gen-explore/texture-string_quartet-0-project ...
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from probe_embedding_debiasing import piece_balanced, run_embeddings, run_probes

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


def probe(run: Path, *, seed: int = 0) -> dict:
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


if __name__ == "__main__":
    run_probes(probe, __doc__)
