"""Running an exported period model without TensorFlow: LiteRT.

:func:`cclib.model.export_litert` writes ``model.tflite`` beside a trained
model; :class:`LiteRTNetwork` runs it under LiteRT (``ai-edge-litert``), which
``cclib classify``, ``cclib evaluate`` and the widget prefer: a 30-second file
costs a fifth of the CPU that loading TensorFlow does. Both :mod:`cclib.model`
(to check an export) and :mod:`cclib.classify` (to run one) use it; it imports
neither, nor TensorFlow.

Notebook: notebooks/06_listen_and_classify.ipynb
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cclib.fileio import native_stderr_held
from cclib.parallel import default_jobs


def litert_available() -> bool:
    """Whether LiteRT (``pip install ai-edge-litert``) can be imported."""
    import importlib.util

    return importlib.util.find_spec("ai_edge_litert") is not None


class LiteRTNetwork:
    """A period model exported by :func:`cclib.model.export_litert`, run by LiteRT.

    Calling it gives what the Keras model gives: ``(embeddings, raw)``, the
    1280-number embeddings [shape=(n, 1280)] and the uncalibrated period
    probabilities [shape=(n, n_classes)] of dB slices [shape=(n, n_bins, frames)].
    TensorFlow is never imported.
    """

    def __init__(self, path: str | Path, *, threads: int | None = None):
        from ai_edge_litert.interpreter import Interpreter  # only where a model is run

        self.path = Path(path)
        with native_stderr_held():  # LiteRT announces its CPU delegate on the first run
            self.interpreter = Interpreter(model_path=str(path),
                                           num_threads=threads or default_jobs())
            self.runner = self.interpreter.get_signature_runner()
            signature = next(iter(self.interpreter.get_signature_list().values()))
            self.input_name = signature["inputs"][0]
            self.slice_shape = tuple(
                int(n) for n in self.interpreter.get_input_details()[0]["shape_signature"][1:])
            self.n_classes = int(self._run(np.zeros((1, *self.slice_shape)))[1].shape[-1])

    def _run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        found = self.runner(**{self.input_name: np.asarray(batch, dtype=np.float32)})
        return found["output_0"], found["output_1"]  # the export's order: embedding, periods

    def __call__(self, slices: np.ndarray, *, batch_size: int = 64):
        parts = [self._run(slices[i:i + batch_size]) for i in range(0, len(slices), batch_size)]
        if not parts:
            return np.zeros((0, 1280), np.float32), np.zeros((0, self.n_classes), np.float32)
        return tuple(np.concatenate([part[k] for part in parts]) for k in range(2))
