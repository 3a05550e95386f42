"""Landing, profile and organization pages."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.services import update_profile
from botgeneric.errors import DomainError
from channels_web.forms import ApiKeyForm, InviteForm, NotificationPreferencesForm, OrganizationNameForm, ProfileForm
from channels_web.messages import describe_error
from notifications.models import PREFERENCE_FIELDS
from notifications.selectors import preferences_for
from notifications.services import update_preferences
from policy.seats import seats_for
from tenants.models import INVITABLE_ROLE_CHOICES
from tenants.selectors import NotFound, access_api_key, api_keys_for, members_of, open_invitations_for
from tenants.services import create_api_key, revoke_api_key


def home(request):
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "web/landing.html")


def require_manager(user) -> None:
    """Organization settings (API keys, webhooks) are for its owners and admins only."""
    if not user.organization_id or not user.can_manage_organization:
        raise PermissionDenied


@login_required
def profile(request):
    user = request.user
    form = ProfileForm(request.POST or None, initial={"name": user.name, "locale": user.locale})
    if request.method == "POST" and form.is_valid():
        try:
            update_profile(user=user, name=form.cleaned_data["name"], locale=form.cleaned_data["locale"])
        except DomainError as exc:
            form.add_error("locale", describe_error(exc).text)
        else:
            # Said in the language just chosen: the next page (UserLocaleMiddleware reads the user) is in it.
            with translation.override(form.cleaned_data["locale"]):
                messages.success(request, _("Profile saved."))
            return redirect("web:profile")
    return _profile_page(request, form=form)


def _profile_page(request, *, form):
    preferences = preferences_for(user=request.user)
    notifications_form = NotificationPreferencesForm(
        user=request.user, initial={name: getattr(preferences, name) for name in PREFERENCE_FIELDS}
    )
    context = {"form": form, "notifications_form": notifications_form}
    return render(request, "web/profile.html", context)


@login_required
@require_POST
def notification_preferences(request):
    """The profile page's notification switches: an unchecked box switches its kind off."""
    user = request.user
    form = NotificationPreferencesForm(request.POST, user=user)
    form.is_valid()  # check boxes only: always valid, an absent box is off
    update_preferences(user=request.user, changes=form.cleaned_data)
    messages.success(request, _("Notification settings saved."))
    return redirect("web:profile")


def _organization_page(request, *, form, secret=None, new_key=None, status=200):
    """Everyone in the organization sees its people; owners and admins also manage them and the API keys."""
    user = request.user
    organization = user.organization
    manager = user.can_manage_organization
    context = {
        "organization": organization,
        "members": members_of(organization=organization),
        "manager": manager,
        "seats": seats_for(organization_id=organization.pk),
        "invitations": open_invitations_for(organization_id=organization.pk) if manager else [],
        "api_keys": api_keys_for(organization_id=organization.pk) if manager else [],
        "form": form,
        "invite_form": InviteForm(),
        "name_form": OrganizationNameForm(initial={"name": organization.name}),
        "roles": INVITABLE_ROLE_CHOICES,
        "now": timezone.now(),
        "secret": secret,
        "new_key": new_key,
    }
    return render(request, "web/organization.html", context, status=status)


@login_required
def organization(request):
    if not request.user.organization_id:
        raise PermissionDenied
    return _organization_page(request, form=ApiKeyForm())


@login_required
@require_POST
def api_key_create(request):
    """Create a key and show its secret in this one response; it is never retrievable again."""
    require_manager(request.user)
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _organization_page(request, form=form, status=400)
    try:
        key, secret = create_api_key(
            organization=request.user.organization,
            name=form.cleaned_data["name"],
            actor=request.user,
            scopes=form.scopes(),
        )
    except DomainError as exc:
        form.add_error("name", describe_error(exc).text)
        return _organization_page(request, form=form, status=400)
    return _organization_page(request, form=ApiKeyForm(), secret=secret, new_key=key, status=200)


@login_required
@require_POST
def api_key_revoke(request, key_id: int):
    require_manager(request.user)
    try:
        key = access_api_key(user=request.user, key_id=key_id)
    except NotFound:
        raise Http404 from None
    revoke_api_key(key=key, actor=request.user)
    messages.success(request, _("The key “%(name)s” was revoked.") % {"name": key.name})
    return redirect("web:organization")
