from rest_framework import serializers

from notifications.models import PREFERENCE_FIELDS, NotificationPreferences


class NotificationPreferencesSerializer(serializers.ModelSerializer):
    """A switch per notice kind (true = sent). `daily_summary` is for staff users; others cannot turn it on."""

    class Meta:
        model = NotificationPreferences
        fields = PREFERENCE_FIELDS
        extra_kwargs = {name: {"required": False} for name in PREFERENCE_FIELDS}
