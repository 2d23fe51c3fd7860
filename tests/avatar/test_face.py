"""Portrait loading on real photos and on images built for one case each."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from avatar.errors import AvatarError
from avatar.face import NEUTRAL_BACKGROUND, NUM_LANDMARKS, load_portrait

PORTRAITS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "portraits"
needs_data = pytest.mark.skipif(not PORTRAITS.is_dir(), reason=f"real portraits not found at {PORTRAITS}")


@needs_data
@pytest.mark.parametrize(
    "name",
    ["p01_real_frontal_woman_people0.png", "p02_real_frontal_man_mead60.png", "p04_real_glasses_man_d8.jpg", "p06_real_cn_female_host_sun.png"],
)
def test_landmarks_on_real_portraits(name: str) -> None:
    portrait = load_portrait(PORTRAITS / name)
    assert portrait.landmarks.shape == (NUM_LANDMARKS, 3)
    assert portrait.image.shape == (portrait.height, portrait.width, 3)
    assert portrait.mask.shape == (portrait.height, portrait.width)
    inside = (portrait.landmarks[:, 0] >= 0) & (portrait.landmarks[:, 0] < portrait.width)
    assert inside.all()
    # The chin lies below the forehead, and the face is a sizeable part of the photo.
    assert portrait.landmarks[152, 1] > portrait.landmarks[10, 1]
    assert portrait.face_height > 0.15 * portrait.height
    # The person mask covers the face centre (nose tip, landmark 1).
    nose_x, nose_y = portrait.landmarks[1, :2].astype(int)
    assert portrait.mask[nose_y, nose_x] > 128


def test_default_portrait_loads() -> None:
    portrait = load_portrait(None)
    assert portrait.path is None
    assert (portrait.width, portrait.height) == (512, 512)
    assert portrait.landmarks.shape == (NUM_LANDMARKS, 3)


@needs_data
def test_largest_face_chosen(tmp_path: Path) -> None:
    canvas = Image.new("RGB", (1000, 640), (90, 100, 110))
    small = Image.open(PORTRAITS / "p02_real_frontal_man_mead60.png").convert("RGB").resize((200, 200))
    big = Image.open(PORTRAITS / "p01_real_frontal_woman_people0.png").convert("RGB").resize((560, 560))
    canvas.paste(small, (40, 220))
    canvas.paste(big, (420, 40))
    path = tmp_path / "two_faces.png"
    canvas.save(path)

    portrait = load_portrait(path)
    center_x = portrait.landmarks[:, 0].mean()
    assert center_x > 420, "the landmarks belong to the small face on the left"
    assert portrait.face_height > 150


@needs_data
def test_exif_orientation_applied(tmp_path: Path) -> None:
    upright = Image.open(PORTRAITS / "p06_real_cn_female_host_sun.png").convert("RGB")  # 576 x 768
    # Orientation 6 means the stored pixels must turn 90 degrees clockwise for display.
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    stored.save(path, exif=exif.tobytes(), quality=92)

    portrait = load_portrait(path)
    assert (portrait.width, portrait.height) == upright.size
    assert portrait.landmarks[152, 1] - portrait.landmarks[10, 1] > 0.8 * portrait.face_height


@needs_data
def test_rgba_alpha_becomes_mask(tmp_path: Path) -> None:
    rgb = np.asarray(Image.open(PORTRAITS / "p01_real_frontal_woman_people0.png").convert("RGB"))
    height, width = rgb.shape[:2]
    rows, cols = np.mgrid[:height, :width]
    alpha = np.where(((cols - width / 2) / (0.42 * width)) ** 2 + ((rows - height / 2) / (0.5 * height)) ** 2 < 1, 255, 0)
    rgba = np.dstack([rgb, alpha.astype(np.uint8)])
    path = tmp_path / "cutout.png"
    Image.fromarray(rgba, "RGBA").save(path)

    portrait = load_portrait(path)
    assert portrait.mask_source == "alpha"
    np.testing.assert_array_equal(portrait.mask, alpha)
    assert tuple(portrait.image[0, 0]) == NEUTRAL_BACKGROUND
    assert portrait.landmarks.shape == (NUM_LANDMARKS, 3)


def test_blank_image_has_no_face(tmp_path: Path) -> None:
    path = tmp_path / "blank.png"
    Image.new("RGB", (400, 400), (200, 200, 200)).save(path)
    with pytest.raises(AvatarError) as caught:
        load_portrait(path)
    assert caught.value.key == "no_face"
    assert str(path) in caught.value.message("en")
    assert str(path) in caught.value.message("zh")


@needs_data
def test_anime_portrait_is_detected() -> None:
    # FaceMesh (mediapipe 0.10.21) finds this anime face, so it needs no error path.
    portrait = load_portrait(PORTRAITS / "p10_anime_girl_danbooru1.png")
    assert portrait.landmarks.shape == (NUM_LANDMARKS, 3)


@needs_data
def test_tiny_face_rejected(tmp_path: Path) -> None:
    canvas = Image.new("RGB", (1400, 1400), (120, 120, 120))
    face = Image.open(PORTRAITS / "p01_real_frontal_woman_people0.png").convert("RGB").resize((240, 240))
    canvas.paste(face, (580, 300))
    path = tmp_path / "far_away.png"
    canvas.save(path)
    with pytest.raises(AvatarError) as caught:
        load_portrait(path)
    assert caught.value.key == "face_too_small"
    assert caught.value.params["face"] < 140


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AvatarError) as caught:
        load_portrait(tmp_path / "nowhere.png")
    assert caught.value.key == "file_not_found"


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("not an image", encoding="utf-8")
    with pytest.raises(AvatarError) as caught:
        load_portrait(path)
    assert caught.value.key == "portrait_unreadable"


def test_small_image_rejected(tmp_path: Path) -> None:
    path = tmp_path / "thumb.png"
    Image.new("RGB", (100, 90)).save(path)
    with pytest.raises(AvatarError) as caught:
        load_portrait(path)
    assert caught.value.key == "portrait_too_small"
    assert caught.value.params["width"] == 100


@needs_data
def test_sixteen_bit_grey_portrait_loads(tmp_path):
    """A 16-bit grey PNG is scaled to 8 bits, not clipped to white."""
    source = np.asarray(Image.open(PORTRAITS / "p01_real_frontal_woman_people0.png").convert("L"), dtype=np.uint16)
    path = tmp_path / "grey16.png"
    Image.fromarray(source * 257).save(path)
    assert Image.open(path).mode.startswith("I")
    portrait = load_portrait(path)
    assert portrait.landmarks.shape[0] == 478
    assert abs(float(portrait.image.mean()) - float(source.mean())) < 3.0


def test_too_many_pixels_rejected(tmp_path, monkeypatch):
    import avatar.images

    monkeypatch.setattr(avatar.images, "MAX_PIXELS", 100)
    path = tmp_path / "big.png"
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(path)
    with pytest.raises(AvatarError) as caught:
        load_portrait(path)
    assert caught.value.key == "image_too_large"
    assert "big.png" in caught.value.message("en")
