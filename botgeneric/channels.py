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
