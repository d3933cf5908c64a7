"""cclib: Class(ical) Registration, hearing the periods of classical music.

The package follows the data: scores (:mod:`cclib.scores`, rendered by
:mod:`cclib.corpus` through :mod:`cclib.synth`) → audio (:mod:`cclib.audio`)
→ spectrogram and the one slicing rule (:mod:`cclib.spectrogram`) → slice
store (:mod:`cclib.store`) → datasets (:mod:`cclib.sampling`) → model
(:mod:`cclib.model`, :mod:`cclib.augment`, :mod:`cclib.bottlenecks`,
:mod:`cclib.training`, :mod:`cclib.confidence`, :mod:`cclib.evaluation`,
:mod:`cclib.classify`) → does it hear the period (:mod:`cclib.protocols`) →
batches of trials (:mod:`cclib.trials`, on :mod:`cclib.parallel`) → plots,
the listening demo and the period relations (:mod:`cclib.plots`,
:mod:`cclib.widgets`, :mod:`cclib.relations`). Composer periods come from
:mod:`cclib.periods`, :mod:`cclib.paths` knows where ``data/`` is, and every
error a user can cause is a :class:`~cclib.errors.CclibError`. Importing it
starts nothing and loads no TensorFlow.
"""

from cclib.audio import AudioError, find_audio_files, load_audio, normalize_loudness, stream_audio
from cclib.labels import parse_study_name, read_labels
from cclib.periods import PeriodTable, load_periods, normalize_name
from cclib.errors import CclibError
from cclib.spectrogram import (FrontEnd, PieceSlices, compute_spectrogram, count_slices,
                               cut_piece, cut_stream, find_silent_slices, mel_filterbank,
                               power_spectrogram, slice_spectrogram)
from cclib.store import convert_folder, load_slices, read_manifest

__version__ = "0.1.0"

#: The main entry point of every later stage, imported on first use (PEP 562), so that
#: ``import cclib`` stays quick and TensorFlow-free while ``help(cclib)`` shows the pipeline.
_LATER_STAGES = {
    "build_corpus": "cclib.corpus",
    "make_dataset": "cclib.sampling", "write_dataset": "cclib.sampling",
    "read_dataset": "cclib.sampling",
    "TrainConfig": "cclib.training", "train_model": "cclib.training",
    "load_period_model": "cclib.classify", "classify_path": "cclib.classify",
    "evaluate_folder": "cclib.evaluation",
    "list_protocols": "cclib.protocols", "run_protocol": "cclib.protocols",
    "run_trials": "cclib.trials",
    "plot_confusion": "cclib.plots", "plot_training_curve": "cclib.plots",
    "ListenAndClassify": "cclib.widgets",
    "pooled_period_matrices": "cclib.relations",
}


def __getattr__(name: str):
    if name in _LATER_STAGES:
        import importlib

        return getattr(importlib.import_module(_LATER_STAGES[name]), name)
    raise AttributeError(f"module 'cclib' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_LATER_STAGES])


__all__ = [
    "AudioError", "CclibError", "FrontEnd", "PeriodTable", "PieceSlices", "compute_spectrogram",
    "convert_folder", "count_slices", "cut_piece", "cut_stream", "find_audio_files",
    "find_silent_slices", "load_audio", "load_periods", "load_slices", "mel_filterbank",
    "normalize_loudness", "normalize_name", "parse_study_name", "power_spectrogram",
    "read_labels", "read_manifest", "slice_spectrogram", "stream_audio", *_LATER_STAGES,
]
