"""Fallback voice for any language espeak-ng speaks, through its C library.

The `espeakng-loader` wheel (0.2.4) ships libespeak-ng 1.52 and its data. That
build reads Mandarin (`cmn`) correctly, where Debian's 1.51 reads the tone
digits aloud. The library runs in synchronous mode: `espeak_Synth` returns
only after the synth callback has received every sample and event, so one
call gives the waveform and the timing of every phoneme.

Each phoneme event carries the index of its first sample (`espeak_EVENT.sample`,
counted from the start of the message), so the spans come straight from the
same run as the audio. With the IPA option, espeak names most phonemes in IPA
but falls back to its own mnemonics where a phoneme table gives no IPA (the
Mandarin retroflexes, for example). `_MNEMONIC_IPA` maps the ones seen here.

espeak-ng keeps its state (current voice, rate, event list) in globals, so every
call into the library holds `_lock`.

Reproducible output needs one more step. Two counters in espeak-ng 1.52's wave
generator are static and never reset between messages: the index into the pitch
flutter table and the cycle count that paces the roughness modulation. The same
text therefore sounds slightly different (and its phonemes move by a few
samples) depending on what was spoken before. Every voice is loaded with the
variant `avatar-steady` (flutter 0, roughness 8, which is past the end of the
modulation table and so turns modulation off), which makes neither counter
matter. espeak-ng reads variant files only from its data folder, so `_data_dir`
builds one in the user cache from links to the wheel's files.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import math
import os
import shutil
import tempfile
import threading
import unicodedata
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np

from avatar.errors import AvatarError
from voice.cache import cache_dir
from voice.types import Utterance

logger = logging.getLogger(__name__)

VOICE_PREFIX = "espeak"
ESPEAK_LICENCE = "espeak-ng 1.52 (espeakng-loader wheel): GPL-3.0-or-later"

# Words per minute (espeak_SetParameter(espeakRATE)): the default and the range
# used. espeak-ng 1.52 accepts 80..450, but at 450 it switches to another
# speed-up method: the output got longer than at 449 wpm, and the phoneme events
# pointed past the end of the audio.
DEFAULT_RATE = 175
MIN_RATE = 80
MAX_RATE = 449

# Languages named in the error for an unknown one; the full list is long.
_EXAMPLE_LANGUAGES = ("en", "en-us", "de", "fr", "es", "ja", "ko", "cmn", "yue")

# Constants of espeak-ng's speak_lib.h (1.52).
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_PHONEME_IPA = 0x0002
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_POSITION_CHARACTER = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_PHONEME = 7
_PARAMETER_RATE = 1
_EE_OK = 0
# Length of the synthesis chunks handed to the callback, in milliseconds.
# espeak-ng sizes its per-chunk event list from it (200 events per second plus 20).
_BUFFER_MS = 200
# Seed of espeak-ng's random generator, reset before every message so that the
# same text always gives the same samples whatever was spoken before.
_RANDOM_SEED = 0

# Voice variant loaded on top of every voice (see the module docstring).
# NOTE: the wave generator's automatic gain control also carries over between
# messages, but only after a sample that would have overflowed 16 bits.
STEADY_VARIANT = "avatar-steady"
_STEADY_VARIANT_TEXT = f"language variant\nname {STEADY_VARIANT}\nflutter 0\nroughness 8\n"
# espeak-ng 1.52 copies the data path into a 160-byte buffer (N_PATH_HOME on
# POSIX) and builds file paths of up to about 30 more bytes from it.
_MAX_DATA_PATH_BYTES = 120

# Stress marks are not sounds of their own, so they are dropped from symbols
# (as the piper engine does). Length marks and diacritics stay.
_STRESS_MARKS = str.maketrans("", "", "ˈˌ")
# espeak mnemonics that escape into IPA output, by the phoneme they write.
# In the mnemonics, "h" after a stop marks aspiration, "." a retroflex, and "o-"
# is Mandarin "e". The two Mandarin apical vowels get the symbols that the
# viseme table uses for them. In Korean, "-" marks a tense consonant and "q" is
# espeak's name for the Korean k.
_MNEMONIC_IPA = {
    "ph": "pʰ",
    "th": "tʰ",
    "kh": "kʰ",
    "tsh": "tsʰ",
    "tɕh": "tɕʰ",
    "ts.": "ʈʂ",
    "ts.h": "ʈʂʰ",
    "s.": "ʂ",
    "z.": "ʐ",
    "i.": "ʅ",
    "i\u032a": "ɨ",
    "o-": "ɤ",
    "p-": "p\u0348",
    "t-": "t\u0348",
    "q-": "k\u0348",
    "s-": "s\u0348",
}


class _Event(ctypes.Structure):
    """espeak_EVENT."""

    class _Id(ctypes.Union):
        _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # milliseconds
        ("sample", ctypes.c_int),  # first sample of the event, counted from the start of the message
        ("user_data", ctypes.c_void_p),
        ("id", _Id),
    ]


class _Voice(ctypes.Structure):
    """espeak_VOICE. `languages` is a byte string, so it is read by address."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


# int SynthCallback(short *wav, int numsamples, espeak_EVENT *events)
_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass
class _Collector:
    """Samples and phoneme events of the message being spoken."""

    chunks: list[np.ndarray] = field(default_factory=list)
    phonemes: list[tuple[int, str]] = field(default_factory=list)  # (first sample, symbol)
    error: Exception | None = None


@dataclass(frozen=True)
class _Library:
    handle: ctypes.CDLL
    sample_rate: int
    voices: dict[str, str]  # language code -> voice identifier, e.g. "cmn" -> "sit/cmn"


_library: _Library | None = None
_collector: _Collector | None = None
_lock = threading.Lock()


def _phoneme_symbol(raw: bytes) -> str | None:
    """Turn the 8-byte name of a phoneme event into its IPA symbol.

    Returns "sil" for a pause, and None for a language switch such as "(en)",
    which is a marker and not a sound.
    """
    # A name that needs all 8 bytes has no terminator. A longer name is cut,
    # possibly inside a UTF-8 sequence, so the partial character is dropped.
    text = raw.split(b"\0", 1)[0].decode("utf-8", errors="ignore")
    symbol = unicodedata.normalize("NFC", text.translate(_STRESS_MARKS)).strip()
    if not symbol or symbol == "_":
        return "sil"
    if symbol.startswith("(") and symbol.endswith(")"):
        return None
    return _MNEMONIC_IPA.get(symbol, symbol)


# Module-level, so the C function pointer stays valid for the life of the process.
@_SynthCallback
def _on_synth(wav, sample_count: int, events) -> int:
    """Collect one chunk of samples and its events; return 1 to abort synthesis."""
    collector = _collector
    if collector is None:
        return 1
    try:
        if sample_count > 0 and wav:
            collector.chunks.append(np.ctypeslib.as_array(wav, shape=(sample_count,)).copy())
        index = 0
        while events[index].type != _EVENT_LIST_TERMINATED:
            event = events[index]
            symbol = _phoneme_symbol(bytes(event.id.string)) if event.type == _EVENT_PHONEME else None
            if symbol is not None:
                # A language-switch marker is skipped, so the sound before it
                # lasts until the next phoneme.
                collector.phonemes.append((int(event.sample), symbol))
            index += 1
    except Exception as error:  # it must not unwind into C; `_speak` raises it after espeak_Synth
        collector.error = error
        return 1
    return 0


def _dictionary_name(voice_file: Path, first_language: str) -> str:
    """Return the dictionary a voice file loads: its `dictionary` line, else its first language up to "-"."""
    try:
        lines = voice_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        words = line.split("//", 1)[0].split()
        if len(words) >= 2 and words[0] == "dictionary":
            return words[1]
    return first_language.split("-", 1)[0].lower()


def _read_voices(handle: ctypes.CDLL, data_path: Path) -> dict[str, str]:
    """Map each language code that espeak-ng can speak to the identifier of its best voice.

    `espeak_VOICE.languages` is a run of (priority byte, NUL-terminated code)
    pairs ended by a zero priority byte. A lower priority is a better match, and
    a tie goes to the voice listed first.
    Voices whose dictionary the wheel does not ship (Faroese, Karakalpak and a
    test language in 0.2.4) are left out, because they load but speak nothing.
    """
    handle.espeak_ListVoices.argtypes = [ctypes.POINTER(_Voice)]
    handle.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
    voices = handle.espeak_ListVoices(None)
    best: dict[str, tuple[int, str]] = {}
    index = 0
    while voices[index]:
        voice = voices[index].contents
        index += 1
        identifier = (voice.identifier or b"").decode("utf-8", errors="replace")
        if not identifier or identifier.startswith("mb/") or not voice.languages:
            continue  # mbrola voices need mbrola, which the wheel does not ship
        entries: list[tuple[int, str]] = []
        address = voice.languages
        while (priority := ctypes.c_ubyte.from_address(address).value) != 0:
            code = ctypes.string_at(address + 1)
            entries.append((priority, code.decode("ascii", errors="replace")))
            address += 1 + len(code) + 1
        if not entries:
            continue
        dictionary = _dictionary_name(data_path / "lang" / identifier, entries[0][1])
        if not (data_path / f"{dictionary}_dict").is_file():
            logger.debug(
                "espeak-ng voice %s skipped: the dictionary %s_dict is missing", identifier, dictionary
            )
            continue
        for priority, code in entries:
            if code not in best or priority < best[code][0]:
                best[code] = (priority, identifier)
    return {code: best[code][1] for code in sorted(best)}


def _link_or_copy(source: Path, destination: Path) -> None:
    try:
        os.symlink(source, destination, target_is_directory=source.is_dir())
    except OSError:
        # Some file systems (and Windows without the privilege) reject symbolic links.
        if source.is_dir():
            shutil.copytree(source, destination)
        else:
            shutil.copy2(source, destination)


def _data_dir(wheel_data: Path) -> Path:
    """Return an espeak-ng data folder with the wheel's files plus the steady variant.

    The folder is built once per wheel in the user cache: links to every entry
    of the wheel's data except `voices/`, which contains only the variant. It
    is built under a temporary name and renamed into place, so that parallel
    processes never read a half-built folder.
    """
    try:
        version = metadata.version("espeakng-loader")
    except metadata.PackageNotFoundError:
        version = "unknown"
    key = hashlib.sha256(f"{wheel_data}\n{version}\n{_STEADY_VARIANT_TEXT}".encode()).hexdigest()[:12]
    parent = cache_dir() / f"espeak-ng-{key}"
    target = parent / "espeak-ng-data"
    if len(os.fsencode(target)) > _MAX_DATA_PATH_BYTES:
        raise AvatarError(
            "voice_unavailable",
            voice=VOICE_PREFIX,
            reason=(
                f"the espeak-ng data path {target} is longer than the {_MAX_DATA_PATH_BYTES} bytes espeak-ng accepts; "
                "set AVATAR_CACHE_DIR to a shorter folder"
            ),
        )
    if (target / "voices" / "!v" / STEADY_VARIANT).is_file():
        return target

    try:
        parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix="building.", dir=parent))
    except OSError as error:
        raise AvatarError("cache_unwritable", path=str(parent), reason=str(error)) from error
    try:
        for entry in sorted(wheel_data.iterdir()):
            if entry.name != "voices":
                _link_or_copy(entry, building / entry.name)
        variants = building / "voices" / "!v"
        variants.mkdir(parents=True)
        (variants / STEADY_VARIANT).write_text(_STEADY_VARIANT_TEXT, encoding="utf-8")
        os.rename(building, target)
    except OSError as error:
        shutil.rmtree(building, ignore_errors=True)
        # Renaming fails when another process has just put its folder in place.
        if (target / "voices" / "!v" / STEADY_VARIANT).is_file():
            return target
        raise AvatarError("cache_unwritable", path=str(parent), reason=str(error)) from error
    logger.info("Built the espeak-ng data folder %s from %s", target, wheel_data)
    return target


def _load_library() -> _Library:
    """Open libespeak-ng from the wheel and initialise it once per process (caller holds `_lock`)."""
    global _library
    if _library is not None:
        return _library

    voice = VOICE_PREFIX
    try:
        import espeakng_loader
    except ImportError as error:
        raise AvatarError("voice_unavailable", voice=voice, reason=str(error)) from error
    try:
        handle = ctypes.CDLL(espeakng_loader.get_library_path())
        wheel_data = Path(espeakng_loader.get_data_path())
    except (OSError, RuntimeError) as error:
        raise AvatarError("voice_unavailable", voice=voice, reason=str(error)) from error
    data_path = str(_data_dir(wheel_data))

    handle.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    handle.espeak_Initialize.restype = ctypes.c_int
    # DONT_EXIT: without it espeak-ng calls exit() when its data is missing.
    options = _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_PHONEME_IPA | _INITIALIZE_DONT_EXIT
    sample_rate = handle.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, _BUFFER_MS, data_path.encode(), options)
    if sample_rate <= 0:
        raise AvatarError(
            "voice_unavailable", voice=voice, reason=f"espeak_Initialize failed with data at {data_path}"
        )

    handle.espeak_SetSynthCallback.argtypes = [_SynthCallback]
    handle.espeak_SetSynthCallback.restype = None
    handle.espeak_SetSynthCallback(_on_synth)
    handle.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    handle.espeak_SetVoiceByName.restype = ctypes.c_int
    handle.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    handle.espeak_SetParameter.restype = ctypes.c_int
    handle.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
    handle.espeak_ng_SetRandSeed.restype = None
    handle.espeak_Synth.argtypes = [
        ctypes.c_void_p,  # text
        ctypes.c_size_t,  # size in bytes
        ctypes.c_uint,  # position
        ctypes.c_int,  # position type
        ctypes.c_uint,  # end position (0: none)
        ctypes.c_uint,  # flags
        ctypes.POINTER(ctypes.c_uint),  # unique identifier (out)
        ctypes.c_void_p,  # user data
    ]
    handle.espeak_Synth.restype = ctypes.c_int

    voices = _read_voices(handle, Path(data_path))
    logger.info("Loaded espeak-ng from %s (%d Hz, %d languages)", data_path, sample_rate, len(voices))
    _library = _Library(handle, sample_rate, voices)
    return _library


def espeak_languages() -> list[str]:
    """Return the language codes of espeak-ng's voices, sorted (for example "cmn", "en", "en-us", "ja")."""
    with _lock:
        return list(_load_library().voices)


def espeak_sample_rate() -> int:
    """Return the sample rate of espeak-ng's output in Hz (22 050 for the 1.52 data)."""
    with _lock:
        return _load_library().sample_rate


def espeak_voice_id(language: str) -> str:
    """Return the voice id for an espeak-ng language code, e.g. "cmn" -> "espeak-cmn"."""
    return f"{VOICE_PREFIX}-{language}"


def espeak_language(voice: str) -> str | None:
    """Return the language code of an "espeak-<language>" voice id, or None for another voice id."""
    prefix = f"{VOICE_PREFIX}-"
    return voice[len(prefix) :] if voice.startswith(prefix) and len(voice) > len(prefix) else None


def _resolve_language(library: _Library, language: str) -> str:
    """Return espeak's spelling of `language`, matched without regard to case."""
    by_lower = {code.lower(): code for code in library.voices}
    code = by_lower.get(language.strip().lower())
    if code is None:
        examples = ", ".join(espeak_voice_id(example) for example in _EXAMPLE_LANGUAGES)
        choices = f"{examples}, … ({len(library.voices)} espeak-ng languages, see `avatar voices`)"
        raise AvatarError("invalid_voice", value=espeak_voice_id(language), choices=choices)
    return code


def _rate_for(speed: float) -> int:
    rate = round(DEFAULT_RATE * speed)
    clamped = min(MAX_RATE, max(MIN_RATE, rate))
    if clamped != rate:
        logger.debug("espeak rate %d wpm (speed %.2f) clamped to %d", rate, speed, clamped)
    return clamped


def _speak(library: _Library, text: str, language: str, rate: int) -> _Collector:
    """Run one message through espeak-ng (caller holds `_lock`) and return what the callback collected."""
    global _collector
    handle = library.handle

    voice_name = f"{library.voices[language]}+{STEADY_VARIANT}"
    status = handle.espeak_SetVoiceByName(voice_name.encode("ascii"))
    if status != _EE_OK:
        raise AvatarError(
            "voice_unavailable",
            voice=espeak_voice_id(language),
            reason=f"espeak_SetVoiceByName({voice_name!r}) returned {status}",
        )
    handle.espeak_SetParameter(_PARAMETER_RATE, rate, 0)
    handle.espeak_ng_SetRandSeed(_RANDOM_SEED)

    encoded = text.encode("utf-8") + b"\0"
    buffer = ctypes.create_string_buffer(encoded, len(encoded))
    _collector = _Collector()
    try:
        status = handle.espeak_Synth(buffer, len(encoded), 0, _POSITION_CHARACTER, 0, _CHARS_UTF8, None, None)
        collector = _collector
    finally:
        _collector = None
    if collector.error is not None:
        raise ValueError(f"reading espeak-ng's output failed: {collector.error}") from collector.error
    if status != _EE_OK:
        raise ValueError(f"espeak_Synth returned {status} for {text!r}")
    return collector


def _spans(phonemes: list[tuple[int, str]], total: int) -> list[tuple[str, int]]:
    """Turn (first sample, symbol) events into (symbol, length) spans covering [0, total).

    A phoneme lasts until the next event; the last one lasts to the end. Audio
    before the first event is silence, and events that share a sample with the
    next one take no time and are dropped.
    """
    spans: list[tuple[str, int]] = []
    first = phonemes[0][0]
    if first > 0:
        spans.append(("sil", first))
    for index, (start, symbol) in enumerate(phonemes):
        end = phonemes[index + 1][0] if index + 1 < len(phonemes) else total
        if end < start:
            raise ValueError(f"espeak-ng phoneme events go back in time: sample {end} after {start}")
        if end > start:
            spans.append((symbol, end - start))
    return spans


def synthesize_espeak(text: str, language: str, speed: float = 1.0, segment: int = 0) -> Utterance:
    """Speak text with espeak-ng's voice for `language`.

    Args:
        text: text in that language; espeak-ng reads digits and common symbols itself.
        language: an espeak-ng language code from `espeak_languages()` ("en", "ja", "cmn", …),
            matched without regard to case.
        speed: speaking-rate factor on espeak's default 175 words per minute; above 1 is
            faster. The rate is clamped to 80..449 words per minute (see MAX_RATE).
        segment: segment index written into every phoneme.

    Returns:
        An Utterance at espeak's sample rate (22 050 Hz) with voice id "espeak-<language>"
        and IPA phonemes plus "sil". The same text, language and speed give the same samples.

    Raises:
        AvatarError: "invalid_voice" for a language espeak-ng does not have, or
            "voice_unavailable" when the library cannot be loaded.
        ValueError: for empty text, a speed that is not positive, or text without
            anything to speak.
    """
    if not text or not text.strip():
        raise ValueError(f"no text to speak: {text!r}")
    if not (math.isfinite(speed) and speed > 0):
        raise ValueError(f"speed must be positive, got {speed}")
    # espeak reads the text as a NUL-terminated string.
    cleaned = unicodedata.normalize("NFC", text).replace("\0", " ")

    with _lock:
        library = _load_library()
        code = _resolve_language(library, language)
        collector = _speak(library, cleaned, code, _rate_for(speed))

    waveform = (
        np.concatenate(collector.chunks).astype(np.float32) / 32768.0
        if collector.chunks
        else np.zeros(0, np.float32)
    )
    if not any(symbol != "sil" for _, symbol in collector.phonemes) or len(waveform) == 0:
        raise ValueError(f"espeak-ng ({code}) found nothing to speak in {text!r}")
    last = collector.phonemes[-1][0]
    if last > len(waveform):
        raise ValueError(
            f"espeak-ng timed a phoneme at sample {last} but produced only {len(waveform)} samples"
        )

    spans = _spans(collector.phonemes, len(waveform))
    return Utterance.from_spans(waveform, library.sample_rate, spans, segment, espeak_voice_id(code))
