"""The performance: per-frame mouth shape, expression, blinks and head motion.

`perform()` turns an Utterance (phonemes with sample spans) and the EmotionPlan
into one row of animation parameters per video frame. The mouth follows the
phoneme timing only, never the loudness of the audio. Everything random (blinks,
head motion) comes from one seeded generator, so a seed gives the same result.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from avatar.errors import AvatarError
from avatar.timing import frame_to_sample, num_frames_for
from avatar.visemes import SILENCE, viseme_targets
from emotion.types import EMOTIONS, EmotionPlan
from voice.types import Phoneme, Utterance

logger = logging.getLogger(__name__)

MIN_FPS, MAX_FPS = 1, 120

# Facial Action Coding System (FACS) units the rig animates, in column order:
#   AU1 inner brow raiser      AU2 outer brow raiser     AU4 brow lowerer
#   AU5 upper lid raiser       AU6 cheek raiser          AU7 lid tightener
#   AU9 nose wrinkler          AU10 upper lip raiser     AU12 lip corner puller
#   AU15 lip corner depressor  AU20 lip stretcher        AU23 lip tightener
#   AU26 jaw drop
ACTION_UNITS: tuple[str, ...] = (
    "AU1", "AU2", "AU4", "AU5", "AU6", "AU7", "AU9", "AU10", "AU12", "AU15", "AU20", "AU23", "AU26",
)

# Prototype expressions at full intensity, built from the usual FACS
# descriptions of the basic emotions. Sad keeps AU4 weak so that AU1 wins at
# the inner brow and raises it, which gives the typical sad brow.
EMOTION_ACTION_UNITS: dict[str, dict[str, float]] = {
    "neutral": {},
    "happy": {"AU6": 0.8, "AU12": 1.0},
    "sad": {"AU1": 1.0, "AU4": 0.35, "AU15": 0.9},
    "angry": {"AU4": 1.0, "AU7": 0.8, "AU23": 0.7},
    "surprised": {"AU1": 0.9, "AU2": 0.9, "AU5": 0.8, "AU26": 0.7},
    "fearful": {"AU1": 0.9, "AU2": 0.5, "AU4": 0.5, "AU5": 0.8, "AU20": 0.8},
    "disgusted": {"AU9": 0.9, "AU10": 0.7, "AU15": 0.5},
}

# Changes of mouth behaviour per emotion at full intensity: a smile spreads
# the lips and a sad voice opens the mouth less.
EMOTION_MOUTH: dict[str, tuple[float, float]] = {  # (width offset, opening factor)
    "neutral": (0.0, 1.0),
    "happy": (0.25, 1.05),
    "sad": (-0.05, 0.85),
    "angry": (0.0, 1.0),
    "surprised": (0.0, 1.0),
    "fearful": (0.1, 0.95),
    "disgusted": (-0.05, 0.9),
}

# Head pitch offset in degrees at full intensity (positive: chin down).
EMOTION_PITCH: dict[str, float] = {
    "neutral": 0.0, "happy": -0.8, "sad": 2.5, "angry": 1.2, "surprised": -1.5, "fearful": 0.8, "disgusted": 0.5,
}

# Coarticulation: each target's pull decays as exp(-(d / tau)^2) with d the
# distance in seconds from its span (a dominance model of coarticulation).
# Lip rounding starts earlier than jaw opening, so width gets the longer tau.
OPENING_TAU_S = 0.045
# A pause pulls on its neighbours only briefly: strong inside it (the mouth closes within a
# frame or two of the sound stopping) without closing the last vowel early.
SILENCE_OPENING_TAU_S = 0.02
WIDTH_TAU_S = 0.07
# Neighbour targets on each side that can influence a frame. At typical
# phoneme rates this spans more than three tau.
NEIGHBOURS = 8
# Sub-samples averaged per frame, so a phoneme shorter than a frame still shows.
SUBSAMPLES = 4
# The lips shape a sound slightly before it is heard. Viewers also notice sound that runs
# ahead of the picture sooner than the reverse (ITU-R BT.1359 detectability thresholds:
# about 45 ms against 125 ms). So the mouth is timed this much ahead of the phoneme spans.
VISUAL_LEAD_S = 0.02
# Before a pause the voice fades out before the last vowel's span ends (its TTS duration
# includes the decay), so the mouth starts closing this long before that vowel ends,
# taking at most half of it (see `_close_around_pauses`).
PAUSE_CLOSURE_LEAD_S = 0.06

# Expression changes between sentences take the plan's `ramp_ms` (10-90 %), set by the style
# preset (`emotion.arc.PRESETS`): slower for a calm news anchor than for a lively vlog.
# Blinks: interval and duration ranges of natural spontaneous blinking.
BLINK_INTERVAL_S = (2.0, 6.0)
BLINK_DURATION_S = (0.15, 0.25)
# Head motion: standard deviation in degrees (yaw, pitch, roll) at rest, and
# how much larger it gets while speaking.
HEAD_SWAY_DEG = np.array([0.7, 0.5, 0.35])
HEAD_SPEAKING_GAIN = 1.8
HEAD_SWAY_PERIOD_S = 0.6
HEAD_NOD_DEG = 0.5
HEAD_NOD_PERIOD_S = 0.2
# Head translation standard deviation as a share of the face height.
HEAD_SHIFT = 0.004


@dataclass(frozen=True, eq=False)
class Performance:
    """Animation parameters, one row per video frame (T_f rows).

    Attributes:
        fps: frames per second.
        mouth_opening: inner-lip opening, float32 [T_f], 0 (closed) .. 1 (widest vowel).
        mouth_width: lip width, float32 [T_f], -1 (rounded, narrow) .. 0 (rest) .. 1 (spread).
        action_units: FACS intensities, float32 [T_f, len(ACTION_UNITS)], each 0..1.
        blink: eyelid closure, float32 [T_f], 0 (open) .. 1 (closed).
        head_rotation: yaw, pitch, roll in degrees, float32 [T_f, 3]; positive yaw
            turns the face toward image right, positive pitch lowers the chin,
            positive roll turns the face clockwise in the image.
        head_translation: x, y shift as a share of the face height, float32 [T_f, 2].
        speaking: 0 (silent) .. 1 (speaking), smoothed, float32 [T_f].
        emotion: index into `emotion.types.EMOTIONS` of the frame's segment, int8 [T_f].
        intensity: that segment's emotion intensity, float32 [T_f], 0..1.
    """

    fps: int
    mouth_opening: np.ndarray
    mouth_width: np.ndarray
    action_units: np.ndarray
    blink: np.ndarray
    head_rotation: np.ndarray
    head_translation: np.ndarray
    speaking: np.ndarray
    emotion: np.ndarray
    intensity: np.ndarray

    @property
    def num_frames(self) -> int:
        return int(self.mouth_opening.shape[0])

    def action_unit(self, name: str) -> np.ndarray:
        """Return one action unit's intensity per frame, float32 [T_f]."""
        return self.action_units[:, ACTION_UNITS.index(name)]


def perform(utterance: Utterance, plan: EmotionPlan, fps: int, seed: int = 0) -> Performance:
    """Build the per-frame performance for an utterance and its emotion plan.

    Args:
        utterance: waveform length, sample rate and phoneme spans; the samples
            themselves are not read.
        plan: the segments each phoneme's `segment` index refers to.
        fps: video frames per second.
        seed: seed for blinks and head motion.

    Raises:
        AvatarError: invalid frame rate, an utterance whose phonemes do not tile
            its waveform, or a phoneme whose segment is not in the plan.
    """
    # 1. Check the inputs.
    _check_inputs(utterance, plan, fps)
    rate = utterance.sample_rate
    num_frames = num_frames_for(len(utterance.waveform), rate, fps)
    rng = np.random.default_rng(seed)

    # 2. Frame instants in samples: SUBSAMPLES points spread over one frame period
    #    centred on each frame's instant.
    frame_starts = np.array([frame_to_sample(k, rate, fps) for k in range(num_frames)], dtype=np.float64)
    offsets = ((np.arange(SUBSAMPLES) + 0.5) / SUBSAMPLES - 0.5) * rate / fps
    instants = frame_starts[:, None] + offsets[None, :]  # (T_f, S)

    # 3. Mouth shape from coarticulated viseme targets.
    opening, width = _mouth_shape(utterance, instants, rate)

    # 4. Expression from the plan, ramped between segments over the preset's time.
    segment_of_frame = _segment_per_frame(utterance, frame_starts)
    ramp_sigma = plan.ramp_ms / 1000 * fps / 2.56  # 10-90 % of a Gaussian step spans 2.56 sigma
    action_units, width_offset, opening_factor, pitch_offset = _expression(plan, segment_of_frame, ramp_sigma)
    # Jaw drop (AU26) deepens the vowels' opening but never opens a silent mouth.
    opening = np.clip(opening * opening_factor * (1.0 + 0.4 * action_units[:, ACTION_UNITS.index("AU26")]), 0.0, 1.0)
    width = np.clip(width + width_offset, -1.0, 1.0)

    # 5. Blinks and head motion.
    speaking = _speaking(utterance, frame_starts, fps)
    blink = _blinks(num_frames, fps, rng)
    rotation, translation = _head_motion(num_frames, fps, speaking, pitch_offset, rng)

    emotion = np.array([EMOTIONS.index(plan.segments[s].emotion) for s in segment_of_frame], dtype=np.int8)
    intensity = np.array([plan.segments[s].intensity for s in segment_of_frame], dtype=np.float32)
    logger.debug("performance: %d frames at %d fps, seed %d", num_frames, fps, seed)
    return Performance(
        fps=fps,
        mouth_opening=opening.astype(np.float32),
        mouth_width=width.astype(np.float32),
        action_units=action_units.astype(np.float32),
        blink=blink.astype(np.float32),
        head_rotation=rotation.astype(np.float32),
        head_translation=translation.astype(np.float32),
        speaking=speaking.astype(np.float32),
        emotion=emotion.reshape(num_frames),
        intensity=intensity.reshape(num_frames),
    )


def _check_inputs(utterance: Utterance, plan: EmotionPlan, fps: int) -> None:
    if not isinstance(fps, int | np.integer) or not MIN_FPS <= fps <= MAX_FPS:
        raise AvatarError("invalid_fps", value=fps, low=MIN_FPS, high=MAX_FPS)
    if utterance.sample_rate <= 0:
        raise AvatarError("invalid_utterance", reason=f"sample rate {utterance.sample_rate} is not positive")
    if len(utterance.waveform) == 0 or not utterance.phonemes:
        raise AvatarError("invalid_utterance", reason="the waveform or the phoneme list is empty")
    try:
        utterance.validate()
    except ValueError as error:
        raise AvatarError("invalid_utterance", reason=str(error)) from error
    count = len(plan.segments)
    for position, phoneme in enumerate(utterance.phonemes):
        if not 0 <= phoneme.segment < count:
            raise AvatarError("phoneme_segment_invalid", index=position, symbol=phoneme.symbol, segment=phoneme.segment, count=count)


def _mouth_shape(utterance: Utterance, instants: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Blend viseme targets by dominance at `instants` (T_f, S); return opening and width [T_f]."""
    # Expand each phoneme into its targets, each over its share of the span.
    starts, ends, values, dominances, opening_taus = [], [], [], [], []
    lead = VISUAL_LEAD_S * rate
    for symbol, span_start, span_end in _close_around_pauses(utterance.phonemes, PAUSE_CLOSURE_LEAD_S * rate):
        position = span_start - lead
        length = span_end - span_start
        for target, share in viseme_targets(symbol):
            stop = min(span_end - lead, position + share * length)
            starts.append(position)
            ends.append(stop)
            values.append((target.opening, target.width))
            dominances.append((target.opening_dominance, target.width_dominance))
            opening_taus.append(SILENCE_OPENING_TAU_S if target is SILENCE else OPENING_TAU_S)
            position = stop
    start = np.asarray(starts)  # (T_t,)
    end = np.asarray(ends)
    value = np.asarray(values)  # (T_t, 2)
    dominance = np.asarray(dominances)  # (T_t, 2)

    # Candidate targets around each instant.
    nearest = np.clip(np.searchsorted(start, instants, side="right") - 1, 0, len(start) - 1)  # (T_f, S)
    shifts = np.arange(-NEIGHBOURS, NEIGHBOURS + 1)
    candidates = nearest[..., None] + shifts  # (T_f, S, K)
    valid = (candidates >= 0) & (candidates < len(start))
    index = np.clip(candidates, 0, len(start) - 1)

    # Distance in seconds from each instant to each candidate span (0 inside it).
    t = instants[..., None]
    distance = np.maximum(0.0, np.maximum(start[index] - t, t - end[index])) / rate  # (T_f, S, K)

    result = []
    taus = (np.asarray(opening_taus)[index], WIDTH_TAU_S)  # (T_f, S, K) and a scalar
    for channel, tau in enumerate(taus):
        weight = dominance[index, channel] * np.exp(-((distance / tau) ** 2)) * valid  # (T_f, S, K)
        blended = (weight * value[index, channel]).sum(axis=-1) / np.maximum(weight.sum(axis=-1), 1e-9)  # (T_f, S)
        result.append(blended.mean(axis=1))  # average the sub-samples of each frame
    return result[0], result[1]


def _close_around_pauses(phonemes: tuple[Phoneme, ...], closure: float) -> list[tuple[str, float, float]]:
    """Return (symbol, start, end) spans in which the mouth stays closed through quiet edges of pauses.

    Before a pause the voice fades: the TTS span of the last vowel includes its decay, and
    consonants after it ("leaf", "start") are quiet or silent closures. After a pause, the
    consonants before the first vowel (the closure of "t" in "tian") are silent too. So each
    pause is extended back over the consonants after the last vowel and over the last
    `closure` samples of that vowel (at most half of it), and forward over the consonants
    before the next vowel. The mouth then moves only while the voice sounds.
    """
    spans = [(phoneme.symbol, float(phoneme.start), float(phoneme.end)) for phoneme in phonemes]

    def kind(index: int) -> str:
        targets = [target for target, _ in viseme_targets(spans[index][0])]
        if targets[0] is SILENCE:
            return "pause"
        # A pinyin final may start with a glide ("ie" is [je]), but it still contains a vowel.
        return "vowel" if any(target.vowel for target in targets) else "consonant"

    kinds = [kind(index) for index in range(len(spans))]
    for pause in range(len(spans)):
        if kinds[pause] != "pause" or (pause > 0 and kinds[pause - 1] == "pause"):
            continue
        # Backwards: the consonants after the last vowel, and the vowel's fading tail.
        last = pause - 1
        while last >= 0 and kinds[last] == "consonant":
            last -= 1
        if last >= 0 and kinds[last] == "vowel":
            symbol, start, end = spans[last]
            pause_start = end - min(closure, 0.5 * (end - start))
            spans[last] = (symbol, start, pause_start)
        else:
            pause_start = spans[last + 1][1]
        # Forwards: over this run of pauses, then the consonants before the next vowel.
        following = pause
        while following + 1 < len(spans) and kinds[following + 1] == "pause":
            following += 1
        first = following + 1
        while first < len(spans) and kinds[first] == "consonant":
            first += 1
        pause_end = spans[first][1] if first < len(spans) and kinds[first] == "vowel" else spans[first - 1][2]
        for index in range(last + 1, max(first, following + 1)):
            spans[index] = ("sil", pause_start, pause_start)
        spans[pause] = ("sil", pause_start, pause_end)
    return [span for span in spans if span[2] > span[1]]


def _segment_per_frame(utterance: Utterance, frame_starts: np.ndarray) -> np.ndarray:
    """Return the plan segment shown at each frame instant, int [T_f]."""
    starts = np.array([phoneme.start for phoneme in utterance.phonemes])
    segments = np.array([phoneme.segment for phoneme in utterance.phonemes])
    containing = np.clip(np.searchsorted(starts, frame_starts, side="right") - 1, 0, len(starts) - 1)
    return segments[containing]


def _expression(
    plan: EmotionPlan, segment_of_frame: np.ndarray, ramp_sigma: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return AU intensities [T_f, A] and the width offset, opening factor and pitch offset [T_f]."""
    num_units = len(ACTION_UNITS)
    # Per segment: the AUs, then width offset, opening factor and head pitch.
    table = np.zeros((len(plan.segments), num_units + 3))
    for row, segment in enumerate(plan.segments):
        strength = float(np.clip(segment.intensity, 0.0, 1.0))
        for unit, weight in EMOTION_ACTION_UNITS.get(segment.emotion, {}).items():
            table[row, ACTION_UNITS.index(unit)] = weight * strength
        width_offset, opening_factor = EMOTION_MOUTH.get(segment.emotion, (0.0, 1.0))
        table[row, num_units] = width_offset * strength
        table[row, num_units + 1] = 1.0 + (opening_factor - 1.0) * strength
        table[row, num_units + 2] = EMOTION_PITCH.get(segment.emotion, 0.0) * strength

    per_frame = table[segment_of_frame]  # (T_f, A + 3)
    if ramp_sigma > 0 and len(per_frame) > 1:
        per_frame = gaussian_filter1d(per_frame, ramp_sigma, axis=0, mode="nearest")
    action_units = np.clip(per_frame[:, :num_units], 0.0, 1.0)
    return action_units, per_frame[:, num_units], per_frame[:, num_units + 1], per_frame[:, num_units + 2]


def _speaking(utterance: Utterance, frame_starts: np.ndarray, fps: int) -> np.ndarray:
    """Return 1 while a non-silent phoneme sounds, smoothed over ~150 ms, [T_f]."""
    starts = np.array([phoneme.start for phoneme in utterance.phonemes])
    voiced = np.array([viseme_targets(phoneme.symbol)[0][0] is not SILENCE for phoneme in utterance.phonemes])
    containing = np.clip(np.searchsorted(starts, frame_starts, side="right") - 1, 0, len(starts) - 1)
    active = voiced[containing].astype(np.float64)
    return np.clip(gaussian_filter1d(active, 0.15 * fps, mode="nearest"), 0.0, 1.0)


def _blinks(num_frames: int, fps: int, rng: np.random.Generator) -> np.ndarray:
    """Return eyelid closure per frame with blinks at random natural intervals, [T_f]."""
    closure = np.zeros(num_frames)
    times = np.arange(num_frames) / fps
    moment = rng.uniform(0.5, BLINK_INTERVAL_S[0])
    while moment < num_frames / fps:
        duration = rng.uniform(*BLINK_DURATION_S)
        # The lid closes fast, stays shut a moment and reopens more slowly.
        phase = (times - moment) / duration
        closing = _smoothstep(phase / 0.3)
        opening = 1.0 - _smoothstep((phase - 0.5) / 0.5)
        shape = np.where(phase < 0.3, closing, np.where(phase < 0.5, 1.0, opening))
        shape[(phase < 0) | (phase > 1)] = 0.0
        closure = np.maximum(closure, shape)
        moment += duration + rng.uniform(*BLINK_INTERVAL_S)
    return closure


def _head_motion(
    num_frames: int, fps: int, speaking: np.ndarray, pitch_offset: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Return head rotation in degrees [T_f, 3] and translation in face heights [T_f, 2]."""
    sway = _smooth_noise(rng, num_frames, 3, HEAD_SWAY_PERIOD_S * fps)
    nod = _smooth_noise(rng, num_frames, 1, HEAD_NOD_PERIOD_S * fps)[:, 0]
    shift = _smooth_noise(rng, num_frames, 2, HEAD_SWAY_PERIOD_S * fps)

    gain = 1.0 + (HEAD_SPEAKING_GAIN - 1.0) * speaking
    rotation = sway * HEAD_SWAY_DEG * gain[:, None]
    # Small quick nods ride on the speech.
    rotation[:, 1] += nod * HEAD_NOD_DEG * speaking + pitch_offset
    translation = shift * HEAD_SHIFT * gain[:, None]
    return rotation, translation


def _smooth_noise(rng: np.random.Generator, num_frames: int, channels: int, sigma: float) -> np.ndarray:
    """Return Gaussian-filtered white noise with unit standard deviation, [T_f, channels]."""
    noise = rng.standard_normal((num_frames, channels))
    if sigma <= 0:
        return noise
    filtered = gaussian_filter1d(noise, sigma, axis=0, mode="reflect")
    # Filtering white noise with a unit-area Gaussian divides its variance by 2 sqrt(pi) sigma.
    return filtered * np.sqrt(2.0 * np.sqrt(np.pi) * sigma)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)
