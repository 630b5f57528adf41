from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Businesses and accounts"

    def ready(self):
        from accounts import security  # noqa: F401  (connects the sign-in signal handlers)
