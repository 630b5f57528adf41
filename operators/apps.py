from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperatorsConfig(AppConfig):
    name = "operators"
    verbose_name = _("Operator console, integration and compliance")

    def ready(self):
        from operators.signin import signin_lockout_connect
        from operators.webhooks import webhooks_connect

        webhooks_connect()
        signin_lockout_connect()
