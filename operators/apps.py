from django.apps import AppConfig


class OperatorsConfig(AppConfig):
    name = "operators"
    verbose_name = "Businesses and operators"

    def ready(self):
        from operators import security  # noqa: F401  (connects the sign-in signal handlers)
