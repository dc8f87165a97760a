"""Audio as the recogniser wants it: the container sniffed from the bytes, decoded, and
resampled to 16 kHz mono 16-bit PCM. CPU work: callers run it off the event loop."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import soundfile  # type: ignore[import-untyped]

SAMPLE_RATE = 16_000
WAV = "audio/wav"
FLAC = "audio/flac"


class BadAudioError(Exception):
    """Audio that no retry can decode: its reason is for machines, its message for people."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def sniff_media_type(data: bytes) -> str | None:
    """WAV (RIFF....WAVE) or FLAC (fLaC), from the first bytes; None for anything else."""
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return WAV
    if data[:4] == b"fLaC":
        return FLAC
    return None


@dataclass(frozen=True, slots=True)
class Pcm:
    """16 kHz mono signed 16-bit little-endian samples."""

    samples: bytes

    @property
    def duration_seconds(self) -> float:
        return len(self.samples) / 2 / SAMPLE_RATE


def decode(data: bytes) -> Pcm:
    """Decode WAV or FLAC to 16 kHz mono PCM; BadAudioError when it is neither, or broken."""
    if sniff_media_type(data) is None:
        raise BadAudioError("UNSUPPORTED_AUDIO", "the audio is neither WAV nor FLAC")
    try:
        frames, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, ValueError) as error:
        raise BadAudioError("CORRUPT_AUDIO", f"the audio cannot be decoded: {error}") from None
    if frames.size == 0:
        raise BadAudioError("EMPTY_AUDIO", "the audio holds no samples")
    return Pcm(_to_pcm16(_resample(frames.mean(axis=1), int(rate))))


def _resample(mono: np.ndarray, rate: int) -> np.ndarray:
    if rate == SAMPLE_RATE:
        return mono
    count = int(len(mono) * SAMPLE_RATE / rate)
    # Linear interpolation: plenty for speech recognition, which keeps only what is under 8 kHz.
    resampled: np.ndarray = np.interp(np.arange(count) * (rate / SAMPLE_RATE), np.arange(len(mono)), mono)
    return resampled


def _to_pcm16(signal: np.ndarray) -> bytes:
    samples: bytes = (np.clip(signal, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    return samples
