"""Calibration and the out-of-domain score, on synthetic probabilities and embeddings."""

import numpy as np
import pytest

from cclib.confidence import (DomainModel, apply_temperature, expected_calibration_error,
                              fit_domain, fit_temperature, set_threshold)


def overconfident(n=3000, seed=0):
    """Labels and probabilities that say 95 % but are right 60 % of the time."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    said = np.where(rng.random(n) < 0.6, y, (y + rng.integers(1, 3, n)) % 3)
    p = np.full((n, 3), 0.025)
    p[np.arange(n), said] = 0.95
    return p, y


def test_temperature_scaling_brings_confidence_down_to_accuracy():
    p, y = overconfident()
    before = expected_calibration_error(p, y)
    temperature = fit_temperature(p[:1500], y[:1500])
    after = expected_calibration_error(apply_temperature(p[1500:], temperature), y[1500:])
    assert before > 0.3 and after < 0.05 and temperature > 1
    assert (apply_temperature(p, temperature).argmax(axis=1) == p.argmax(axis=1)).all()


def test_a_validation_split_the_model_gets_all_right_cannot_make_it_infinitely_sure():
    p = np.array([[0.9, 0.1], [0.2, 0.8]])
    assert fit_temperature(p, [0, 1]) == pytest.approx(0.25, abs=1e-3)
    assert fit_temperature(np.zeros((0, 2)), []) == 1.0


def test_expected_calibration_error_by_hand():
    p = np.array([[0.7, 0.3], [0.7, 0.3], [0.2, 0.8], [0.2, 0.8]])
    y = np.array([0, 1, 1, 1])
    # bin 0.7: confidence 0.7, accuracy 0.5; bin 0.8: confidence 0.8, accuracy 1.0
    assert expected_calibration_error(p, y) == pytest.approx(0.5 * 0.2 + 0.5 * 0.2)


def test_embeddings_unlike_the_training_ones_score_above_the_threshold(tmp_path):
    rng = np.random.default_rng(0)
    train = rng.normal(size=(600, 16))
    labels = rng.integers(0, 2, 600)
    train[labels == 1] += 2.0
    domain = fit_domain(train, labels, 2)
    validation = rng.normal(size=(200, 16)) + 2.0 * rng.integers(0, 2, (200, 1))
    set_threshold(domain, validation, np.repeat(np.arange(20), 10))
    home = domain.piece_score(rng.normal(size=(10, 16)))
    away = domain.piece_score(rng.normal(size=(10, 16)) * 3 + 5)
    assert home < domain.threshold < away
    domain.save(tmp_path / "domain.npz")
    back = DomainModel.load(tmp_path / "domain.npz")
    assert back.threshold == domain.threshold
    assert back.piece_score(train[:10]) == pytest.approx(domain.piece_score(train[:10]), rel=1e-4)
