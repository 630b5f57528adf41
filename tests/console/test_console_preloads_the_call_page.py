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
