from django.apps import AppConfig


class OperatorsConfig(AppConfig):
    name = "operators"
    verbose_name = "Operator console, integration and compliance"

    def ready(self):
        from operators.webhooks import webhooks_connect

        webhooks_connect()
