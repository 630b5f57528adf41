from django.apps import AppConfig


class OperatorsConfig(AppConfig):
    name = "operators"
    verbose_name = "Operator console, integration and compliance"

    def ready(self):
        from operators.signin import signin_lockout_connect
        from operators.webhooks import webhooks_connect

        webhooks_connect()
        signin_lockout_connect()
