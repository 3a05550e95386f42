from django.apps import AppConfig


class ChannelsWebConfig(AppConfig):
    name = "channels_web"
