from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Businesses and accounts")

    def ready(self):
        from accounts import security  # noqa: F401  (connects the sign-in signal handlers)
        from accounts.security import staff_body_check
        from kyc import body_limits

        body_limits.register_credential_check(body_limits.STAFF, staff_body_check)
