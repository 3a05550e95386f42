"""Shapes of the leads API. Validation only; leads.services does the work."""

from rest_framework import serializers

from leads.models import Lead, LeadStatus


class LeadOutput(serializers.ModelSerializer):
    contact_name = serializers.CharField(source="contact.name", read_only=True)

    class Meta:
        model = Lead
        fields = [
            "id",
            "status",
            "name",
            "phone",
            "email",
            "telegram",
            "need",
            "budget",
            "notes",
            "contact",
            "contact_name",
            "conversation",
            "deployment",
            "created_at",
            "updated_at",
        ]


class LeadChange(serializers.Serializer):
    status = serializers.ChoiceField(choices=LeadStatus.choices)


class LeadFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=LeadStatus.choices, required=False)


class LeadNoticesOutput(serializers.Serializer):
    watching = serializers.BooleanField(help_text="Whether you are told of new leads (Telegram, else e-mail).")
    always = serializers.BooleanField(help_text="Owners are always told; they cannot opt out.")


class LeadNoticesChange(serializers.Serializer):
    watching = serializers.BooleanField()
