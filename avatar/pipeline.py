"""The end-to-end render: script -> plan -> voice -> performance -> frames -> MP4 + SRT + timeline.

The CLI, the studio and the benchmarks all call `render_script`, so every entry point renders
the same way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from avatar.errors import AvatarError
from avatar.fileio import check_output_path
from avatar.rig import LOWER_INNER_CENTER, UPPER_INNER_CENTER
from avatar.timing import num_frames_for
from emotion.types import EmotionPlan, Notice
from face_gan import DEFAULT_REFINER, REFINERS
from voice.types import Utterance

if TYPE_CHECKING:
    from avatar.face import Portrait
    from face_gan.models import Generator

logger = logging.getLogger(__name__)

# progress(stage, done, total): stage is "plan", "voice" or "render"; done counts up to total.
ProgressCallback = Callable[[str, int, int], None]

FPS_RANGE = (1, 60)
# numpy's generators take seeds from 0; 32 bits are plenty and keep the timeline readable.
SEED_RANGE = (0, 2**32 - 1)
# Loudness targets in LUFS: quieter than -40 is barely audible, louder than -5 cannot be
# reached by speech without clipping.
LOUDNESS_RANGE = (-40.0, -5.0)
# The compositor lays out text for a longer side in this range.
SIZE_RANGE = (256, 1920)


@dataclass(frozen=True)
class RenderSettings:
    """Per-render options; the CLI flags map onto these one to one.

    Attributes:
        portrait: image of the presenter; None uses the embedded default portrait.
        language: "auto", "zh" or "en": the script's main language, which selects the voice.
        fps: video frames per second.
        size: the output's longer side in pixels; the portrait's aspect ratio is kept.
        background: None keeps the portrait's own background; "#RRGGBB" or an image path replaces it.
        voice: a voice id ("zh-baker", "en-joe"); None picks by language.
        emotion: (label, intensity) for every sentence without an inline tag; None uses the planner.
        seed: seeds voice variation, blinks and head motion, so a render is reproducible.
        loudness_lufs: integrated loudness of the audio in LUFS; -16 suits online video,
            -23 broadcast (EBU R 128). Higher is louder.
        preset: style preset for the emotion arc ("news", "vlog", "storytelling").
        plan: an emotion plan file (JSON or CSV) whose labels replace the classifier's.
        refiner: "gan" refines each frame with the face GAN, "none" renders warp-only;
            None: "gan" with an avatar profile, else the project default (`face_gan.DEFAULT_REFINER`).
        avatar: an avatar profile folder (`avatar train-gan --video`): its portrait and
            its fine-tuned generator replace `portrait` and the shipped generator.
        gan_checkpoint: a generator checkpoint to refine with, in place of the shipped
            one or the profile's (for example a fine-tuned version to compare).
        speed: speaking rate, 0.5 to 2 (1 = the voice's normal pace).
        layout: "full" (the portrait frame itself), a built-in layout ("news", "vertical",
            "square") or the path of a layout template (.json); see docs/layouts.md.
        headline: the lower third's text in layouts that have one; None draws no lower third.
        ticker: the scrolling ticker's text in layouts that have one; None uses the template's.
    """

    portrait: Path | None = None
    language: str = "auto"
    fps: int = 25
    size: int = 512
    background: str | None = None
    voice: str | None = None
    emotion: tuple[str, float] | None = None
    seed: int = 0
    loudness_lufs: float = -16.0
    preset: str = "vlog"
    plan: Path | None = None
    refiner: str | None = None
    avatar: Path | None = None
    gan_checkpoint: Path | None = None
    speed: float = 1.0
    layout: str = "full"
    headline: str | None = None
    ticker: str | None = None

    @property
    def chosen_refiner(self) -> str:
        """The refiner this render uses, after applying the default."""
        if self.refiner is not None:
            return self.refiner
        return "gan" if self.avatar is not None else DEFAULT_REFINER

    def check(self) -> None:
        """Raise AvatarError for a value outside its range."""
        from emotion.arc import PRESETS

        if self.language not in ("auto", "zh", "en"):
            raise AvatarError("invalid_language", value=self.language)
        from voice.synthesize import SPEED_RANGE

        if not SPEED_RANGE[0] <= self.speed <= SPEED_RANGE[1]:
            raise AvatarError("invalid_speed", value=self.speed, low=SPEED_RANGE[0], high=SPEED_RANGE[1])
        if self.refiner is not None and self.refiner not in REFINERS:
            raise AvatarError("invalid_refiner", value=self.refiner, choices=", ".join(REFINERS))
        if self.avatar is not None and self.portrait is not None:
            raise AvatarError("avatar_and_portrait")
        if self.preset not in PRESETS:
            raise AvatarError("invalid_preset", value=self.preset, choices=", ".join(PRESETS))
        if not FPS_RANGE[0] <= self.fps <= FPS_RANGE[1]:
            raise AvatarError("invalid_fps", value=self.fps, low=FPS_RANGE[0], high=FPS_RANGE[1])
        if not SIZE_RANGE[0] <= self.size <= SIZE_RANGE[1]:
            raise AvatarError("invalid_size", value=self.size, low=SIZE_RANGE[0], high=SIZE_RANGE[1])
        check_seed(self.seed)
        check_loudness(self.loudness_lufs)


@dataclass
class RenderResult:
    """Paths and facts of a finished render, with the time each stage took (seconds)."""

    video: Path
    subtitles: Path
    timeline: Path
    plan: EmotionPlan
    duration: float
    num_frames: int
    width: int
    height: int
    stage_seconds: dict[str, float] = field(default_factory=dict)
    failures: tuple[tuple[int, str], ...] = ()
    notices: tuple[Notice, ...] = ()


def check_seed(seed: int) -> None:
    """Raise AvatarError for a seed outside SEED_RANGE."""
    if not SEED_RANGE[0] <= seed <= SEED_RANGE[1]:
        raise AvatarError("invalid_seed", value=seed, low=SEED_RANGE[0], high=SEED_RANGE[1])


def check_loudness(lufs: float) -> None:
    """Raise AvatarError for a loudness target outside LOUDNESS_RANGE."""
    if not LOUDNESS_RANGE[0] <= lufs <= LOUDNESS_RANGE[1]:
        raise AvatarError("invalid_loudness", value=lufs, low=LOUDNESS_RANGE[0], high=LOUDNESS_RANGE[1])


def check_outputs(output: Path, inputs: tuple[Path | None, ...] = ()) -> None:
    """Reject a video path, or the SRT and timeline paths beside it, before rendering starts."""
    check_output_path(output, ".mp4", inputs)
    for sidecar, suffix in zip(sidecar_paths(output), (".srt", ".json"), strict=True):
        check_output_path(sidecar, suffix, inputs)


def sidecar_paths(video: Path) -> tuple[Path, Path]:
    """Return the SRT and timeline paths written beside `video` (OUT.srt, OUT.timeline.json)."""
    return video.with_suffix(".srt"), video.with_suffix(".timeline.json")


def render_script(
    script: str,
    output: Path,
    settings: RenderSettings | None = None,
    progress: ProgressCallback | None = None,
    script_path: Path | None = None,
    timeline_extra: dict | None = None,
) -> RenderResult:
    """Render `script` to an MP4 at `output`, with OUT.srt and OUT.timeline.json beside it.

    Outputs appear only when complete: each file is written under a temporary name and renamed.
    `script_path`, the file the script was read from, is protected from being overwritten.
    `timeline_extra` adds fields to the timeline (the batch records its item id and fingerprint).

    Raises:
        AvatarError: bad settings, an unusable portrait, an empty script, or a failed stage.
    """
    from avatar.compose import Background
    from avatar.encode import VideoEncoder
    from avatar.layout import LayoutCompositor, load_layout
    from avatar.performance import perform
    from avatar.render import Renderer
    from avatar.subtitles import MAX_CUE_UNITS, cues_from_utterance, write_srt
    from avatar.timeline import build_timeline, write_timeline
    from emotion.planfile import read_plan
    from emotion.planner import plan_script
    from voice.synthesize import synthesize

    settings = settings or RenderSettings()
    report = progress or (lambda stage, done, total: None)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] = seconds.get(stage, 0.0) + now - clock
        clock = now

    # 1. Check the settings and inputs that are cheap to check, before any slow stage runs.
    settings.check()
    background = Background.parse(settings.background)
    layout = load_layout(settings.layout)
    layout.check_text(settings.headline, settings.ticker)
    check_outputs(output, (script_path, settings.portrait, background.path, settings.plan, settings.gan_checkpoint))
    edited = read_plan(settings.plan) if settings.plan is not None else None

    # 2. Load the portrait and the refiner: a portrait without a face fails here, not after synthesis.
    #    The layout sets the canvas, and the person is rendered just large enough to fill its place.
    portrait, generator = load_face(settings)
    width, height = layout.canvas_size(settings.size, portrait.width, portrait.height)
    renderer = Renderer(portrait, layout.person_render_size(width, height, portrait.width, portrait.height), generator)
    lap("portrait")

    # 3. Plan the emotion of each sentence.
    report("plan", 0, 1)
    plan = plan_script(script, settings.language, settings.emotion, settings.voice, preset=settings.preset,
                       edited=edited)
    report("plan", 1, 1)
    lap("plan")

    # 4. Speak the plan.
    utterance = synthesize(plan, settings.voice, seed=settings.seed, loudness_lufs=settings.loudness_lufs,
                           speed=settings.speed,
                           progress=lambda done, total: report("voice", done, total))
    lap("voice")

    # 5. Turn phoneme timing and emotion into per-frame face controls.
    performance = perform(utterance, plan, settings.fps, seed=settings.seed)
    lap("performance")

    # 6. Render, compose and encode frame by frame, so memory does not grow with length.
    cues = cues_from_utterance(plan, utterance, min(MAX_CUE_UNITS, layout.subtitle_capacity(width, height)))
    compositor = LayoutCompositor(layout, width, height, settings.fps, utterance.sample_rate, cues, plan.language,
                                  renderer.width, renderer.height, background, settings.headline, settings.ticker)
    notices = []
    mouth = portrait.landmarks[[UPPER_INNER_CENTER, LOWER_INNER_CENTER], :2].mean(axis=0) * renderer.width / portrait.width
    covering = compositor.element_over(float(mouth[0]), float(mouth[1]))
    if covering is not None:
        # A tight head-and-shoulders photo puts the mouth low in the frame, behind the headline bar.
        notices.append(Notice("layout_covers_mouth", {"layout": layout.name, "element": covering}))
        logger.warning("the %s of layout %s covers the presenter's mouth", covering, layout.name)
    total = num_frames_for(len(utterance.waveform), utterance.sample_rate, settings.fps)
    if performance.num_frames != total:
        raise AssertionError(f"performance has {performance.num_frames} frames, audio needs {total}")
    with VideoEncoder(output, width, height, settings.fps,
                      utterance.waveform, utterance.sample_rate) as encoder:
        for index, (image, alpha) in enumerate(renderer.frames(performance)):
            encoder.write(compositor.compose(index, image, alpha))
            if index % 10 == 0 or index == total - 1:
                report("render", index + 1, total)
    lap("render")

    # 7. Write the subtitles and the timeline beside the video.
    srt_path, timeline_path = sidecar_paths(output)
    write_srt(cues, utterance.sample_rate, srt_path)
    write_timeline(timeline_path, build_timeline(plan, utterance, settings.fps, extra={
        "portrait": str(settings.portrait) if settings.portrait else "default",
        "avatar": str(settings.avatar) if settings.avatar else None,
        "refiner": settings.chosen_refiner,
        "gan_checkpoint": str(settings.gan_checkpoint) if settings.gan_checkpoint else None,
        "layout": layout.name,
        "width": width,
        "height": height,
        "seed": settings.seed,
        **(timeline_extra or {}),
    }))
    lap("write")
    logger.info("rendered %s: %.1f s of video, %d frames, stages %s", output, utterance.duration, total,
                {stage: round(value, 2) for stage, value in seconds.items()})
    return RenderResult(video=output, subtitles=srt_path, timeline=timeline_path, plan=plan,
                        duration=utterance.duration, num_frames=total, width=width,
                        height=height, stage_seconds=seconds, failures=utterance.failures, notices=tuple(notices))


def load_face(settings: RenderSettings) -> tuple[Portrait, Generator | None]:
    """Return the portrait and the face GAN generator (None for warp-only) that `settings` ask for."""
    from avatar.face import load_portrait
    from face_gan.refiner import default_gan_checkpoint, load_generator

    checkpoint = default_gan_checkpoint()
    if settings.avatar is not None:
        from face_gan.profile import load_profile

        profile = load_profile(settings.avatar)
        portrait = load_portrait(profile.portrait, profile.landmarks)
        checkpoint = profile.checkpoint
    else:
        portrait = load_portrait(settings.portrait)
    if settings.gan_checkpoint is not None:
        checkpoint = settings.gan_checkpoint
    generator = load_generator(checkpoint) if settings.chosen_refiner == "gan" else None
    return portrait, generator


def speak_text(text: str, output: Path, language: str = "auto", emotion: tuple[str, float] | None = None,
               voice: str | None = None, seed: int = 0,
               loudness_lufs: float = -16.0, speed: float = 1.0) -> tuple[Utterance, EmotionPlan]:
    """Synthesise `text` to a 16-bit WAV at `output` (written atomically); return the utterance and plan."""
    import soundfile

    from avatar.fileio import atomic_path
    from emotion.planner import plan_script
    from voice.synthesize import synthesize

    check_output_path(output, ".wav")
    check_seed(seed)
    check_loudness(loudness_lufs)
    plan = plan_script(text, language, emotion, voice)
    utterance = synthesize(plan, voice, seed=seed, loudness_lufs=loudness_lufs, speed=speed)
    with atomic_path(output) as temporary:
        soundfile.write(temporary, utterance.waveform, utterance.sample_rate, subtype="PCM_16", format="WAV")
    logger.info("wrote %s (%.1f s)", output, utterance.duration)
    return utterance, plan
