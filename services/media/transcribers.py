"""Speech recognisers behind one interface. PocketSphinx is the default: its wheel ships the
English model, so nothing is downloaded at run time. faster-whisper is used only when an
operator points CENTRAL_WHISPER_MODEL_DIR at a model on disk and installs the package, which is
no default dependency (it brings CTranslate2 and ONNX Runtime): `pip install 'central[whisper]'`."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from services.media.audio import SAMPLE_RATE

WHISPER_MODEL_DIR = "CENTRAL_WHISPER_MODEL_DIR"


@dataclass(frozen=True, slots=True)
class Segment:
    start_seconds: float
    end_seconds: float
    text: str


class Transcriber(Protocol):
    """Recognises one chunk of 16 kHz mono 16-bit PCM; times are from the chunk's start.

    Blocking CPU work: callers run it in a thread.
    """

    name: str

    def transcribe(self, pcm: bytes, language: str) -> list[Segment]: ...


# PocketSphinx counts time in frames of 10 ms.
_FRAMES_PER_SECOND = 100
# Fillers and silences the decoder reports as words.
_NOT_WORDS = ("<s>", "</s>", "<sil>", "[NOISE]", "[SPEECH]")


class PocketSphinxTranscriber:
    name = "pocketsphinx"

    def transcribe(self, pcm: bytes, language: str) -> list[Segment]:
        from pocketsphinx import Decoder  # type: ignore[import-untyped] # a large native module: loaded by the worker only

        # A decoder per call: they are not thread-safe, and one costs ~100 ms beside seconds of audio.
        decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        words = [
            Segment(s.start_frame / _FRAMES_PER_SECOND, (s.end_frame + 1) / _FRAMES_PER_SECOND, _word(s.word))
            for s in decoder.seg()
            if s.word not in _NOT_WORDS and not s.word.startswith("[")
        ]
        if not words:
            return []
        return [Segment(words[0].start_seconds, words[-1].end_seconds, " ".join(w.text for w in words))]


def _word(word: str) -> str:
    # Alternative pronunciations come back as "word(2)".
    return word.split("(", 1)[0]


class WhisperTranscriber:
    name = "faster-whisper"

    def __init__(self, model_dir: Path) -> None:
        module: Any = importlib.import_module("faster_whisper")
        self.model = module.WhisperModel(str(model_dir), device="cpu", compute_type="int8")

    def transcribe(self, pcm: bytes, language: str) -> list[Segment]:
        import numpy as np

        audio = np.frombuffer(pcm, dtype="<i2").astype("float32") / 32768.0
        segments, _ = self.model.transcribe(audio, language=language.split("-", 1)[0])
        return [Segment(float(s.start), float(s.end), str(s.text).strip()) for s in segments]


def whisper_model_dir(env: Mapping[str, str]) -> Path | None:
    """The Whisper model an operator named, None for PocketSphinx; ValueError when the variable
    names no directory or faster-whisper is not installed. Loads nothing: the media worker
    checks it at start, before its recognition processes load the model."""
    model_dir = env.get(WHISPER_MODEL_DIR, "").strip()
    if not model_dir:
        return None
    path = Path(model_dir)
    if not path.is_dir():
        raise ValueError(f"{WHISPER_MODEL_DIR}={model_dir} is not a directory holding a Whisper model")
    if importlib.util.find_spec("faster_whisper") is None:
        raise ValueError(
            f"{WHISPER_MODEL_DIR} is set but faster-whisper is not installed: pip install 'central[whisper]'"
        )
    return path


def select_transcriber(env: Mapping[str, str]) -> Transcriber:
    """faster-whisper when CENTRAL_WHISPER_MODEL_DIR names a model directory, PocketSphinx otherwise."""
    path = whisper_model_dir(env)
    return PocketSphinxTranscriber() if path is None else WhisperTranscriber(path)
