"""The listen-and-classify demo's widgets, driven headless through their values.

The widget's logic is tested against a stub model with known answers
(tests/conftest.py); one test and the out-of-domain one use a real model
trained by notebook 04.
"""

import io
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from cclib.classify import audio_slices, load_period_model
from cclib.widgets import ListenAndClassify, bars_html, clock, slice_audio

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_model(trial_runs):
    """A real model trained by notebook 04 on the small corpus (Bach and Palestrina)."""
    return load_period_model(trial_runs / "runs" / "piece" / "trial-00")


@pytest.fixture
def period_model(stub_model):
    return stub_model


@pytest.fixture
def demo(period_model, small_corpus):
    return ListenAndClassify(period_model, small_corpus)


@pytest.fixture
def real_demo(real_model, small_corpus):
    return ListenAndClassify(real_model, small_corpus)


def decoded(wav: bytes):
    y, sr = sf.read(io.BytesIO(wav))
    return y, sr


def shares_shown(bars: str) -> list[tuple[str, float]]:
    rows = bars.split('data-period="')[1:]
    return [(row.split('"')[0], float(row.split('class="cclib-share">')[1].split("%")[0]))
            for row in rows]


def test_choosing_a_piece_classifies_every_slice_and_shows_the_first(real_demo, real_model,
                                                                    small_corpus):
    demo, period_model = real_demo, real_model  # end to end, with a trained network
    assert sorted(name for _, name in demo.piece.options) == [
        "Bach_1.wav", "Bach_2.wav", "Palestrina_1.wav", "Palestrina_2.wav"]
    corpus = pd.read_csv(small_corpus / "corpus.csv").set_index("file")
    for label, name in demo.piece.options:  # composer, the score's title and the period
        period = "baroque" if name.startswith("Bach") else "renaissance"
        assert label == f"{corpus.composer[name]} – {corpus.title[name]} ({period})"
    demo.piece.value = "Bach_1.wav"
    assert corpus.title["Bach_1.wav"] in demo.heading.value
    slices = audio_slices(small_corpus / "Bach_1.wav", period_model.front_end).slices
    expected = period_model.predict(slices)
    np.testing.assert_allclose(demo.listening.probabilities, expected, atol=1e-5)
    assert demo.position.max == len(slices) - 1 and demo.position.value == 0
    shown = shares_shown(demo.bars.value)
    best = int(np.argmax(expected[0]))
    assert shown[0] == (period_model.classes[best], pytest.approx(100 * expected[0][best], abs=0.05))
    assert [share for _, share in shown] == sorted((share for _, share in shown), reverse=True)
    verdict = period_model.classes[int(np.argmax(expected.mean(axis=0)))]
    assert f"<b>{verdict}</b>" in demo.verdict.value and "baroque" in demo.verdict.value
    lead = sorted(expected.mean(axis=0))[-1] - sorted(expected.mean(axis=0))[-2]
    assert f"Lead over the next period: {100 * lead:.1f} points" in demo.verdict.value
    assert "out-of-domain score" in demo.verdict.value
    y, sr = decoded(demo.player.value)
    assert sr == period_model.front_end.sr and len(y) == 3 * sr
    assert demo.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert demo.message.value == ""


def test_a_long_piece_says_it_is_working_and_locks_the_controls_until_ready(demo, monkeypatch):
    import cclib.widgets

    seen = []
    real = cclib.widgets.analyse_audio

    def watched(*args, **kwargs):
        seen.append((demo.message.value, demo.piece.disabled, demo.position.disabled,
                     demo.heading.value))
        return real(*args, **kwargs)

    monkeypatch.setattr(cclib.widgets, "analyse_audio", watched)
    demo.piece.value = "Bach_1.wav"
    demo.piece.value = "Palestrina_1.wav"
    message, piece_locked, slider_locked, heading = seen[1]
    assert "classifying" in message and "slices of Palestrina_1.wav" in message
    assert piece_locked and slider_locked and "Bach" in heading  # the old piece, named as such
    assert not demo.piece.disabled and demo.message.value == "" and "Palestrina" in \
        demo.heading.value


def test_the_step_buttons_move_one_slice_within_the_piece(demo):
    demo.piece.value = "Bach_1.wav"
    demo.forward.click()
    demo.forward.click()
    assert demo.position.value == 2
    demo.back.click()
    start = 3 * int(demo.listening.index[1])
    assert demo.position.value == 1 and demo.when.value == f"{clock(start)} to {clock(start + 3)}"
    for _ in range(3):
        demo.back.click()
    assert demo.position.value == 0


def test_the_player_neither_autoplays_nor_loops_and_the_slider_waits_for_release(demo):
    assert demo.player.autoplay is False and demo.player.loop is False
    assert demo.position.continuous_update is False


def test_moving_the_slider_shows_that_slice(demo, period_model):
    demo.piece.value = "Palestrina_1.wav"
    probabilities = demo.listening.probabilities
    k = int(np.argmax(np.abs(probabilities - probabilities[0]).sum(axis=1)))
    assert k > 0, "the test piece needs two slices the model tells apart"
    before = demo.bars.value
    demo.position.value = k
    assert demo.bars.value == bars_html(period_model.classes, probabilities[k])
    assert demo.bars.value != before
    y, sr = decoded(demo.player.value)
    index = int(demo.listening.index[k])  # the slider runs over the slices the model hears
    expected = slice_audio(demo.listening.y, index, sr=sr, seconds=3.0)
    np.testing.assert_allclose(y, expected, atol=1 / 2**15 + 1e-6)


def upload_item(name: str, content: bytes) -> dict:
    return {"name": name, "type": "audio/wav", "size": len(content),
            "content": memoryview(content), "last_modified": datetime.now(timezone.utc)}


def test_an_upload_is_classified_and_a_bad_one_leaves_one_line_and_the_demo_usable(
        demo, small_corpus, period_model):
    content = (small_corpus / "Palestrina_2.wav").read_bytes()
    demo.upload.value = (upload_item("my recording.wav", content),)
    assert demo.listening.name == "my recording.wav"
    assert demo.upload.value == ()  # emptied, so the same file can be uploaded again
    slices = audio_slices(small_corpus / "Palestrina_2.wav", period_model.front_end).slices
    np.testing.assert_allclose(demo.listening.probabilities, period_model.predict(slices),
                               atol=1e-5)
    good_bars = demo.bars.value

    demo.upload.value = (upload_item("broken.wav", b"RIFF\x00\x00not really audio"),)
    message = demo.message.value
    assert "broken.wav" in message and "cclib-upload" not in message
    assert "\n" not in message and message.count("<span") == 1
    assert demo.listening.name == "my recording.wav" and demo.bars.value == good_bars
    demo.position.value = 1  # still usable
    assert demo.bars.value == bars_html(period_model.classes, demo.listening.probabilities[1])
    demo.piece.value = "Bach_2.wav"
    assert demo.message.value == "" and demo.listening.name == "Bach_2.wav"


def test_music_unlike_the_training_music_is_flagged_and_silence_is_never_judged(
        real_demo, real_model):
    demo, period_model = real_demo, real_model
    from cclib.widgets import analyse_audio

    sr = period_model.front_end.sr
    rng = np.random.default_rng(0)
    noise = (0.3 * rng.standard_normal(12 * sr)).astype(np.float32)  # no music at all
    noise[3 * sr:6 * sr] = 0.0  # ... and a silent slice, which the model never hears
    listening = analyse_audio(period_model, noise, "noise.wav")
    assert listening.index.tolist() == [0, 2, 3]
    assert listening.out_of_domain > period_model.domain.threshold
    demo._show(listening)
    assert "unlike the music the model was trained on" in demo.verdict.value
