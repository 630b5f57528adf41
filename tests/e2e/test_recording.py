"""Call recording in real Chromium: the operator's page records both streams
with MediaRecorder while every screen shows the badge; after End the server
composes one playable file of the whole call from the chunks the browser
uploaded, and the review view streams it with range requests to a
compliance reviewer and to no one else.

The server composes by itself, as in production: in embedded mode eagerly
when the operator's page finishes its segments, with REDIS_URL on the
Celery worker the browser tests' harness runs beside daphne. Then
`manage.py recording_compose` (what an operator without a worker would run)
finds nothing left to do.
"""

import json
import subprocess
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import new_page
from tests.e2e.flows import (
    customer_join,
    customer_open_link_and_accept,
    operator_answer_first,
    operator_login,
    wait_decoding,
)
from tests.e2e.harness import screenshot

CALL_SECONDS = 6
COMPLIANCE_PASSWORD = "e2e-compliance-pass-1"

FACTS = """
import json
from pathlib import Path
from sessions_app.models import Evidence, Recording, VerificationSession
from sessions_app.recordings import composed_recording
from tests.evidence_stores import plaintext_copy
# Evidence is encrypted at rest: ffprobe gets decrypted copies in a folder of the test's.
folder = Path("{folder}")
session = VerificationSession.objects.get(public_id="{session}")
composed = composed_recording(session)
print(json.dumps({{
    "pk": session.pk,
    "answered_at": session.answered_at.isoformat(),
    "ended_at": session.ended_at.isoformat(),
    "composed": composed and {{"id": composed.public_id.hex, "path": str(plaintext_copy(composed.file, folder)), "size": composed.size,
                              "sha256": composed.sha256, "duration": composed.duration_seconds}},
    "segments": [
        {{"stream": r.stream, "segment": r.segment, "state": r.state, "started_at": r.started_at.isoformat(),
          "chunks": r.chunks.count(), "verification": r.verification,
          "duration": r.evidence.duration_seconds if r.evidence else None,
          "path": str(plaintext_copy(r.evidence.file, folder)) if r.evidence else None}}
        for r in Recording.objects.filter(session=session).select_related("evidence").order_by("stream", "segment")
    ],
}}))
"""

COMPLIANCE_USER = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from accounts.models import COMPLIANCE_GROUP
user, _ = get_user_model().objects.get_or_create(username="carol-e2e", defaults={{"is_staff": True}})
user.is_staff = True
user.set_password("{password}")
user.save()
user.groups.add(Group.objects.get_or_create(name=COMPLIANCE_GROUP)[0])
"""


def facts_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("recorded-plaintext")


def shell(server, code: str) -> str:
    return server.manage("shell", "-c", code)


def ffprobe(path: str) -> dict:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_type,width,height", "-of", "json", path],
        capture_output=True, text=True, check=True,
    )
    return json.loads(result.stdout)


def frame_at(path: str, seconds: float, target: Path) -> Image.Image:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", str(seconds), "-i", path, "-frames:v", "1", str(target)],
        check=True, timeout=60,
    )
    return Image.open(target).convert("RGB")


def staff_login(page, base_url: str, username: str, password: str):
    """Staff sign in where operators do (the admin's sign-in leads there too)."""
    page.goto(f"{base_url}/console/login/?next=/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/")


@pytest.fixture(scope="module")
def recorded(server, browser, tmp_path_factory):
    """One short recorded call, ended by the operator; what the server made of it."""
    seed = server.seed(business="recorded")
    session_id = seed["one_on_one"]["session"]
    operator_base = server.base_urls[-1]  # a second daphne process when there are two
    operator = new_page(browser, base_url=operator_base)
    operator_login(operator, operator_base, seed["operator"]["username"], seed["operator"]["password"])
    customer = new_page(browser)
    customer_open_link_and_accept(customer, seed["one_on_one"]["links"][0])
    customer_join(customer)
    operator_answer_first(operator)
    wait_decoding(customer)
    wait_decoding(operator)

    # Every screen says the call is recorded.
    expect(operator.locator("#recording-badge")).to_be_visible()
    expect(customer.locator("#recording-badge")).to_be_visible()
    expect(customer.locator("#recording-badge")).to_have_text("Recording")
    expect(operator.locator("#recording-warning")).to_be_hidden()
    screenshot(customer, "recording-customer-badge")
    operator.wait_for_function(f"() => Number(document.getElementById('call-duration').dataset.seconds) >= {CALL_SECONDS}", timeout=30_000)
    operator.get_by_role("button", name="End the call").click()
    operator.get_by_role("button", name="End call").click()
    expect(customer.locator("#ended-panel")).to_be_visible()
    try:
        expect(operator.locator("#recording-status")).to_have_attribute("data-saved", "true", timeout=90_000)
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- server logs:\n{server.logs()[-6000:]}") from None
    screenshot(operator, "recording-operator-saved")

    # The server composes by itself once the last segment is in: eagerly in
    # embedded mode, on the Celery worker with Redis. Then the command has
    # nothing left to do.
    deadline = time.monotonic() + 90
    while True:
        facts = json.loads(shell(server, FACTS.format(session=session_id, folder=facts_folder(tmp_path_factory))).strip().splitlines()[-1])
        if facts["composed"] or time.monotonic() > deadline:
            break
        time.sleep(1)
    composed_by = json.loads(server.manage("recording_compose", session_id, "--wait", "60").strip().splitlines()[-1])
    customer_context = customer.context
    operator.context.close()
    yield {
        "seed": seed,
        "session": session_id,
        "facts": facts,
        "outcome": composed_by["outcome"],
        "customer": customer,
        "tmp": tmp_path_factory.mktemp("recording"),
    }
    customer_context.close()


def test_the_server_composed_the_call_by_itself_or_via_the_command(recorded):
    assert recorded["facts"]["composed"], recorded["facts"]
    assert recorded["outcome"] == "already_composed"


def test_the_composed_file_is_playable_with_the_calls_duration_audio_and_video(recorded):
    facts = recorded["facts"]
    composed = facts["composed"]
    assert composed, facts
    call = (datetime.fromisoformat(facts["ended_at"]) - datetime.fromisoformat(facts["answered_at"])).total_seconds()
    probe = ffprobe(composed["path"])
    kinds = {stream["codec_type"] for stream in probe["streams"]}
    assert kinds == {"audio", "video"}
    assert abs(float(probe["format"]["duration"]) - call) < 1.0, (probe, call)
    assert call >= CALL_SECONDS

    # The customer's and the operator's pictures side by side, mid-call.
    frame = np.asarray(frame_at(composed["path"], call / 2, recorded["tmp"] / "mid.png"), dtype=np.float64)
    height, width, _ = frame.shape
    assert width == 2 * height * 4 // 3  # two 4:3 tiles
    for half in (frame[60 : height - 60, : width // 2], frame[60 : height - 60, width // 2 :]):
        # Chromium's fake camera (a moving pattern on green), not the empty tile's dark grey.
        assert half.std() > 10 and half[:, :, 1].mean() > 60, half.mean(axis=(0, 1))


def test_each_stream_was_recorded_separately_from_the_answer_to_the_end(recorded):
    facts = recorded["facts"]
    streams = {segment["stream"] for segment in facts["segments"]}
    assert streams == {"operator", next(s for s in streams if s != "operator")}
    ended = datetime.fromisoformat(facts["ended_at"])
    answered = datetime.fromisoformat(facts["answered_at"])
    for segment in facts["segments"]:
        assert segment["state"] == "finished", segment
        assert segment["verification"]["contiguous"] is True, segment
        assert segment["chunks"] >= 2  # uploaded as produced, a few seconds each
        started = datetime.fromisoformat(segment["started_at"])
        assert (started - answered).total_seconds() < 5  # recording began right after the answer
        # The original per-stream file covers the call until the end. Not to
        # the second: a segment's start is placed by its start request (late
        # by that request's latency), the customer's media stops a moment
        # before the operator's page hears of the end, and that page stops
        # its recorders only then (seconds later on a machine this busy).
        covered = (ended - started).total_seconds()
        assert covered - 2.5 < segment["duration"] < covered + 5, segment
        assert {s["codec_type"] for s in ffprobe(segment["path"])["streams"]} == {"audio", "video"}


def test_compliance_streams_it_with_range_requests_and_plays_it(recorded, server, browser):
    shell(server, COMPLIANCE_USER.format(password=COMPLIANCE_PASSWORD))
    composed = recorded["facts"]["composed"]
    url = f"/recordings/{composed['id']}"
    page = new_page(browser, base_url=server.base_urls[0])
    staff_login(page, server.base_urls[0], "carol-e2e", COMPLIANCE_PASSWORD)

    partial = page.request.get(url, headers={"Range": "bytes=0-1023"})
    assert partial.status == 206
    assert partial.headers["content-range"] == f"bytes 0-1023/{composed['size']}"
    assert partial.headers["accept-ranges"] == "bytes"
    assert len(partial.body()) == 1024
    tail = page.request.get(url, headers={"Range": "bytes=-100"})
    assert tail.status == 206 and len(tail.body()) == 100

    # The player on the session's review page: Chromium itself seeks through
    # the file with range requests, and clicking an audit event moves the
    # video to it.
    ranges = []
    page.on("request", lambda request: ranges.append(request.headers.get("range")) if url in request.url else None)
    page.goto(f"/admin/sessions_app/verificationsession/{recorded['facts']['pk']}/review/")
    video = page.locator("[data-recording-player] video")
    page.wait_for_function("() => document.querySelector('[data-recording-player] video').readyState >= 1", timeout=30_000)
    assert abs(video.evaluate("v => v.duration") - composed["duration"]) < 0.5
    seek = page.locator("[data-seek]").last
    target = float(seek.get_attribute("data-seek"))
    seek.click()
    page.wait_for_function(
        f"() => Math.abs(document.querySelector('[data-recording-player] video').currentTime - {target}) < 1.5"
    )
    assert any(value and value.startswith("bytes=") for value in ranges), ranges
    screenshot(page, "recording-player")
    page.context.close()


def test_nobody_else_gets_the_recording(recorded, server, browser):
    composed = recorded["facts"]["composed"]
    url = f"/recordings/{composed['id']}"
    # An operator of another business: the recording does not exist for them.
    other = server.seed(business="recorded-other", password="e2e-other-pass-1")
    page = new_page(browser, base_url=server.base_urls[0])
    operator_login(page, server.base_urls[0], other["operator"]["username"], other["operator"]["password"])
    assert page.request.get(url, headers={"Range": "bytes=0-1023"}).status == 404
    page.context.close()
    # The customer of the call and an anonymous visitor.
    assert recorded["customer"].request.get(f"{server.base_urls[0]}{url}", headers={"Range": "bytes=0-"}).status == 403
    anonymous = new_page(browser, base_url=server.base_urls[0])
    assert anonymous.request.get(url, headers={"Range": "bytes=0-"}).status == 403
    anonymous.context.close()


def test_a_browser_without_mediarecorder_warns_the_operator_at_once(server, browser):
    seed = server.seed(business="no-recorder")
    operator = new_page(browser, base_url=server.base_urls[-1])
    operator.context.add_init_script("delete window.MediaRecorder;")
    operator_login(operator, server.base_urls[-1], seed["operator"]["username"], seed["operator"]["password"])
    customer = new_page(browser)
    customer_open_link_and_accept(customer, seed["one_on_one"]["links"][0])
    customer_join(customer)
    operator_answer_first(operator)
    expect(operator.locator("#recording-warning")).to_be_visible()
    expect(operator.locator("#recording-warning")).to_contain_text("cannot record")
    # Nothing records, so no screen claims it does.
    time.sleep(1)
    expect(customer.locator("#recording-badge")).to_be_hidden()
    customer.context.close()
    operator.context.close()


def test_uploads_failing_warn_the_operator_and_nothing_is_lost_when_they_resume(server, browser, tmp_path_factory):
    """The network drops every chunk upload for longer than the limit: the
    operator is warned at once, the page keeps the chunks and, once uploads
    get through again, sends them all; the segments end up contiguous."""
    seed = server.seed(business="outage")
    operator_base = server.base_urls[-1]
    operator = new_page(browser, base_url=operator_base)
    operator_login(operator, operator_base, seed["operator"]["username"], seed["operator"]["password"])
    customer = new_page(browser)
    customer_open_link_and_accept(customer, seed["one_on_one"]["links"][0])
    customer_join(customer)
    operator_answer_first(operator)
    wait_decoding(operator)
    expect(operator.locator("#recording-badge")).to_be_visible()

    operator.route("**/recordings/*/chunks/*", lambda route: route.abort("connectionreset"))
    warning = operator.locator("#recording-warning")
    expect(warning).to_be_visible(timeout=30_000)
    expect(warning).to_contain_text("has not reached the server")
    operator.unroute("**/recordings/*/chunks/*")
    expect(warning).to_be_hidden(timeout=30_000)

    operator.get_by_role("button", name="End the call").click()
    operator.get_by_role("button", name="End call").click()
    expect(operator.locator("#recording-status")).to_have_attribute("data-saved", "true", timeout=90_000)
    server.manage("recording_compose", seed["one_on_one"]["session"], "--wait", "60")
    facts = json.loads(shell(server, FACTS.format(session=seed["one_on_one"]["session"], folder=facts_folder(tmp_path_factory))).strip().splitlines()[-1])
    assert facts["composed"], facts
    assert len(facts["segments"]) == 2
    for segment in facts["segments"]:
        assert segment["verification"]["contiguous"] is True, segment
        assert segment["chunks"] >= 6, segment  # the outage's chunks arrived late, none lost
    customer.context.close()
    operator.context.close()


def test_an_operator_who_reloads_mid_call_goes_on_recording_in_new_segments(server, browser, tmp_path_factory):
    """What a crashed and reopened console does: the page that comes back
    records the next segment of every stream; the composition has them all."""
    seed = server.seed(business="reload-recording")
    session_id = seed["one_on_one"]["session"]
    operator_base = server.base_urls[-1]
    operator = new_page(browser, base_url=operator_base)
    operator_login(operator, operator_base, seed["operator"]["username"], seed["operator"]["password"])
    customer = new_page(browser)
    customer_open_link_and_accept(customer, seed["one_on_one"]["links"][0])
    customer_join(customer)
    operator_answer_first(operator)
    wait_decoding(operator)
    expect(operator.locator("#recording-badge")).to_be_visible()
    time.sleep(4)  # at least one chunk of each stream on the server
    operator.reload()
    wait_decoding(operator)
    expect(operator.locator("#recording-badge")).to_be_visible()
    expect(customer.locator("#recording-badge")).to_be_visible()
    time.sleep(4)
    operator.get_by_role("button", name="End the call").click()
    operator.get_by_role("button", name="End call").click()
    expect(operator.locator("#recording-status")).to_have_attribute("data-saved", "true", timeout=90_000)
    server.manage("recording_compose", session_id, "--wait", "60")
    facts = json.loads(shell(server, FACTS.format(session=session_id, folder=facts_folder(tmp_path_factory))).strip().splitlines()[-1])

    by_stream: dict[str, list] = {}
    for segment in facts["segments"]:
        by_stream.setdefault(segment["stream"], []).append(segment)
    assert len(by_stream) == 2, facts["segments"]
    for segments in by_stream.values():
        assert [s["segment"] for s in segments] == [1, 2]
        assert [s["state"] for s in segments] == ["interrupted", "finished"]
        assert all(s["chunks"] >= 1 and s["duration"] for s in segments), segments
    call = (datetime.fromisoformat(facts["ended_at"]) - datetime.fromisoformat(facts["answered_at"])).total_seconds()
    probe = ffprobe(facts["composed"]["path"])
    assert abs(float(probe["format"]["duration"]) - call) < 1.0
    customer.context.close()
    operator.context.close()
