"""Every error is a JSON problem with a stable code, also outside the endpoints."""

from tests.api.test_api_authentication import assert_problem


def test_unknown_path_under_the_api_is_a_problem(api_a):
    assert_problem(api_a.get("/api/v1/nothing-here"), 404, "not_found")


def test_wrong_method_is_a_problem(api_a):
    assert_problem(api_a.delete("/api/v1/sessions"), 405, "method_not_allowed")


def test_malformed_json_is_a_problem(api_a):
    response = api_a.post("/api/v1/sessions", data="{not json", content_type="application/json")
    assert_problem(response, 400, "malformed_json")


def test_form_body_is_refused(api_a):
    response = api_a.post("/api/v1/sessions", data="a=b", content_type="application/x-www-form-urlencoded")
    assert_problem(response, 415, "unsupported_media_type")


def test_a_list_instead_of_an_object_names_what_is_wrong(api_a):
    response = api_a.post("/api/v1/sessions", data=[1, 2], format="json")
    body = assert_problem(response, 400, "validation_error")
    assert body["errors"]
