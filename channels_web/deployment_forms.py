"""Forms of the deployments, clients and leads pages. They only shape input; the services decide (a bot
token, the origins and the agent are checked by deployments.services and the policy)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from channels_web.templatetags.catalog_text import localized_text
from deployments.models import DeploymentStatus
from leads.models import LeadStatus


class _DeploymentForm(forms.Form):
    """`agent` is a bare id on purpose (as in SendForm): a crafted id reaches the policy and comes back
    as its words."""

    agent = forms.IntegerField(label=_("Agent"), min_value=1)
    name = forms.CharField(label=_("Name (for you)"), max_length=120, required=False)

    def __init__(self, *args, agents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].widget = forms.Select(
            choices=[(agent.pk, localized_text(agent, "name")) for agent in agents]
        )


class TelegramDeploymentForm(_DeploymentForm):
    prefix = "telegram"
    telegram_bot_token = forms.CharField(
        label=_("Bot token"),
        max_length=200,
        help_text=_("From @BotFather. It is stored encrypted and never shown again."),
        # Never rendered back into the page, not even after a refused attempt.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )


class WidgetDeploymentForm(_DeploymentForm):
    prefix = "widget"
    allowed_origins = forms.CharField(
        label=_("Websites allowed to embed it"),
        help_text=_("One origin per line, such as https://shop.example.com."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def origins(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["allowed_origins"].splitlines() if line.strip()]


class DeploymentStatusForm(forms.Form):
    status = forms.ChoiceField(choices=DeploymentStatus.choices)


class LeadStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=LeadStatus.choices)


class LeadFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("All")), *LeadStatus.choices], required=False)


class LeadNoticesForm(forms.Form):
    watching = forms.BooleanField(required=False)
