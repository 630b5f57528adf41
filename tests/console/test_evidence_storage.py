"""Evidence files live in the private evidence folder, outside anything the
web server serves, under names the server made, readable only by the
product's own process, and with no URL of their own."""

import os
import stat
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.console import images
from tests.evidence_stores import at_rest_path
from tests.console.helpers import evidence_files, evidence_of


@pytest.fixture
def uploaded(uploader, document_capture):
    response = uploader.send(
        document_capture, images.jpeg(), name="max-mustermann-passport-front.jpeg", content_type="image/jpeg"
    )
    assert response.status_code == 201
    return evidence_of(response)


def test_evidence_root_is_outside_static_and_media_roots():
    """Checked on the settings module itself: the tests point EVIDENCE_ROOT at a temporary folder."""
    import kyc.settings as real

    evidence = Path(real.EVIDENCE_ROOT).resolve()
    for served in (Path(real.STATIC_ROOT).resolve(), Path(real.MEDIA_ROOT).resolve()):
        assert served != evidence
        assert served not in evidence.parents
        assert evidence not in served.parents


def test_evidence_file_lands_under_evidence_root(uploaded, settings):
    path = at_rest_path(uploaded.file.name).resolve()

    assert Path(settings.EVIDENCE_ROOT).resolve() in path.parents
    assert evidence_files(settings) == [Path(settings.EVIDENCE_ROOT) / uploaded.file.name]
    for served in (django_settings.STATIC_ROOT, django_settings.MEDIA_ROOT):
        assert Path(served).resolve() not in path.parents


def test_evidence_file_name_is_made_by_the_server(uploaded, answered_call):
    name = uploaded.file.name

    assert name == f"{answered_call.session.public_id.hex}/{uploaded.public_id.hex}.jpg"
    assert "mustermann" not in name and "passport" not in name and ".jpeg" not in name


def test_evidence_file_is_readable_only_by_its_owner(uploaded):
    mode = stat.S_IMODE(os.stat(at_rest_path(uploaded.file.name)).st_mode)
    folder_mode = stat.S_IMODE(os.stat(at_rest_path(uploaded.file.name).parent).st_mode)

    assert mode == 0o600
    assert folder_mode == 0o700


def test_evidence_has_no_public_url(uploaded):
    with pytest.raises(ValueError):
        _ = uploaded.file.url
