from django.apps import AppConfig


class ChannelsWebConfig(AppConfig):
    name = "channels_web"

    def ready(self):
        from allauth.socialaccount.signals import social_account_added

        from channels_web.adapters import revoke_tokens_on_connect

        # allauth's only hook for a connected provider (auto-connect by e-mail or the connections page).
        social_account_added.connect(revoke_tokens_on_connect, dispatch_uid="revoke_tokens_on_connect")
