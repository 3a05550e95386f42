"""The operator console's branding, the internal models it leaves out, and allauth's pages made searchable."""

from allauth.account.admin import EmailAddressAdmin
from allauth.account.models import EmailAddress
from allauth.socialaccount.admin import SocialAccountAdmin, SocialTokenAdmin
from allauth.socialaccount.models import SocialAccount, SocialToken
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.sites.models import Site
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

CONSOLE_NAME = "bot-generic operations"

admin.site.site_header = CONSOLE_NAME
admin.site.site_title = CONSOLE_NAME
admin.site.index_title = CONSOLE_NAME

# Operators never edit these: the site row comes from settings, tokens are managed by the JWT views,
# and no code grants permissions through groups.
for model in (Site, Group, OutstandingToken, BlacklistedToken):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


# allauth's pages ask for a user or a social account as a raw numeric id; ours search by e-mail instead.
class SearchableEmailAddressAdmin(EmailAddressAdmin):
    raw_id_fields = ()
    autocomplete_fields = ["user"]


class SearchableSocialAccountAdmin(SocialAccountAdmin):
    raw_id_fields = ()
    autocomplete_fields = ["user"]


class SearchableSocialTokenAdmin(SocialTokenAdmin):
    raw_id_fields = ()
    autocomplete_fields = ["account"]


for model, model_admin in (
    (EmailAddress, SearchableEmailAddressAdmin),
    (SocialAccount, SearchableSocialAccountAdmin),
    (SocialToken, SearchableSocialTokenAdmin),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
        admin.site.register(model, model_admin)
