from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Workflows and steps")

    def ready(self):
        from sessions_app.selectors import call_state_extend
        from workflows.receivers import receivers_connect
        from workflows.selectors import (
            participant_state_for_customer,
            participant_state_for_operator,
        )

        receivers_connect()
        call_state_extend(customer=participant_state_for_customer, operator=participant_state_for_operator)
