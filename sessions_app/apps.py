from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    verbose_name = "Verification sessions"

    def ready(self):
        from sessions_app.recordings import connect_retention

        connect_retention()
