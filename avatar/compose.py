"""Compositing of rendered portrait frames: background, burned-in subtitles, AI label.

Text is costly to draw, so each subtitle cue and the label are drawn once with
Pillow into an RGBA patch. Every frame then only blends the patch's bounding
box. Per frame the cost is one mask blur and one full-frame blend when the
background is replaced, plus two small patch blends.

Layout, scaled by the shorter frame side so that text reads the same from 256
to 1920 pixels:

- subtitles: white text with a black outline, centred at the bottom, at most
  two lines, wrapped per character for CJK and per word for Latin text;
- the "AI生成" / "AI-generated" label: top-right corner, on a translucent box.
  Subtitles are confined to the bottom band, so they never cover it.

`avatar.layout` reuses the subtitle style, the label and the overlays for its
templates, which place these parts elsewhere on a larger canvas.
"""

from __future__ import annotations

import bisect
import functools
import importlib.resources
import logging
import math
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from avatar.errors import AvatarError
from avatar.images import open_image
from avatar.subtitles import Cue, is_wide, split_tokens
from avatar.timing import frame_to_sample

logger = logging.getLogger(__name__)

FONT_PACKAGE = "manimgx_fonts_cjk"
FONT_FILE = "NotoSansCJK-VF.otf.ttc"
# The variable font's weight axis runs from 100 (Thin, its default) to 900.
SUBTITLE_WEIGHT = 700
LABEL_WEIGHT = 500

# Frame sizes the layout below was designed for, in pixels per side.
AI_LABEL = "AI生成 / AI-generated"
MIN_SIZE = 256
MAX_SIZE = 1920

# Sizes as fractions of the shorter frame side, with minimums in pixels below
# which text stops being legible.
_SUBTITLE_FONT_FRACTION = 0.055
_SUBTITLE_FONT_MIN = 14
_SUBTITLE_MIN_SCALE = 0.75  # the font shrinks to this before text is cut
_SUBTITLE_MAX_LINES = 2
_SUBTITLE_BOTTOM_MARGIN = 0.05  # of the frame height
_SUBTITLE_SIDE_MARGIN = 0.05  # of the frame width, on each side
_LINE_SPACING = 1.2  # line pitch in font sizes
_OUTLINE_FRACTION = 0.09  # subtitle outline width, of the font size
_LABEL_FONT_FRACTION = 0.032
_LABEL_FONT_MIN = 11
_LABEL_MARGIN = 0.02
_LABEL_BOX_OPACITY = 0.5
_FEATHER_FRACTION = 0.006  # mask blur radius, of the shorter side

# Frames arrive in order, so only a few cues are needed at once. The bound
# keeps memory flat for any script length.
_CUE_CACHE_SIZE = 4

_CJK_NO_LINE_START = set("，。、；：！？）》」』】〕”’…·,.;:!?)]}%")
_CJK_NO_LINE_END = set("（《「『【〔“‘([{")
_CLAUSE_MARKS = set("，、；：。！？,;:")


def subtitle_capacity(width: int, height: int) -> float:
    """Return how much text fits the subtitle lines of a frame, in CJK character widths.

    The estimate uses the smallest font size the compositor shrinks to, and keeps 10 % for
    line breaks that cannot fall exactly at the edge. Cues no longer than this are shown
    whole instead of being cut with an ellipsis.
    """
    return SubtitleStyle.default(width, height).capacity


@dataclass(frozen=True)
class SubtitleStyle:
    """The look and place of burned-in subtitles, in frame pixels.

    Attributes:
        font_size: the starting font size. A cue that needs more than `max_lines` lines
            shrinks it to 75 % (not below 14 px) before its text is cut with an ellipsis.
        center_x: x of the centre of every line.
        max_width: the maximum line width, outline included.
        bottom: y of the bottom edge of the lowest line's outline.
        max_lines: the maximum number of lines per cue.
        weight: font weight, 100 (thin) to 900 (black).
        text_color: RGB, 0..255 each.
        outline_color: RGB of the outline around each glyph.
        outline_fraction: outline width as a fraction of the font size; 0 draws none.
    """

    font_size: int
    center_x: float
    max_width: float
    bottom: int
    max_lines: int = _SUBTITLE_MAX_LINES
    weight: int = SUBTITLE_WEIGHT
    text_color: tuple[int, int, int] = (255, 255, 255)
    outline_color: tuple[int, int, int] = (0, 0, 0)
    outline_fraction: float = _OUTLINE_FRACTION

    @classmethod
    def default(cls, width: int, height: int) -> SubtitleStyle:
        """Return the `Compositor` style: centred at the bottom, scaled by the shorter frame side."""
        return cls(
            font_size=max(_SUBTITLE_FONT_MIN, round(_SUBTITLE_FONT_FRACTION * min(width, height))),
            center_x=width / 2,
            max_width=width * (1.0 - 2 * _SUBTITLE_SIDE_MARGIN),
            bottom=height - round(_SUBTITLE_BOTTOM_MARGIN * height),
        )

    @property
    def smallest_font_size(self) -> int:
        """The font size a long cue shrinks to before it is cut."""
        return max(_SUBTITLE_FONT_MIN, round(self.font_size * _SUBTITLE_MIN_SCALE))

    @property
    def capacity(self) -> float:
        """How much text fits the lines at the smallest font size, in CJK character widths.

        10 % is kept for line breaks that cannot fall exactly at the edge.
        """
        smallest = self.smallest_font_size
        usable = self.max_width - 2 * _stroke_width(smallest, self.outline_fraction)
        return 0.9 * self.max_lines * usable / smallest

    @property
    def band_top(self) -> int:
        """The top of the band that the tallest (`max_lines` lines) subtitle may reach."""
        return self.bottom - _subtitle_patch_height(self.font_size, self.max_lines, self.outline_fraction)


@dataclass(frozen=True)
class Background:
    """The backdrop behind the person.

    Attributes:
        kind: "portrait" keeps the rendered portrait's own background, "color"
            fills with `color`, "image" covers the frame with the image at `path`.
        color: RGB, 0..255 each, for "color".
        path: the background image file, for "image".
    """

    kind: Literal["portrait", "color", "image"] = "portrait"
    color: tuple[int, int, int] | None = None
    path: Path | None = None

    @classmethod
    def parse(cls, value: str | None) -> Background:
        """Parse None or "portrait", a "#RRGGBB" colour, or the path of an image file."""
        if value is None or not value.strip() or value.strip().lower() == "portrait":
            return cls()
        value = value.strip()
        if value.startswith("#"):
            if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
                raise AvatarError("invalid_color", value=value)
            color = tuple(int(value[i : i + 2], 16) for i in (1, 3, 5))
            return cls(kind="color", color=color)  # type: ignore[arg-type]

        path = Path(value).expanduser()
        if not path.exists():
            # A bare word such as "red" is more likely a colour than a missing file.
            raise AvatarError("background_not_found", value=value)
        _read_image(path)  # reject an unreadable image now rather than at the first frame
        return cls(kind="image", path=path)

    def plate(self, width: int, height: int) -> np.ndarray | None:
        """Return the background as a (height, width, 3) uint8 RGB array, or None for "portrait"."""
        if self.kind == "color":
            assert self.color is not None
            return np.full((height, width, 3), self.color, dtype=np.uint8)
        if self.kind == "image":
            assert self.path is not None
            return _cover_fit(_read_image(self.path), width, height)
        return None


def _read_image(path: Path) -> np.ndarray:
    """Read an image file as (H, W, 3) uint8 RGB, compositing any transparency over black."""
    return np.asarray(open_image(path, str(path), "background_unreadable").convert("RGB"))


def _cover_fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale `image` to cover width×height, keeping its aspect ratio, and crop the centre."""
    source_height, source_width = image.shape[:2]
    scale = max(width / source_width, height / source_height)
    scaled_width = max(width, round(source_width * scale))
    scaled_height = max(height, round(source_height * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    scaled = cv2.resize(image, (scaled_width, scaled_height), interpolation=interpolation)
    left = (scaled_width - width) // 2
    top = (scaled_height - height) // 2
    return np.ascontiguousarray(scaled[top : top + height, left : left + width])


def font_path() -> Path:
    """Return the path of the Noto Sans CJK collection shipped by the font package."""
    try:
        path = Path(str(importlib.resources.files(FONT_PACKAGE) / FONT_FILE))
    except ModuleNotFoundError as error:
        raise AvatarError("font_missing", path=f"{FONT_PACKAGE}/{FONT_FILE}") from error
    if not path.is_file():
        raise AvatarError("font_missing", path=str(path))
    return path


@functools.lru_cache(maxsize=1)
def _simplified_chinese_face_index(path: Path) -> int:
    """Return the index of the "Noto Sans CJK SC" face inside the collection."""
    index = 0
    while True:
        try:
            face = ImageFont.truetype(str(path), 16, index=index)
        except OSError:
            break
        if face.getname()[0].endswith(" SC"):
            return index
        index += 1
    logger.warning("no Simplified Chinese face in %s; using face 0, whose glyph shapes follow Japanese", path)
    return 0


@functools.lru_cache(maxsize=1)
def _font_characters() -> frozenset[int]:
    """Return the code points that the Simplified Chinese face has glyphs for."""
    from fontTools.ttLib import TTCollection

    path = font_path()
    collection = TTCollection(str(path), lazy=True)
    return frozenset(collection.fonts[_simplified_chinese_face_index(path)].getBestCmap())


def printable(text: str) -> str:
    """Return `text` without the characters the font cannot draw (emoji, rare symbols).

    Drawn anyway they would show as empty boxes. The SRT file keeps the full text, because a
    player draws it with fonts of its own.
    """
    characters = _font_characters()
    missing = {char for char in text if ord(char) not in characters and not char.isspace()}
    if not missing:
        return text
    logger.warning("the font has no glyphs for %s, so they are left out of the drawn text", "".join(sorted(missing)))
    return "".join(char for char in text if char not in missing)


@functools.lru_cache(maxsize=16)
def load_font(size: int, weight: int = SUBTITLE_WEIGHT) -> ImageFont.FreeTypeFont:
    """Load the Simplified Chinese Noto Sans CJK face at `size` pixels and `weight` (100..900)."""
    path = font_path()
    try:
        font = ImageFont.truetype(str(path), size, index=_simplified_chinese_face_index(path))
    except OSError as error:
        raise AvatarError("font_missing", path=str(path)) from error
    font.set_variation_by_axes([weight])
    return font


def wrap_text(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Wrap `text` into lines no wider than `max_width` pixels.

    Latin text breaks between words and CJK text between characters, but a line
    never starts with closing punctuation or ends with an opening mark. A word
    wider than a whole line is cut between characters.
    """
    lines: list[str] = []
    line = ""
    # Text of the current line up to each place where it may be broken.
    break_points: list[int] = []
    previous_token = ""
    for token in split_tokens(" ".join(text.split())):
        if token.isspace():
            if line:
                break_points.append(len(line))
                line += " "
            previous_token = token
            continue
        if line and _may_break_between(previous_token, token):
            break_points.append(len(line))
        candidate = line + token
        if line and font.getlength(candidate) > max_width:
            cut = break_points[-1] if break_points else len(line)
            lines.append(line[:cut].rstrip())
            line = line[cut:].lstrip()
            candidate = line + token
            break_points = []
        # A single word wider than the line is cut between characters.
        while font.getlength(candidate) > max_width and len(candidate) > 1:
            cut = _longest_fitting_prefix(candidate, font, max_width)
            lines.append(candidate[:cut].rstrip())
            candidate = candidate[cut:].lstrip()
            break_points = []
        line = candidate
        previous_token = token
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _may_break_between(previous: str, token: str) -> bool:
    """Return True if a line may break between two adjacent non-space tokens."""
    if previous.isspace() or not previous:
        return True
    if token[0] in _CJK_NO_LINE_START or previous[-1] in _CJK_NO_LINE_END:
        return False
    # Two Latin runs with no space between them belong to one word.
    return is_wide(previous[-1]) or is_wide(token[0])


def _longest_fitting_prefix(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> int:
    """Return the length of the longest prefix of `text` (at least 1) that fits `max_width`."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if font.getlength(text[:middle]) <= max_width:
            low = middle
        else:
            high = middle - 1
    return low


@dataclass(frozen=True)
class Overlay:
    """A pre-rendered RGBA patch placed on the frame.

    Attributes:
        left: x of the patch's left column in the frame.
        top: y of the patch's top row in the frame.
        rgb: (h, w, 3) uint8 colour.
        weight: (h, w) float32 opacity, 0..1.
        inverse_weight: 1 - weight, kept to save a subtraction per frame.
    """

    left: int
    top: int
    rgb: np.ndarray
    weight: np.ndarray
    inverse_weight: np.ndarray

    @classmethod
    def from_image(cls, image: Image.Image, left: int, top: int) -> Overlay | None:
        """Crop an RGBA image to its visible pixels, or return None when nothing is visible."""
        box = image.getchannel("A").getbbox()
        if box is None:
            return None
        cropped = np.asarray(image.crop(box))
        weight = cropped[:, :, 3].astype(np.float32) / 255.0
        return cls(
            left=left + box[0],
            top=top + box[1],
            rgb=np.ascontiguousarray(cropped[:, :, :3]),
            weight=weight,
            inverse_weight=1.0 - weight,
        )

    @property
    def box(self) -> tuple[int, int, int, int]:
        """The patch's (left, top, right, bottom) in frame pixels, right and bottom exclusive."""
        height, width = self.weight.shape
        return self.left, self.top, self.left + width, self.top + height

    def blend_onto(self, frame: np.ndarray) -> None:
        """Blend the patch onto `frame` in place."""
        height, width = self.weight.shape
        region = frame[self.top : self.top + height, self.left : self.left + width]
        region[...] = cv2.blendLinear(self.rgb, region, self.weight, self.inverse_weight)


class SubtitleTrack:
    """The subtitle cues of one video, each drawn once and looked up by frame index.

    Args:
        cues: the subtitles; an empty sequence shows none.
        style: how and where they are drawn.
        frame_width: the width of the frames the overlays are blended onto.
        fps: frames per second, which with `sample_rate` maps frames to cue times.
        sample_rate: audio samples per second of the cue times.
    """

    def __init__(
        self, cues: Sequence[Cue], style: SubtitleStyle, frame_width: int, fps: int, sample_rate: int
    ) -> None:
        self.cues = sorted(cues, key=lambda cue: cue.start_sample)
        self.style = style
        self.frame_width = frame_width
        self.fps = fps
        self.sample_rate = sample_rate
        self._cue_starts = [cue.start_sample for cue in self.cues]
        self._cue_overlays: OrderedDict[int, Overlay | None] = OrderedDict()

    def overlay_at(self, index: int) -> Overlay | None:
        """Return the overlay of the cue shown at frame `index`, drawing it on first use."""
        sample = frame_to_sample(index, self.sample_rate, self.fps)
        position = bisect.bisect_right(self._cue_starts, sample) - 1
        if position < 0 or sample >= self.cues[position].end_sample:
            return None
        if position in self._cue_overlays:
            self._cue_overlays.move_to_end(position)
            return self._cue_overlays[position]
        overlay = draw_subtitle(self.cues[position].text, self.style, self.frame_width)
        self._cue_overlays[position] = overlay
        if len(self._cue_overlays) > _CUE_CACHE_SIZE:
            self._cue_overlays.popitem(last=False)
        return overlay


class Compositor:
    """Turns rendered portrait frames into finished video frames.

    Args:
        width: frame width in pixels, MIN_SIZE..MAX_SIZE.
        height: frame height in pixels, MIN_SIZE..MAX_SIZE.
        fps: frames per second, which with `sample_rate` maps frames to cue times.
        sample_rate: audio samples per second of the cue times.
        cues: the subtitles; an empty sequence shows none.
        background: what replaces the portrait's background.
        language: "zh" or "en", the language of the AI label.
    """

    def __init__(
        self,
        width: int,
        height: int,
        fps: int,
        sample_rate: int,
        cues: Sequence[Cue],
        background: Background,
        language: str,
    ) -> None:
        check_frame_settings(width, height, fps, sample_rate, language)

        self.width = width
        self.height = height
        self.fps = fps
        self.sample_rate = sample_rate
        self.language = language

        self._plate = background.plate(width, height)
        self._feather_kernel = feather_kernel(width, height)

        self._subtitle_style = SubtitleStyle.default(width, height)
        self._subtitles = SubtitleTrack(cues, self._subtitle_style, width, fps, sample_rate)
        self.cues = self._subtitles.cues
        self.subtitle_font_size = self._subtitle_style.font_size
        # The band that the tallest (two-line) subtitle may reach.
        self.subtitle_band = (self._subtitle_style.band_top, height)

        # Both languages in every video: viewers of either language must see that it is synthetic.
        self.label_text = AI_LABEL
        self._label = render_label(width, height)
        self.label_box = self._label.box
        if self.label_box[3] > self.subtitle_band[0]:
            # Unreachable for MIN_SIZE and up. The check keeps a layout change from hiding the label.
            raise AssertionError(
                f"label bottom {self.label_box[3]} overlaps the subtitle band {self.subtitle_band}"
            )

    def compose(self, index: int, image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        """Return frame `index` finished: background, subtitle and label over `image`.

        Args:
            index: frame number from 0; selects the subtitle shown.
            image: (H, W, 3) uint8 RGB rendered portrait.
            alpha: (H, W) uint8 person mask, 255 = person; used only when the
                background is replaced.

        Returns:
            A new (H, W, 3) uint8 RGB array; the inputs are not modified.
        """
        check_person_frame(index, image, alpha if self._plate is not None else None, self.width, self.height)

        if self._plate is None:
            frame = image.copy()
        else:
            frame = blend_person(image, alpha, self._plate, self._feather_kernel)

        overlay = self._subtitles.overlay_at(index)
        if overlay is not None:
            overlay.blend_onto(frame)
        self._label.blend_onto(frame)
        return frame

    def render_subtitle(self, text: str) -> Overlay | None:
        """Draw `text` as a subtitle overlay: centred, bottom-aligned, at most two lines."""
        return draw_subtitle(text, self._subtitle_style, self.width)


def check_frame_settings(width: int, height: int, fps: int, sample_rate: int, language: str) -> None:
    """Raise AvatarError for a frame size, frame rate, sample rate or label language out of range."""
    # Users choose the longer side (--size). A tall or wide portrait makes the shorter
    # side smaller, which is allowed down to half the minimum, where text still fits.
    if not MIN_SIZE <= max(width, height) <= MAX_SIZE:
        raise AvatarError("invalid_size", value=max(width, height), low=MIN_SIZE, high=MAX_SIZE)
    if min(width, height) < MIN_SIZE // 2:
        needed = math.ceil(MIN_SIZE // 2 * max(width, height) / min(width, height))
        raise AvatarError("frame_too_narrow", width=width, height=height, low=MIN_SIZE // 2, needed=needed,
                          high=MAX_SIZE)
    if fps <= 0:
        raise AvatarError("invalid_fps", value=fps, low=1, high=60)
    if sample_rate <= 0:
        raise AvatarError("invalid_sample_rate", value=sample_rate)
    if language not in ("zh", "en"):
        raise AvatarError("invalid_language", value=language)


def check_person_frame(
    index: int, image: np.ndarray, alpha: np.ndarray | None, width: int, height: int
) -> None:
    """Raise AvatarError unless `image` is (height, width, 3) uint8 and `alpha`, if given, (height, width) uint8."""
    expected = (height, width, 3)
    if image.shape != expected or image.dtype != np.uint8:
        raise AvatarError(
            "invalid_frame", index=index, shape=image.shape, dtype=image.dtype, expected=expected
        )
    if alpha is not None and (alpha.shape != expected[:2] or alpha.dtype != np.uint8):
        raise AvatarError(
            "invalid_frame", index=index, shape=alpha.shape, dtype=alpha.dtype, expected=expected[:2]
        )


def feather_kernel(width: int, height: int) -> tuple[int, int]:
    """Return the Gaussian kernel size that softens the person mask's edge in a width×height frame."""
    radius = max(1, round(_FEATHER_FRACTION * min(width, height)))
    return (2 * radius + 1, 2 * radius + 1)


def blend_person(
    image: np.ndarray, alpha: np.ndarray, backdrop: np.ndarray, kernel: tuple[int, int]
) -> np.ndarray:
    """Return `image` blended over `backdrop` (same shape) through the feathered person mask `alpha`."""
    weight = cv2.GaussianBlur(alpha, kernel, 0).astype(np.float32)
    weight *= 1.0 / 255.0
    return cv2.blendLinear(image, backdrop, weight, 1.0 - weight)


def draw_subtitle(text: str, style: SubtitleStyle, frame_width: int) -> Overlay | None:
    """Draw `text` as a subtitle overlay in `style`, bottom-aligned, in at most `style.max_lines` lines.

    The font shrinks until the text fits, and text that still does not fit is cut with
    an ellipsis. Returns None when `text` draws nothing.
    """
    text = printable(text)
    max_width = style.max_width
    max_lines = style.max_lines
    lines: list[str] = []
    size = style.font_size
    smallest = style.smallest_font_size
    while True:
        font = load_font(size, style.weight)
        lines = wrap_text(text, font, max_width - 2 * _stroke_width(size, style.outline_fraction))
        if len(lines) <= max_lines or size <= smallest:
            break
        size = max(smallest, size - max(1, size // 12))
    stroke = _stroke_width(size, style.outline_fraction)
    if len(lines) > max_lines:
        logger.warning("subtitle too long for %d lines at %d px, so it is cut: %r", max_lines, size, text)
        lines = lines[:max_lines]
        lines[-1] = truncate_with_ellipsis(lines[-1], font, max_width - 2 * stroke)
    if not lines:
        return None
    if len(lines) > 1:
        lines = _balance_lines(text, font, lines, max_width - 2 * stroke)

    line_pitch = round(size * _LINE_SPACING)
    patch_height = _subtitle_patch_height(size, len(lines), style.outline_fraction)
    patch_top = style.bottom - patch_height
    patch = Image.new("RGBA", (frame_width, patch_height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(patch)
    for number, line in enumerate(lines):
        # Anchor "ma": middle of the line horizontally, ascender at y, so
        # every line sits on the same grid whatever glyphs it has.
        draw.text(
            (style.center_x, stroke + number * line_pitch),
            line,
            font=font,
            anchor="ma",
            fill=(*style.text_color, 255),
            stroke_width=stroke,
            stroke_fill=(*style.outline_color, 255),
        )
    return Overlay.from_image(patch, 0, patch_top)


def render_label(width: int, height: int) -> Overlay:
    """Draw the AI label on a translucent rounded box in the top-right corner of a width×height frame."""
    shorter_side = min(width, height)
    size = max(_LABEL_FONT_MIN, round(_LABEL_FONT_FRACTION * shorter_side))
    font = load_font(size, LABEL_WEIGHT)
    left, top, right, bottom = font.getbbox(AI_LABEL, anchor="ls")
    padding = max(3, round(size * 0.35))
    box_width = (right - left) + 2 * padding
    box_height = (bottom - top) + 2 * padding
    patch = Image.new("RGBA", (box_width, box_height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(patch)
    draw.rounded_rectangle(
        (0, 0, box_width - 1, box_height - 1),
        radius=padding,
        fill=(0, 0, 0, round(255 * _LABEL_BOX_OPACITY)),
    )
    draw.text(
        (padding - left, padding - top),
        AI_LABEL,
        font=font,
        anchor="ls",
        fill=(255, 255, 255, 255),
    )
    margin = max(4, round(_LABEL_MARGIN * shorter_side))
    overlay = Overlay.from_image(patch, width - margin - box_width, margin)
    assert overlay is not None  # the box itself is always visible
    return overlay


def _balance_lines(text: str, font: ImageFont.FreeTypeFont, lines: list[str], max_width: float) -> list[str]:
    """Rewrap `text` at the narrowest width that still needs only len(lines) lines.

    Greedy wrapping fills the first line and leaves a stub on the last, but
    evenly long lines are easier to read.
    """
    # Two lines split at a clause mark read best, when both halves fit.
    if len(lines) == 2:
        text = " ".join(text.split())
        splits = [
            (text[:position].rstrip(), text[position:].lstrip())
            for position, char in enumerate(text, start=1)
            if char in _CLAUSE_MARKS and 0 < position < len(text)
        ]
        fitting = [
            split for split in splits if max(font.getlength(split[0]), font.getlength(split[1])) <= max_width
        ]
        if fitting:
            best_split = min(
                fitting, key=lambda split: max(font.getlength(split[0]), font.getlength(split[1]))
            )
            return list(best_split)

    low = max_width / len(lines)
    high = max_width
    best = lines
    # Bisection to within two pixels. Each step wraps a short text once.
    while high - low > 2:
        middle = (low + high) / 2
        candidate = wrap_text(text, font, middle)
        if len(candidate) <= len(lines) and all(font.getlength(line) <= middle for line in candidate):
            best = candidate
            high = middle
        else:
            low = middle
    return best


def _subtitle_patch_height(font_size: int, num_lines: int, outline_fraction: float = _OUTLINE_FRACTION) -> int:
    """Return the height of a subtitle patch: line pitches, one full line, and the outline."""
    ascent, descent = load_font(font_size).getmetrics()
    return (
        round(font_size * _LINE_SPACING) * (num_lines - 1)
        + ascent
        + descent
        + 2 * _stroke_width(font_size, outline_fraction)
    )


def _stroke_width(font_size: int, fraction: float = _OUTLINE_FRACTION) -> int:
    """Return the subtitle outline width in pixels for `font_size`: at least 1 unless `fraction` is 0."""
    if fraction <= 0:
        return 0
    return max(1, round(font_size * fraction))


def truncate_with_ellipsis(line: str, font: ImageFont.FreeTypeFont, max_width: float) -> str:
    """Shorten `line` until it fits `max_width` with a trailing ellipsis."""
    ellipsis = "…"
    while line and font.getlength(line + ellipsis) > max_width:
        line = line[:-1]
    # Trailing spaces and punctuation before the ellipsis read as a typo.
    line = line.rstrip()
    while line and unicodedata.category(line[-1]).startswith("P"):
        line = line[:-1]
    return line + ellipsis
