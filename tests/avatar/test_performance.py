"""The performance built from hand-made phoneme timing and emotion plans."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from avatar.errors import AvatarError
from avatar.performance import Performance, perform
from avatar.timing import num_frames_for
from avatar.visemes import normalize_symbol, viseme_targets
from emotion.types import VALENCE_AROUSAL, EmotionPlan, Segment
from voice.types import Phoneme, Utterance

RATE = 22050
FPS = 25


def make_utterance(spans: list[tuple[str, int, int]], waveform: np.ndarray | None = None) -> Utterance:
    """Build an Utterance from (symbol, milliseconds, segment) triples over a silent waveform."""
    phonemes = []
    position = 0
    for symbol, milliseconds, segment in spans:
        length = milliseconds * RATE // 1000
        phonemes.append(Phoneme(symbol, position, position + length, segment))
        position += length
    samples = np.zeros(position, dtype=np.float32) if waveform is None else waveform[:position]
    segments = sorted({segment for _, _, segment in spans})
    segment_spans = tuple(
        (min(p.start for p in phonemes if p.segment == s), max(p.end for p in phonemes if p.segment == s)) for s in segments
    )
    return Utterance(samples, RATE, tuple(phonemes), segment_spans, "test")


def make_plan(*emotions: str, intensity: float = 0.8, ramp_ms: int = 300) -> EmotionPlan:
    segments = tuple(
        Segment(index, "text", "en", emotion, intensity, *VALENCE_AROUSAL[emotion], "override")
        for index, emotion in enumerate(emotions)
    )
    return EmotionPlan(segments, "en", ramp_ms=ramp_ms)


def frame_at(milliseconds: float) -> int:
    return round(milliseconds / 1000 * FPS)


def vowel_width(performance: Performance, center_ms: float) -> float:
    return float(performance.mouth_width[frame_at(center_ms)])


@pytest.mark.parametrize(
    ("rounded", "spread"),
    [("uː", "iː"), ("ˈoʊ", "ˈiː"), ("ɔː", "ɛ"), ("u4", "i4"), ("ong1", "i1"), ("v3", "ie2"), ("o2", "ei4")],
)
def test_rounded_narrower_than_spread(rounded: str, spread: str) -> None:
    spans = [("sil", 300, 0), (rounded, 300, 0), ("sil", 400, 0), (spread, 300, 0), ("sil", 300, 0)]
    performance = perform(make_utterance(spans), make_plan("neutral"), FPS)
    rounded_width = vowel_width(performance, 450)
    spread_width = vowel_width(performance, 1150)
    assert rounded_width < 0.0
    assert spread_width > 0.0
    assert spread_width - rounded_width > 0.5


def test_silence_closes_mouth() -> None:
    spans = [("sil", 500, 0), ("ˈɑː", 300, 0), ("sil", 500, 0), ("m", 80, 0), ("a3", 250, 0), ("sil", 400, 0)]
    performance = perform(make_utterance(spans), make_plan("happy"), FPS)
    opening = performance.mouth_opening
    assert opening[frame_at(650)] > 0.6
    assert opening[frame_at(1505)] > 0.5
    # Every frame more than 80 ms inside a silence is closed.
    for start, end in ((0, 500), (800, 1300), (1630, 2030)):
        inner = opening[frame_at(start + 80) : frame_at(end - 80)]
        assert inner.max() < 0.05, f"mouth open in the silence {start}-{end} ms"


def test_bilabial_nearly_closes_between_vowels() -> None:
    spans = [("sil", 200, 0), ("ˈɑ", 200, 0), ("m", 90, 0), ("ɑ", 200, 0), ("sil", 200, 0)]
    performance = perform(make_utterance(spans), make_plan("neutral"), FPS)
    assert performance.mouth_opening[frame_at(445)] < 0.5 * performance.mouth_opening[frame_at(300)]


def test_waveform_is_not_read() -> None:
    spans = [("sil", 200, 0), ("h", 60, 0), ("ə", 120, 0), ("l", 60, 0), ("oʊ", 200, 0), ("sil", 300, 0)]
    noise = np.random.default_rng(3).uniform(-1, 1, RATE).astype(np.float32)
    quiet = perform(make_utterance(spans), make_plan("sad"), FPS)
    loud = perform(make_utterance(spans, waveform=noise), make_plan("sad"), FPS)
    np.testing.assert_array_equal(quiet.mouth_opening, loud.mouth_opening)
    np.testing.assert_array_equal(quiet.action_units, loud.action_units)


def test_frame_count_follows_timing() -> None:
    utterance = make_utterance([("sil", 333, 0), ("a1", 171, 0), ("sil", 250, 0)])
    performance = perform(utterance, make_plan("neutral"), 30)
    expected = num_frames_for(len(utterance.waveform), RATE, 30)
    assert performance.num_frames == expected
    for array in (performance.mouth_width, performance.blink, performance.head_rotation, performance.action_units):
        assert len(array) == expected


def test_happy_and_sad_action_units() -> None:
    spans = [("sil", 300, 0), ("ˈæ", 300, 0), ("sil", 300, 0)]
    happy = perform(make_utterance(spans), make_plan("happy"), FPS)
    sad = perform(make_utterance(spans), make_plan("sad"), FPS)
    middle = frame_at(450)
    assert happy.action_unit("AU12")[middle] > 0.5
    assert happy.action_unit("AU15")[middle] == 0.0
    assert sad.action_unit("AU15")[middle] > 0.5
    assert sad.action_unit("AU1")[middle] > sad.action_unit("AU4")[middle]
    assert sad.action_unit("AU12")[middle] == 0.0


def test_expression_ramps_between_segments() -> None:
    spans = [("sil", 200, 0), ("a1", 1000, 0), ("sil", 200, 0), ("i4", 1000, 1), ("sil", 200, 1)]
    performance = perform(make_utterance(spans), make_plan("happy", "sad"), FPS)
    smile = performance.action_unit("AU12")
    frown = performance.action_unit("AU15")
    boundary = frame_at(1400)
    assert smile[frame_at(700)] > 0.75
    assert frown[frame_at(1900)] > 0.7
    # A gradual change: no frame-to-frame jump larger than a quarter of the way.
    assert np.abs(np.diff(smile)).max() < 0.25 * smile.max()
    assert 0.2 * smile.max() < smile[boundary] < 0.8 * smile.max()
    # The change takes roughly 300 ms (10-90 %), not one frame and not seconds.
    rising = np.flatnonzero((frown > 0.1 * frown.max()) & (frown < 0.9 * frown.max()))
    assert 4 <= len(rising) <= 12
    assert performance.emotion[frame_at(700)] != performance.emotion[frame_at(1900)]


def test_ramp_time_follows_the_preset() -> None:
    from emotion.arc import PRESETS

    spans = [("sil", 200, 0), ("a1", 1500, 0), ("sil", 200, 0), ("i4", 1500, 1), ("sil", 200, 1)]

    def transition_frames(preset: str) -> int:
        plan = make_plan("happy", "sad", ramp_ms=PRESETS[preset].ramp_ms)
        frown = perform(make_utterance(spans), plan, FPS).action_unit("AU15")
        return len(np.flatnonzero((frown > 0.1 * frown.max()) & (frown < 0.9 * frown.max())))

    # news ramps over 600 ms, vlog over 300 ms: 15 and 7.5 frames at 25 fps, within a frame or two.
    assert abs(transition_frames("news") - 15) <= 2
    assert abs(transition_frames("vlog") - 7.5) <= 2
    assert transition_frames("news") > transition_frames("vlog")


def test_blinks_at_natural_intervals() -> None:
    utterance = make_utterance([("sil", 30000, 0)])
    performance = perform(utterance, make_plan("neutral"), FPS, seed=11)
    closed = performance.blink > 0.5
    starts = np.flatnonzero(closed[1:] & ~closed[:-1]) + 1
    assert 4 <= len(starts) <= 15
    intervals = np.diff(starts) / FPS
    assert intervals.min() >= 2.0
    assert intervals.max() <= 6.5
    assert performance.blink.max() > 0.95
    # Each blink lasts 150-250 ms; at 25 fps more than half-closed for 1 to 5 frames.
    lengths = [np.argmin(closed[start:]) for start in starts]
    assert max(lengths) <= 5


def test_same_seed_same_performance() -> None:
    spans = [("sil", 300, 0), ("n", 80, 0), ("i3", 200, 0), ("h", 60, 0), ("ao3", 300, 0), ("sil", 4000, 0)]
    first = perform(make_utterance(spans), make_plan("surprised"), FPS, seed=5)
    again = perform(make_utterance(spans), make_plan("surprised"), FPS, seed=5)
    other = perform(make_utterance(spans), make_plan("surprised"), FPS, seed=6)
    for name in ("mouth_opening", "mouth_width", "action_units", "blink", "head_rotation", "head_translation"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    assert not np.array_equal(first.head_rotation, other.head_rotation)


def test_head_motion_small_and_smooth() -> None:
    utterance = make_utterance([("sil", 500, 0)] + [("a1", 150, 0), ("t", 60, 0)] * 40 + [("sil", 500, 0)])
    performance = perform(utterance, make_plan("neutral"), FPS, seed=2)
    rotation = performance.head_rotation
    assert np.abs(rotation).max() < 6.0
    assert rotation.std(axis=0).min() > 0.1
    assert np.abs(np.diff(rotation, axis=0)).max() < 0.6


def test_unknown_symbol_warned_once(caplog: pytest.LogCaptureFixture) -> None:
    spans = [("sil", 100, 0), ("⊗", 100, 0), ("a", 100, 0), ("⊗", 100, 0), ("sil", 100, 0)]
    with caplog.at_level(logging.WARNING, logger="avatar.visemes"):
        perform(make_utterance(spans), make_plan("neutral"), FPS)
    warnings = [record for record in caplog.records if "⊗" in record.getMessage()]
    assert len(warnings) == 1


def test_symbol_normalisation() -> None:
    assert normalize_symbol("ˈaː") == "a"
    assert normalize_symbol("ong1") == "ong"
    assert normalize_symbol("ɪ#2") == "ɪ"
    assert normalize_symbol("n̩") == "n"
    # Pinyin "e" with a tone is [ɤ], narrower than IPA [e].
    assert viseme_targets("e4")[0][0].width < viseme_targets("e")[0][0].width
    assert len(viseme_targets("iao3")) == 3
    assert viseme_targets("sil")[0][0].opening == 0.0


def test_segment_outside_plan_rejected() -> None:
    utterance = make_utterance([("sil", 100, 0), ("a1", 100, 2)])
    with pytest.raises(AvatarError) as caught:
        perform(utterance, make_plan("neutral"), FPS)
    assert caught.value.key == "phoneme_segment_invalid"
    assert caught.value.params["segment"] == 2


def test_invalid_fps_rejected() -> None:
    with pytest.raises(AvatarError) as caught:
        perform(make_utterance([("sil", 100, 0)]), make_plan("neutral"), 0)
    assert caught.value.key == "invalid_fps"


def test_broken_utterance_rejected() -> None:
    utterance = make_utterance([("sil", 100, 0), ("a1", 100, 0)])
    broken = Utterance(utterance.waveform[:-10], RATE, utterance.phonemes, utterance.segment_spans, "test")
    with pytest.raises(AvatarError) as caught:
        perform(broken, make_plan("neutral"), FPS)
    assert caught.value.key == "invalid_utterance"


def test_quiet_consonants_at_pause_edges_stay_closed() -> None:
    """Consonants between a pause and a vowel are near-silent, so the mouth stays shut through them."""
    spans = [("sil", 400, 0), ("t", 120, 0), ("a1", 300, 0), ("f", 120, 0), ("sil", 400, 0)]
    performance = perform(make_utterance(spans), make_plan("neutral"), FPS)
    opening = performance.mouth_opening
    assert opening[frame_at(440)] < 0.1  # inside the initial "t", after the pause
    assert opening[frame_at(670)] > 0.5  # the vowel
    assert opening[frame_at(900)] < 0.1  # inside the final "f", before the pause


def test_pause_edges_keep_spans_contiguous() -> None:
    from avatar.performance import _close_around_pauses

    spans = [("k", 80, 0), ("sil", 200, 0), ("t", 100, 0), ("a1", 200, 0), ("s", 90, 0), ("sil", 100, 0), ("m", 60, 0)]
    utterance = make_utterance(spans)
    closed = _close_around_pauses(utterance.phonemes, 0.06 * RATE)
    assert closed[0][1] == 0.0
    for (_, _, end), (_, start, _) in zip(closed, closed[1:], strict=False):
        assert start == end
    assert closed[-1][2] == float(len(utterance.waveform))
