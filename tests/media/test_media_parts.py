"""The media domain's small parts: sniffing and decoding, the recogniser's selection and its
real model, the media worker's settings, and the gateway pieces its routes need."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

import pytest

from central.media.v1 import transcription_jobs_pb2
from services.gateway.body import route_body_limit
from services.gateway.path_template import PathTemplate
from services.media.audio import FLAC, WAV, BadAudioError, decode, sniff_media_type
from services.media.settings import MediaSettings
from services.media.transcribers import (
    PocketSphinxTranscriber,
    WhisperTranscriber,
    select_transcriber,
    whisper_model_dir,
)
from tests.media.audio_samples import corrupt_wav, hello_wav, tone_wav


def test_the_container_is_sniffed_from_the_bytes() -> None:
    assert sniff_media_type(tone_wav(0.1)) == WAV
    assert sniff_media_type(tone_wav(0.1, fmt="FLAC")) == FLAC
    assert sniff_media_type(b"ID3\x04") is None
    assert sniff_media_type(b"") is None


def test_audio_decodes_to_16_khz_mono() -> None:
    pcm = decode(tone_wav(2.0, rate=44_100))
    assert pcm.duration_seconds == pytest.approx(2.0, abs=0.01)
    assert decode(tone_wav(1.0, fmt="FLAC")).duration_seconds == pytest.approx(1.0, abs=0.01)
    with pytest.raises(BadAudioError) as corrupt:
        decode(corrupt_wav())
    assert corrupt.value.reason == "CORRUPT_AUDIO"
    with pytest.raises(BadAudioError) as unsupported:
        decode(b"OggS" + bytes(64))
    assert unsupported.value.reason == "UNSUPPORTED_AUDIO"


def test_pocketsphinx_hears_hello_world_with_the_model_in_its_wheel() -> None:
    [segment] = PocketSphinxTranscriber().transcribe(decode(hello_wav()).samples, "en-US")
    assert segment.text.split()[:2] == ["hello", "world"]
    assert 0 <= segment.start_seconds < segment.end_seconds < 4


def test_whisper_only_when_an_operator_names_a_model_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(select_transcriber({}), PocketSphinxTranscriber)
    assert isinstance(select_transcriber({"CENTRAL_WHISPER_MODEL_DIR": " "}), PocketSphinxTranscriber)
    with pytest.raises(ValueError, match="not a directory"):
        select_transcriber({"CENTRAL_WHISPER_MODEL_DIR": str(tmp_path / "absent")})
    # The package is an optional extra: without it, a clear word at start.
    find_spec = importlib.util.find_spec
    installed = {"faster_whisper": False}

    def find(name: str, package: str | None = None) -> object:
        if name == "faster_whisper":
            return object() if installed[name] else None
        return find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find)
    with pytest.raises(ValueError, match=r"pip install 'central\[whisper\]'"):
        whisper_model_dir({"CENTRAL_WHISPER_MODEL_DIR": str(tmp_path)})
    installed["faster_whisper"] = True
    loaded: list[str] = []

    def fake_init(self: WhisperTranscriber, model_dir: Path) -> None:
        loaded.append(str(model_dir))

    monkeypatch.setattr(WhisperTranscriber, "__init__", fake_init)
    chosen = select_transcriber({"CENTRAL_WHISPER_MODEL_DIR": str(tmp_path)})
    assert isinstance(chosen, WhisperTranscriber)
    assert loaded == [str(tmp_path)]


def test_media_worker_settings() -> None:
    assert MediaSettings.from_env({}) == MediaSettings(2, timedelta(seconds=20))
    assert MediaSettings.from_env(
        {"CENTRAL_MEDIA_CONCURRENCY": "4", "CENTRAL_MEDIA_HEARTBEAT_SECONDS": "3"}
    ) == MediaSettings(4, timedelta(seconds=3))
    for name in ("CENTRAL_MEDIA_CONCURRENCY", "CENTRAL_MEDIA_HEARTBEAT_SECONDS"):
        for bad in ("0", "many"):
            with pytest.raises(ValueError, match=name):
                MediaSettings.from_env({name: bad})


def test_a_custom_method_template_matches_only_with_its_verb() -> None:
    template = PathTemplate.parse("/tenants/{tenant_id}/jobs/{job_id}:cancel")
    assert template.match(["tenants", "t", "jobs", "j:cancel"]) == {"tenant_id": "t", "job_id": "j"}
    assert template.match(["tenants", "t", "jobs", "j"]) is None
    assert template.match(["tenants", "t", "jobs", ":cancel"]) is None
    assert template.match(["tenants", "t", "jobs", "j:delete"]) is None
    assert template.openapi_path({"tenant_id": "tenantId", "job_id": "jobId"}) == (
        "/tenants/{tenantId}/jobs/{jobId}:cancel"
    )
    assert PathTemplate.parse("/tenants/{tenant_id}").verb == ""


def test_only_the_create_route_has_its_own_body_limit() -> None:
    service = transcription_jobs_pb2.DESCRIPTOR.services_by_name["TranscriptionJobsService"]
    create = service.methods_by_name["CreateTranscriptionJob"]
    assert route_body_limit(create) == 34 * 1024 * 1024
    assert route_body_limit(service.methods_by_name["CancelTranscriptionJob"]) is None
