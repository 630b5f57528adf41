from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    verbose_name = "Verification sessions"

    def ready(self):
        from kyc import body_limits
        from sessions_app.selectors import customer_session_participant

        # A customer's upload or form is read only from a browser whose
        # session is bound to a participant (kyc/body_limits.py).
        body_limits.register_credential_check(
            body_limits.CUSTOMER, lambda request: customer_session_participant(request.session)[0] is not None
        )
