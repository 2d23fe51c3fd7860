"""Layouts: built-in templates, canvas sizes, elements, the AI label, user templates, bad templates."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from avatar import layout as layout_module
from avatar.compose import Background, Compositor, Overlay, render_label, subtitle_capacity
from avatar.errors import AvatarError
from avatar.images import fitted_size
from avatar.layout import LAYOUTS, LayoutCompositor, builtin_path, load_layout
from avatar.subtitles import Cue

FPS = 25
SAMPLE_RATE = 16000
SAMPLES_PER_FRAME = SAMPLE_RATE // FPS
HEADLINE = "数字人主播正式上线 Presenter goes live"
TICKER = "Markets open higher · 今日天气晴"
CUES = [Cue(1, 0, 40 * SAMPLES_PER_FRAME, "今天天气很好，我们一起去公园散步吧！")]
ASPECTS = {"full": None, "news": (16, 9), "square": (1, 1), "vertical": (9, 16)}


def person_frame(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Return a textured image and a mask whose person is an ellipse reaching the bottom edge."""
    rng = np.random.default_rng(0)
    image = rng.integers(60, 200, size=(height, width, 3), dtype=np.uint8)
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).ellipse((width * 0.25, height * 0.1, width * 0.75, height * 1.3), fill=255)
    return image, np.asarray(mask)


def make_compositor(
    name_or_path: str | Path,
    size: int = 640,
    portrait: tuple[int, int] = (512, 512),
    background: Background | None = None,
    headline: str | None = HEADLINE,
    ticker: str | None = TICKER,
    cues: list[Cue] | None = None,
) -> tuple[LayoutCompositor, np.ndarray, np.ndarray]:
    """Build a compositor the way the pipeline does, with person frames of the size it renders."""
    layout = load_layout(name_or_path)
    width, height = layout.canvas_size(size, *portrait)
    person_size = layout.person_render_size(width, height, *portrait)
    person_width, person_height = fitted_size(*portrait, person_size)
    compositor = LayoutCompositor(
        layout, width, height, FPS, SAMPLE_RATE, CUES if cues is None else cues, "en",
        person_width, person_height, background=background, headline=headline, ticker=ticker,
    )
    image, alpha = person_frame(person_width, person_height)
    return compositor, image, alpha


def overlaps(first: tuple[int, int, int, int], second: tuple[int, int, int, int]) -> bool:
    return first[0] < second[2] and second[0] < first[2] and first[1] < second[3] and second[1] < first[3]


def copy_template(tmp_path: Path, name: str = "news") -> tuple[Path, dict]:
    """Copy a built-in template and the images beside it into tmp_path; return its path and JSON."""
    source = builtin_path(name)
    for image in source.parent.glob("*.png"):
        shutil.copy(image, tmp_path / image.name)
    path = tmp_path / f"my_{name}.json"
    data = json.loads(source.read_text(encoding="utf-8"))
    path.write_text(json.dumps(data), encoding="utf-8")
    return path, data


def write_template(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


# ---- loading and sizes


@pytest.mark.parametrize("name", LAYOUTS)
def test_builtin_layout_loads(name):
    layout = load_layout(name)
    assert layout.name == name
    assert layout.path.is_file()
    assert layout.aspect == ASPECTS[name]
    if name != "full":
        assert layout.anchor is not None
        assert layout.subtitles is not None
        assert layout.lower_third is not None
        assert layout.ticker is not None
        assert layout.logo is not None
        assert layout.logo.image.is_file()


def test_layouts_constant_lists_builtins():
    assert LAYOUTS == ("full", "news", "square", "vertical")


@pytest.mark.parametrize("name", LAYOUTS)
@pytest.mark.parametrize("size", [256, 511, 720, 1280, 1920])
@pytest.mark.parametrize("portrait", [(512, 512), (400, 600), (640, 360)])
def test_canvas_size_aspect_and_even(name, size, portrait):
    layout = load_layout(name)
    width, height = layout.canvas_size(size, *portrait)
    assert width % 2 == 0
    assert height % 2 == 0
    assert abs(max(width, height) - size) <= 1
    aspect = ASPECTS[name] or portrait
    assert abs(width / height - aspect[0] / aspect[1]) < 0.02
    if name == "full":
        assert (width, height) == fitted_size(*portrait, size)


def test_canvas_size_rejects_size_out_of_range():
    with pytest.raises(AvatarError) as caught:
        load_layout("news").canvas_size(4000, 512, 512)
    assert caught.value.key == "invalid_size"


@pytest.mark.parametrize("name", ["news", "square", "vertical"])
@pytest.mark.parametrize("portrait", [(512, 512), (400, 600), (640, 360)])
def test_person_render_size_covers_anchor(name, portrait):
    layout = load_layout(name)
    for size in (256, 720, 1280, 1920):
        width, height = layout.canvas_size(size, *portrait)
        person_size = layout.person_render_size(width, height, *portrait)
        left, top, right, bottom = layout.anchor.box.pixels(width, height)
        frame_width, frame_height = fitted_size(*portrait, person_size)
        assert frame_width >= right - left
        assert frame_height >= bottom - top
        # No larger than needed: one side exceeds the box by at most the even rounding.
        assert min(frame_width - (right - left), frame_height - (bottom - top)) <= 2


def test_person_render_size_full_is_canvas():
    layout = load_layout("full")
    for portrait in [(512, 512), (400, 600), (641, 359)]:
        for size in (256, 511, 1280):
            width, height = layout.canvas_size(size, *portrait)
            person_size = layout.person_render_size(width, height, *portrait)
            assert fitted_size(*portrait, person_size) == (width, height)


# ---- composing


@pytest.mark.parametrize("name", ["news", "square", "vertical"])
def test_label_visible_in_every_layout(name, monkeypatch):
    compositor, image, alpha = make_compositor(name)
    boxes = {
        "lower_third": compositor.lower_third_box,
        "ticker": compositor.ticker_box,
        "logo": compositor.logo_box,
        "subtitles": compositor.subtitle_box,
    }
    for element, box in boxes.items():
        assert box is not None, element
        assert not overlaps(box, compositor.label_box), element
    frame = compositor.compose(5, image, alpha)  # a subtitle, the headline and the ticker are shown

    # The same frame with an invisible label: everything else is drawn the same way.
    label = render_label(compositor.width, compositor.height)
    invisible = Overlay(label.left, label.top, label.rgb, np.zeros_like(label.weight), np.ones_like(label.weight))
    monkeypatch.setattr(layout_module, "render_label", lambda width, height: invisible)
    without_label, _, _ = make_compositor(name)
    unlabelled = without_label.compose(5, image, alpha)

    expected = unlabelled.copy()
    label.blend_onto(expected)
    assert np.array_equal(frame, expected)
    left, top, right, bottom = compositor.label_box
    region = frame[top:bottom, left:right].astype(int)
    assert np.abs(region - unlabelled[top:bottom, left:right].astype(int)).max() > 100
    assert (region.min(axis=2) > 230).sum() > 10  # white label text


def test_full_label_box_clear_of_subtitles():
    compositor, _, _ = make_compositor("full", headline=None, ticker=None)
    assert compositor.label_box[3] <= compositor.subtitle_band[0]


@pytest.mark.parametrize("name", ["news", "square", "vertical"])
def test_headline_drawn_in_lower_third(name):
    with_headline, image, alpha = make_compositor(name, cues=[])
    without_headline, _, _ = make_compositor(name, headline=None, cues=[])
    assert without_headline.lower_third_box is None
    headline_frame = with_headline.compose(0, image, alpha).astype(int)
    plain_frame = without_headline.compose(0, image, alpha).astype(int)

    changed = np.abs(headline_frame - plain_frame).max(axis=2) > 0
    left, top, right, bottom = with_headline.lower_third_box
    assert changed[top:bottom, left:right].mean() > 0.5
    outside = changed.copy()
    outside[top:bottom, left:right] = False
    assert not outside.any()
    # White text on the dark box.
    assert (headline_frame[top:bottom, left:right].min(axis=2) > 230).sum() > 50


def test_headline_for_layout_without_lower_third_rejected():
    layout = load_layout("full")
    with pytest.raises(AvatarError) as caught:
        LayoutCompositor(layout, 512, 512, FPS, SAMPLE_RATE, [], "en", 512, 512, headline="Breaking")
    assert caught.value.key == "layout_no_element"
    assert "lower_third" in caught.value.message("en")
    with pytest.raises(AvatarError) as caught:
        LayoutCompositor(layout, 512, 512, FPS, SAMPLE_RATE, [], "en", 512, 512, ticker="News")
    assert caught.value.key == "layout_no_element"


def ticker_band(compositor: LayoutCompositor, frame: np.ndarray) -> np.ndarray:
    left, top, right, bottom = compositor.ticker_box
    return frame[top:bottom, left:right]


def test_ticker_moves_and_loops():
    compositor, image, alpha = make_compositor("news", size=640, cues=[])
    assert compositor.ticker_period > 0
    offsets = [compositor.ticker_offset(index) for index in range(2000)]
    assert offsets[0] == 0
    assert offsets[1] > 0

    # Between two frames the band is the previous band moved left by the offset step.
    first = ticker_band(compositor, compositor.compose(10, image, alpha))
    second = ticker_band(compositor, compositor.compose(11, image, alpha))
    step = offsets[11] - offsets[10]
    assert step > 0
    assert not np.array_equal(first, second)
    assert np.array_equal(second[:, :-step], first[:, step:])

    # Across the wrap back to the start the text keeps moving without a seam.
    wrap = next(index for index in range(1, len(offsets)) if offsets[index] < offsets[index - 1])
    before = ticker_band(compositor, compositor.compose(wrap - 1, image, alpha))
    after = ticker_band(compositor, compositor.compose(wrap, image, alpha))
    step = offsets[wrap] + compositor.ticker_period - offsets[wrap - 1]
    assert np.array_equal(after[:, :-step], before[:, step:])


def test_ticker_default_text_and_none():
    news, _, _ = make_compositor("news", ticker=None)
    assert news.ticker_text == load_layout("news").ticker.text
    assert news.ticker_box is not None
    hidden, _, _ = make_compositor("news", ticker="  ")
    assert hidden.ticker_box is None
    vertical, _, _ = make_compositor("vertical", ticker=None)
    assert vertical.ticker_box is None  # the vertical template has no default text


def test_person_top_aligned_and_centred(tmp_path):
    path, data = copy_template(tmp_path)
    data["anchor"]["cutout"] = False
    write_template(path, data)
    compositor, image, alpha = make_compositor(path, portrait=(400, 600), cues=[], headline=None, ticker=None)
    frame = compositor.compose(0, image, alpha)
    left, top, right, bottom = compositor.anchor_box
    crop_left = (image.shape[1] - (right - left)) // 2
    # The top rows show the top of the person frame (the head), centred; nothing covers them.
    for row in (0, (bottom - top) // 3):
        assert np.array_equal(frame[top + row, left:right], image[row, crop_left : crop_left + right - left])


def test_cutout_blends_over_template_background():
    compositor, image, alpha = make_compositor("news", cues=[], headline=None, ticker=None)
    frame = compositor.compose(0, image, alpha)
    backdrop = Background(kind="image", path=builtin_path("news").parent / "studio.png").plate(
        compositor.width, compositor.height
    )
    left, top, right, bottom = compositor.anchor_box
    person = np.zeros(frame.shape[:2], dtype=np.uint8)
    crop_left = (alpha.shape[1] - (right - left)) // 2
    person[top:bottom, left:right] = alpha[: bottom - top, crop_left : crop_left + right - left]
    # Inside the anchor box, away from the mask's feathered edge and from the subtitle band.
    far_outside = cv2.distanceTransform((person == 0).astype(np.uint8), cv2.DIST_L2, 3) > 6
    inside_box = np.zeros_like(far_outside)
    inside_box[top : compositor.subtitle_band[0], left:right] = True
    far_outside &= inside_box
    assert far_outside.sum() > 1000
    assert np.array_equal(frame[far_outside], backdrop[far_outside])
    far_inside = cv2.distanceTransform((person == 255).astype(np.uint8), cv2.DIST_L2, 3) > 6
    far_inside &= inside_box
    assert far_inside.sum() > 1000
    person_image = np.zeros_like(frame)
    person_image[top:bottom, left:right] = image[: bottom - top, crop_left : crop_left + right - left]
    assert np.abs(frame[far_inside].astype(int) - person_image[far_inside].astype(int)).max() <= 1


def test_user_background_replaces_template_background():
    compositor, image, alpha = make_compositor(
        "news", background=Background.parse("#102030"), cues=[], headline=None, ticker=None
    )
    frame = compositor.compose(0, image, alpha)
    # Right of the anchor box, between the label and the ticker: only background there.
    right = compositor.anchor_box[2]
    area = frame[compositor.label_box[3] + 5 : compositor.ticker_box[1] - 5, right + 5 :]
    assert area.size > 0
    assert np.all(area == (0x10, 0x20, 0x30))


def test_user_template_edits_change_output(tmp_path):
    builtin, image, alpha = make_compositor("news", cues=[])
    path, data = copy_template(tmp_path)
    data["lower_third"]["color"] = "#C00000"
    data["lower_third"]["opacity"] = 1.0
    data["lower_third"]["y"] = 0.4
    data["background"] = "#00FF00"
    write_template(path, data)
    edited, _, _ = make_compositor(path, cues=[])

    original = builtin.compose(0, image, alpha)
    frame = edited.compose(0, image, alpha)
    assert not np.array_equal(frame, original)
    left, top, right, bottom = edited.lower_third_box
    assert top == round(0.4 * edited.height)
    # The box's right end has no text: the edited fill colour is there.
    assert tuple(frame[(top + bottom) // 2, right - 3]) == (0xC0, 0x00, 0x00)
    # The background colour is the template's, beside the anchor box.
    assert tuple(frame[edited.height // 2, edited.width - 5]) == (0x00, 0xFF, 0x00)


def test_user_template_logo_opacity(tmp_path):
    path, data = copy_template(tmp_path)
    data["logo"]["opacity"] = 0.0
    write_template(path, data)
    transparent_logo, image, alpha = make_compositor(path, cues=[], headline=None, ticker=None)
    opaque_logo, _, _ = make_compositor("news", cues=[], headline=None, ticker=None)
    left, top, right, bottom = opaque_logo.logo_box
    with_logo = opaque_logo.compose(0, image, alpha)[top:bottom, left:right]
    without_logo = transparent_logo.compose(0, image, alpha)[top:bottom, left:right]
    assert np.abs(with_logo.astype(int) - without_logo.astype(int)).max() > 100


# ---- bad templates


def mutate(data: dict, dotted: str, value) -> None:
    """Set (or delete, for value None) the field at a dotted path."""
    *parents, last = dotted.split(".")
    for parent in parents:
        data = data[parent]
    if value is None:
        del data[last]
    else:
        data[last] = value


@pytest.mark.parametrize(
    ("field", "value", "key", "named"),
    [
        ("anchor.cutout", None, "layout_field_missing", "anchor.cutout"),
        ("lower_third.color", "red", "layout_invalid_color", "lower_third.color"),
        ("subtitles.text_color", "#12345", "layout_invalid_color", "subtitles.text_color"),
        ("logo.image", "missing_logo.png", "layout_file_missing", "missing_logo.png"),
        ("background", "missing_studio.png", "layout_file_missing", "missing_studio.png"),
        ("logo.x", 0.9, "layout_hides_label", "logo"),
        ("ticker.y", 0.0, "layout_hides_label", "ticker"),
        ("anchor.width", 1.5, "layout_invalid_number", "anchor.width"),
        ("ticker.speed", True, "layout_invalid_number", "ticker.speed"),
        ("subtitles.max_lines", 2.5, "layout_invalid_integer", "subtitles.max_lines"),
        ("anchor.cutout", "yes", "layout_invalid_boolean", "anchor.cutout"),
        ("ticker.separator", 3, "layout_invalid_text", "ticker.separator"),
        ("lower_third.font", 0.05, "layout_invalid_section", "lower_third.font"),
        ("lower_third.x", 0.5, "layout_box_outside", "lower_third.width"),
        ("logo.y", 0.95, "layout_box_outside", "logo"),
        ("lower_third.colour", "#FFFFFF", "layout_field_unknown", "lower_third.colour"),
        ("canvas.aspect", [3, 1], "layout_invalid_aspect", "[3, 1]"),
        ("ticker.font.size", 0.2, "layout_text_too_large", "ticker"),
    ],
)
def test_bad_template_rejected(tmp_path, field, value, key, named):
    path, data = copy_template(tmp_path)
    mutate(data, field, value)
    write_template(path, data)
    with pytest.raises(AvatarError) as caught:
        load_layout(path)
    assert caught.value.key == key
    for language in ("en", "zh"):
        message = caught.value.message(language)
        assert str(path) in message
        assert named in message


def test_logo_that_is_not_an_image_rejected(tmp_path):
    path, _ = copy_template(tmp_path)
    (tmp_path / "logo.png").write_text("not an image")
    with pytest.raises(AvatarError) as caught:
        load_layout(path)
    assert caught.value.key == "layout_image_unreadable"
    assert "logo.image" in caught.value.message("en")
    assert str(path) in caught.value.message("en")


def test_unreadable_json_rejected(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"canvas": {"aspect": [16, 9]},', encoding="utf-8")
    with pytest.raises(AvatarError) as caught:
        load_layout(path)
    assert caught.value.key == "layout_unreadable"
    assert str(path) in caught.value.message("en")
    assert "line 1" in caught.value.message("en")


def test_unknown_layout_name_rejected():
    with pytest.raises(AvatarError) as caught:
        load_layout("weather")
    assert caught.value.key == "layout_unknown"
    message = caught.value.message("en")
    assert "'weather'" in message
    assert "news" in message


def test_full_template_with_elements_rejected(tmp_path):
    path = write_template(tmp_path / "full_logo.json", {"canvas": {"aspect": "portrait"}, "logo": {}})
    with pytest.raises(AvatarError) as caught:
        load_layout(path)
    assert caught.value.key == "layout_field_unknown"
    assert "logo" in caught.value.message("en")


# ---- the full layout


@pytest.mark.parametrize("background", [None, "#102030"])
def test_full_equals_classic_compositor(background):
    cues = [
        Cue(1, 0, 10 * SAMPLES_PER_FRAME, "今天天气很好，我们一起去公园散步吧！"),
        Cue(2, 12 * SAMPLES_PER_FRAME, 20 * SAMPLES_PER_FRAME, "A second, English subtitle."),
    ]
    layout = load_layout("full")
    width, height = layout.canvas_size(480, 400, 600)
    image, alpha = person_frame(width, height)
    classic = Compositor(width, height, FPS, SAMPLE_RATE, cues, Background.parse(background), "zh")
    composed = LayoutCompositor(layout, width, height, FPS, SAMPLE_RATE, cues, "zh", width, height,
                                background=Background.parse(background))
    assert composed.subtitle_capacity == subtitle_capacity(width, height)
    assert composed.label_box == classic.label_box
    for index in (0, 5, 11, 15, 30):
        assert np.array_equal(composed.compose(index, image, alpha), classic.compose(index, image, alpha))


def test_full_rejects_person_of_other_size():
    layout = load_layout("full")
    with pytest.raises(ValueError):
        LayoutCompositor(layout, 512, 512, FPS, SAMPLE_RATE, [], "en", 400, 400)


def test_compose_rejects_wrong_person_frame():
    compositor, image, alpha = make_compositor("news")
    with pytest.raises(AvatarError) as caught:
        compositor.compose(0, image[:, :-2], alpha)
    assert caught.value.key == "invalid_frame"


def test_news_compose_cost_per_frame():
    compositor, image, alpha = make_compositor("news", size=1280)
    compositor.compose(0, image, alpha)  # draws and caches the subtitle
    start = time.perf_counter()
    for index in range(1, 31):
        compositor.compose(index, image, alpha)
    per_frame = (time.perf_counter() - start) / 30
    # About 2 to 3 ms when measured on a 2-core machine; a loose bound for slow CI.
    assert per_frame < 0.025


def test_element_over_person_points():
    compositor, image, _ = make_compositor("news")
    height, width = image.shape[:2]
    # The head stays clear, the bottom of the frame is behind the ticker, and "full" covers nothing.
    assert compositor.element_over(width / 2, height * 0.1) is None
    assert compositor.element_over(width / 2, height - 1) == "ticker"
    lower_third_top = compositor.lower_third_box[1] - compositor.anchor_box[1]
    assert compositor.element_over(width / 2, lower_third_top + 2) == "lower_third"
    full, image, _ = make_compositor("full", headline=None, ticker=None)
    assert full.element_over(image.shape[1] / 2, image.shape[0] - 1) is None
