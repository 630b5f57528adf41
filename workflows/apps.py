from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Workflows and steps"

    def ready(self):
        from sessions_app.selectors import call_state_extend
        from workflows.receivers import receivers_connect
        from workflows.selectors import (
            participant_state_for_customer,
            participant_state_for_operator,
        )

        receivers_connect()
        call_state_extend(customer=participant_state_for_customer, operator=participant_state_for_operator)
