"""Empathy Avatar studio: the Gradio UI over the same pipeline as the CLI.

    python studio_app.py [--host 127.0.0.1] [--port 7860] [--auth USER:PASSWORD]
    avatar studio [same options]

Flows: the script (samples, language detection, normalisation), the avatar
(default, upload or profile, shown with its landmarks), voice and speed, the
emotion plan as an editable table, a preview of the first sentence and the
full render with downloads. Realism ratings (1-5 and A/B) go to SQLite, and
a panel fine-tunes the GAN from them.

Only this file imports gradio. Errors from the core packages arrive as
AvatarError and are shown in the session's UI language.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import gradio as gr
import numpy as np

from avatar.errors import AvatarError
from avatar.i18n import translate

logger = logging.getLogger("avatar.studio")

DEFAULT_PORT = 7860
PREVIEW_SIZE = 256
# The other layouts put the person in part of the frame and draw more text, so their preview is
# larger. The person in it is still rendered at about PREVIEW_SIZE.
LAYOUT_PREVIEW_SIZE = 448
PLAN_HEADERS = {"zh": ("文本", "情绪", "强度"), "en": ("Text", "Emotion", "Intensity")}
# Emotion names shown in the Chinese plan table; each is an alias the plan file reads back.
EMOTION_NAMES_ZH = {"neutral": "中性", "happy": "开心", "sad": "悲伤", "angry": "愤怒", "surprised": "惊讶",
                    "fearful": "恐惧", "disgusted": "厌恶"}
PREFERENCE_NAMES = {"a": {"zh": "A 更真实", "en": "A looks more real"}, "b": {"zh": "B 更真实", "en": "B looks more real"},
                    "same": {"zh": "差不多", "en": "About the same"}}
# Gradio rejects uploads over this multiple of --max-upload-mb with its own English message, before
# they reach the studio. Smaller ones that are still over the limit get the studio's message.
UPLOAD_HARD_CAP = 10
# Labels and buttons in both languages; errors come from avatar.i18n.
TEXT: dict[str, dict[str, str]] = {
    "title": {"zh": "移情数字人 · 工作室", "en": "Empathy Avatar Studio"},
    "language": {"zh": "界面语言", "en": "Interface language"},
    "script": {"zh": "文稿", "en": "Script"},
    "sample": {"zh": "示例文稿", "en": "Sample script"},
    "detected": {"zh": "检测到的语言", "en": "Detected language"},
    "normalize": {"zh": "查看朗读文本", "en": "Show how it will be read"},
    "normalized": {"zh": "声音实际朗读的文字", "en": "Text as the voice reads it"},
    "avatar": {"zh": "形象", "en": "Avatar"},
    "avatar_source": {"zh": "肖像来源", "en": "Portrait"},
    "upload": {"zh": "上传肖像", "en": "Upload a portrait"},
    "profile": {"zh": "数字人档案", "en": "Avatar profile"},
    "landmarks": {"zh": "检测到的面部关键点", "en": "Detected face landmarks"},
    "voice": {"zh": "声音", "en": "Voice"},
    "preset": {"zh": "情绪风格", "en": "Emotion style"},
    "refiner": {"zh": "人脸精修", "en": "Face refiner"},
    "layout": {"zh": "版式", "en": "Layout"},
    "headline": {"zh": "标题栏文字（新闻播报版式）", "en": "Headline (news layout)"},
    "plan": {"zh": "情绪计划（可编辑）", "en": "Emotion plan (editable)"},
    "make_plan": {"zh": "分析情绪", "en": "Plan emotions"},
    "preview": {"zh": "预览第一句", "en": "Preview the first sentence"},
    "render": {"zh": "渲染完整视频", "en": "Render the full video"},
    "video": {"zh": "视频", "en": "Video"},
    "downloads": {"zh": "下载（MP4、SRT、时间轴）", "en": "Downloads (MP4, SRT, timeline)"},
    "rate": {"zh": "真实感评分", "en": "Realism rating"},
    "score": {"zh": "这段视频有多真实？（1 = 明显是假的，5 = 像真人）", "en": "How real does it look? (1 = clearly fake, 5 = like a real person)"},
    "submit_score": {"zh": "提交评分", "en": "Submit rating"},
    "speed": {"zh": "语速（1 为正常）", "en": "Speed (1 is normal)"},
    "compare": {"zh": "B 使用的模型（none 表示不精修）", "en": "Model for B (none: no refiner)"},
    "make_ab": {"zh": "生成 A/B", "en": "Make an A/B pair"},
    "clip_a": {"zh": "A", "en": "A"},
    "clip_b": {"zh": "B", "en": "B"},
    "prefer": {"zh": "哪一段更真实？", "en": "Which looks more real?"},
    "submit_preference": {"zh": "提交选择", "en": "Submit choice"},
    "export": {"zh": "导出全部评分（CSV）", "en": "Export all ratings (CSV)"},
    "table_bad_emotion": {
        "zh": "情绪计划表第 {row} 行的情绪 “{value}” 无法识别。请填写：中性、开心、悲伤、愤怒、惊讶、恐惧、厌恶之一。",
        "en": "Row {row} of the emotion plan has an unknown emotion '{value}'. Use one of neutral, happy, sad, "
              "angry, surprised, fearful, disgusted.",
    },
    "table_bad_intensity": {
        "zh": "情绪计划表第 {row} 行的强度 “{value}” 无效，请填写 0 到 1 之间的数，如 0.6。",
        "en": "Row {row} of the emotion plan has an invalid intensity '{value}': use a number from 0 to 1, such as 0.6.",
    },
    "error_title": {"zh": "出错了", "en": "Error"},
    "export_file": {"zh": "评分表（CSV）", "en": "Ratings (CSV)"},
    "status": {"zh": "状态", "en": "Status"},
    "finetune": {"zh": "根据评分微调人脸 GAN", "en": "Fine-tune the face GAN from the ratings"},
    "head_steps": {"zh": "评分头训练步数", "en": "Realism head steps"},
    "tune_steps": {"zh": "生成器微调步数", "en": "Generator steps"},
    "start_finetune": {"zh": "开始微调", "en": "Start fine-tuning"},
    "log": {"zh": "日志", "en": "Log"},
    "finetune_done": {
        "zh": "新模型：{path}。留出评分排序准确率：{accuracy}；验证集嘴部 PSNR {before:.2f} → {after:.2f} dB。在上方选择它即可做新旧 A/B 对比。",
        "en": "New checkpoint: {path}. Held-out rating order accuracy: {accuracy}; validation mouth PSNR {before:.2f} -> {after:.2f} dB. Pick it above to A/B it against the old one.",
    },
    "saved_rating": {"zh": "已保存第 {id} 条评分。", "en": "Saved rating {id}."},
    "need_render": {"zh": "请先渲染或预览一段视频。", "en": "Render or preview a clip first."},
    "need_ab": {"zh": "请先生成 A/B 对比。", "en": "Make an A/B pair first."},
    "gan_unavailable": {
        "zh": "人脸 GAN 模型不可用（{reason}）。请在“人脸精修”中选择 none。",
        "en": "The face GAN model is not available ({reason}). Choose none under Face refiner.",
    },
    "plan_stale": {
        "zh": "文稿在分析情绪之后改动过（第 {index} 句不一致）。请再点一次“分析情绪”。",
        "en": "The script changed after the emotions were planned (sentence {index} differs). Click Plan emotions again.",
    },
    "plan_stale_count": {
        "zh": "文稿在分析情绪之后改动过，句数不同。请再点一次“分析情绪”。",
        "en": "The script changed after the emotions were planned and has another number of sentences. Click Plan emotions again.",
    },
    "profile_broken": {
        "zh": "这个数字人档案已损坏，请选择其他档案或重新生成。",
        "en": "This avatar profile is damaged. Pick another one or make it again.",
    },
    "whole_score": {"zh": "评分应为 1 到 5 的整数。", "en": "The rating must be a whole number from 1 to 5."},
    "no_face_help": {
        "zh": "没有找到人脸。请换一张正面、光线充足、脸部占画面至少十分之一的照片。",
        "en": "No face was found. Use a frontal, well-lit photo in which the face fills at least a tenth of the height.",
    },
    "upload_too_large": {
        "zh": "上传的文件 {size:.1f} MB，超过 {limit} MB 的上限。请先缩小图片。",
        "en": "The upload is {size:.1f} MB, over the {limit} MB limit. Shrink the image first.",
    },
}
LAYOUT_NAMES = {"full": {"zh": "肖像全幅", "en": "Full portrait"}, "news": {"zh": "新闻播报", "en": "News desk"},
                "vertical": {"zh": "竖屏 9:16", "en": "Vertical 9:16"}, "square": {"zh": "方形 1:1", "en": "Square 1:1"}}
SOURCE_NAMES = {"default": {"zh": "内置肖像", "en": "Default portrait"}, "upload": {"zh": "上传", "en": "Upload"},
                "profile": {"zh": "档案", "en": "Profile"}}
# Gradio 6.31 announces a finished event to screen readers with the key "common.complete", which
# its own catalogues lack, so the key itself is read out. These translations fill the gap.
GRADIO_TEXT = gr.I18n(**{"zh-CN": {"common.complete": "完成"}, "zh": {"common.complete": "完成"},
                         "en": {"common.complete": "Done"}})
LANGUAGE_CHOICES = (("简体中文", "zh"), ("English", "en"))


def t(key: str, language: str, **values) -> str:
    """Return a studio label in `language`; errors and shared messages come from avatar.i18n."""
    if key in TEXT:
        return TEXT[key][language].format(**values)
    return translate(key, language, **values)


@dataclass(frozen=True)
class StudioConfig:
    """Server settings; `avatar studio --help` lists them."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    auth: tuple[str, str] | None = None
    outputs: Path = Path("studio_outputs")
    keep_hours: float = 24.0
    max_upload_mb: int = 20
    ratings: Path = Path("studio_outputs") / "ratings.db"
    profiles: Path = Path("profiles")
    concurrency: int = 3
    checkpoints: Path = Path(__file__).resolve().parent / "checkpoints"
    data: Path = Path(__file__).resolve().parent.parent / "shared" / "data" / "videos"


# ---- work that does not need the UI (tested directly)


def sample_scripts() -> dict[str, str]:
    assets = resources.files("avatar") / "assets"
    return {"中文示例 / Chinese demo": (assets / "demo_zh.txt").read_text(encoding="utf-8"),
            "English demo": (assets / "demo_en.txt").read_text(encoding="utf-8")}


def detect_script_language(script: str) -> str:
    from emotion.planner import plan_script

    if not script.strip():
        return ""
    return plan_script(script, "auto", labeller="none").language


def normalized_text(script: str) -> str:
    from emotion.planner import plan_script
    from voice.normalize import normalize_text

    plan = plan_script(script, "auto", labeller="none")
    return "\n".join(normalize_text(segment.spoken_text if segment.spoken_text is not None else segment.text,
                                    plan.language) for segment in plan.segments)


def plan_rows(script: str, preset: str, language: str = "en") -> list[list]:
    """Plan the script and return one editable row per sentence: text, emotion, intensity.

    Emotions are named in the UI language; the Chinese names are aliases that the plan file accepts.
    """
    from emotion.planner import plan_script

    plan = plan_script(script, "auto", preset=preset)
    return [[segment.text, _emotion_name(segment.emotion, language), round(float(segment.intensity), 2)]
            for segment in plan.segments]


def _emotion_name(name, language: str):
    """Return the emotion's name in `language`; keep a value that is not a known emotion as typed."""
    from emotion.segment import LABEL_ALIASES

    label = LABEL_ALIASES.get(str(name).strip().lower())
    if label is None:
        return name
    return EMOTION_NAMES_ZH[label] if language == "zh" else label


def write_plan_file(rows: list[list], preset: str, folder: Path) -> Path:
    """Write edited table rows as a plan file that `render_script` accepts.

    Each row is checked here, so an error names the row of the table the user sees rather than
    a file in the job folder.
    """
    from emotion.planfile import row_emotion

    sentences = []
    for number, row in enumerate(rows, start=1):
        if not row or not str(row[0]).strip():
            continue
        intensity = row[2] if len(row) > 2 and row[2] == row[2] else None  # a blank cell comes as None or NaN
        label, value = row_emotion({"emotion": row[1] if len(row) > 1 else "", "intensity": intensity},
                                   Path("table"), number)
        sentences.append({"text": str(row[0]), "emotion": label, "intensity": value})
    path = folder / "plan.json"
    path.write_text(json.dumps({"preset": preset, "sentences": sentences}, ensure_ascii=False, indent=2),
                    encoding="utf-8")
    return path


def list_profiles(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(path.name for path in folder.iterdir() if (path / "profile.json").is_file())


def landmark_preview(portrait_path: Path | None) -> np.ndarray:
    """Draw the detected landmarks on the portrait; raise AvatarError when it has no face."""
    import cv2

    from avatar.face import load_portrait

    portrait = load_portrait(portrait_path)
    image = portrait.image.copy()
    radius = max(1, round(portrait.face_height / 150))
    for x, y in portrait.landmarks[:, :2]:
        cv2.circle(image, (int(round(x)), int(round(y))), radius, (64, 255, 128), -1, cv2.LINE_AA)
    return image


def new_job_folder(outputs: Path, session: str) -> Path:
    folder = outputs / session / (time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def remove_old_jobs(outputs: Path, keep_hours: float, now: float | None = None, keep: set[Path] | None = None) -> int:
    """Delete job folders older than `keep_hours`, except those in `keep`; return how many were removed.

    The studio keeps the folders of rated clips, because fine-tuning from the ratings reads them.
    """
    if not outputs.is_dir():
        return 0
    limit = (now or time.time()) - keep_hours * 3600
    removed = 0
    for session in outputs.iterdir():
        if not session.is_dir():
            continue
        for job in session.iterdir():
            if job.is_dir() and job.stat().st_mtime < limit and job.resolve() not in (keep or set()):
                shutil.rmtree(job, ignore_errors=True)
                removed += 1
        if not any(session.iterdir()):
            session.rmdir()
    return removed


@dataclass(frozen=True)
class RenderRequest:
    """The inputs of one render or preview in the studio."""

    script: str
    source: str = "default"
    upload: str | None = None
    profile: str | None = None
    voice: str | None = None
    speed: float = 1.0
    preset: str = "vlog"
    rows: list[list] | None = None
    refiner: str | None = None
    layout: str = "full"
    headline: str | None = None
    gan_checkpoint: str | None = None
    first_only: bool = False
    size: int = 512


def render_job(config: StudioConfig, session: str, request: RenderRequest, progress=None) -> dict:
    """Render the script (or only its first sentence) into a new job folder; return paths and settings."""
    from avatar.pipeline import RenderSettings, render_script
    from emotion.planner import plan_script

    if not request.script.strip():
        raise AvatarError("studio_empty_script")
    # API clients that never loaded the page have no session id yet.
    folder = new_job_folder(config.outputs, session or "api")
    script, rows = request.script, request.rows
    if request.first_only:
        script = plan_script(script, "auto", labeller="none").segments[0].text
        rows = rows[:1] if rows else None
    plan = write_plan_file(rows, request.preset, folder) if rows else None
    settings = RenderSettings(
        portrait=Path(request.upload) if request.source == "upload" and request.upload else None,
        avatar=config.profiles / request.profile if request.source == "profile" and request.profile else None,
        voice=request.voice or None, speed=request.speed, preset=request.preset, plan=plan, refiner=request.refiner,
        gan_checkpoint=Path(request.gan_checkpoint) if request.gan_checkpoint else None,
        layout=request.layout or "full", headline=(request.headline or "").strip() or None,
        size=_preview_size(request.layout) if request.first_only else request.size)
    output = folder / ("preview.mp4" if request.first_only else "video.mp4")
    try:
        result = render_script(script, output, settings, progress)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return {"video": str(result.video), "files": [str(result.video), str(result.subtitles), str(result.timeline)],
            "settings": {"preset": request.preset, "refiner": settings.chosen_refiner, "voice": request.voice,
                         "layout": settings.layout,
                         "speed": request.speed, "source": request.source, "profile": request.profile,
                         "gan_checkpoint": request.gan_checkpoint, "size": settings.size,
                         "first_only": request.first_only},
            "frames": result.num_frames, "checkpoint": _checkpoint_sha(settings)}


def finetune_in_studio(config: StudioConfig, head_steps: int, steps: int, report) -> tuple[Path, dict]:
    """Fine-tune the newest checkpoint from the studio's ratings; the new version lands beside it."""
    from face_gan.finetune import FinetuneConfig, check_finetune_inputs, finetune_from_ratings
    from face_gan.pipeline import finetune_clips
    from face_gan.refiner import default_gan_checkpoint

    existing = list_checkpoints(config.checkpoints)
    base = Path(existing[-1]) if existing else default_gan_checkpoint()
    check_finetune_inputs(config.ratings, base)  # fail in a second, not after extracting training clips
    training, validation = finetune_clips(config.data)
    return finetune_from_ratings(config.ratings, base, training, validation, clip_root=config.outputs,
                                 config=FinetuneConfig(head_steps=head_steps, generator_steps=steps), report=report)


def list_checkpoints(folder: Path) -> list[str]:
    """Face GAN checkpoints in a folder (the shipped one and its fine-tuned versions), newest last."""
    if not folder.is_dir():
        return []
    return [str(path) for path in sorted(folder.glob("face_gan*.pt"), key=lambda path: path.stat().st_mtime)]


def _checkpoint_sha(settings) -> str | None:
    from avatar.fileio import file_sha256
    from face_gan.profile import load_profile
    from face_gan.refiner import default_gan_checkpoint

    if settings.chosen_refiner != "gan":
        return None
    path = settings.gan_checkpoint or (load_profile(settings.avatar).checkpoint if settings.avatar else default_gan_checkpoint())
    return file_sha256(path) if path.is_file() else None


# ---- the UI


def build_app(config: StudioConfig) -> gr.Blocks:
    from avatar.ratings import Rating, RatingStore
    from emotion.arc import DEFAULT_PRESET, PRESETS
    from face_gan import REFINERS
    from voice.synthesize import list_voices

    store = RatingStore(config.ratings)
    samples = sample_scripts()
    voices = [""] + [voice.id for voice in list_voices() if not voice.id.startswith("espeak")]
    labelled: list[tuple[gr.components.Component, str]] = []

    def label(component, key: str):
        labelled.append((component, key))
        return component

    def failure(error: AvatarError, language: str) -> gr.Error:
        # Messages written for the command line name options; in the studio, point to the control instead.
        if error.key in ("gan_checkpoint_missing", "gan_checkpoint_invalid"):
            reason = error.params.get("reason", error.params.get("path"))
            return user_error(t("gan_unavailable", language, reason=reason), language)
        if error.key == "plan_text_mismatch":
            return user_error(t("plan_stale", language, index=error.params["index"]), language)
        if error.key == "plan_length_mismatch":
            return user_error(t("plan_stale_count", language), language)
        if error.key in ("plan_bad_emotion", "plan_bad_intensity"):
            return user_error(t(f"table_{error.key[5:]}", language, row=error.params["row"], value=error.params["value"]),
                           language)
        if error.key in ("profile_invalid", "profile_missing"):
            return user_error(t("profile_broken", language), language)
        return user_error(error.message(language), language)

    # Gradio's own copies of uploads and outputs go after the same time as the job folders.
    keep_seconds = int(config.keep_hours * 3600)
    with gr.Blocks(title=TEXT["title"]["en"], delete_cache=(min(keep_seconds, 3600), keep_seconds)) as app:
        language = gr.State("zh")
        last_clip = gr.State(None)
        last_pair = gr.State(None)
        heading = gr.Markdown(f"## {TEXT['title']['zh']}")
        switch = label(gr.Radio(choices=list(LANGUAGE_CHOICES), value="zh", label=TEXT["language"]["zh"]), "language")

        with gr.Row():
            with gr.Column(scale=3):
                sample = label(gr.Dropdown(choices=list(samples), label=TEXT["sample"]["zh"], value=None), "sample")
                script = label(gr.Textbox(lines=8, label=TEXT["script"]["zh"]), "script")
                detected = label(gr.Textbox(label=TEXT["detected"]["zh"], interactive=False), "detected")
                normalize_button = label(gr.Button(TEXT["normalize"]["zh"]), "normalize")
                normalized = label(gr.Textbox(lines=4, label=TEXT["normalized"]["zh"], interactive=False), "normalized")
            with gr.Column(scale=2):
                source = label(gr.Radio(choices=_choices(SOURCE_NAMES, "zh"), value="default",
                                        label=TEXT["avatar_source"]["zh"]), "avatar_source")
                # A file input, not gr.Image: a non-image upload then reaches our loader and its translated message.
                upload = label(gr.File(file_types=["image"], type="filepath", label=TEXT["upload"]["zh"]), "upload")
                profile = label(gr.Dropdown(choices=list_profiles(config.profiles), label=TEXT["profile"]["zh"]), "profile")
                preview_image = label(gr.Image(label=TEXT["landmarks"]["zh"], interactive=False), "landmarks")
                voice = label(gr.Dropdown(choices=voices, value="", label=TEXT["voice"]["zh"]), "voice")
                speed = label(gr.Slider(0.5, 2.0, value=1.0, step=0.05, label=TEXT["speed"]["zh"]), "speed")
                preset = label(gr.Dropdown(choices=list(PRESETS), value=DEFAULT_PRESET, label=TEXT["preset"]["zh"]), "preset")
                refiner = label(gr.Radio(choices=list(REFINERS), value=_default_refiner(), label=TEXT["refiner"]["zh"]),
                                "refiner")
                layout = label(gr.Dropdown(choices=_choices(LAYOUT_NAMES, "zh"), value="full", label=TEXT["layout"]["zh"]),
                               "layout")
                headline = label(gr.Textbox(value="", label=TEXT["headline"]["zh"], max_lines=1), "headline")
        plan_button = label(gr.Button(TEXT["make_plan"]["zh"]), "make_plan")
        plan = label(gr.Dataframe(headers=list(PLAN_HEADERS["zh"]), datatype=["str", "str", "number"], column_count=3,
                                  interactive=True, label=TEXT["plan"]["zh"]), "plan")
        with gr.Row():
            preview_button = label(gr.Button(TEXT["preview"]["zh"]), "preview")
            render_button = label(gr.Button(TEXT["render"]["zh"], variant="primary"), "render")
        video = label(gr.Video(label=TEXT["video"]["zh"], interactive=False), "video")
        downloads = label(gr.File(label=TEXT["downloads"]["zh"], file_count="multiple", interactive=False), "downloads")
        status = label(gr.Markdown(), "status")

        with label(gr.Accordion(TEXT["rate"]["zh"], open=True), "rate"):
            score = label(gr.Slider(1, 5, value=3, step=1, label=TEXT["score"]["zh"]), "score")
            score_button = label(gr.Button(TEXT["submit_score"]["zh"]), "submit_score")
            compare = label(gr.Dropdown(choices=["none", *list_checkpoints(config.checkpoints)], value="none",
                                        label=TEXT["compare"]["zh"]), "compare")
            ab_button = label(gr.Button(TEXT["make_ab"]["zh"]), "make_ab")
            with gr.Row():
                clip_a = label(gr.Video(label="A", interactive=False), "clip_a")
                clip_b = label(gr.Video(label="B", interactive=False), "clip_b")
            prefer = label(gr.Radio(choices=_choices(PREFERENCE_NAMES, "zh"), value=None, label=TEXT["prefer"]["zh"]), "prefer")
            prefer_button = label(gr.Button(TEXT["submit_preference"]["zh"]), "submit_preference")
            export_button = label(gr.Button(TEXT["export"]["zh"]), "export")
            export_file = label(gr.File(interactive=False, label=TEXT["export_file"]["zh"]), "export_file")

        with label(gr.Accordion(TEXT["finetune"]["zh"], open=False), "finetune"):
            with gr.Row():
                head_steps = label(gr.Number(value=300, precision=0, minimum=1, label=TEXT["head_steps"]["zh"]),
                                   "head_steps")
                tune_steps = label(gr.Number(value=200, precision=0, minimum=1, label=TEXT["tune_steps"]["zh"]),
                                   "tune_steps")
            tune_button = label(gr.Button(TEXT["start_finetune"]["zh"]), "start_finetune")
            tune_log = label(gr.Textbox(lines=8, interactive=False, label=TEXT["log"]["zh"]), "log")

        # ---- handlers

        def switch_language(choice: str, table):
            updates = []
            for component, key in labelled:
                if isinstance(component, gr.Button):
                    updates.append(gr.update(value=t(key, choice)))
                elif component is source:
                    updates.append(gr.update(label=t(key, choice),
                                             choices=_choices(SOURCE_NAMES, choice)))
                elif component is layout:
                    updates.append(gr.update(label=t(key, choice), choices=_choices(LAYOUT_NAMES, choice)))
                elif component is prefer:
                    updates.append(gr.update(label=t(key, choice), choices=_choices(PREFERENCE_NAMES, choice)))
                elif component is plan:
                    # The headers travel with the table's value, so the rows are sent back under new ones.
                    rows = [[row[0], _emotion_name(row[1], choice), *row[2:]] for row in _table(table) or []]
                    updates.append(gr.update(label=t(key, choice),
                                             value={"headers": list(PLAN_HEADERS[choice]), "data": rows}))
                else:
                    updates.append(gr.update(label=t(key, choice)))
            return [choice, f"## {t('title', choice)}", *updates]

        def pick_sample(name):
            return samples.get(name, "")

        def on_script(text: str):
            # A plan made for the old text no longer matches it.
            return detect_script_language(text), None

        def on_normalize(text: str, lang: str):
            try:
                return normalized_text(text)
            except AvatarError as error:
                raise failure(error, lang) from None

        def on_portrait(choice: str, path: str | None, name: str | None, lang: str):
            try:
                if choice == "upload":
                    if not path:
                        return None
                    size = Path(path).stat().st_size / 2**20
                    if size > config.max_upload_mb:
                        raise user_error(t("upload_too_large", lang, size=size, limit=config.max_upload_mb), lang)
                    return landmark_preview(Path(path))
                if choice == "profile":
                    if not name:
                        return None
                    from face_gan.profile import load_profile

                    return landmark_preview(load_profile(config.profiles / name).portrait)
                return landmark_preview(None)
            except AvatarError as error:
                if error.key == "no_face":
                    raise user_error(t("no_face_help", lang), lang) from None
                raise failure(error, lang) from None

        def on_plan(text: str, style: str, lang: str):
            try:
                return {"headers": list(PLAN_HEADERS[lang]), "data": plan_rows(text, style, lang)}
            except AvatarError as error:
                raise failure(error, lang) from None

        def on_render(first_only: bool):
            def handler(text, choice, path, name, voice_id, pace, style, rows, refine, frame, title, lang,
                        request: gr.Request, progress=gr.Progress()):  # noqa: B008 - Gradio injects progress here
                job_request = RenderRequest(text, choice, path, name, voice_id, float(pace), style, _table(rows),
                                            refine, frame or "full", title, first_only=first_only)
                try:
                    job = render_job(config, session_id(request), job_request,
                                     progress=lambda stage, done, total: progress(
                                         done / max(total, 1), desc=translate(f"progress_{stage}", lang)))
                except AvatarError as error:
                    raise failure(error, lang) from None
                return job["video"], job["files"], job, ""
            return handler

        def on_score(clip: dict | None, value: float, lang: str, request: gr.Request):
            sid = session_id(request)
            if not clip:
                raise user_error(t("need_render", lang), lang)
            if value is None or float(value) != int(value):
                raise user_error(t("whole_score", lang), lang)
            number = store.add(Rating(kind="score", clip=clip["video"], score=int(value), rater=sid,
                                      frame_start=0, frame_end=clip["frames"] - 1, settings=clip["settings"],
                                      checkpoint_sha256=clip["checkpoint"]))
            return t("saved_rating", lang, id=number)

        def on_ab(text, choice, path, name, voice_id, pace, style, rows, compare, lang, request: gr.Request):
            sid = session_id(request)
            base = RenderRequest(text, choice, path, name, voice_id, float(pace), style, _table(rows), "gan",
                                 first_only=True)
            other = replace(base, refiner="none") if compare in (None, "", "none") else replace(base, gan_checkpoint=compare)
            try:
                pair = [render_job(config, sid, job) for job in (base, other)]
            except AvatarError as error:
                raise failure(error, lang) from None
            return pair[0]["video"], pair[1]["video"], pair

        def on_prefer(pair, choice: str | None, lang: str, request: gr.Request):
            sid = session_id(request)
            if not pair:
                raise user_error(t("need_ab", lang), lang)
            try:
                number = store.add(Rating(kind="preference", clip=pair[0]["video"], other_clip=pair[1]["video"],
                                          preferred=choice, rater=sid, frame_start=0,
                                          frame_end=pair[0]["frames"] - 1, settings=pair[0]["settings"],
                                          checkpoint_sha256=pair[0]["checkpoint"],
                                          other_checkpoint_sha256=pair[1]["checkpoint"]))
            except AvatarError as error:
                raise failure(error, lang) from None
            return t("saved_rating", lang, id=number)

        def on_finetune(head: float, steps: float, lang: str, progress=gr.Progress()):  # noqa: B008 - Gradio injects it
            lines: list[str] = []
            events: queue.Queue = queue.Queue()

            def report(phase: str, done: int, total: int) -> None:
                events.put((phase, done, total))

            def work() -> None:
                try:
                    events.put(("done", finetune_in_studio(config, int(head), int(steps), report)))
                except AvatarError as error:
                    events.put(("error", error.message(lang)))
                except Exception as error:  # noqa: BLE001 - shown in the log, and logged with its traceback
                    logger.exception("fine-tuning failed")
                    events.put(("error", f"{type(error).__name__}: {error}"))

            threading.Thread(target=work, name="studio-finetune", daemon=True).start()
            while True:
                event = events.get()
                if event[0] == "error":
                    raise user_error(event[1], lang)
                if event[0] == "done":
                    path, manifest = event[1]
                    head_scores = manifest["realism_head"]
                    lines.append(t("finetune_done", lang, path=path, accuracy=head_scores["held_out_accuracy"],
                                   before=manifest["reconstruction_before"]["gan_mouth_psnr"],
                                   after=manifest["reconstruction_after"]["gan_mouth_psnr"]))
                    choices = ["none", *list_checkpoints(config.checkpoints)]
                    yield "\n".join(lines), gr.update(choices=choices, value=str(path))
                    return
                phase, done, total = event
                progress(done / max(total, 1), desc=t(f"progress_finetune_{phase}", lang))
                if done == total or done % 50 == 0:
                    lines.append(f"{t(f'progress_finetune_{phase}', lang)}: {done}/{total}")
                    yield "\n".join(lines), gr.update()

        def on_export(request: gr.Request):
            folder = new_job_folder(config.outputs, session_id(request))
            store.export_csv(folder / "ratings.csv")
            return str(folder / "ratings.csv")

        app.load(on_portrait, [source, upload, profile, language], preview_image)
        app.load(None, None, switch, js="() => (navigator.language || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en'")
        switch.change(switch_language, [switch, plan], [language, heading, *[component for component, _ in labelled]])
        sample.change(pick_sample, sample, script)
        script.input(on_script, script, [detected, plan])
        sample.change(on_script, sample, [detected, plan])
        normalize_button.click(on_normalize, [script, language], normalized, api_name="normalize")
        # `input` fires only on the user's own choice, not when an upload below switches the source,
        # so each upload is checked once (and a refused one reported once).
        source.input(on_portrait, [source, upload, profile, language], preview_image, api_name="portrait")
        profile.change(on_portrait, [source, upload, profile, language], preview_image, api_name=False)
        upload.upload(lambda: "upload", None, source).then(
            on_portrait, [source, upload, profile, language], preview_image)
        plan_button.click(on_plan, [script, preset, language], plan, api_name="plan")
        inputs = [script, source, upload, profile, voice, speed, preset, plan, refiner, layout, headline, language]
        preview_button.click(on_render(True), inputs, [video, downloads, last_clip, status], api_name="preview")
        render_button.click(on_render(False), inputs, [video, downloads, last_clip, status], api_name="render")
        score_button.click(on_score, [last_clip, score, language], status, api_name="rate")
        ab_button.click(on_ab, [script, source, upload, profile, voice, speed, preset, plan, compare, language],
                        [clip_a, clip_b, last_pair], api_name="ab")
        prefer_button.click(on_prefer, [last_pair, prefer, language], status, api_name="prefer")
        export_button.click(on_export, None, export_file, api_name="export")
        tune_button.click(on_finetune, [head_steps, tune_steps, language], [tune_log, compare], api_name="finetune",
                          concurrency_limit=1)
    return app


def user_error(message: str, language: str) -> gr.Error:
    """Return an error for the user's screen, titled in their language.

    The server logs it in one line, because a traceback for every rejected input would bury real failures.
    """
    logger.info("user error: %s", message)
    return gr.Error(message, title=t("error_title", language), print_exception=False)


def _preview_size(layout: str | None) -> int:
    return PREVIEW_SIZE if layout in (None, "", "full") else LAYOUT_PREVIEW_SIZE


def _choices(names: dict[str, dict[str, str]], language: str) -> list[tuple[str, str]]:
    """Return (shown name, value) pairs for a radio or dropdown, in `language`."""
    return [(shown[language], key) for key, shown in names.items()]


def _table(rows) -> list[list] | None:
    """Rows of a Gradio dataframe value (a pandas DataFrame or a list), None when empty."""
    table = rows.values.tolist() if hasattr(rows, "values") else rows
    return table or None


def session_id(request: gr.Request | None) -> str:
    """Return an anonymous id for the browser session: a hash of Gradio's session id, never the raw value."""
    import hashlib

    raw = getattr(request, "session_hash", None) or "anonymous"
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def _default_refiner() -> str:
    from face_gan import DEFAULT_REFINER

    return DEFAULT_REFINER


def _rated_job_folders(ratings: Path) -> set[Path]:
    from avatar.ratings import RatingStore

    folders = set()
    for rating in RatingStore(ratings).all():
        for clip in (rating.clip, rating.other_clip):
            if clip:
                folders.add(Path(clip).resolve().parent)
    return folders


def _start_cleaner(config: StudioConfig) -> None:
    def loop() -> None:
        while True:
            # One failed sweep (a locked or unreadable database) must not end the thread: the
            # next sweep runs as usual, and the folders stay until then.
            try:
                rated = _rated_job_folders(config.ratings)
                removed = remove_old_jobs(config.outputs, config.keep_hours, keep=rated)
                if removed:
                    logger.info("removed %d job folders older than %.1f h", removed, config.keep_hours)
            except Exception:
                logger.exception("could not clean old job folders in %s; trying again in 10 min", config.outputs)
            time.sleep(600)

    threading.Thread(target=loop, name="studio-cleaner", daemon=True).start()


def launch(config: StudioConfig, block: bool = True) -> gr.Blocks:
    """Build and start the studio; with block=False return at once (tests)."""
    config.outputs.mkdir(parents=True, exist_ok=True)
    app = build_app(config)  # creates the ratings database before the cleaner reads it
    _start_cleaner(config)
    app.queue(default_concurrency_limit=config.concurrency)
    app.launch(server_name=config.host, server_port=config.port, auth=config.auth, prevent_thread_lock=not block,
               max_file_size=f"{config.max_upload_mb * UPLOAD_HARD_CAP}mb", i18n=GRADIO_TEXT,
               allowed_paths=[str(config.outputs.resolve())],
               show_error=True)
    return app


def parse_arguments(argv: list[str] | None = None) -> StudioConfig:
    parser = argparse.ArgumentParser(prog="avatar studio", description="Empathy Avatar studio (Gradio)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--auth", metavar="USER:PASSWORD", default=os.environ.get("AVATAR_STUDIO_AUTH"),
                        help="require this login (or set AVATAR_STUDIO_AUTH)")
    parser.add_argument("--outputs", type=Path, default=Path("studio_outputs"), help="folder for job outputs")
    parser.add_argument("--keep-hours", type=float, default=24.0, help="delete job folders older than this")
    parser.add_argument("--max-upload-mb", type=int, default=20,
                        help="largest portrait upload in MB (default: 20); uploads over ten times this are "
                             "refused before they reach the studio")
    parser.add_argument("--ratings", type=Path, default=None, help="ratings database (default: OUTPUTS/ratings.db)")
    parser.add_argument("--profiles", type=Path, default=Path("profiles"), help="folder of avatar profiles")
    parser.add_argument("--concurrency", type=int, default=3, help="renders that may run at once")
    parser.add_argument("--checkpoints", type=Path, default=StudioConfig.checkpoints,
                        help="folder of face GAN checkpoints to compare and fine-tune")
    parser.add_argument("--data", type=Path, default=StudioConfig.data,
                        help="folder of training clips that fine-tuning from ratings uses")
    options = parser.parse_args(argv)
    auth = None
    if options.auth:
        user, _, password = options.auth.partition(":")
        if not user or not password:
            parser.error("--auth needs USER:PASSWORD")
        auth = (user, password)
    return StudioConfig(host=options.host, port=options.port, auth=auth, outputs=options.outputs,
                        keep_hours=options.keep_hours, max_upload_mb=options.max_upload_mb,
                        ratings=options.ratings or options.outputs / "ratings.db", profiles=options.profiles,
                        concurrency=options.concurrency, checkpoints=options.checkpoints, data=options.data)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    launch(parse_arguments(argv))


if __name__ == "__main__":
    main()
