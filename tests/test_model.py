"""The ImageNet weight port: one block against numpy, and real photographs."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from cclib.model import (build_imagenet_classifier, find_torchvision_weights, imagenet_weights,  # noqa: E402
                         port_torchvision_weights, sha256_of)
from cclib.torchfile import load_state_dict  # noqa: E402

CAT_CLASSES = {281, 282, 283, 284, 285}  # tabby, tiger cat, Persian, Siamese, Egyptian cat
COFFEE_CLASSES = {967, 968, 504}  # espresso, cup, coffee mug


@pytest.fixture(scope="module")
def ported(tmp_path_factory):
    model = build_imagenet_classifier(224)
    model.load_weights(imagenet_weights(tmp_path_factory.mktemp("cache")))
    return model


def torch_stem(x, state):
    """features.0 as torch computes it: pad 1 on every side, 3x3 stride 2, BN (eps 1e-5), ReLU6."""
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    x = (x - mean) / std
    padded = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    w = state["features.0.0.weight"]  # (out, in, 3, 3)
    out_size = (x.shape[0] + 2 - 3) // 2 + 1
    y = np.zeros((out_size, out_size, w.shape[0]))
    for i in range(3):
        for j in range(3):
            patch = padded[i:i + 2 * out_size:2, j:j + 2 * out_size:2, :]
            y += patch @ w[:, :, i, j].T
    gamma, beta = state["features.0.1.weight"], state["features.0.1.bias"]
    mu, var = state["features.0.1.running_mean"], state["features.0.1.running_var"]
    return np.clip(gamma * (y - mu) / np.sqrt(var + 1e-5) + beta, 0, 6)


def test_first_block_matches_a_numpy_reference(ported):
    state = load_state_dict(find_torchvision_weights())
    x = np.random.default_rng(0).uniform(0, 1, (224, 224, 3))
    stem = keras.Model(ported.input, ported.get_layer("features_0_1_relu").output)
    ours = stem.predict(x[None].astype(np.float32), verbose=0)[0]
    np.testing.assert_allclose(ours, torch_stem(x, state), atol=2e-4)


def test_every_weight_finds_its_layer():
    model = build_imagenet_classifier(224)
    port_torchvision_weights(model, load_state_dict(find_torchvision_weights()))  # raises if not


def centre_crop(image, size=224):
    from skimage.transform import resize

    h, w = image.shape[:2]
    s = min(h, w)
    crop = image[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    return resize(crop, (size, size), anti_aliasing=True).astype(np.float32)


@pytest.mark.parametrize("photo, expected, top", [("chelsea", CAT_CLASSES, 1),
                                                  ("coffee", COFFEE_CLASSES, 5)])
def test_photographs_are_recognised(ported, photo, expected, top):
    from skimage import data

    probabilities = ported.predict(centre_crop(getattr(data, photo)())[None], verbose=0)[0]
    assert set(np.argsort(probabilities)[::-1][:top]) & expected


def test_converted_weights_are_cached_with_their_checksum(tmp_path):
    first = imagenet_weights(tmp_path)
    stamp = first.stat().st_mtime_ns
    assert imagenet_weights(tmp_path).stat().st_mtime_ns == stamp  # not converted again
    import json
    record = json.loads((tmp_path / "checksum.json").read_text())
    assert record["source_sha256"].startswith("b0353104")
    assert record["weights_sha256"] == sha256_of(first)
    first.write_bytes(b"corrupt")
    assert sha256_of(imagenet_weights(tmp_path)) == record["weights_sha256"]  # rebuilt


def test_tensorflow_loads_without_start_up_lines():
    import subprocess
    import sys

    probe = ("import numpy as np; from cclib.model import keras; "
             "m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]); "
             "m.predict(np.ones((1, 3)), verbose=0)")
    quiet = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
