from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    verbose_name = _("Verification sessions")

    def ready(self):
        from accounts.events import operator_presence_changed
        from django.core import checks

        from kyc import body_limits, geo, sms
        from sessions_app.changes import waiting_sessions_mark_changed
        from sessions_app.events import session_moved
        from sessions_app.one_time_codes import one_time_code_state_for_operator
        from sessions_app.scheduling_services import booking_on_session_moved
        from sessions_app.selectors import call_state_extend
        from sessions_app.views import customer_body_check

        checks.register(geo.deploy_check, checks.Tags.security, deploy=True)
        checks.register(sms.deploy_check, checks.Tags.security, deploy=True)
        body_limits.register_credential_check(body_limits.CUSTOMER, customer_body_check)
        operator_presence_changed.connect(waiting_sessions_mark_changed, dispatch_uid="sessions_waiting_presence")
        session_moved.connect(booking_on_session_moved, dispatch_uid="sessions_booking_on_session_moved")
        call_state_extend(operator=one_time_code_state_for_operator)
