"""The console opens a call in place (static/js/console-queue.js): it names
the call page's module to import and preloads every module that one imports,
so nothing is fetched between the Answer click and the call socket."""

import re
from pathlib import Path

from django.contrib.staticfiles import finders

from operators.views import CALL_MODULE, module_graph


def test_console_preloads_every_module_of_the_call_page(alice):
    response = alice.get("/console/")

    assert response.status_code == 200
    preloaded = set(re.findall(r'<link rel="modulepreload" href="/static/([^"]+)"', response.content.decode()))
    assert preloaded == set(module_graph(CALL_MODULE))
    assert response.context["page_data"]["call_module_url"] == f"/static/{CALL_MODULE}"


def test_module_graph_follows_imports_across_modules():
    """operator-call.js reaches signaling.js only through call-ui.js and call-engine.js."""
    graph = module_graph(CALL_MODULE)

    assert graph[0] == CALL_MODULE
    assert {"js/call-ui.js", "js/call-engine.js", "js/signaling.js", "js/workflow-panel.js"} <= set(graph)
    assert "signaling.js" not in Path(finders.find(CALL_MODULE)).read_text(encoding="utf-8")


def test_answer_asked_for_html_brings_the_call_page_and_its_address(alice, waiting_call):
    """One round trip between the Answer click and the call page, in place."""
    session = waiting_call.session

    response = alice.post(f"/console/sessions/{session.public_id.hex}/answer", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["X-Call-Url"] == f"/console/calls/{session.public_id.hex}/"
    assert response.context["page_data"]["ws_path"] == f"/ws/call/{session.public_id.hex}/"
    session.refresh_from_db()
    assert session.state == session.State.IN_CALL


def test_answer_asked_for_html_refuses_a_taken_call_in_json(anton, answered_call):
    """Anton's Answer on Alice's call: the same refusal as ever, no call page."""
    response = anton.post(f"/console/sessions/{answered_call.session.public_id.hex}/answer", HTTP_ACCEPT="text/html")

    assert response.status_code == 409
    assert "X-Call-Url" not in response
    assert response.json()["error"]["code"] == "not_available"
