"""The published OpenAPI schema and the browsable docs, which must work under
the site's strict Content-Security-Policy and load nothing from elsewhere."""

import re

from django.test import Client


def test_schema_is_published_without_a_key(db):
    response = Client().get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/sessions", "/api/v1/sessions/{session_id}", "/api/v1/sessions/{session_id}/cancel"} <= set(
        schema["paths"]
    )
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    assert not any("docs" in path or "schema" in path for path in schema["paths"]), "only the API itself"


def test_docs_page_loads_only_same_origin_scripts_and_no_inline_script(db):
    response = Client().get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy, "no inline script is allowed, not even here"
    assert re.search(r"style-src 'self' 'sha256-[A-Za-z0-9+/=]+';", policy), "only the template's own style block"
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts
    for attributes, body in scripts:
        assert body.strip() == "", "an inline script would be blocked by the CSP"
        source = re.search(r'src="([^"]+)"', attributes).group(1)
        assert source.startswith("/"), f"{source} is not same-origin"
    for href in re.findall(r'<link[^>]+href="([^"]+)"', html):
        assert href.startswith("/"), f"{href} is not same-origin"


def test_the_relaxed_style_policy_is_only_on_the_docs_page(db):
    assert "style-src 'self';" in Client().get("/api/v1/schema/").get("Content-Security-Policy", "style-src 'self';")
    assert "sha256" not in Client().get("/healthz")["Content-Security-Policy"]


def test_docs_start_up_script_is_served_as_javascript(db):
    html = Client().get("/api/v1/docs/").content.decode()
    script_url = next(src for src in re.findall(r'<script src="([^"]+)"', html) if "script" in src.split("?", 1)[-1])
    response = Client().get(script_url.replace("&amp;", "&"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in response.content.decode()
