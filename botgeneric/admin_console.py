"""The operator console's branding and the internal models it leaves out."""

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
