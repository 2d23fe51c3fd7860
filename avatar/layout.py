"""Video layouts: where the presenter, subtitles, headline, ticker and logo sit on the canvas.

A layout is a JSON template that users can copy and edit (docs/layouts.md lists every
field). The built-in templates live in `avatar/layouts/`:

- full: the canvas is the rendered portrait frame, composed by `avatar.compose.Compositor`;
- news: the anchor over a studio backdrop, a lower third with the headline, a scrolling
  ticker, a logo and subtitles;
- vertical: 9:16 for short-video platforms, with large subtitles;
- square: 1:1.

Positions and sizes are fractions of the canvas, and font sizes fractions of its shorter
side, so one template serves every --size. Each frame is drawn in this order: background,
person, lower third and logo, ticker, subtitles, AI label. The label is drawn last in the
top-right corner, and no element may overlap it: a template whose lower third, ticker,
logo or subtitle band would cover it is rejected when it is loaded.

The background, lower third and logo are drawn once into a plate, and the ticker once into
a strip. Each frame then costs a copy of the plate and a feathered blend inside the anchor
box. The lower third or logo parts over the person are blended again, a slice of the ticker
strip is copied, and the cached subtitle and label patches are blended.
"""

from __future__ import annotations

import importlib.resources
import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from avatar.compose import (
    MAX_SIZE,
    MIN_SIZE,
    Background,
    Compositor,
    Overlay,
    SubtitleStyle,
    SubtitleTrack,
    blend_person,
    check_frame_settings,
    check_person_frame,
    feather_kernel,
    load_font,
    printable,
    render_label,
    subtitle_capacity,
    truncate_with_ellipsis,
)
from avatar.errors import AvatarError
from avatar.images import fitted_size, open_image
from avatar.subtitles import Cue

logger = logging.getLogger(__name__)

LAYOUTS = ("full", "news", "square", "vertical")

RGB = tuple[int, int, int]
# (left, top, right, bottom) in canvas pixels; right and bottom are exclusive.
PixelBox = tuple[int, int, int, int]

# A canvas side may be at most this many times the other, so that the shorter side stays
# at least MIN_SIZE / 2 pixels, the smallest frame the text sizes are designed for.
_MAX_ASPECT_RATIO = 2.0
# Template fonts never get smaller than this, in pixels, so that small canvases stay legible.
_MIN_FONT_PIXELS = 10
# A headline that is too wide shrinks to this share of its font size before it is cut.
_HEADLINE_MIN_SCALE = 0.75
# Space between the lower third's accent bar (or left edge) and the headline, in font sizes.
_HEADLINE_PADDING = 0.4
# The canvas longer sides at which a template is checked for covering the AI label when it
# is loaded. The label's relative size grows at small sizes (its font has a minimum), so
# the small end is sampled more densely. `LayoutCompositor` checks the actual size again.
_CHECK_SIZES = (256, 320, 384, 512, 768, 1024, 1280, 1920)
# A person frame at most this much larger than the cover size is cropped, not scaled:
# resampling every frame costs more than a framing difference of 2 % is worth.
_CROP_TOLERANCE = 0.02
# avatar.render.Renderer renders a longer side from 64 to 4096 pixels. Importing its
# constants would load mediapipe for every template check.
_MIN_PERSON_SIZE = 64
_MAX_PERSON_SIZE = 4096

_COLOR_PATTERN = re.compile(r"#[0-9a-fA-F]{6}")


# ---- template model


@dataclass(frozen=True)
class Box:
    """A rectangle in fractions of the canvas: x and width of its width, y and height of its height."""

    x: float
    y: float
    width: float
    height: float

    def pixels(self, canvas_width: int, canvas_height: int) -> PixelBox:
        """Return the box in canvas pixels as (left, top, right, bottom)."""
        return (
            round(self.x * canvas_width),
            round(self.y * canvas_height),
            round((self.x + self.width) * canvas_width),
            round((self.y + self.height) * canvas_height),
        )


@dataclass(frozen=True)
class Font:
    """A font size as a fraction of the canvas's shorter side, and a weight from 100 to 900."""

    size: float
    weight: int

    def pixels(self, canvas_width: int, canvas_height: int) -> int:
        """Return the font size in pixels, at least `_MIN_FONT_PIXELS`."""
        return max(_MIN_FONT_PIXELS, round(self.size * min(canvas_width, canvas_height)))


@dataclass(frozen=True)
class Anchor:
    """The person's place on the canvas.

    Attributes:
        box: the anchor box. The person frame is scaled to cover it, centred horizontally and
            aligned at the top, so the head is kept and the bottom and sides are cropped.
        cutout: True blends the person over the background through the feathered mask;
            False shows the whole rendered frame, with the portrait's own backdrop, in the box.
    """

    box: Box
    cutout: bool


@dataclass(frozen=True)
class SubtitleSpec:
    """Subtitles: a band from x to x + width, whose lines end at `bottom` (a fraction of the height)."""

    x: float
    width: float
    bottom: float
    max_lines: int
    font: Font
    text_color: RGB
    outline_color: RGB
    outline_width: float  # of the font size; 0 draws no outline


@dataclass(frozen=True)
class LowerThirdSpec:
    """The headline box: fill colour and opacity, an accent bar at its left edge, one line of text."""

    box: Box
    color: RGB
    opacity: float
    accent_color: RGB
    accent_width: float  # of the box width; 0 draws no bar
    font: Font
    text_color: RGB


@dataclass(frozen=True)
class TickerSpec:
    """The ticker: an opaque band in which text scrolls from right to left and loops.

    Attributes:
        speed: how far the text moves each second, in canvas shorter sides.
        separator: what is put between the end of the text and its next repeat.
        text: the text shown when the caller gives none; None shows no ticker then.
    """

    box: Box
    color: RGB
    font: Font
    text_color: RGB
    speed: float
    separator: str
    text: str | None


@dataclass(frozen=True)
class LogoSpec:
    """The logo image at (x, y), `height` of the canvas height tall, its width following its aspect ratio."""

    image: Path
    image_size: tuple[int, int]  # width, height in pixels of the file
    x: float
    y: float
    height: float
    opacity: float

    def end(self, canvas_width: int, canvas_height: int) -> tuple[float, float]:
        """Return where the logo's right and bottom edges fall, as fractions of the canvas."""
        width = self.height * canvas_height * self.image_size[0] / self.image_size[1]
        return self.x + width / canvas_width, self.y + self.height

    def pixels(self, canvas_width: int, canvas_height: int) -> PixelBox:
        """Return the logo's box in canvas pixels, moved back inside by a pixel that rounding adds."""
        height = max(1, round(self.height * canvas_height))
        width = max(1, round(height * self.image_size[0] / self.image_size[1]))
        left = max(0, min(round(self.x * canvas_width), canvas_width - width))
        top = max(0, min(round(self.y * canvas_height), canvas_height - height))
        return left, top, left + width, top + height


@dataclass(frozen=True)
class Layout:
    """A loaded, checked layout template.

    Attributes:
        name: the built-in name, or the template file's stem.
        path: the template file.
        description: free text from the template.
        aspect: the canvas's (width, height) ratio, or None for the portrait's own ("full").
        background: the template's backdrop; None only for "full".
        anchor: where the person goes; None only for "full".
        subtitles: the subtitle style and place; None only for "full".
        lower_third: the headline box, or None when the layout has none.
        ticker: the ticker band, or None when the layout has none.
        logo: the logo, or None when the layout has none.
    """

    name: str
    path: Path
    description: str
    aspect: tuple[int, int] | None
    background: Background | None = None
    anchor: Anchor | None = None
    subtitles: SubtitleSpec | None = None
    lower_third: LowerThirdSpec | None = None
    ticker: TickerSpec | None = None
    logo: LogoSpec | None = None

    def canvas_size(self, size: int, portrait_width: int, portrait_height: int) -> tuple[int, int]:
        """Return the canvas (width, height) for a longer side of `size` pixels, both even.

        "full" keeps the portrait's aspect ratio exactly as `avatar.render.Renderer` does;
        the other layouts use their template's aspect ratio.
        """
        if not MIN_SIZE <= size <= MAX_SIZE:
            raise AvatarError("invalid_size", value=size, low=MIN_SIZE, high=MAX_SIZE)
        if self.aspect is None:
            return fitted_size(portrait_width, portrait_height, size)
        return fitted_size(self.aspect[0], self.aspect[1], size)

    def check_text(self, headline: str | None, ticker: str | None) -> None:
        """Raise AvatarError when there is headline or ticker text but no element to show it."""
        if _one_line(headline) is not None and self.lower_third is None:
            raise AvatarError("layout_no_element", layout=self.name, element="lower_third", text=headline)
        if _one_line(ticker) is not None and self.ticker is None:
            raise AvatarError("layout_no_element", layout=self.name, element="ticker", text=ticker)

    def subtitle_capacity(self, canvas_width: int, canvas_height: int) -> float:
        """Return how much text fits this layout's subtitle lines, in CJK character widths.

        The pipeline cuts the script into cues of at most this length before it builds the
        compositor, which needs the cues.
        """
        if self.aspect is None:
            return subtitle_capacity(canvas_width, canvas_height)
        return _Geometry(self, canvas_width, canvas_height).subtitle_style.capacity

    def person_render_size(
        self, canvas_width: int, canvas_height: int, portrait_width: int, portrait_height: int
    ) -> int:
        """Return the longer side at which to render the person for this canvas.

        For "full" the rendered frame is the canvas itself. Otherwise it is the smallest
        size whose frame covers the anchor box, so the compositor crops and never upscales.
        The size is kept within `avatar.render.Renderer`'s range of 64 to 4096 pixels.
        """
        if self.aspect is None or self.anchor is None:
            longer = max(canvas_width, canvas_height)
            # canvas_size rounds the longer side to an even number, so it moved by at most 1.
            for size in (longer, longer - 1, longer + 1):
                if fitted_size(portrait_width, portrait_height, size) == (canvas_width, canvas_height):
                    return size
            raise ValueError(
                f"{canvas_width}x{canvas_height} is not a {portrait_width}x{portrait_height} portrait "
                "scaled to an even size; get the canvas from Layout.canvas_size"
            )

        left, top, right, bottom = self.anchor.box.pixels(canvas_width, canvas_height)
        box_width, box_height = right - left, bottom - top
        size = math.ceil(max(box_width / portrait_width, box_height / portrait_height)
                         * max(portrait_width, portrait_height))
        # Rounding the frame's sides to even numbers can fall a pixel short of the box.
        while size < _MAX_PERSON_SIZE:
            frame_width, frame_height = fitted_size(portrait_width, portrait_height, size)
            if frame_width >= box_width and frame_height >= box_height:
                break
            size += 1
        return max(_MIN_PERSON_SIZE, min(size, _MAX_PERSON_SIZE))


# ---- loading templates


def builtin_path(name: str) -> Path:
    """Return the path of the built-in template `name` (one of LAYOUTS)."""
    return Path(str(importlib.resources.files("avatar") / "layouts" / f"{name}.json"))


def load_layout(value: str | Path) -> Layout:
    """Load and check a layout: a built-in name from LAYOUTS, or the path of a JSON template.

    Raises:
        AvatarError: an unknown name, an unreadable file, or a template with a missing,
            unknown or out-of-range field, a missing image, text too large for its box, or
            an element that would cover the AI label.
    """
    if isinstance(value, str) and value in LAYOUTS:
        path = builtin_path(value)
        name = value
    else:
        path = Path(value).expanduser()
        if not path.is_file():
            raise AvatarError("layout_unknown", value=str(value), choices=", ".join(LAYOUTS))
        name = path.stem

    data = _read_json(path)
    layout = _parse_template(data, path, name)
    if layout.aspect is not None:
        for size in _CHECK_SIZES:
            width, height = fitted_size(layout.aspect[0], layout.aspect[1], size)
            _Geometry(layout, width, height)  # raises for text that does not fit or a hidden label
    logger.debug("loaded layout %s from %s", name, path)
    return layout


def _read_json(path: Path) -> dict[str, Any]:
    """Read a template file as a JSON object."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise AvatarError("layout_unreadable", path=str(path), reason=f"not UTF-8 text ({error.reason})") from error
    except OSError as error:
        raise AvatarError("layout_unreadable", path=str(path), reason=error.strerror or str(error)) from error
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise AvatarError(
            "layout_unreadable", path=str(path), reason=f"line {error.lineno}, column {error.colno}: {error.msg}"
        ) from error
    if not isinstance(data, dict):
        raise AvatarError("layout_unreadable", path=str(path), reason="the file is not a JSON object ({...})")
    return data


class _Section:
    """One JSON object of a template, with typed getters that raise AvatarError naming the field.

    Args:
        data: the object's fields.
        path: the template file, for messages and relative file paths.
        prefix: the object's dotted field name ("" for the top level).
        allowed: the field names this object may have; any other is rejected as a likely typo.
    """

    def __init__(self, data: Mapping[str, Any], path: Path, prefix: str, allowed: Sequence[str]) -> None:
        self.data = data
        self.path = path
        self.prefix = prefix
        for key in data:
            if key not in allowed:
                raise AvatarError(
                    "layout_field_unknown", path=str(path), field=self.field(key), choices=", ".join(allowed)
                )

    def field(self, name: str) -> str:
        """Return the dotted name of field `name`, as messages show it."""
        return f"{self.prefix}.{name}" if self.prefix else name

    def has(self, name: str) -> bool:
        """Return True if the object contains field `name`."""
        return name in self.data

    def value(self, name: str) -> Any:
        """Return the raw value of a required field."""
        if name not in self.data:
            raise AvatarError("layout_field_missing", path=str(self.path), field=self.field(name))
        return self.data[name]

    def number(self, name: str, low: float, high: float) -> float:
        """Return a number field that must lie in [low, high]."""
        value = self.value(name)
        # bool is an int subclass in Python, but `true` is no number in a template.
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise AvatarError(
                "layout_invalid_number", path=str(self.path), field=self.field(name), value=value, low=low, high=high
            )
        return float(value)

    def integer(self, name: str, low: int, high: int) -> int:
        """Return a whole-number field that must lie in [low, high]."""
        value = self.value(name)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise AvatarError(
                "layout_invalid_integer", path=str(self.path), field=self.field(name), value=value, low=low, high=high
            )
        return value

    def color(self, name: str) -> RGB:
        """Return a "#RRGGBB" field as RGB."""
        value = self.value(name)
        if not isinstance(value, str) or not _COLOR_PATTERN.fullmatch(value):
            raise AvatarError("layout_invalid_color", path=str(self.path), field=self.field(name), value=value)
        return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)

    def boolean(self, name: str) -> bool:
        """Return a true/false field."""
        value = self.value(name)
        if not isinstance(value, bool):
            raise AvatarError("layout_invalid_boolean", path=str(self.path), field=self.field(name), value=value)
        return value

    def text(self, name: str) -> str:
        """Return a string field."""
        value = self.value(name)
        if not isinstance(value, str):
            raise AvatarError("layout_invalid_text", path=str(self.path), field=self.field(name), value=value)
        return value

    def section(self, name: str, allowed: Sequence[str]) -> _Section:
        """Return the required nested object `name`, which may contain the fields `allowed`."""
        value = self.value(name)
        if not isinstance(value, dict):
            raise AvatarError("layout_invalid_section", path=str(self.path), field=self.field(name), value=value)
        return _Section(value, self.path, self.field(name), allowed)

    def optional_section(self, name: str, allowed: Sequence[str]) -> _Section | None:
        """Return the nested object `name`, or None when the object does not contain it."""
        return self.section(name, allowed) if name in self.data else None

    def file(self, name: str) -> Path:
        """Return a file field resolved against the template's folder; the file must exist."""
        value = self.text(name)
        resolved = (self.path.parent / Path(value).expanduser()).resolve()
        if not value.strip() or not resolved.is_file():
            raise AvatarError("layout_file_missing", path=str(self.path), field=self.field(name), file=value)
        return resolved

    def image(self, name: str) -> tuple[Path, Image.Image]:
        """Return a file field that must name a readable image, with the image opened."""
        resolved = self.file(name)
        return resolved, _open_template_image(self.path, self.field(name), resolved)

    def box(self) -> Box:
        """Return the x, y, width and height fields of this object as a Box inside the canvas."""
        box = Box(
            x=self.number("x", 0.0, 1.0),
            y=self.number("y", 0.0, 1.0),
            width=self.number("width", 0.01, 1.0),
            height=self.number("height", 0.01, 1.0),
        )
        self.check_inside("width", box.x + box.width)
        self.check_inside("height", box.y + box.height)
        return box

    def check_inside(self, name: str, end: float) -> None:
        """Raise AvatarError when a box along field `name` ends past the canvas edge (1.0)."""
        # A small tolerance lets 0.1 + 0.9 pass despite binary rounding.
        if end > 1.0 + 1e-9:
            raise AvatarError("layout_box_outside", path=str(self.path), field=self.field(name), end=round(end, 4))

    def font(self, name: str = "font") -> Font:
        """Return the nested font object: size (of the shorter side) and weight."""
        section = self.section(name, ("size", "weight"))
        return Font(size=section.number("size", 0.01, 0.25), weight=section.integer("weight", 100, 900))


def _open_template_image(template: Path, field: str, path: Path) -> Image.Image:
    """Open the image file `path` that field `field` of the template names."""
    try:
        # The key only has to accept (path, reason): the error is replaced below.
        return open_image(path, str(path), "background_unreadable")
    except AvatarError as error:
        reason = error.params.get("reason") or error.message()
        raise AvatarError(
            "layout_image_unreadable", path=str(template), field=field, file=str(path), reason=reason
        ) from error


_TOP_FIELDS = ("description", "canvas", "background", "anchor", "subtitles", "lower_third", "ticker", "logo")
_FULL_FIELDS = ("description", "canvas")


def _parse_template(data: dict[str, Any], path: Path, name: str) -> Layout:
    """Build a Layout from a template's JSON object, checking every field."""
    top = _Section(data, path, "", _TOP_FIELDS)
    description = top.text("description") if top.has("description") else ""
    canvas = top.section("canvas", ("aspect",))
    aspect = _parse_aspect(canvas, path)
    if aspect is None:
        # The portrait's own canvas is the classic compositor, which has no elements to place.
        _Section(data, path, "", _FULL_FIELDS)
        return Layout(name=name, path=path, description=description, aspect=None)

    return Layout(
        name=name,
        path=path,
        description=description,
        aspect=aspect,
        background=_parse_background(top),
        anchor=_parse_anchor(top),
        subtitles=_parse_subtitles(top),
        lower_third=_parse_lower_third(top),
        ticker=_parse_ticker(top),
        logo=_parse_logo(top),
    )


def _parse_aspect(canvas: _Section, path: Path) -> tuple[int, int] | None:
    """Return canvas.aspect as (width, height), or None for "portrait"."""
    value = canvas.value("aspect")
    if value == "portrait":
        return None
    valid = (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(side, int) and not isinstance(side, bool) and 1 <= side <= 100 for side in value)
        and max(value) / min(value) <= _MAX_ASPECT_RATIO
    )
    if not valid:
        raise AvatarError("layout_invalid_aspect", path=str(path), value=value)
    return value[0], value[1]


def _parse_background(top: _Section) -> Background:
    value = top.text("background")
    if value.startswith("#"):
        return Background(kind="color", color=top.color("background"))
    resolved, _ = top.image("background")
    return Background(kind="image", path=resolved)


def _parse_anchor(top: _Section) -> Anchor:
    section = top.section("anchor", ("x", "y", "width", "height", "cutout"))
    return Anchor(box=section.box(), cutout=section.boolean("cutout"))


def _parse_subtitles(top: _Section) -> SubtitleSpec:
    section = top.section(
        "subtitles",
        ("x", "width", "bottom", "max_lines", "font", "text_color", "outline_color", "outline_width"),
    )
    x = section.number("x", 0.0, 1.0)
    width = section.number("width", 0.1, 1.0)
    section.check_inside("width", x + width)
    return SubtitleSpec(
        x=x,
        width=width,
        bottom=section.number("bottom", 0.1, 1.0),
        max_lines=section.integer("max_lines", 1, 4),
        font=section.font(),
        text_color=section.color("text_color"),
        outline_color=section.color("outline_color"),
        outline_width=section.number("outline_width", 0.0, 0.25),
    )


def _parse_lower_third(top: _Section) -> LowerThirdSpec | None:
    section = top.optional_section(
        "lower_third",
        ("x", "y", "width", "height", "color", "opacity", "accent_color", "accent_width", "font", "text_color"),
    )
    if section is None:
        return None
    return LowerThirdSpec(
        box=section.box(),
        color=section.color("color"),
        opacity=section.number("opacity", 0.0, 1.0),
        accent_color=section.color("accent_color"),
        accent_width=section.number("accent_width", 0.0, 0.5),
        font=section.font(),
        text_color=section.color("text_color"),
    )


def _parse_ticker(top: _Section) -> TickerSpec | None:
    section = top.optional_section(
        "ticker", ("x", "y", "width", "height", "color", "font", "text_color", "speed", "separator", "text")
    )
    if section is None:
        return None
    text = section.text("text") if section.has("text") else None
    return TickerSpec(
        box=section.box(),
        color=section.color("color"),
        font=section.font(),
        text_color=section.color("text_color"),
        speed=section.number("speed", 0.01, 2.0),
        separator=section.text("separator"),
        text=text if text and text.strip() else None,
    )


def _parse_logo(top: _Section) -> LogoSpec | None:
    section = top.optional_section("logo", ("image", "x", "y", "height", "opacity"))
    if section is None:
        return None
    path, image = section.image("image")
    return LogoSpec(
        image=path,
        image_size=image.size,
        x=section.number("x", 0.0, 1.0),
        y=section.number("y", 0.0, 1.0),
        height=section.number("height", 0.01, 1.0),
        opacity=section.number("opacity", 0.0, 1.0),
    )


# ---- pixel geometry


def _overlaps(first: PixelBox, second: PixelBox) -> bool:
    """Return True if two pixel boxes share at least one pixel."""
    return first[0] < second[2] and second[0] < first[2] and first[1] < second[3] and second[1] < first[3]


class _Geometry:
    """A layout's element boxes, fonts and label in pixels for one canvas size, checked.

    Raises:
        AvatarError: an element box past the canvas edge, text too tall for its box, or an
            element that overlaps the AI label.
    """

    def __init__(self, layout: Layout, width: int, height: int) -> None:
        assert layout.anchor is not None
        assert layout.subtitles is not None
        self.layout = layout
        self.width = width
        self.height = height
        self.label = render_label(width, height)
        self.anchor = layout.anchor.box.pixels(width, height)

        # 1. Subtitles: the band that the tallest cue can reach.
        spec = layout.subtitles
        left = round(spec.x * width)
        right = round((spec.x + spec.width) * width)
        self.subtitle_style = SubtitleStyle(
            font_size=spec.font.pixels(width, height),
            center_x=(left + right) / 2,
            max_width=right - left,
            bottom=round(spec.bottom * height),
            max_lines=spec.max_lines,
            weight=spec.font.weight,
            text_color=spec.text_color,
            outline_color=spec.outline_color,
            outline_fraction=spec.outline_width,
        )
        band_top = self.subtitle_style.band_top
        if band_top < 0:
            self._raise_too_large("subtitles", self.subtitle_style.font_size, right - left, self.subtitle_style.bottom)
        self.subtitles = (left, band_top, right, self.subtitle_style.bottom)

        # 2. The lower third, the ticker and the logo.
        self.lower_third: PixelBox | None = None
        self.headline_font_size = 0
        if layout.lower_third is not None:
            self.lower_third = layout.lower_third.box.pixels(width, height)
            self.headline_font_size = layout.lower_third.font.pixels(width, height)
            self._check_text_fits("lower_third", self.lower_third, self.headline_font_size)
        self.ticker: PixelBox | None = None
        self.ticker_font_size = 0
        if layout.ticker is not None:
            self.ticker = layout.ticker.box.pixels(width, height)
            self.ticker_font_size = layout.ticker.font.pixels(width, height)
            self._check_text_fits("ticker", self.ticker, self.ticker_font_size)
        self.logo: PixelBox | None = None
        if layout.logo is not None:
            end = max(layout.logo.end(width, height))
            # The same tolerance as for boxes, which lets 0.1 + 0.9 pass despite binary rounding.
            if end > 1.0 + 1e-9:
                raise AvatarError("layout_box_outside", path=str(layout.path), field="logo", end=round(end, 4))
            self.logo = layout.logo.pixels(width, height)

        # 3. Nothing may overlap the AI label, which is drawn last in the top-right corner.
        for element, box in self.element_boxes().items():
            if _overlaps(box, self.label.box):
                raise AvatarError(
                    "layout_hides_label", path=str(layout.path), element=element, width=width, height=height
                )

    def element_boxes(self) -> dict[str, PixelBox]:
        """Return the pixel box of every element that is drawn over the person, by field name."""
        boxes = {"subtitles": self.subtitles}
        for name, box in (("lower_third", self.lower_third), ("ticker", self.ticker), ("logo", self.logo)):
            if box is not None:
                boxes[name] = box
        return boxes

    def _check_text_fits(self, element: str, box: PixelBox, font_size: int) -> None:
        """Raise AvatarError when one line of text at `font_size` is taller or wider than `box`."""
        # CJK glyphs fill about one em square, so a line fits a box at least one font size
        # tall; Latin descenders may touch the edges of such a tight box.
        box_width, box_height = box[2] - box[0], box[3] - box[1]
        if font_size > box_height or font_size > box_width:
            self._raise_too_large(element, font_size, box_width, box_height)

    def _raise_too_large(self, element: str, font_size: int, box_width: int, box_height: int) -> None:
        raise AvatarError(
            "layout_text_too_large", path=str(self.layout.path), field=element, font=font_size,
            box=f"{box_width}×{box_height}", width=self.width, height=self.height,
        )


# ---- composing frames


class LayoutCompositor:
    """Turns rendered person frames into finished frames of a layout.

    Args:
        layout: the layout, from `load_layout`.
        width: canvas width in pixels, from `Layout.canvas_size`.
        height: canvas height in pixels.
        fps: frames per second, which with `sample_rate` maps frames to cue times and moves the ticker.
        sample_rate: audio samples per second of the cue times.
        cues: the subtitles; an empty sequence shows none.
        language: "zh" or "en", the script's language (the AI label is always bilingual).
        person_width: width of the rendered person frames.
        person_height: height of the rendered person frames. For "full" both must equal the canvas.
        background: the user's backdrop. Anything but "portrait" replaces the template's.
        headline: the lower third's text, on one line; None or blank draws no lower third.
        ticker: the ticker's text. None uses the template's default text; blank text, or None
            with a template that has no default text, shows no ticker.

    Raises:
        AvatarError: bad sizes or settings, text for a lower third or ticker that the layout
            does not have, or a template that does not fit this canvas.
    """

    def __init__(
        self,
        layout: Layout,
        width: int,
        height: int,
        fps: int,
        sample_rate: int,
        cues: Sequence[Cue],
        language: str,
        person_width: int,
        person_height: int,
        background: Background | None = None,
        headline: str | None = None,
        ticker: str | None = None,
    ) -> None:
        # 1. Check the settings and that the layout has the elements the caller fills.
        check_frame_settings(width, height, fps, sample_rate, language)
        background = background or Background()
        layout.check_text(headline, ticker)
        headline = _one_line(headline)

        self.layout = layout
        self.width = width
        self.height = height
        self.fps = fps
        self.person_width = person_width
        self.person_height = person_height
        self._classic: Compositor | None = None

        if layout.aspect is None:
            self._init_full(fps, sample_rate, cues, language, background)
            return

        # 2. Pixel geometry for this canvas, checked again at the actual size.
        geometry = _Geometry(layout, width, height)
        assert layout.anchor is not None
        self.anchor_box = geometry.anchor
        self._cutout = layout.anchor.cutout
        self._feather_kernel = feather_kernel(width, height)
        self._fit = _PersonFit(person_width, person_height, self.anchor_box)

        # 3. The static plate: background, then the lower third and the logo.
        if background.kind != "portrait":
            backdrop = background.plate(width, height)
        else:
            assert layout.background is not None
            backdrop = layout.background.plate(width, height)
        assert backdrop is not None
        left, top, right, bottom = self.anchor_box
        self._backdrop_in_anchor = np.ascontiguousarray(backdrop[top:bottom, left:right])
        self.headline = headline
        layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        self.lower_third_box = self._draw_lower_third(layer, geometry) if self.headline is not None else None
        self.logo_box = self._draw_logo(layer, geometry)
        self._plate = backdrop.copy()
        whole_layer = Overlay.from_image(layer, 0, 0)
        if whole_layer is not None:
            whole_layer.blend_onto(self._plate)
        # The parts of the layer over the anchor box are blended again over the person.
        self._layer_over_person = Overlay.from_image(layer.crop(self.anchor_box), left, top)

        # 4. The ticker strip, drawn once and sliced per frame.
        if ticker is None and layout.ticker is not None:
            ticker = layout.ticker.text
        self.ticker_text = _one_line(ticker)
        self.ticker_box: PixelBox | None = None
        self.ticker_period = 0
        if self.ticker_text is not None:
            self._draw_ticker_strip(geometry)

        # 5. Subtitles and the label.
        self._subtitles = SubtitleTrack(cues, geometry.subtitle_style, width, fps, sample_rate)
        self.subtitle_capacity = geometry.subtitle_style.capacity
        self.subtitle_band = (geometry.subtitles[1], geometry.subtitles[3])
        self.subtitle_box = geometry.subtitles
        self._label = geometry.label
        self.label_box = self._label.box

    def _init_full(
        self, fps: int, sample_rate: int, cues: Sequence[Cue], language: str, background: Background
    ) -> None:
        """Set up the "full" layout, which is the classic compositor on the portrait's own frame."""
        if (self.person_width, self.person_height) != (self.width, self.height):
            raise ValueError(
                f"the full layout composes on the person frame itself, so it must be {self.width}x{self.height}, "
                f"not {self.person_width}x{self.person_height}"
            )
        self._classic = Compositor(
            self.width, self.height, fps, sample_rate, cues, background, language
        )
        self.anchor_box = (0, 0, self.width, self.height)
        self.headline = None
        self.lower_third_box = None
        self.logo_box = None
        self.ticker_text = None
        self.ticker_box = None
        self.ticker_period = 0
        self.subtitle_capacity = subtitle_capacity(self.width, self.height)
        self.subtitle_band = self._classic.subtitle_band
        self.subtitle_box = (0, self.subtitle_band[0], self.width, self.subtitle_band[1])
        self.label_box = self._classic.label_box

    # ---- static parts

    def _draw_lower_third(self, layer: Image.Image, geometry: _Geometry) -> PixelBox:
        """Draw the lower third with the headline onto `layer`; return its box."""
        spec = self.layout.lower_third
        assert spec is not None
        assert geometry.lower_third is not None
        assert self.headline is not None
        left, top, right, bottom = geometry.lower_third
        box = Image.new("RGBA", (right - left, bottom - top), (*spec.color, round(255 * spec.opacity)))
        draw = ImageDraw.Draw(box)
        accent = round(spec.accent_width * box.width)
        if accent > 0:
            draw.rectangle((0, 0, accent - 1, box.height - 1), fill=(*spec.accent_color, 255))

        size = geometry.headline_font_size
        text_left = accent + round(_HEADLINE_PADDING * size)
        max_width = box.width - round(_HEADLINE_PADDING * size) - text_left
        font, text = _fit_one_line(self.headline, size, spec.font.weight, max_width)
        if text:
            # Anchor "lm": the left edge at x, the middle between ascender and descender at y.
            draw.text((text_left, box.height / 2), text, font=font, anchor="lm", fill=(*spec.text_color, 255))
        layer.alpha_composite(box, dest=(left, top))
        return geometry.lower_third

    def _draw_logo(self, layer: Image.Image, geometry: _Geometry) -> PixelBox | None:
        """Draw the logo onto `layer`; return its box, or None when the layout has none."""
        spec = self.layout.logo
        if spec is None or geometry.logo is None:
            return None
        left, top, right, bottom = geometry.logo
        image = _open_template_image(self.layout.path, "logo.image", spec.image).convert("RGBA")
        image = image.resize((right - left, bottom - top), Image.Resampling.LANCZOS)
        if spec.opacity < 1.0:
            alpha = np.asarray(image.getchannel("A"), dtype=np.float32) * spec.opacity
            image.putalpha(Image.fromarray(np.round(alpha).astype(np.uint8), mode="L"))
        layer.alpha_composite(image, dest=(left, top))
        return geometry.logo

    def _draw_ticker_strip(self, geometry: _Geometry) -> None:
        """Draw the ticker text repeated along a strip one period longer than the band.

        Every copy starts at a whole multiple of the period, so each is rasterised alike.
        The slice at offset `ticker_period` then equals the slice at 0, and the loop has no seam.
        """
        spec = self.layout.ticker
        assert spec is not None
        assert geometry.ticker is not None
        assert self.ticker_text is not None
        self.ticker_box = geometry.ticker
        left, top, right, bottom = geometry.ticker
        band_width, band_height = right - left, bottom - top
        font = load_font(geometry.ticker_font_size, spec.font.weight)
        unit = self.ticker_text + spec.separator
        self.ticker_period = max(1, math.ceil(font.getlength(unit)))
        strip = Image.new("RGB", (self.ticker_period + band_width, band_height), spec.color)
        draw = ImageDraw.Draw(strip)
        # The copy before 0 supplies glyph parts that overhang into the strip's start.
        for copy in range(-1, band_width // self.ticker_period + 2):
            draw.text(
                (copy * self.ticker_period, band_height / 2), unit, font=font, anchor="lm", fill=spec.text_color
            )
        self._ticker_strip = np.asarray(strip)  # (band_height, period + band_width, 3)
        self._ticker_pixels_per_second = spec.speed * min(self.width, self.height)

    def element_over(self, x: float, y: float) -> str | None:
        """Return the element drawn over point (x, y) of a person frame, or None when it stays visible.

        The pipeline checks the mouth with it, because a headline bar across the mouth hides the lip sync.
        """
        if self.layout.aspect is None:
            return None
        left, top = self.anchor_box[0] - self._fit.left, self.anchor_box[1]
        scale = 1.0
        if self._fit.scaled_size is not None:
            scale = self._fit.scaled_size[0] / self.person_width
        point = (left + x * scale, top + y * scale)
        for element, box in (("lower_third", self.lower_third_box), ("ticker", self.ticker_box),
                             ("logo", self.logo_box)):
            if box is not None and box[0] <= point[0] < box[2] and box[1] <= point[1] < box[3]:
                return element
        return None

    def ticker_offset(self, index: int) -> int:
        """Return how many pixels the ticker text has moved left at frame `index`, modulo its period."""
        if self.ticker_period == 0:
            return 0
        return math.floor(index * self._ticker_pixels_per_second / self.fps) % self.ticker_period

    # ---- per frame

    def compose(self, index: int, image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        """Return frame `index` finished: the person placed on the layout with all its elements.

        Args:
            index: frame number from 0; selects the subtitle shown and the ticker position.
            image: (person_height, person_width, 3) uint8 RGB rendered person.
            alpha: (person_height, person_width) uint8 person mask, 255 = person.

        Returns:
            A new (height, width, 3) uint8 RGB array; the inputs are not modified.
        """
        if self.layout.aspect is None:
            assert self._classic is not None
            return self._classic.compose(index, image, alpha)
        check_person_frame(index, image, alpha, self.person_width, self.person_height)

        # 1. The plate, with the person in the anchor box.
        frame = self._plate.copy()
        left, top, right, bottom = self.anchor_box
        person, mask = self._fit.apply(image, alpha)
        if self._cutout:
            frame[top:bottom, left:right] = blend_person(
                person, mask, self._backdrop_in_anchor, self._feather_kernel
            )
        else:
            frame[top:bottom, left:right] = person
        if self._layer_over_person is not None:
            self._layer_over_person.blend_onto(frame)

        # 2. The ticker, the subtitle and, last, the label.
        if self.ticker_box is not None:
            offset = self.ticker_offset(index)
            ticker_left, ticker_top, ticker_right, ticker_bottom = self.ticker_box
            frame[ticker_top:ticker_bottom, ticker_left:ticker_right] = self._ticker_strip[
                :, offset : offset + ticker_right - ticker_left
            ]
        overlay = self._subtitles.overlay_at(index)
        if overlay is not None:
            overlay.blend_onto(frame)
        self._label.blend_onto(frame)
        return frame


class _PersonFit:
    """Cover-fits person frames to the anchor box: scaled, centred horizontally, aligned at the top."""

    def __init__(self, person_width: int, person_height: int, box: PixelBox) -> None:
        box_width, box_height = box[2] - box[0], box[3] - box[1]
        scale = max(box_width / person_width, box_height / person_height)
        self.scaled_size: tuple[int, int] | None = None
        if not 1.0 - _CROP_TOLERANCE <= scale <= 1.0:
            self.scaled_size = (
                max(box_width, round(person_width * scale)),
                max(box_height, round(person_height * scale)),
            )
            if scale > 1.0:
                logger.warning(
                    "person frames of %dx%d are upscaled %.2fx to cover the %dx%d anchor box; render them "
                    "at Layout.person_render_size for a sharp picture",
                    person_width, person_height, scale, box_width, box_height,
                )
        fitted_width, _ = self.scaled_size or (person_width, person_height)
        # Keep the head: crop the sides evenly and only the bottom.
        self.left = (fitted_width - box_width) // 2
        self.box_width = box_width
        self.box_height = box_height
        self.interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR

    def apply(self, image: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the person image and mask cut to the anchor box's size."""
        if self.scaled_size is not None:
            image = cv2.resize(image, self.scaled_size, interpolation=self.interpolation)
            alpha = cv2.resize(alpha, self.scaled_size, interpolation=self.interpolation)
        columns = slice(self.left, self.left + self.box_width)
        return image[: self.box_height, columns], alpha[: self.box_height, columns]


def _one_line(text: str | None) -> str | None:
    """Return `text` with runs of whitespace (line breaks included) made single spaces; None when empty."""
    if text is None:
        return None
    return " ".join(printable(text).split()) or None


def _fit_one_line(text: str, size: int, weight: int, max_width: float) -> tuple[ImageFont.FreeTypeFont, str]:
    """Return the font and text for one line no wider than `max_width`: shrunk first, then cut."""
    smallest = max(_MIN_FONT_PIXELS, round(size * _HEADLINE_MIN_SCALE))
    font = load_font(size, weight)
    while font.getlength(text) > max_width and size > smallest:
        size = max(smallest, size - max(1, size // 12))
        font = load_font(size, weight)
    if font.getlength(text) > max_width:
        logger.warning("headline too wide for the lower third at %d px, so it is cut: %r", size, text)
        text = truncate_with_ellipsis(text, font, max_width)
    return font, text
