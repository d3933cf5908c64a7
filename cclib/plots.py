"""Figures for the notebooks. Each takes ``ax=None`` and returns what it drew on.

Nothing here calls ``plt.show()``; notebooks display and save the figures.
"""

from __future__ import annotations

import numpy as np

from cclib.evaluation import metric_label, row_shares
from cclib.spectrogram import FrontEnd, band_frequencies


def _axes(ax, figsize=(8, 3)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def plot_waveform(y: np.ndarray, *, sr: int, ax=None, title: str | None = None):
    """Draw samples against time in seconds.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    sr : int > 0
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = _axes(ax)
    ax.plot(np.arange(len(y)) / sr, y, linewidth=0.3)
    ax.set(xlabel="time (s)", ylabel="amplitude", xlim=(0, len(y) / sr), title=title)
    return ax


def plot_spectrogram(S_db: np.ndarray, *, front_end: FrontEnd = FrontEnd(), ax=None,
                     title: str | None = None, colorbar: bool = True):
    """Draw a log spectrogram with time in seconds and frequency in Hz.

    Parameters
    ----------
    S_db : np.ndarray [shape=(front_end.n_bins, t)]
        From :func:`cclib.spectrogram.compute_spectrogram` (or one slice of it).
    front_end : FrontEnd
        How ``S_db`` was made (gives the axes their units).
    ax : matplotlib Axes, optional
    title : str, optional
    colorbar : bool
        Add a dB colour bar.

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = _axes(ax)
    seconds = S_db.shape[1] * front_end.hop_length / front_end.sr
    image = ax.imshow(S_db, origin="lower", aspect="auto", cmap="magma",
                      extent=(0, seconds, 0, S_db.shape[0]), interpolation="nearest")
    if front_end.kind == "mel":
        fmax = front_end.fmax or front_end.sr / 2
        ticks_hz = [f for f in (100, 250, 500, 1000, 2000, 4000, 8000) if f < fmax]
        centres = band_frequencies(front_end)
        ax.set_yticks(np.interp(ticks_hz, centres, np.arange(front_end.n_mels)), ticks_hz)
        ax.set_ylabel("frequency (Hz, mel scale)")
    else:
        hz_per_bin = front_end.sr / front_end.n_fft
        ticks_hz = np.arange(0, front_end.sr / 2 + 1, 2000)
        ax.set_yticks(ticks_hz / hz_per_bin, [f"{int(f)}" for f in ticks_hz])
        ax.set_ylabel("frequency (Hz)")
    ax.set(xlabel="time (s)", title=title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label="dB")
    return ax


def plot_slice_grid(slices: np.ndarray, *, titles=None, ncols: int = 6, panel: float = 1.6,
                    axes=None):
    """Draw spectrogram slices side by side in a grid, on one colour scale.

    Parameters
    ----------
    slices : np.ndarray [shape=(n, n_bins, frames)]
    titles : list of str, optional
        One per slice (e.g. the slice ids).
    ncols : int > 0
    panel : float
        Width of one slice in inches (its height is 1.1 times that); a few
        slices shown to a class want 4 or more.
    axes : array of matplotlib Axes, optional
        At least ``n`` of them.

    Returns
    -------
    axes : np.ndarray of matplotlib Axes
    """
    import matplotlib.pyplot as plt

    n = len(slices)
    if axes is None:
        nrows = max(1, -(-n // ncols))
        _, axes = plt.subplots(nrows, ncols, figsize=(panel * ncols, 1.1 * panel * nrows),
                               layout="constrained", squeeze=False)
    axes = np.asarray(axes).ravel()
    low, high = float(np.min(slices)), float(np.max(slices))
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i < n:
            ax.imshow(np.asarray(slices[i], dtype=np.float32), origin="lower", aspect="auto",
                      cmap="magma", vmin=low, vmax=high, interpolation="nearest")
            if titles is not None:
                ax.set_title(titles[i], fontsize=8 if panel < 3 else 11)
    return axes


def plot_counts(counts, *, ax=None, title: str | None = None, ylabel: str = "slices"):
    """Bar chart of counts (a pandas Series), largest first unless already ordered.

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = _axes(ax, figsize=(7, 3))
    ax.bar([str(k) for k in counts.index], counts.to_numpy())
    ax.set(ylabel=ylabel, title=title)
    ax.tick_params(axis="x", labelrotation=45)
    return ax


def plot_training_curve(history, *, ax=None, title: str | None = None):
    """Training (and validation) accuracy against step, as the study's figure 2.

    Parameters
    ----------
    history : pandas.DataFrame
        ``history.csv`` of a model: ``step, train_accuracy, validation_accuracy``.

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = _axes(ax, figsize=(7, 3.5))
    ax.plot(history["step"], history["train_accuracy"], label="train (batch)")
    if "validation_accuracy" in history:
        ax.plot(history["step"], history["validation_accuracy"], label="validation")
    ax.set(xlabel="step", ylabel="accuracy", ylim=(0, 1), title=title)
    ax.legend(loc="lower right")
    return ax


def plot_trial_curves(histories, *, ax=None, title: str | None = None,
                      column: str = "train_accuracy"):
    """One line per trial of accuracy against step: the study's figure 2 for a batch.

    Parameters
    ----------
    histories : pandas.DataFrame
        ``step``, ``trial`` and ``column`` (see :func:`cclib.trials.load_histories`).

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = _axes(ax, figsize=(7, 3.5))
    for _, history in histories.groupby("trial"):
        ax.plot(history["step"], history[column], linewidth=0.8, alpha=0.6)
    mean = histories.groupby("step")[column].mean()
    ax.plot(mean.index, mean.to_numpy(), color="black", linewidth=2, label="mean of trials")
    ax.set(xlabel="step", ylabel=column.replace("_", " "), ylim=(0, 1), title=title)
    ax.legend(loc="lower right")
    return ax


def plot_boxes(frame, metric: str, *, by: str, ax=None, title: str | None = None,
               chance: float | None = None):
    """Box plot of ``metric`` per value of ``by`` (trials as points on top).

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = _axes(ax, figsize=(5, 3.5))
    groups = [(name, group[metric].dropna().to_numpy()) for name, group in frame.groupby(by)]
    ax.boxplot([values for _, values in groups], widths=0.5, showfliers=False)
    ax.set_xticks(range(1, len(groups) + 1), [f"{name}\n(n={len(v)})" for name, v in groups])
    for i, (_, values) in enumerate(groups, start=1):
        ax.scatter(np.full(len(values), i), values, s=12, color="tab:blue", alpha=0.6, zorder=3)
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle=":", label="chance")
        ax.legend(loc="lower right")
    ax.set(xlabel=by, ylabel=metric_label(metric), ylim=(0, 1), title=title)
    return ax


def plot_slice_vs_piece(frame, *, slice_metric: str, piece_metric: str, hue: str | None = None,
                        ax=None, title: str | None = None):
    """Each trial's slice-level against piece-level score, with the diagonal.

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = _axes(ax, figsize=(4.5, 4.5))
    groups = frame.groupby(hue) if hue else [(None, frame)]
    for name, group in groups:
        ax.scatter(group[slice_metric], group[piece_metric], s=18, label=name)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.set(xlabel=metric_label(slice_metric), ylabel=metric_label(piece_metric), xlim=(0, 1),
           ylim=(0, 1), title=title)
    if hue:
        ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_period_bars(classes, probabilities, *, ax=None, title: str | None = None):
    """A slice's or a piece's period probabilities as bars, best first, with percentages.

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = _axes(ax, figsize=(4.5, 0.35 * len(classes) + 0.8))
    from cclib.classify import rank_periods

    order = rank_periods(probabilities)
    shares = np.asarray(probabilities)[order]
    ax.barh(range(len(order)), shares, color=["tab:blue"] + ["lightgrey"] * (len(order) - 1))
    for y, share in enumerate(shares):
        ax.text(share + 0.01, y, f"{100 * share:.1f}%", va="center", fontsize=8)
    ax.set_yticks(range(len(order)), [classes[i] for i in order])
    ax.invert_yaxis()
    ax.set(xlim=(0, 1.15), xlabel="probability", title=title)
    return ax


def plot_dendrogram(linkage_matrix, labels, *, ax=None, title: str | None = None):
    """A tree of periods; the two groups of its top split in two colours.

    Returns
    -------
    ax : matplotlib Axes
    """
    from scipy.cluster.hierarchy import dendrogram

    ax = _axes(ax, figsize=(5, 3.5))
    linkage_matrix = np.asarray(linkage_matrix)
    top = linkage_matrix[-1, 2] if len(linkage_matrix) else 0.0
    dendrogram(linkage_matrix, labels=list(labels), ax=ax, leaf_rotation=45,
               color_threshold=top, above_threshold_color="grey")
    ax.set(ylabel="distance", title=title)
    return ax


def plot_map(xy, labels, groups, *, sizes=None, ax=None, title: str | None = None):
    """Points in 2-D, one colour per group (period), labelled where no other label is.

    In a crowded map some labels find no free place and are left out (the
    largest dots are labelled first); the legend sits outside the axes.

    Parameters
    ----------
    xy : array [shape=(n, 2)]
    labels, groups : sequences of length n
    sizes : array [shape=(n,)], optional
        Counts (slices per composer); dot areas grow with them.

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = _axes(ax, figsize=(6, 5))
    xy = np.asarray(xy, dtype=float)
    groups = list(groups)
    area = np.full(len(xy), 30.0) if sizes is None else (
        12 + 150 * np.sqrt(np.asarray(sizes, float) / max(1, np.max(sizes))))
    for group in dict.fromkeys(groups):
        mask = np.array([g == group for g in groups])
        ax.scatter(xy[mask, 0], xy[mask, 1], s=area[mask], alpha=0.8, label=group,
                   edgecolors="white", linewidths=0.5)
    ax.set(xticks=[], yticks=[], title=title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), markerscale=0.6)
    order = np.argsort(-area, kind="stable")
    place_labels(ax, xy[order], [list(labels)[i] for i in order])
    return ax


#: Where a point's label may go, in points from the point, tried in this order.
_LABEL_OFFSETS = [(4, 4), (4, -10), (-4, 4), (-4, -10), (0, 9), (0, -15), (9, -3), (-9, -3),
                  (12, 10), (-12, 10), (12, -16), (-12, -16), (0, 18), (0, -24)]


def place_labels(ax, xy, labels, *, fontsize: float = 7) -> list:
    """Label points greedily, in the order given: each label takes the first offset where
    it overlaps no label already placed; a label with no free offset is left out.

    Returns
    -------
    texts : list of matplotlib Text or None, one per point
    """
    renderer = ax.figure.canvas.get_renderer()
    taken, texts = [], []
    for (x, y), label in zip(np.asarray(xy, dtype=float), labels):
        placed = None
        for dx, dy in _LABEL_OFFSETS:
            text = ax.annotate(str(label), (x, y), xytext=(dx, dy), textcoords="offset points",
                               fontsize=fontsize, ha="left" if dx >= 0 else "right",
                               va="bottom" if dy >= 0 else "top")
            box = text.get_window_extent(renderer)
            if not any(_overlap_area(box, other) > 0 for other in taken):
                placed = text
                taken.append(box)
                break
            text.remove()
        texts.append(placed)
    return texts


def _overlap_area(a, b) -> float:
    """Area shared by two matplotlib Bbox (display units)."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(0.0, width) * max(0.0, height)


def plot_cross_table(table, *, chance: float | None = None, ax=None, title: str | None = None,
                     label: str = "balanced accuracy, test slices"):
    """A trained-on × tested-on table of shares as a heatmap, each cell in %.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows: trained on; columns: tested on; values between 0 and 1.
    chance : float, optional
        Marked on the colour bar and named in its label; cells at or below it say so.

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = _axes(ax, figsize=(1.3 * len(table.columns) + 2.2, 0.8 * len(table) + 1.4))
    values = table.to_numpy(dtype=float)
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=1)
    for (i, j), value in np.ndenumerate(values):
        below = chance is not None and value <= chance
        ax.text(j, i, f"{100 * value:.1f}%" + ("\n(≤ chance)" if below else ""), ha="center",
                va="center", fontsize=8, color="white" if value > 0.6 else "black")
    ax.set_xticks(range(len(table.columns)), table.columns)
    ax.set_yticks(range(len(table.index)), table.index)
    ax.set(xlabel=table.columns.name or "tested on", ylabel=table.index.name or "trained on",
           title=title)
    bar = ax.figure.colorbar(image, ax=ax, fraction=0.05)
    bar.set_label(label + (f" (chance {100 * chance:.1f} %)" if chance is not None else ""),
                  fontsize=8)
    if chance is not None:
        bar.ax.axhline(chance, color="black", linewidth=1.5)
    return ax


def plot_confusion(matrix, classes, *, ax=None, title: str | None = None, normalize: bool = True):
    """Confusion matrix, rows the true period, columns the predicted one.

    Parameters
    ----------
    matrix : array [shape=(n_classes, n_classes)]
        Counts.
    classes : list of str
    normalize : bool
        Show each row as shares of its true period, each with its count.

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = _axes(ax, figsize=(5, 4.5))
    matrix = np.asarray(matrix, dtype=float)
    shown = row_shares(matrix) if normalize else matrix
    ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    for (i, j), value in np.ndenumerate(shown):  # a share never without its count
        text = f"{value:.2f}\n({int(matrix[i, j])})" if normalize else f"{int(value)}"
        ax.text(j, i, text, ha="center", va="center", fontsize=7,
                color="white" if value > 0.6 * shown.max() else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    return ax


def plot_protocols(rows, *, ax=None, title: str | None = None, chance=None):
    """Piece-level balanced accuracy per protocol (groups) and recipe or model (bars).

    Parameters
    ----------
    rows : pandas.DataFrame
        One row per run, as :func:`cclib.protocols.run_protocol` returns:
        ``protocol``, ``recipe``, ``model``, ``piece_balanced``, ``seed``.
        The bar is the mean over seeds, the whisker its range.
    chance : dict, optional
        Protocol → chance level, drawn as a short black line on its group.

    Returns
    -------
    ax : matplotlib Axes
    """
    import pandas as pd

    frame = pd.DataFrame(rows).assign(
        who=lambda f: f["recipe"] + " " + f["model"].map({"mobilenet": "MobileNet",
                                                          "reference": "reference"}))
    stats = frame.groupby(["protocol", "who"], sort=False)["piece_balanced"].agg(
        ["mean", "min", "max"]).mul(100)
    protocols = list(dict.fromkeys(frame["protocol"]))
    who = list(dict.fromkeys(frame["who"]))
    ax = _axes(ax, figsize=(max(6, 1.6 * len(protocols)), 3.6))
    width = 0.8 / len(who)
    for k, name in enumerate(who):
        x = [i + (k - (len(who) - 1) / 2) * width for i, p in enumerate(protocols)
             if (p, name) in stats.index]
        got = stats.loc[[(p, name) for p in protocols if (p, name) in stats.index]]
        ax.bar(x, got["mean"], width, label=name,
               yerr=[got["mean"] - got["min"], got["max"] - got["mean"]], capsize=2)
    for i, protocol in enumerate(protocols):
        if chance and protocol in chance:
            ax.plot([i - 0.45, i + 0.45], [100 * chance[protocol]] * 2, color="black", lw=1)
    ax.set_xticks(range(len(protocols)), protocols, rotation=20, ha="right")
    ax.set(ylabel="balanced accuracy, test pieces (%)", ylim=(0, 100), title=title)
    ax.legend(fontsize=8, ncols=2)
    return ax
