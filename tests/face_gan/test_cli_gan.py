"""`avatar train-gan` (base and personal) and rendering with the result, on real clips."""

import json

import imageio_ffmpeg
import numpy as np
import pytest

from avatar.fileio import file_sha256
from face_gan.models import GeneratorConfig
from face_gan.refiner import load_generator
from tests.conftest import run_cli

from .conftest import HAPPY_CLIP, SAD_CLIP

pytestmark = pytest.mark.usefixtures("english_messages")


@pytest.fixture(scope="module")
def clip_with_empty_frames(videos, tmp_path_factory):
    """A creator's clip whose first 4 frames show no face (a black lead-in), then 30 real frames."""
    path = tmp_path_factory.mktemp("clip") / "creator.mp4"
    frames = imageio_ffmpeg.read_frames(str(videos / HAPPY_CLIP), pix_fmt="rgb24")
    meta = next(frames)
    width, height = meta["size"]
    writer = imageio_ffmpeg.write_frames(str(path), (width, height), fps=25, macro_block_size=1, quality=9)
    writer.send(None)
    for _ in range(4):
        writer.send(np.zeros((height, width, 3), dtype=np.uint8).tobytes())
    for count, raw in enumerate(frames):
        if count == 30:
            break
        writer.send(raw)
    frames.close()
    writer.close()
    return path


def test_profile_from_clip_renders(clip_with_empty_frames, tmp_path, capsys):
    profile = tmp_path / "me"
    status, out, err = run_cli(["train-gan", "--video", str(clip_with_empty_frames), "-o", str(profile), "--steps", "3"],
                           capsys)
    assert status == 0, err
    assert "4 frames of" in err
    assert "show no face and were skipped (30 frames used)" in err
    assert "Avatar profile written to" in out
    info = json.loads((profile / "profile.json").read_text(encoding="utf-8"))
    assert info["frames_skipped"] == 4
    assert info["frames_used"] == 30
    assert info["steps"] == 3
    assert info["source_video"]["sha256"] == file_sha256(clip_with_empty_frames)
    assert {"warp_mouth_psnr", "gan_mouth_psnr"} <= set(info["validation"])
    assert np.load(profile / "landmarks.npy").shape == (478, 3)

    script = tmp_path / "script.txt"
    script.write_text("[happy] Hello everyone, welcome back.", encoding="utf-8")
    video = tmp_path / "out.mp4"
    status, out, err = run_cli(["render", str(script), "--avatar", str(profile), "-o", str(video), "--size", "256"], capsys)
    assert status == 0, err
    assert video.stat().st_size > 10_000
    timeline = json.loads(video.with_suffix(".timeline.json").read_text(encoding="utf-8"))
    assert timeline["refiner"] == "gan"
    assert timeline["avatar"] == str(profile)


def test_base_training_exports_checkpoint(videos, tmp_path, capsys):
    data = tmp_path / "clips"
    data.mkdir()
    for name in (HAPPY_CLIP, SAD_CLIP):
        (data / name).symlink_to(videos / name)
    checkpoint = tmp_path / "face_gan.pt"
    status, out, err = run_cli(["train-gan", "--data", str(data), "--holdout", "emo_sad_eamm", "--steps", "2",
                            "--max-frames", "8", "--run", str(tmp_path / "run"), "--export", str(checkpoint)], capsys)
    assert status == 0, err
    assert "Trained to step 2" in out
    assert "Checkpoint written to" in out
    manifest = json.loads(checkpoint.with_suffix(".json").read_text(encoding="utf-8"))
    assert manifest["sha256"] == file_sha256(checkpoint)
    assert manifest["steps"] == 2
    assert manifest["data"]["training_clips"] == ["emo_happy_eamm"]
    assert manifest["data"]["validation_clips"] == ["emo_sad_eamm"]
    assert manifest["command"].startswith("avatar train-gan")
    assert manifest["validation"]["step"] == 2

    assert load_generator(checkpoint).config == GeneratorConfig()


def test_render_profile_missing(tmp_path, capsys):
    script = tmp_path / "script.txt"
    script.write_text("Good morning.", encoding="utf-8")
    status, _, err = run_cli(["render", str(script), "-o", str(tmp_path / "a.mp4"), "--avatar", str(tmp_path / "nobody")],
                         capsys)
    assert status == 2
    assert "not an avatar profile folder" in err
    assert not (tmp_path / "a.mp4").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["train-gan", "--video", "{clip}"], "--video needs -o FOLDER"),
        (["train-gan", "--video", "{tmp}/none.mp4", "-o", "{tmp}/p"], "File not found"),
        (["train-gan", "--data", "{tmp}", "--steps", "1"], "holds no video files"),
        (["train-gan", "--data", "{tmp}/absent", "--steps", "1"], "does not exist"),
        (["train-gan", "--steps", "0"], "--steps must be a positive whole number"),
        (["train-gan", "--max-frames", "0"], "--max-frames must be a positive whole number"),
        (["train-gan", "--video", "{clip}", "-o", "{tmp}/p", "--export", "{tmp}/x.pt"], "--export cannot be used with --video"),
        (["train-gan", "-o", "{tmp}/p"], "-o only work with --video"),
        (["train-gan", "--video", "{tmp}", "-o", "{tmp}/p"], "is a folder"),
        (["train-gan", "--video", "{clip}", "-o", "{tmp}/p", "--init", "{tmp}/none.pt"], "starting checkpoint"),
        (["render", "{tmp}/s.txt", "-o", "{tmp}/o.mp4", "--avatar", "{tmp}", "--portrait", "{tmp}/p.png"],
         "cannot be combined with --portrait"),
    ],
)
def test_bad_input_one_line(arguments, message, clip_with_empty_frames, tmp_path, capsys):
    (tmp_path / "s.txt").write_text("Hello.", encoding="utf-8")
    filled = [argument.format(clip=clip_with_empty_frames, tmp=tmp_path) for argument in arguments]
    status, _, err = run_cli(filled, capsys)
    assert status == 2
    assert message in err
    assert "Traceback" not in err


def test_holdout_clip_missing(videos, tmp_path, capsys):
    (tmp_path / HAPPY_CLIP).symlink_to(videos / HAPPY_CLIP)
    status, _, err = run_cli(["train-gan", "--data", str(tmp_path), "--holdout", "v01_en_hdtf_aoc_8s", "--steps", "1",
                          "--max-frames", "4", "--run", str(tmp_path / "run")], capsys)
    assert status == 2
    assert "v01_en_hdtf_aoc_8s" in err
    assert "--holdout" in err


def test_profile_output_folder_taken(clip_with_empty_frames, tmp_path, capsys):
    taken = tmp_path / "documents"
    taken.mkdir()
    (taken / "notes.txt").write_text("keep me", encoding="utf-8")
    status, _, err = run_cli(["train-gan", "--video", str(clip_with_empty_frames), "-o", str(taken), "--steps", "1"], capsys)
    assert status == 2
    assert "is not an avatar profile" in err
    assert sorted(path.name for path in taken.iterdir()) == ["notes.txt"]


def test_export_never_replaces_other_files(videos, tmp_path, capsys):
    (tmp_path / HAPPY_CLIP).symlink_to(videos / HAPPY_CLIP)
    (tmp_path / SAD_CLIP).symlink_to(videos / SAD_CLIP)
    notes = tmp_path / "notes.pt"
    notes.write_text("my notes", encoding="utf-8")
    status, _, err = run_cli(["train-gan", "--data", str(tmp_path), "--steps", "1", "--max-frames", "4",
                              "--run", str(tmp_path / "run"), "--export", str(notes)], capsys)
    assert status == 2
    assert "is not a face GAN export" in err
    assert notes.read_text(encoding="utf-8") == "my notes"
    assert not (tmp_path / "run").exists()


def test_resume_with_other_holdout_rejected(videos, tmp_path, capsys):
    data = tmp_path / "clips"
    data.mkdir()
    for name in (HAPPY_CLIP, SAD_CLIP):
        (data / name).symlink_to(videos / name)
    common = ["train-gan", "--data", str(data), "--max-frames", "6", "--run", str(tmp_path / "run")]
    # Without --holdout and without the default clips, the last clip by name validates.
    status, out, err = run_cli([*common, "--steps", "1"], capsys)
    assert status == 0, err
    status, _, err = run_cli([*common, "--steps", "2", "--holdout", f"{HAPPY_CLIP}"], capsys)
    assert status == 2
    assert "emo_sad_eamm" in err
    assert "emo_happy_eamm" in err
    # The same split, named with its file suffix, resumes.
    status, out, err = run_cli([*common, "--steps", "2", "--holdout", SAD_CLIP], capsys)
    assert status == 0, err
    assert "Trained to step 2" in out


def test_profile_of_other_clip_not_resumed(clip_with_empty_frames, videos, tmp_path, capsys):
    profile = tmp_path / "me"
    status, _, err = run_cli(["train-gan", "--video", str(clip_with_empty_frames), "-o", str(profile), "--steps", "1"],
                             capsys)
    assert status == 0, err
    before = (profile / "profile.json").read_text(encoding="utf-8")
    status, _, err = run_cli(["train-gan", "--video", str(videos / SAD_CLIP), "-o", str(profile), "--steps", "2",
                              "--max-frames", "20"], capsys)
    assert status == 2
    assert "trained on another clip" in err
    assert (profile / "profile.json").read_text(encoding="utf-8") == before


def test_failed_first_profile_leaves_no_folder(tmp_path, capsys):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    status, _, err = run_cli(["train-gan", "--video", str(broken), "-o", str(tmp_path / "new"), "--steps", "1"], capsys)
    assert status == 2
    assert "Cannot read the video" in err
    assert not (tmp_path / "new").exists()
