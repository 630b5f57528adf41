from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Businesses and accounts"

    def ready(self):
        from accounts import security  # noqa: F401  (connects the sign-in signal handlers)
        from kyc import body_limits

        # Console and admin bodies are read only for a signed-in user (kyc/body_limits.py).
        body_limits.register_credential_check(body_limits.STAFF, lambda request: request.user.is_authenticated)
