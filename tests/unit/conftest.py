import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The named people's passwords are never checked here; the real hasher
    would spend most of the suite's time making them. (Not for tests/e2e,
    whose server must check the passwords it is given.)"""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
