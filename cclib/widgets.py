"""The listen-and-classify demo: pick a piece or upload one, pick 3 seconds, hear them, see the verdict.

The analysis is plain functions (:func:`analyse_audio`, :func:`slice_audio`,
:func:`bars_html`); :class:`ListenAndClassify` wires them to ipywidgets. Its
callbacks run on widget value changes, so a test can drive it without a
browser: set ``demo.piece.value``, ``demo.position.value`` or
``demo.upload.value`` and read ``demo.bars.value``.

Every slice of a piece is classified once, in one batch, when the piece is
chosen; moving the slider only looks up its row.

Notebook: notebooks/06_listen_and_classify.ipynb
"""

from __future__ import annotations

import html
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from cclib.audio import AudioError, find_audio_files, load_audio
from cclib.classify import PeriodModel, rank_periods
from cclib.labels import parse_study_name
from cclib.periods import load_periods
from cclib.spectrogram import cut_piece

#: Bar colour of the best period and of the others.
BEST_COLOUR, OTHER_COLOUR = "#2b6cb0", "#a0aec0"


@dataclass
class Listening:
    """One analysed piece: its audio, the slices the model hears and their period probabilities.

    Attributes
    ----------
    name : str
    y : np.ndarray [shape=(n,)]
        The loudness-normalised audio.
    slices : np.ndarray [shape=(n_kept, n_bins, frames)]
        The slices kept by the one slicing rule (silent ones dropped).
    index : np.ndarray [shape=(n_kept,)]
        Each kept slice's number in the piece.
    probabilities : np.ndarray [shape=(n_kept, n_classes)]
        Calibrated.
    period : str or None
        The composer's period, when the file name tells it.
    out_of_domain : float or None
        The piece's out-of-domain score (see :mod:`cclib.confidence`).
    """

    name: str
    y: np.ndarray
    slices: np.ndarray
    index: np.ndarray
    probabilities: np.ndarray
    period: str | None = None
    out_of_domain: float | None = None

    @property
    def verdict(self) -> np.ndarray:
        """Whole-piece probabilities: the mean over its slices.

        Returns
        -------
        verdict : np.ndarray [shape=(n_classes,)]
        """
        return self.probabilities.mean(axis=0)

    @property
    def margin(self) -> float:
        """How far the best period leads the second in the whole-piece verdict (0 to 1)."""
        ranked = np.sort(self.verdict)[::-1]
        return float(ranked[0] - ranked[1]) if len(ranked) > 1 else 1.0


def analyse_audio(period_model: PeriodModel, y: np.ndarray, name: str, *,
                  period: str | None = None) -> Listening:
    """Slice a piece by the one slicing rule and classify every slice in one batch.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono audio at ``period_model.front_end.sr``.
    name : str
        Shown in messages (a file name).

    Raises
    ------
    AudioError
        If the piece is shorter than one slice, silent, or not finite.
    """
    piece = cut_piece(y, front_end=period_model.front_end, name=name)
    embeddings, probabilities = period_model.analyse(piece.slices)
    return Listening(name, piece.y, piece.slices, piece.index, probabilities, period,
                     period_model.out_of_domain(embeddings))


def slice_audio(y: np.ndarray, index: int, *, sr: int, seconds: float) -> np.ndarray:
    """The samples of slice ``index`` (seconds ``index * seconds`` to ``(index + 1) * seconds``).

    Returns
    -------
    y_slice : np.ndarray [shape=(sr * seconds,)]
        Shorter where the piece ends first.

    Examples
    --------
    >>> slice_audio(np.arange(10.0), 1, sr=2, seconds=2.0).tolist()
    [4.0, 5.0, 6.0, 7.0]
    """
    length = int(round(sr * seconds))
    return y[index * length:(index + 1) * length]


def wav_bytes(y: np.ndarray, *, sr: int) -> bytes:
    """``y`` as a 16-bit WAV file in memory (what an audio player widget plays)."""
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(y, -1.0, 1.0), sr, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def bars_html(classes, probabilities) -> str:
    """Horizontal bars with percentages, best period first, as HTML.

    Examples
    --------
    >>> text = bars_html(["baroque", "romantic"], [0.25, 0.75])
    >>> text.index("romantic") < text.index("baroque"), "75.0%" in text
    (True, True)
    """
    rows = []
    for rank, i in enumerate(rank_periods(probabilities)):
        share = float(probabilities[i])
        colour = BEST_COLOUR if rank == 0 else OTHER_COLOUR
        rows.append(
            f'<div class="cclib-bar" data-period="{html.escape(classes[i])}" '
            'style="display:flex;align-items:center;gap:0.5em;margin:1px 0">'
            f'<span style="width:8em">{html.escape(classes[i])}</span>'
            f'<span style="display:inline-block;height:0.9em;width:{share * 16:.2f}em;'
            f'background:{colour}"></span>'
            f'<span class="cclib-share">{100 * share:.1f}%</span></div>')
    return '<div class="cclib-bars">' + "".join(rows) + "</div>"


def spectrogram_png(S_db: np.ndarray, period_model: PeriodModel, *, title: str) -> bytes:
    """A slice's spectrogram drawn as a PNG (for an image widget)."""
    from matplotlib.figure import Figure

    from cclib.plots import plot_spectrogram

    figure = Figure(figsize=(5, 2.6), dpi=90)
    plot_spectrogram(S_db, front_end=period_model.front_end, ax=figure.add_subplot(),
                     title=title, colorbar=False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


class ListenAndClassify:
    """The demo's widgets: piece dropdown, upload, slice slider, player, spectrogram, bars.

    Parameters
    ----------
    period_model : PeriodModel
        From :func:`cclib.classify.load_period_model`.
    audio_dir : path, optional
        Folder of pieces for the dropdown (searched recursively).

    Examples
    --------
    ``demo = ListenAndClassify(load_period_model("data/models/default"), "data/audio")``
    then ``display(demo.widget)`` in a notebook.
    """

    def __init__(self, period_model: PeriodModel, audio_dir: str | Path | None = None):
        import ipywidgets as widgets

        self.model = period_model
        self.front_end = period_model.front_end
        self.files = {path.name: path for path in (find_audio_files(audio_dir) if audio_dir else [])}
        self.listening: Listening | None = None
        self.table = load_periods()
        self.titles = piece_titles(audio_dir, self.files, self.table) if audio_dir else {}
        self.piece = widgets.Dropdown(options=[(self.titles[n], n) for n in self.files],
                                      value=None, description="Piece",
                                      layout=widgets.Layout(width="60%"))
        self.upload = widgets.FileUpload(accept=".wav,.flac,.ogg,.mp3", multiple=False,
                                         description="Upload")
        self.position = widgets.IntSlider(value=0, min=0, max=0, description="Slice",
                                          continuous_update=False,
                                          layout=widgets.Layout(width="100%"))
        self.back = widgets.Button(description="◀", tooltip="previous slice",
                                   layout=widgets.Layout(width="3em"))
        self.forward = widgets.Button(description="▶", tooltip="next slice",
                                      layout=widgets.Layout(width="3em"))
        self.when = widgets.Label(layout=widgets.Layout(min_width="9em"))
        self.player = widgets.Audio(format="wav", autoplay=False, loop=False)
        self.heading = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.bars = widgets.HTML()
        self.verdict = widgets.HTML()
        self.message = widgets.HTML()
        self.piece.observe(self._on_piece, names="value")
        self.upload.observe(self._on_upload, names="value")
        self.position.observe(self._on_position, names="value")
        self.back.on_click(lambda _: self.step(-1))
        self.forward.on_click(lambda _: self.step(+1))
        self.widget = widgets.VBox([
            widgets.HBox([self.piece, self.upload]), self.message,
            widgets.HBox([self.back, self.position, self.forward, self.when],
                         layout=widgets.Layout(width="100%")),
            self.player, self.heading,
            widgets.HBox([self.image, widgets.VBox([self.bars, self.verdict])])])

    def _period_of(self, path: Path) -> str | None:
        return self.table.identify(parse_study_name(path))[1]

    def step(self, by: int) -> None:
        """Move the slider ``by`` slices, within the piece."""
        self.position.value = int(np.clip(self.position.value + by, 0, self.position.max))

    def _busy(self, text: str | None) -> None:
        """Say what is being done and lock the controls; ``None``: unlock them."""
        for control in (self.piece, self.upload, self.position, self.back, self.forward):
            control.disabled = text is not None
        self.message.value = ("" if text is None else
                              f'<span class="cclib-busy">{html.escape(text)}</span>')

    def _analyse(self, path: Path, name: str) -> Listening:
        """Decode and classify one file, saying so while it runs (a long piece takes seconds)."""
        from cclib.spectrogram import count_slices

        self._busy(f"reading {name}…")
        try:
            y = load_audio(path, sr=self.front_end.sr)
            n = count_slices(len(y), front_end=self.front_end)
            self._busy(f"classifying {n} slices of {name}…")
            return analyse_audio(self.model, y, name, period=self._period_of(path))
        finally:
            self._busy(None)

    # The callbacks: each turns a widget change into a call of the plain methods.
    def _on_piece(self, change) -> None:
        if change["new"] is not None:
            self.open_file(self.files[change["new"]])

    def _on_upload(self, change) -> None:
        if not change["new"]:
            return
        for item in change["new"]:
            self.open_bytes(item["name"], bytes(item["content"]))
        self.upload.value = ()  # forget the bytes; the same file can be chosen again

    def _on_position(self, change) -> None:
        self.show_slice(change["new"])

    def open_file(self, path: str | Path) -> bool:
        """Analyse an audio file; on a bad file show one line and keep the current piece."""
        path = Path(path)
        try:
            listening = self._analyse(path, path.name)
        except AudioError as error:
            self.message.value = f'<span style="color:#c53030">{html.escape(str(error))}</span>'
            return False
        self._show(listening)
        return True

    def open_bytes(self, name: str, content: bytes) -> bool:
        """Analyse an uploaded file's bytes; errors name the upload, not a temporary file."""
        with tempfile.TemporaryDirectory(prefix="cclib-upload-") as folder:
            path = Path(folder) / Path(name).name
            path.write_bytes(content)
            try:
                listening = self._analyse(path, name)
            except AudioError as error:
                reason = str(error).replace(str(path), name)
                self.message.value = f'<span style="color:#c53030">{html.escape(reason)}</span>'
                return False
        self._show(listening)
        return True

    def _show(self, listening: Listening) -> None:
        self.listening = listening
        self.message.value = ""
        title = self.titles.get(listening.name, listening.name)
        self.heading.value = f'<b class="cclib-heading">{html.escape(title)}</b>'
        self.verdict.value = verdict_html(self.model, listening)
        with self.position.hold_trait_notifications():
            self.position.value = 0
            self.position.max = len(listening.slices) - 1
        self.show_slice(0)

    def show_slice(self, position: int) -> None:
        """Play, draw and classify the slice at slider ``position`` of the current piece.

        The slider runs over the slices the model hears (silent ones are
        dropped); the time shown is that slice's place in the piece.
        """
        listening = self.listening
        if listening is None:
            return
        seconds, sr = self.front_end.seconds, self.front_end.sr
        index = int(listening.index[position])
        start = index * seconds
        self.when.value = f"{clock(start)} to {clock(start + seconds)}"
        self.player.value = wav_bytes(slice_audio(listening.y, index, sr=sr, seconds=seconds), sr=sr)
        self.image.value = spectrogram_png(listening.slices[position], self.model,
                                           title=f"{listening.name}, slice {index}")
        self.bars.value = bars_html(self.model.classes, listening.probabilities[position])


def clock(seconds: float) -> str:
    """A time in the piece as m:ss.

    Examples
    --------
    >>> clock(0), clock(75), clock(3600)
    ('0:00', '1:15', '60:00')
    """
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}:{rest:02d}"


def piece_titles(audio_dir: str | Path, files: dict, table) -> dict[str, str]:
    """What the dropdown shows for each file: composer, title and period.

    A rendered corpus's ``corpus.csv`` gives the title (``Bach – Chorale BWV 324
    (baroque)``); a recording named ``Composer_N`` shows its composer, file name
    and period; anything else its file name.
    """
    from cclib.store import read_corpus_table

    audio_dir = Path(audio_dir)
    corpus = read_corpus_table(audio_dir)
    titles = {}
    for name, path in files.items():
        composer, period = table.identify(parse_study_name(path))
        known = corpus.get(path.relative_to(audio_dir).as_posix(), {})
        title = known.get("title") or name
        titles[name] = (f"{composer} – {title}" if composer else title) + (
            f" ({period})" if period else "")
    return titles


def verdict_html(period_model: PeriodModel, listening: Listening) -> str:
    """The whole-piece verdict, its margin, and a warning when the music is unlike the training music."""
    classes = period_model.classes
    verdict = listening.verdict
    best = int(np.argmax(verdict))
    truth = f" (composer's period: {listening.period})" if listening.period else ""
    text = (f"<b>Whole piece</b>, {len(listening.slices)} slices: "
            f"<b>{html.escape(classes[best])}</b> {100 * verdict[best]:.1f}%{html.escape(truth)}"
            f"<br>Lead over the next period: {100 * listening.margin:.1f} points"
            f"{' (a close call)' if listening.margin < 0.1 else ''}")
    domain = period_model.domain
    if listening.out_of_domain is not None and domain is not None:
        if listening.out_of_domain > domain.threshold:
            text += ('<br><span class="cclib-ood" style="color:#c05621">This recording is unlike '
                     "the music the model was trained on (rendered scores): treat the verdict "
                     f"as a guess.</span> (out-of-domain score {listening.out_of_domain:.2f}, "
                     f"threshold {domain.threshold:.2f})")
        else:
            text += (f"<br>Like the music the model was trained on (out-of-domain score "
                     f"{listening.out_of_domain:.2f}, threshold {domain.threshold:.2f}).")
    return text


def describe_training(period_model: PeriodModel) -> list[str]:
    """What a model was trained on, in a few lines with counts (from its ``config.json``).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> model = SimpleNamespace(classes=["baroque"], config={"trained_on": {
    ...     "slices": 40, "pieces": 4, "composers": 2,
    ...     "periods": {"baroque": {"slices": 40, "pieces": 4, "composers": 2}},
    ...     "ensembles": {"voices": 40}, "soundfonts": {"TimGM6mb": 40}}})
    >>> describe_training(model)[0]
    'Trained on 40 slices of 4 pieces by 2 composers, rendered scores only.'
    """
    trained = period_model.config.get("trained_on")
    if not trained:
        return [f"Periods: {', '.join(period_model.classes)} (this model records nothing more "
                "about its training music)."]
    fonts = {k: v for k, v in trained.get("soundfonts", {}).items() if k}
    lines = [f"Trained on {trained['slices']} slices of {trained['pieces']} pieces by "
             f"{trained['composers']} composers, "
             + ("rendered scores only." if fonts and len(fonts) == len(trained.get("soundfonts", {}))
                else "some of them recordings.")]
    for period in period_model.classes:
        found = trained["periods"].get(period, {})
        lines.append(f"  {period}: {found.get('slices', 0)} slices, {found.get('pieces', 0)} "
                     f"pieces, {found.get('composers', 0)} composers")
    if trained.get("ensembles"):
        lines.append("Ensembles: " + ", ".join(f"{k} {v}" for k, v in trained["ensembles"].items()))
    if fonts:
        lines.append("Soundfonts: " + ", ".join(f"{k} {v}" for k, v in fonts.items()))
    return lines
