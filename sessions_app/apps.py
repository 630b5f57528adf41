from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    verbose_name = "Verification sessions"

    def ready(self):
        from kyc import body_limits
        from sessions_app.views import customer_body_check

        body_limits.register_credential_check(body_limits.CUSTOMER, customer_body_check)
