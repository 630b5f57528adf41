"""`manage.py check --deploy` passes, without a single warning, for a production-like environment."""

import secrets

import pytest

from tests.unit.settings_subprocess import run_manage


def _production(**overrides):
    return {
        "DEBUG": "false",
        "HTTPS": "true",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "PUBLIC_BASE_URL": "https://kyc.example.com",
        "SMS_BACKEND": "kyc.sms.HttpBackend",
        "SMS_HTTP_URL": "https://sms.example.com/send",
        **overrides,
    }


def test_production_like_environment_passes_the_deploy_check_without_warnings(tmp_path):
    result = run_manage(tmp_path / "var", "check", "--deploy", "--fail-level", "WARNING", **_production())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "check_id"),
    [
        ({"DEBUG": "true"}, "security.W018"),
        ({"HTTPS": "false"}, "security.W004"),
        ({"SECRET_KEY": "short"}, "security.W009"),
        ({"SMS_BACKEND": "kyc.sms.ConsoleBackend"}, "verity.E021"),
        ({"GEO_PRIVATE_NETWORK_COUNTRY": "IN"}, "verity.E020"),
    ],
    ids=["debug", "no_https", "weak_secret_key", "sms_written_not_sent", "private_network_country"],
)
def test_deploy_check_still_catches_a_production_mistake(tmp_path, overrides, check_id):
    """Nothing is silenced so broadly that a real misconfiguration slips through."""
    result = run_manage(tmp_path / "var", "check", "--deploy", "--fail-level", "WARNING", **_production(**overrides))
    assert result.returncode != 0
    assert check_id in result.stdout + result.stderr
