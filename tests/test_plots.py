"""The figures: what each axis, tick, bar and label says, and the size of the saved image."""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from cclib.plots import (plot_confusion, plot_counts, plot_cross_table,  # noqa: E402
                         plot_dendrogram, plot_map, plot_period_bars, plot_protocols,
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


def test_map_labels_do_not_overlap_and_dots_grow_with_slices():
    from cclib.plots import _overlap_area

    xy = np.array([[0.0, 0.0], [0.02, 0.01], [0.01, -0.02], [1.0, 1.0], [1.02, 0.99]])
    names = ["Corelli", "Monteverdi", "Trecento", "Handel", "Schoenberg"]
    ax = plot_map(xy, names, ["baroque"] * 4 + ["20thcentury"], sizes=[10, 40, 90, 10, 10])
    assert sorted(texts(ax)) == sorted(names)  # room for every label here
    renderer = ax.figure.canvas.get_renderer()
    boxes = [text.get_window_extent(renderer) for text in ax.texts]
    overlaps = [(a, b) for i, a in enumerate(names) for j, b in enumerate(names)
                if i < j and _overlap_area(boxes[i], boxes[j]) > 0]
    assert overlaps == []
    areas = np.concatenate([collection.get_sizes() for collection in ax.collections])
    assert areas[2] > areas[1] > areas[0] and areas[0] == areas[3]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["baroque", "20thcentury"]


def test_a_crowded_map_leaves_out_the_labels_that_find_no_room():
    from cclib.plots import _overlap_area

    xy = np.random.default_rng(0).normal(size=(150, 2)) * 0.05  # all in one spot
    names = [f"Composer {i}" for i in range(150)]
    sizes = np.arange(150)
    ax = plot_map(xy, names, ["romantic"] * 150, sizes=sizes)
    shown = texts(ax)
    assert 5 < len(shown) < 150 and "Composer 149" in shown  # the largest dot first
    renderer = ax.figure.canvas.get_renderer()
    boxes = [text.get_window_extent(renderer) for text in ax.texts]
    assert not any(_overlap_area(a, b) > 0 for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_the_cross_table_is_a_heatmap_in_percent_with_chance_marked():
    table = pd.DataFrame([[0.6, 0.2], [0.3, 0.5]], index=["piano", "strings"],
                         columns=["piano", "strings"])
    ax = plot_cross_table(table, chance=0.25, title="600 steps")
    assert texts(ax) == ["60.0%", "20.0%\n(≤ chance)", "30.0%", "50.0%"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["piano", "strings"]
    assert ax.get_xlabel() == "tested on" and ax.get_ylabel() == "trained on"
    colour_bar = ax.figure.axes[-1]
    assert colour_bar.get_ylabel() == "balanced accuracy, test slices (chance 25.0 %)"
    assert np.allclose(ax.images[0].get_array(), table.to_numpy())


def test_a_dendrogram_colours_the_two_groups_of_its_top_split():
    from cclib.relations import cluster

    distances = [[0, .2, .9, .9], [.2, 0, .9, .9], [.9, .9, 0, .3], [.9, .9, .3, 0]]
    ax = plot_dendrogram(cluster(distances), ["a", "b", "c", "d"])
    colours = {tuple(np.round(colour, 3)) for collection in ax.collections
               for colour in collection.get_colors()}
    assert len(colours) == 3  # two groups and the grey link above them
    assert ax.get_ylabel() == "distance"


def test_a_few_slices_for_a_class_are_drawn_large_enough_to_read():
    from cclib.plots import plot_slice_grid

    slices = np.random.default_rng(0).normal(-40, 10, size=(2, 128, 129))
    axes = plot_slice_grid(slices, ncols=2, panel=4.5, titles=["Bach_1_3", "Byrd_2_7"])
    width, height = png_size(axes[0], dpi=120)
    assert width >= 1000 and height >= 550
    assert [ax.get_title() for ax in axes] == ["Bach_1_3", "Byrd_2_7"]
