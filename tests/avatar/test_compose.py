"""Compositor: backgrounds, burned-in subtitles, the AI label, CJK glyphs."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from avatar.compose import Background, Compositor, load_font, wrap_text
from avatar.errors import AvatarError
from avatar.subtitles import Cue

FPS = 25
SAMPLE_RATE = 16000
SAMPLES_PER_FRAME = SAMPLE_RATE // FPS
# A code point in a Private Use Area: no font has a glyph for it, so it draws
# as the font's .notdef box ("tofu").
MISSING_GLYPH = "\U000f0000"


def portrait_frame(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Return a textured image and a mask whose person is an ellipse in the middle."""
    rng = np.random.default_rng(0)
    image = rng.integers(60, 200, size=(height, width, 3), dtype=np.uint8)
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).ellipse((width * 0.3, height * 0.2, width * 0.7, height * 0.9), fill=255)
    return image, np.asarray(mask)


def cue_frames(cue: Cue) -> range:
    return range(cue.start_sample // SAMPLES_PER_FRAME, cue.end_sample // SAMPLES_PER_FRAME)


def test_background_parse_values():
    assert Background.parse(None).kind == "portrait"
    assert Background.parse("portrait").kind == "portrait"
    color = Background.parse("#1F2a44")
    assert (color.kind, color.color) == ("color", (0x1F, 0x2A, 0x44))


@pytest.mark.parametrize("value", ["#12345", "#GGGGGG", "#1234567"])
def test_background_rejects_bad_color(value):
    with pytest.raises(AvatarError) as caught:
        Background.parse(value)
    assert caught.value.key == "invalid_color"


def test_background_rejects_missing_or_bad_file():
    with tempfile.TemporaryDirectory() as folder:
        with pytest.raises(AvatarError) as caught:
            Background.parse(str(Path(folder) / "nope.png"))
        assert caught.value.key == "background_not_found"
        assert "nope.png" in caught.value.message("en")

        not_an_image = Path(folder) / "notes.png"
        not_an_image.write_text("not an image")
        with pytest.raises(AvatarError) as caught:
            Background.parse(str(not_an_image))
        assert caught.value.key == "background_unreadable"


def test_color_background_replaces_outside_mask():
    width, height = 320, 256
    image, alpha = portrait_frame(width, height)
    compositor = Compositor(width, height, FPS, SAMPLE_RATE, [], Background.parse("#102030"), "en")
    frame = compositor.compose(0, image, alpha)

    assert frame.shape == (height, width, 3)
    assert frame.dtype == np.uint8
    # Feathering softens a few pixels along the mask's edge; look further in.
    far_outside = cv2.distanceTransform((alpha == 0).astype(np.uint8), cv2.DIST_L2, 3) > 6
    far_inside = cv2.distanceTransform((alpha == 255).astype(np.uint8), cv2.DIST_L2, 3) > 6
    left, top, right, bottom = compositor.label_box
    for region in (far_outside, far_inside):
        region[top:bottom, left:right] = False
    assert far_outside.sum() > 1000
    assert far_inside.sum() > 1000
    assert np.all(frame[far_outside] == (0x10, 0x20, 0x30))
    difference = np.abs(frame[far_inside].astype(int) - image[far_inside].astype(int))
    assert difference.max() <= 1
    # Along the edge the two are mixed, so no hard seam.
    edge = (alpha > 0) != (cv2.erode(alpha, np.ones((3, 3), np.uint8)) > 0)
    edge_values = frame[edge].astype(int)
    assert np.mean(np.all(edge_values == (0x10, 0x20, 0x30), axis=1)) < 0.5


def test_image_background_covers_frame():
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bg.png"
        gradient = np.zeros((100, 300, 3), dtype=np.uint8)
        gradient[:, :, 0] = np.linspace(0, 255, 300, dtype=np.uint8)[None, :]
        Image.fromarray(gradient).save(path)
        background = Background.parse(str(path))
        plate = background.plate(256, 256)
    assert plate is not None and plate.shape == (256, 256, 3)
    # Cover-fit crops the wide image's sides: the red ramp is centred, not squeezed.
    assert 60 < plate[:, 0, 0].mean() < 100
    assert 155 < plate[:, -1, 0].mean() < 195


def test_portrait_background_keeps_image():
    image, alpha = portrait_frame(256, 256)
    compositor = Compositor(256, 256, FPS, SAMPLE_RATE, [], Background.parse(None), "en")
    frame = compositor.compose(0, image, np.zeros_like(alpha))
    left, top, right, bottom = compositor.label_box
    untouched = np.ones(alpha.shape, dtype=bool)
    untouched[top:bottom, left:right] = False
    assert np.array_equal(frame[untouched], image[untouched])


@pytest.mark.parametrize(("width", "height"), [(256, 256), (720, 1280), (1920, 1080)])
def test_subtitle_only_in_bottom_band(width, height):
    cue = Cue(1, 0, SAMPLE_RATE, "今天天气很好，我们一起去公园散步吧！Let's go to the park together.")
    compositor = Compositor(width, height, FPS, SAMPLE_RATE, [cue], Background.parse("#000000"), "zh")
    image, alpha = portrait_frame(width, height)
    with_text = compositor.compose(5, image, alpha).astype(int)
    without_text = compositor.compose(40, image, alpha).astype(int)  # after the cue ends

    changed_rows = np.flatnonzero(np.abs(with_text - without_text).max(axis=(1, 2)) > 0)
    assert len(changed_rows) > 0
    band_top, band_bottom = compositor.subtitle_band
    assert changed_rows.min() >= band_top
    assert changed_rows.max() < band_bottom
    assert changed_rows.min() > height * 0.6
    label_bottom = compositor.label_box[3]
    assert label_bottom < band_top


def test_label_in_every_frame():
    cue = Cue(1, 0, 2 * SAMPLE_RATE, "A subtitle that is on screen at the same time.")
    image, alpha = portrait_frame(256, 256)
    for language in ("en", "zh"):
        compositor = Compositor(256, 256, FPS, SAMPLE_RATE, [cue], Background.parse(None), language)
        assert compositor.label_text == "AI生成 / AI-generated"
        left, top, right, bottom = compositor.label_box
        # The label sits in the top-right corner.
        assert right <= 256
        assert top >= 0
        assert left > 64
        for index in (0, 10, 60):
            frame = compositor.compose(index, image, alpha)
            region = frame[top:bottom, left:right].astype(int)
            original = image[top:bottom, left:right].astype(int)
            # The translucent box darkens the corner and the white text brightens it.
            assert (region.mean(axis=2) < original.mean(axis=2) - 30).mean() > 0.3
            assert (region.min(axis=2) > 230).sum() > 10


def test_subtitle_follows_cue_times():
    cues = [
        Cue(1, 0, 8 * SAMPLES_PER_FRAME, "First line"),
        Cue(2, 12 * SAMPLES_PER_FRAME, 20 * SAMPLES_PER_FRAME, "第二句"),
    ]
    compositor = Compositor(256, 256, FPS, SAMPLE_RATE, cues, Background.parse("#000000"), "en")
    image, alpha = portrait_frame(256, 256)
    blank = compositor.compose(10, image, alpha)  # between the cues
    band = slice(compositor.subtitle_band[0], 256)
    shown = []
    for index in range(0, 24):
        frame = compositor.compose(index, image, alpha)
        shown.append(bool(np.any(frame[band] != blank[band])))
    expected = [index in cue_frames(cues[0]) or index in cue_frames(cues[1]) for index in range(24)]
    assert shown == expected


def test_chinese_glyphs_render():
    font = load_font(48)

    def ink(text: str) -> np.ndarray:
        canvas = Image.new("L", (200, 80), 0)
        ImageDraw.Draw(canvas).text((10, 10), text, font=font, fill=255)
        return np.asarray(canvas) > 128

    hello = ink("你好")
    tofu = ink(MISSING_GLYPH * 2)
    assert hello.sum() > 400
    assert np.mean(hello != tofu) > 0.05
    # Two different characters are two different glyphs, unlike two tofu boxes.
    left, right = hello[:, :58], hello[:, 58:116]
    assert np.mean(left != right) > 0.05


def test_wrap_chinese_per_character_english_per_word():
    font = load_font(28)
    chinese = wrap_text("今天天气很好我们一起去公园散步吧你觉得怎么样", font, 200)
    assert len(chinese) > 1
    assert "".join(chinese) == "今天天气很好我们一起去公园散步吧你觉得怎么样"
    assert all(font.getlength(line) <= 200 for line in chinese)

    english = wrap_text("The quick brown fox jumps over the lazy dog", font, 200)
    assert len(english) > 1
    assert " ".join(english) == "The quick brown fox jumps over the lazy dog"
    assert all(font.getlength(line) <= 200 for line in english)


def test_wrap_keeps_punctuation_off_line_start():
    font = load_font(28)
    text = "一二三四五六七，八九十"
    # Find a width where the comma would be the first character of line two.
    width = font.getlength("一二三四五六七") + 1
    lines = wrap_text(text, font, width)
    assert "".join(lines) == text
    assert all(not line.startswith("，") for line in lines)


def test_long_subtitle_limited_to_two_lines():
    text = "这是一段非常非常长的字幕文字，" * 6
    compositor = Compositor(256, 256, FPS, SAMPLE_RATE, [], Background.parse(None), "zh")
    overlay = compositor.render_subtitle(text)
    assert overlay is not None
    line_pitch = compositor.subtitle_font_size * 1.2
    assert overlay.weight.shape[0] < 2.6 * line_pitch
    assert overlay.top >= compositor.subtitle_band[0]


def test_compose_rejects_wrong_frame():
    compositor = Compositor(256, 256, FPS, SAMPLE_RATE, [], Background.parse("#000000"), "en")
    image, alpha = portrait_frame(256, 256)
    with pytest.raises(AvatarError) as caught:
        compositor.compose(0, image[:, :200], alpha)
    assert caught.value.key == "invalid_frame"
    with pytest.raises(AvatarError) as caught:
        compositor.compose(0, image.astype(np.float32), alpha)
    assert caught.value.key == "invalid_frame"


def test_compositor_rejects_bad_size():
    with pytest.raises(AvatarError) as caught:
        Compositor(100, 256, FPS, SAMPLE_RATE, [], Background.parse(None), "en")
    # A narrow portrait: the message gives the --size that makes the shorter side large enough.
    assert caught.value.key == "frame_too_narrow"
    assert "--size 328" in caught.value.message("en")
    with pytest.raises(AvatarError) as caught:
        Compositor(2000, 1000, FPS, SAMPLE_RATE, [], Background.parse(None), "en")
    assert caught.value.key == "invalid_size"


def test_compose_cost_per_frame():
    cues = [Cue(1, 0, SAMPLE_RATE * 4, "今天天气很好，我们一起去公园散步吧！")]
    compositor = Compositor(512, 512, FPS, SAMPLE_RATE, cues, Background.parse("#1f2a44"), "zh")
    image, alpha = portrait_frame(512, 512)
    compositor.compose(0, image, alpha)  # renders and caches the subtitle
    start = time.perf_counter()
    for index in range(1, 51):
        compositor.compose(index, image, alpha)
    per_frame = (time.perf_counter() - start) / 50
    # About 1.4 ms on one busy core when measured; a loose bound for slow CI.
    assert per_frame < 0.015


def test_emoji_left_out_of_drawn_text():
    from avatar.compose import printable

    # Noto Sans CJK has no emoji; drawn, they would be empty boxes.
    assert printable("🔴 直播 LIVE 🎉") == " 直播 LIVE "
    assert printable("普通文字，no emoji.") == "普通文字，no emoji."
    compositor = Compositor(256, 256, 25, 16000, [], Background(), "zh")
    assert compositor.render_subtitle("🎉🎉") is None
    with_emoji = compositor.render_subtitle("晚上好🎉")
    without = compositor.render_subtitle("晚上好")
    assert np.array_equal(with_emoji.rgb, without.rgb)
