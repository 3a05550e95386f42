from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        # What billing and metering report becomes notices (see notifications.receivers).
        from notifications import receivers  # noqa: F401
