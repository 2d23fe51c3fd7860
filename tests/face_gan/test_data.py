"""Training pairs extracted from real video."""

import time

import cv2
import imageio_ffmpeg
import numpy as np
import pytest

from avatar.errors import AvatarError
from avatar.face import detect_faces
from emotion.types import EMOTIONS
from face_gan.align import CROP_SIZE
from face_gan.data import (
    PairDataset,
    emotion_from_name,
    extract_pairs,
    landmark_map,
    load_or_extract,
)

from .conftest import HAPPY_CLIP


def test_emotion_from_clip_names():
    assert emotion_from_name("emo_happy_eamm") == "happy"
    assert emotion_from_name("emo_contempt_eamm") == "disgusted"
    assert emotion_from_name("v03_mead_M030_sad_lvl3") == "sad"
    assert emotion_from_name("emo_fear_eamm") == "fearful"
    assert emotion_from_name("talk_retalking_2") is None
    assert emotion_from_name("expr_liveportrait_d6") is None


def test_pairs_from_a_real_clip(happy_pairs):
    clip = happy_pairs
    assert clip.crops.shape == (16, CROP_SIZE, CROP_SIZE, 3)
    assert clip.landmarks.shape == (16, 478, 2)
    assert clip.skipped == 0
    # The first frame drives every other frame; random sources add more pairs.
    assert {int(t) for t, s in zip(clip.target, clip.source, strict=True) if s == 0} == set(range(1, 16))
    assert clip.num_pairs > 15
    assert len(clip.warped) == clip.num_pairs
    assert np.all(clip.source != clip.target)
    assert set(clip.labels.tolist()) == {EMOTIONS.index("happy")}


def test_warped_source_lands_on_the_target_landmarks(happy_pairs):
    """The renderer's warp moves the source face onto the target frame's landmarks."""
    clip = happy_pairs
    pair = int(np.flatnonzero(clip.source == 0)[-1])
    upscaled = cv2.resize(clip.warped[pair], (512, 512), interpolation=cv2.INTER_CUBIC)
    found = detect_faces(upscaled)[0][:, :2] / 4
    target = clip.landmarks[clip.target[pair]]
    source = clip.landmarks[clip.source[pair]]
    error = np.abs(found - target).mean()
    assert error < 1.0, error
    # Without the warp the source's own landmarks sit further from the target's.
    assert np.abs(source - target).mean() > error


def test_cache_round_trip(videos, tmp_path):
    started = time.perf_counter()
    first = load_or_extract(videos / HAPPY_CLIP, tmp_path, max_frames=6)
    extracted = time.perf_counter() - started
    assert len(list(tmp_path.glob("*.npz"))) == 1
    started = time.perf_counter()
    second = load_or_extract(videos / HAPPY_CLIP, tmp_path, max_frames=6)
    assert time.perf_counter() - started < extracted
    for key in ("crops", "landmarks", "labels", "warped", "source", "target"):
        assert np.array_equal(getattr(first, key), getattr(second, key))
    assert second.name == first.name == "emo_happy_eamm"


def test_video_without_faces_is_refused_with_counts(tmp_path):
    path = tmp_path / "empty_room.mp4"
    writer = imageio_ffmpeg.write_frames(str(path), (128, 128), fps=10, macro_block_size=1)
    writer.send(None)
    for shade in range(8):
        writer.send(np.full((128, 128, 3), 20 * shade, dtype=np.uint8).tobytes())
    writer.close()
    with pytest.raises(AvatarError) as caught:
        extract_pairs(path)
    assert caught.value.key == "gan_video_no_faces"
    assert caught.value.params["skipped"] == 8


def test_unreadable_video_is_reported(tmp_path):
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"not a video")
    with pytest.raises(AvatarError) as caught:
        extract_pairs(path)
    assert caught.value.key == "video_unreadable"


def test_dataset_items(happy_pairs):
    dataset = PairDataset([happy_pairs], flip=True)
    assert len(dataset) == happy_pairs.num_pairs
    item = dataset[3]
    for key in ("warped", "target", "reference"):
        assert item[key].shape == (3, CROP_SIZE, CROP_SIZE)
        assert -1.0 <= float(item[key].min())
        assert float(item[key].max()) <= 1.0
    assert item["landmarks"].shape == (2, CROP_SIZE, CROP_SIZE)
    assert item["face"].shape == (1, CROP_SIZE, CROP_SIZE)
    assert int(item["label"]) == EMOTIONS.index("happy")


def test_landmark_map_marks_the_open_mouth(happy_pairs):
    clip = happy_pairs
    gaps = clip.landmarks[:, 14, 1] - clip.landmarks[:, 13, 1]
    opened = landmark_map(clip.landmarks[int(gaps.argmax())])
    closed = landmark_map(clip.landmarks[int(gaps.argmin())])
    assert opened[1].sum() > closed[1].sum()
    assert opened[0].max() > 0.9  # contours are drawn
