"""Audio made in the test: WAV bytes of silence or a tone, of any length, and the fixture."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import soundfile  # type: ignore[import-untyped]

FIXTURES = Path(__file__).parent / "fixtures"


def hello_wav() -> bytes:
    return (FIXTURES / "hello.wav").read_bytes()


def tone_wav(seconds: float, rate: int = 16_000, fmt: str = "WAV") -> bytes:
    """A quiet 440 Hz tone: audio that decodes, and in which there are no words."""
    t = np.arange(int(seconds * rate)) / rate
    buffer = io.BytesIO()
    soundfile.write(buffer, 0.05 * np.sin(2 * np.pi * 440 * t), rate, format=fmt, subtype="PCM_16")
    return buffer.getvalue()


def corrupt_wav() -> bytes:
    """A WAV's first bytes, then nothing that decodes."""
    return b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4
