"""Forms of the dashboard pages. They only shape input; the services decide."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from channels_web.templatetags.catalog_text import localized_text
from notifications.models import PREFERENCE_FIELDS, Kind, NotificationPreferences
from tenants.models import DEFAULT_API_KEY_SCOPES, INVITABLE_ROLE_CHOICES, ApiKeyScope, Role
from webhooks.models import EventType


class ProfileForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150, required=False)
    locale = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)


class NotificationPreferencesForm(forms.Form):
    """A switch per notice kind; the operators' daily summary only for staff users."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        for name in PREFERENCE_FIELDS:
            if name == Kind.DAILY_SUMMARY and not user.is_staff:
                continue
            label = NotificationPreferences._meta.get_field(name).verbose_name
            self.fields[name] = forms.BooleanField(label=label, required=False)


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("Key name"), max_length=100)
    billing = forms.BooleanField(
        label=_("Also allow billing changes (subscribe, cancel, pay); owners only"), required=False
    )

    def scopes(self) -> list[str]:
        chosen = list(DEFAULT_API_KEY_SCOPES)
        if self.cleaned_data.get("billing"):
            chosen.append(ApiKeyScope.BILLING.value)
        return chosen


class OrganizationNameForm(forms.Form):
    name = forms.CharField(label=_("Organization name"), max_length=200)


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=INVITABLE_ROLE_CHOICES, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=INVITABLE_ROLE_CHOICES)


class SendForm(forms.Form):
    """One dashboard message. `agent` is a bare id on purpose: a crafted id for an agent outside the plan
    must reach the policy engine and come back as its words, not as a form-choice error."""

    agent = forms.IntegerField(label=_("Agent"), min_value=1)
    input = forms.CharField(label=_("Message"), max_length=settings.WEB_MAX_INPUT_CHARS, widget=forms.Textarea)
    conversation = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, agents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].widget = forms.Select(
            choices=[(agent.pk, localized_text(agent, "name")) for agent in agents]
        )


class RenameForm(forms.Form):
    MAX_LENGTH = 200

    title = forms.CharField(label=_("Title"), max_length=MAX_LENGTH, required=False)


class SubscribeForm(forms.Form):
    plan = forms.SlugField()
    provider = forms.CharField(max_length=16)
    currency = forms.CharField(max_length=3, required=False)
    confirmation = forms.CharField(max_length=4000, required=False)


class CancelForm(forms.Form):
    immediate = forms.BooleanField(required=False)
    confirmation = forms.CharField(max_length=4000, required=False)


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(label=_("URL"), max_length=2000, assume_scheme="https")
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
