from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperatorsConfig(AppConfig):
    name = "operators"
    verbose_name = _("Operator console, integration and compliance")

    def ready(self):
        from operators.repeat_applicants import participant_seen_before, repeat_applicants_connect
        from operators.scheduling_notices import scheduling_notices_connect
        from operators.signin import signin_lockout_connect
        from operators.webhooks import webhooks_connect
        from operators.routing import answerers_available_count
        from sessions_app.selectors import call_state_extend, queue_answerers_count_set

        webhooks_connect()
        signin_lockout_connect()
        repeat_applicants_connect()
        scheduling_notices_connect()
        call_state_extend(operator=participant_seen_before)
        queue_answerers_count_set(answerers_available_count)
