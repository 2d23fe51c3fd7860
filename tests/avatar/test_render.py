"""Rendered frames, checked by detecting the landmarks again with mediapipe."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from avatar.errors import AvatarError
from avatar.face import Portrait, detect_faces, load_portrait
from avatar.performance import perform
from avatar.render import Renderer
from tests.avatar.test_performance import FPS, frame_at, make_plan, make_utterance

PORTRAITS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "portraits"
needs_data = pytest.mark.skipif(not PORTRAITS.is_dir(), reason=f"real portraits not found at {PORTRAITS}")

# Vowels 300 ms long between 400 ms silences: "oh", "oo", "ee", "eh".
SPANS = [("sil", 400, 0), ("ˈoʊ", 300, 0), ("sil", 400, 0), ("uː", 300, 0), ("sil", 400, 0), ("iː", 300, 0), ("sil", 400, 0), ("ɛ", 300, 0), ("sil", 400, 0)]
ROUNDED_MS = (550, 1250)
SPREAD_MS = (1950, 2650)
SILENCE_MS = (200, 900, 1600)
OPEN_MS = 2650


def measure(image: np.ndarray) -> dict[str, float]:
    """Re-detect the face and return mouth and brow measures in face heights."""
    faces = detect_faces(image)
    assert faces, "no face detected on the rendered frame"
    face = max(faces, key=lambda points: np.ptp(points[:, 0]) * np.ptp(points[:, 1]))
    height = float(np.linalg.norm(face[10, :2] - face[152, :2]))
    mouth_center_y = (face[13, 1] + face[14, 1]) / 2
    eye_y = (face[159, 1] + face[386, 1]) / 2
    return {
        "gap": float(face[14, 1] - face[13, 1]) / height,
        "width": float(np.linalg.norm(face[61, :2] - face[291, :2])) / height,
        "corner_lift": float(mouth_center_y - (face[61, 1] + face[291, 1]) / 2) / height,
        "inner_brow_lift": float(eye_y - (face[107, 1] + face[336, 1]) / 2) / height,
    }


@pytest.fixture(scope="module", params=["default", "p01_real_frontal_woman_people0.png"])
def renderer(request: pytest.FixtureRequest) -> Renderer:
    if request.param == "default":
        portrait = load_portrait(None)
    else:
        if not PORTRAITS.is_dir():
            pytest.skip(f"real portraits not found at {PORTRAITS}")
        portrait = load_portrait(PORTRAITS / request.param)
    return Renderer(portrait, 384)


def render_measures(renderer: Renderer, emotion: str, moments_ms: tuple[float, ...]) -> list[dict[str, float]]:
    performance = perform(make_utterance(SPANS), make_plan(emotion), FPS)
    return [measure(renderer.render(performance, frame_at(moment)).image) for moment in moments_ms]


def test_happy_corners_higher_than_sad(renderer: Renderer) -> None:
    moments = SILENCE_MS + (OPEN_MS,)
    happy = render_measures(renderer, "happy", moments)
    sad = render_measures(renderer, "sad", moments)
    for moment, happy_measure, sad_measure in zip(moments, happy, sad, strict=True):
        lift = happy_measure["corner_lift"] - sad_measure["corner_lift"]
        assert lift >= 0.02, f"at {moment} ms the happy corners are only {lift:.3f} face heights higher"
        brow = sad_measure["inner_brow_lift"] - happy_measure["inner_brow_lift"]
        assert brow > 0.005, f"at {moment} ms the sad inner brows are not raised ({brow:.3f})"


def test_rounded_vowels_narrower(renderer: Renderer) -> None:
    rounded = render_measures(renderer, "neutral", ROUNDED_MS)
    spread = render_measures(renderer, "neutral", SPREAD_MS)
    narrowest_spread = min(measure["width"] for measure in spread)
    for moment, measure in zip(ROUNDED_MS, rounded, strict=True):
        assert measure["width"] < narrowest_spread - 0.01, f"the rounded vowel at {moment} ms is not narrower"


def test_silence_closes_rendered_mouth(renderer: Renderer) -> None:
    measures = render_measures(renderer, "happy", SILENCE_MS + (OPEN_MS, 550))
    open_gap = 0.5 * (measures[-2]["gap"] + measures[-1]["gap"])
    assert open_gap > 0.03
    for moment, measure in zip(SILENCE_MS, measures, strict=False):
        assert measure["gap"] < 0.3 * open_gap, f"the mouth is open in the silence at {moment} ms"


@needs_data
def test_frames_have_requested_size() -> None:
    portrait = load_portrait(PORTRAITS / "p06_real_cn_female_host_sun.png")  # 576 x 768
    renderer = Renderer(portrait, 301)
    # 576 x 768 scaled to 301 px gives 225.75 x 301, rounded to even sides.
    assert renderer.width == 226
    assert renderer.height == 300
    assert abs(renderer.width / renderer.height - portrait.width / portrait.height) < 0.01
    performance = perform(make_utterance([("sil", 200, 0), ("a1", 200, 0), ("sil", 100, 0)]), make_plan("happy"), FPS)
    frames = renderer.frames(performance)
    assert isinstance(frames, Iterator)
    count = 0
    for image, alpha in frames:
        assert image.shape == (renderer.height, renderer.width, 3)
        assert image.dtype == np.uint8
        assert alpha.shape == (renderer.height, renderer.width)
        assert alpha.dtype == np.uint8
        count += 1
    assert count == performance.num_frames


def test_mask_follows_the_warp() -> None:
    portrait = load_portrait(None)
    mask = np.zeros_like(portrait.mask)
    mask[:, : portrait.width // 2] = 255  # left half only, so any warp of it shows
    halves = Portrait(portrait.image, portrait.landmarks, mask, "alpha", None)
    renderer = Renderer(halves, 256)
    performance = perform(make_utterance([("sil", 200, 0), ("a1", 400, 0), ("sil", 200, 0)]), make_plan("neutral"), FPS, seed=4)
    frame = renderer.render(performance, frame_at(400))
    # Unmoved rows keep the straight edge; the mask stays binary-ish and changes where the face moved.
    assert frame.alpha[5, : renderer.width // 2 - 2].min() == 255
    assert frame.alpha[5, renderer.width // 2 + 2 :].max() == 0
    assert frame.alpha.shape == (renderer.height, renderer.width)


def test_render_time_per_frame(caplog: pytest.LogCaptureFixture) -> None:
    renderer = Renderer(load_portrait(None), 512)
    spans = [("sil", 200, 0)] + [("b", 60, 0), ("a1", 160, 0), ("sh", 80, 0), ("iii4", 140, 0)] * 5 + [("sil", 200, 0)]
    performance = perform(make_utterance(spans), make_plan("happy"), FPS)
    renderer.render(performance, 0)
    started = time.perf_counter()
    for _ in renderer.frames(performance):
        pass
    per_frame_ms = (time.perf_counter() - started) / performance.num_frames * 1000
    logging.getLogger(__name__).info("render: %.1f ms per 512x512 frame", per_frame_ms)
    # NOTE: about 10 ms on an idle 2-core CI machine; the bound leaves room for a busy one.
    assert per_frame_ms < 60


def test_invalid_size_rejected() -> None:
    with pytest.raises(AvatarError) as caught:
        Renderer(load_portrait(None), 10)
    assert caught.value.key == "invalid_size"
