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


def speech_chunks_wav(chunks: int, chunk_seconds: float) -> bytes:
    """`chunks` stretches of `chunk_seconds`, each the fixture's speech then silence: one
    "hello world" in every chunk the worker recognises, and little work in the silences."""
    speech, rate = soundfile.read(FIXTURES / "hello.wav", dtype="float32")
    silence = np.zeros(int(chunk_seconds * rate) - len(speech), dtype="float32")
    buffer = io.BytesIO()
    soundfile.write(buffer, np.tile(np.concatenate([speech, silence]), chunks), rate, format="WAV")
    return buffer.getvalue()
