from django.apps import AppConfig


class ChannelsTgConfig(AppConfig):
    name = "channels_tg"
