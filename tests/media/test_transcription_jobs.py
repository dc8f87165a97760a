"""The transcription jobs API through the gateway, with the media service and worker of the
test stack running the jobs for real (PocketSphinx)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
from typing import Any

import httpx
import psycopg
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError

from services.media.ids import TranscriptionJobIds
from services.media.workflows.transcribe import workflow_id
from tests.media.audio_samples import corrupt_wav, hello_wav, tone_wav
from tests.support.actors import Actor, signed_in
from tests.support.stack import Stack

FINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}


def jobs_path(actor: Actor) -> str:
    return f"/tenants/{actor.tenant_id}/transcription-jobs"


async def submit(stack: Stack, actor: Actor, audio: bytes, **fields: str) -> httpx.Response:
    body = {"audio": base64.b64encode(audio).decode(), **fields}
    return await stack.http.post(jobs_path(actor), json=body, headers=actor.cookie, timeout=30)


async def until_final(stack: Stack, actor: Actor, job_id: str, seconds: float = 90) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    async with asyncio.timeout(seconds):
        while True:
            response = await stack.http.get(f"{jobs_path(actor)}/{job_id}", headers=actor.cookie)
            assert response.status_code == 200, response.text
            seen = response.json()["transcriptionJob"]
            if seen["status"] in FINAL:
                return seen
            await asyncio.sleep(0.2)


def reason(response: httpx.Response) -> str:
    return str(response.json()["error"]["details"][0]["reason"])


async def test_speech_comes_back_as_a_transcript(stack: Stack) -> None:
    member = await signed_in(stack, role="member")
    created = await submit(stack, member, hello_wav())
    assert created.status_code == 200, created.text
    job = created.json()["transcriptionJob"]
    assert job["status"] == "QUEUED"
    assert job["__type"] == "TranscriptionJob"
    assert (job["language"], job["mediaType"]) == ("en-US", "audio/wav")
    assert job["submittedBy"] == member.user.tenant_user_id
    assert job["transcriptionJobId"].startswith("transcriptionjob-")

    done = await until_final(stack, member, job["transcriptionJobId"])
    assert done["status"] == "SUCCEEDED", done
    words = done["transcript"]["text"].split()
    assert words[:2] == ["hello", "world"]
    assert done["progress"] == 1
    assert 3.0 < done["durationSeconds"] < 4.0
    [segment] = done["transcript"]["segments"]
    assert 0 <= segment["startSeconds"] < segment["endSeconds"] <= done["durationSeconds"]
    assert done["startedAt"] <= done["finishedAt"]
    assert "failure" not in done


async def test_the_same_idempotency_key_gives_the_same_job(stack: Stack) -> None:
    member = await signed_in(stack, role="member")
    key = f"upload-{secrets.token_hex(4)}"
    first = await submit(stack, member, tone_wav(0.5), idempotencyKey=key)
    again = await submit(stack, member, tone_wav(0.5), idempotencyKey=key)
    other = await submit(stack, member, tone_wav(0.5), idempotencyKey=f"{key}-2")
    first_id = first.json()["transcriptionJob"]["transcriptionJobId"]
    assert again.json()["transcriptionJob"]["transcriptionJobId"] == first_id
    assert other.json()["transcriptionJob"]["transcriptionJobId"] != first_id
    # Another tenant's identical key is its own.
    stranger = await signed_in(stack, role="member")
    theirs = await submit(stack, stranger, tone_wav(0.5), idempotencyKey=key)
    assert theirs.json()["transcriptionJob"]["transcriptionJobId"] != first_id


async def test_list_is_newest_first_and_filters_by_status(stack: Stack) -> None:
    member = await signed_in(stack, role="member")
    ids = []
    for _ in range(3):
        created = await submit(stack, member, tone_wav(0.3))
        ids.append(created.json()["transcriptionJob"]["transcriptionJobId"])
    cancelled = await stack.http.post(f"{jobs_path(member)}/{ids[1]}:cancel", json={}, headers=member.cookie)
    assert cancelled.status_code == 200, cancelled.text

    listed = await stack.http.get(jobs_path(member), headers=member.cookie)
    assert [j["transcriptionJobId"] for j in listed.json()["transcriptionJobs"]] == ids[::-1]
    page = await stack.http.get(jobs_path(member), params={"limit": 2}, headers=member.cookie)
    assert [j["transcriptionJobId"] for j in page.json()["transcriptionJobs"]] == ids[:0:-1]
    rest = await stack.http.get(
        jobs_path(member), params={"cursor": page.json()["nextCursor"]}, headers=member.cookie
    )
    assert [j["transcriptionJobId"] for j in rest.json()["transcriptionJobs"]] == ids[:1]
    only = await stack.http.get(jobs_path(member), params={"status": "CANCELLED"}, headers=member.cookie)
    assert [j["transcriptionJobId"] for j in only.json()["transcriptionJobs"]] == [ids[1]]
    wrong = await stack.http.get(jobs_path(member), params={"status": "DONE"}, headers=member.cookie)
    assert wrong.status_code == 400


async def test_a_cancelled_job_stays_cancelled_and_a_finished_one_cannot_be(stack: Stack) -> None:
    member = await signed_in(stack, role="member")
    # Larger than the gateway's general body limit (1 MiB): this route has its own.
    long_audio = tone_wav(60)
    assert len(long_audio) > stack.config.max_body_bytes
    created = await submit(stack, member, long_audio)
    assert created.status_code == 200, created.text
    job_id = created.json()["transcriptionJob"]["transcriptionJobId"]
    cancelled = await stack.http.post(f"{jobs_path(member)}/{job_id}:cancel", json={}, headers=member.cookie)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["transcriptionJob"]["status"] == "CANCELLED"
    # Its workflow stops, and nothing it was doing overwrites the cancel.
    handle = stack.temporal.get_workflow_handle(workflow_id(job_id))
    with contextlib.suppress(WorkflowFailureError):
        await asyncio.wait_for(handle.result(), 30)
    status = (await handle.describe()).status
    assert status in (WorkflowExecutionStatus.CANCELED, WorkflowExecutionStatus.COMPLETED)
    again = await stack.http.get(f"{jobs_path(member)}/{job_id}", headers=member.cookie)
    assert again.json()["transcriptionJob"]["status"] == "CANCELLED"

    twice = await stack.http.post(f"{jobs_path(member)}/{job_id}:cancel", json={}, headers=member.cookie)
    assert (twice.status_code, reason(twice)) == (400, "TRANSCRIPTION_JOB_FINISHED")


async def test_corrupt_audio_fails_with_a_reason_and_other_formats_are_refused(stack: Stack) -> None:
    member = await signed_in(stack, role="member")
    created = await submit(stack, member, corrupt_wav())
    assert created.status_code == 200, created.text
    failed = await until_final(stack, member, created.json()["transcriptionJob"]["transcriptionJobId"])
    assert failed["status"] == "FAILED"
    assert failed["failure"]["reason"] == "CORRUPT_AUDIO"
    assert failed["failure"]["message"]
    assert "transcript" not in failed

    mp3ish = await submit(stack, member, b"ID3\x04\x00" + bytes(100))
    assert (mp3ish.status_code, reason(mp3ish)) == (400, "UNSUPPORTED_AUDIO")
    flac = await submit(stack, member, tone_wav(0.2, fmt="FLAC"))
    assert flac.json()["transcriptionJob"]["mediaType"] == "audio/flac"


async def test_the_route_takes_25_mib_of_audio_and_no_more(stack: Stack) -> None:
    member = await signed_in(stack, role="member")
    too_much = await submit(stack, member, b"RIFF" + bytes(25 * 1024 * 1024))
    assert (too_much.status_code, reason(too_much)) == (400, "AUDIO_TOO_LARGE")
    huge = b"x" * (34 * 1024 * 1024 + 1)
    refused = await stack.http.post(
        jobs_path(member),
        content=b'{"audio": "' + huge + b'"}',
        headers={**member.cookie, "content-type": "application/json"},
    )
    assert (refused.status_code, reason(refused)) == (413, "BODY_TOO_LARGE")


async def test_another_tenant_sees_nothing_and_only_admins_or_the_submitter_delete(stack: Stack) -> None:
    submitter = await signed_in(stack, role="member")
    colleague = await signed_in(stack, role="member", tenant=submitter.tenant)
    admin = await signed_in(stack, role="admin", tenant=submitter.tenant)
    stranger = await signed_in(stack, role="admin")
    ids = []
    for _ in range(2):
        created = await submit(stack, submitter, tone_wav(0.3))
        ids.append(created.json()["transcriptionJob"]["transcriptionJobId"])
    path = f"{jobs_path(submitter)}/{ids[0]}"

    # A colleague reads it; a stranger does not learn it exists, through any route.
    assert (await stack.http.get(path, headers=colleague.cookie)).status_code == 200
    assert (await stack.http.get(path, headers=stranger.cookie)).status_code == 404
    assert (await stack.http.delete(path, headers=stranger.cookie)).status_code == 404
    assert (await stack.http.post(f"{path}:cancel", json={}, headers=stranger.cookie)).status_code == 404
    assert (await stack.http.get(jobs_path(submitter), headers=stranger.cookie)).status_code == 404
    their_path = f"{jobs_path(stranger)}/{ids[0]}"
    assert (await stack.http.get(their_path, headers=stranger.cookie)).status_code == 404

    refused = await stack.http.delete(path, headers=colleague.cookie)
    assert refused.status_code == 403
    assert (await stack.http.delete(path, headers=submitter.cookie)).status_code == 200
    assert (await stack.http.get(path, headers=submitter.cookie)).status_code == 404
    other = f"{jobs_path(submitter)}/{ids[1]}"
    assert (await stack.http.delete(other, headers=admin.cookie)).status_code == 200
    # The rows, and with them the audio and transcripts, are gone.
    async with await psycopg.AsyncConnection.connect(stack.database_url) as conn:
        cursor = await conn.execute(
            "SELECT count(*) FROM media.transcription_jobs WHERE transcription_job_id = ANY(%s)",
            ([TranscriptionJobIds.to_uuid(i) for i in ids],),
        )
        assert await cursor.fetchone() == (0,)
