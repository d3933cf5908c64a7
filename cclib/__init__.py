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

from cclib.audio import AudioError, find_audio_files, load_audio, normalize_loudness
from cclib.labels import parse_study_name, read_labels
from cclib.periods import PeriodTable, load_periods, normalize_name
from cclib.errors import CclibError
from cclib.spectrogram import (FrontEnd, PieceSlices, compute_spectrogram, count_slices,
                               cut_piece, find_silent_slices, mel_filterbank, power_spectrogram,
                               slice_spectrogram)
from cclib.store import convert_folder, load_slices, read_manifest

__version__ = "0.1.0"

__all__ = [
    "AudioError", "CclibError", "FrontEnd", "PeriodTable", "PieceSlices", "compute_spectrogram",
    "convert_folder", "count_slices", "cut_piece", "find_audio_files", "find_silent_slices", "load_audio", "load_periods",
    "load_slices", "mel_filterbank", "normalize_loudness", "normalize_name", "parse_study_name",
    "power_spectrogram", "read_labels", "read_manifest", "slice_spectrogram",
]
