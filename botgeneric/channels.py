"""The channels a customer reaches agents through.

A core enum, not part of any app: plans allow channels (billing), the policy checks them, usage
events and conversations record them, and each channel adapter names itself with one.
"""

from django.db import models


class Channel(models.TextChoices):
    WEB = "web", "Web"
    TELEGRAM = "telegram", "Telegram"
    API = "api", "API"
    WIDGET = "widget", "Website widget"
    WHATSAPP = "whatsapp", "WhatsApp"
    # An operator trying a draft prompt in the admin; no plan can allow it (CUSTOMER_CHANNELS).
    CONSOLE = "console", "Operator console"


CUSTOMER_CHANNELS = [(value, label) for value, label in Channel.choices if value != Channel.CONSOLE]
