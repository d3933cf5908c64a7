"""The figures: what each axis, tick, bar and label says, and the size of the saved image."""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from cclib.plots import (plot_confusion, plot_counts, plot_period_bars, plot_protocols,  # noqa: E402
                         plot_training_curve)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def png_size(ax, dpi=100) -> tuple[int, int]:
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="png", dpi=dpi)
    buffer.seek(0)
    height, width = mpimg.imread(buffer).shape[:2]
    return width, height


def texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_a_confusion_matrix_shows_each_share_with_its_count():
    ax = plot_confusion([[3, 1], [0, 4]], ["baroque", "romantic"], title="test slices")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["baroque", "romantic"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["baroque", "romantic"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("predicted", "true",
                                                                  "test slices")
    assert texts(ax) == ["0.75\n(3)", "0.25\n(1)", "0.00\n(0)", "1.00\n(4)"]
    np.testing.assert_allclose(ax.images[0].get_array(), [[0.75, 0.25], [0, 1]])
    assert png_size(ax) == (500, 450)
    counts = plot_confusion([[3, 1], [0, 4]], ["baroque", "romantic"], normalize=False)
    assert texts(counts) == ["3", "1", "0", "4"]


def test_period_bars_are_best_first_with_their_percentages():
    ax = plot_period_bars(["baroque", "classical", "romantic"], [0.2, 0.5, 0.3])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["classical", "romantic", "baroque"]
    assert [round(p.get_width(), 2) for p in ax.patches] == [0.5, 0.3, 0.2]
    assert texts(ax) == ["50.0%", "30.0%", "20.0%"]
    assert ax.get_xlabel() == "probability"


def test_the_training_curve_draws_both_accuracies_against_step():
    history = pd.DataFrame({"step": [100, 200], "train_accuracy": [0.4, 0.9],
                            "validation_accuracy": [0.3, 0.5]})
    ax = plot_training_curve(history, title="retrain")
    assert [line.get_label() for line in ax.get_lines()] == ["train (batch)", "validation"]
    np.testing.assert_allclose(ax.get_lines()[1].get_xydata(), [[100, 0.3], [200, 0.5]])
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_ylim()) == ("step", "accuracy", (0, 1))
    assert png_size(ax) == (700, 350)


def test_counts_are_bars_in_the_order_given():
    ax = plot_counts(pd.Series({"baroque": 5, "romantic": 12}), title="slices per period")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["baroque", "romantic"]
    assert [p.get_height() for p in ax.patches] == [5, 12]
    assert (ax.get_ylabel(), ax.get_title()) == ("slices", "slices per period")


def test_protocols_are_grouped_bars_with_their_range_and_chance():
    rows = [{"protocol": p, "recipe": "project", "model": m, "seed": s, "piece_balanced": v}
            for p, m, s, v in [("within", "mobilenet", 0, 0.6), ("within", "mobilenet", 1, 0.8),
                               ("within", "reference", 0, 0.5), ("composer", "mobilenet", 0, 0.4),
                               ("composer", "reference", 0, 0.45)]]
    ax = plot_protocols(rows, chance={"within": 0.25})
    assert [t.get_text() for t in ax.get_xticklabels()] == ["within", "composer"]
    assert [round(p.get_height(), 1) for p in ax.patches] == [70.0, 40.0, 50.0, 45.0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "project MobileNet", "project reference"]
    chance_lines = [line for line in ax.get_lines() if line.get_ydata()[0] == 25.0]
    assert len(chance_lines) == 1
    assert ax.get_ylabel() == "balanced accuracy, test pieces (%)"
