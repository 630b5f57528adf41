"""Symmetric encryption for the few secrets Verity must hold for a while.

A customer's link token is otherwise stored only as a hash. Two places need
the token itself for a short time: the link e-mail waiting to be sent, and the
first answer to a create request kept for an idempotent retry. Both are
encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from
SECRET_KEY and a purpose, so a copy of the database alone reveals no working
link. Changing SECRET_KEY makes what is pending unreadable: an unsent e-mail
is then skipped, and an idempotent retry answers 409.
"""

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

__all__ = ["InvalidToken", "secret_decrypt", "secret_encrypt"]


def _fernet(purpose: str) -> Fernet:
    derived = hmac.new(settings.SECRET_KEY.encode(), f"verity:{purpose}".encode(), hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def secret_encrypt(plaintext: str, *, purpose: str) -> str:
    return _fernet(purpose).encrypt(plaintext.encode()).decode()


def secret_decrypt(ciphertext: str, *, purpose: str) -> str:
    """Raises InvalidToken when the text was not made with this purpose and key."""
    return _fernet(purpose).decrypt(ciphertext.encode()).decode()
