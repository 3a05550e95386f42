"""The organization page's people: members, invitations, roles, removal, ownership, the name; and the
page an invitation link opens. Thin: forms shape input, `accounts.membership` decides."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.membership import (
    accept_invitation,
    change_role,
    invite_member,
    remove_member,
    revoke_invitation,
    transfer_ownership,
)
from botgeneric.errors import DomainError
from channels_web.adapters import INVITATION_SESSION_KEY
from channels_web.forms import InviteForm, OrganizationNameForm, RoleForm
from channels_web.messages import describe_error
from tenants.selectors import (
    NotFound,
    access_invitation,
    access_member,
    invitation_for_token,
    invitation_status,
)
from tenants.services import rename_organization


def _member(request, member_id: int):
    try:
        return access_member(user=request.user, member_id=member_id)
    except NotFound:
        raise Http404 from None


def _refused(request, error: DomainError):
    messages.error(request, describe_error(error).text)
    return redirect("web:organization")


@login_required
@require_POST
def rename(request):
    form = OrganizationNameForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The organization needs a name."))
        return redirect("web:organization")
    try:
        rename_organization(organization=request.user.organization, name=form.cleaned_data["name"], actor=request.user)
    except DomainError as error:
        return _refused(request, error)
    messages.success(request, _("The organization was renamed."))
    return redirect("web:organization")


@login_required
@require_POST
def invite(request):
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a valid e-mail address."))
        return redirect("web:organization")
    try:
        invitation = invite_member(actor=request.user, email=form.cleaned_data["email"], role=form.cleaned_data["role"])
    except DomainError as error:
        return _refused(request, error)
    messages.success(request, _("An invitation was sent to %(email)s.") % {"email": invitation.email})
    return redirect("web:organization")


@login_required
@require_POST
def invitation_revoke(request, invitation_id: int):
    try:
        invitation = access_invitation(user=request.user, invitation_id=invitation_id)
        revoke_invitation(invitation=invitation, actor=request.user)
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        return _refused(request, error)
    messages.success(request, _("The invitation to %(email)s was revoked.") % {"email": invitation.email})
    return redirect("web:organization")


@login_required
@require_POST
def member_role(request, member_id: int):
    member = _member(request, member_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose admin or member."))
        return redirect("web:organization")
    try:
        change_role(actor=request.user, member=member, role=form.cleaned_data["role"])
    except DomainError as error:
        return _refused(request, error)
    messages.success(request, _("The role of %(who)s was changed.") % {"who": member})
    return redirect("web:organization")


def _confirm(request, *, question: str, button: str):
    return render(request, "web/confirm.html", {"question": question, "button": button})


@login_required
def member_remove(request, member_id: int):
    """GET asks for confirmation; POST removes."""
    member = _member(request, member_id)
    if request.method != "POST":
        return _confirm(
            request,
            question=_("Remove %(who)s from the organization? Their API keys stop working at once.") % {"who": member},
            button=_("Remove"),
        )
    try:
        remove_member(actor=request.user, member=member)
    except DomainError as error:
        return _refused(request, error)
    messages.success(request, _("%(who)s was removed from the organization.") % {"who": member})
    return redirect("web:organization")


@login_required
def transfer(request, member_id: int):
    """GET asks for confirmation; POST hands the organization over."""
    member = _member(request, member_id)
    if request.method != "POST":
        return _confirm(
            request,
            question=_("Make %(who)s the owner of the organization? You will become an admin.") % {"who": member},
            button=_("Transfer ownership"),
        )
    try:
        transfer_ownership(actor=request.user, new_owner=member)
    except DomainError as error:
        return _refused(request, error)
    messages.success(request, _("%(who)s is now the owner.") % {"who": member})
    return redirect("web:organization")


def invitation(request, token: str):
    """The page an invitation link opens: who invites whom where. A visitor signs up (the invitation is
    carried through the sign-up) or signs in; a signed-in person accepts with a POST."""
    found = invitation_for_token(token)
    error = None
    if request.method == "POST" and request.user.is_authenticated and found is not None:
        try:
            accept_invitation(user=request.user, token=token)
        except DomainError as refusal:
            error = describe_error(refusal).text
        else:
            request.session.pop(INVITATION_SESSION_KEY, None)
            messages.success(request, _("Welcome to %(organization)s.") % {"organization": found.organization.name})
            return redirect("web:organization")
    if found is not None and not request.user.is_authenticated:
        request.session[INVITATION_SESSION_KEY] = token
    context = {
        "invitation": found,
        "status": invitation_status(found) if found is not None else None,
        "error": error,
        "login_url": f"{reverse('account_login')}?next={request.path}",
    }
    return render(request, "web/invitation.html", context, status=400 if error else 200 if found else 404)
