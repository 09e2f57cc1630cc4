"""Clinic admins' user pages: the list, an invitation, one person's roles, status, password
link and sessions. Every write is a service in ``clinic.user_services`` (audited there)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from clinic import selectors, user_services, user_sessions
from clinic.audit import not_phi
from clinic.forms import UserInviteForm, UserRolesForm
from clinic.models import User
from clinic.query_params import search_param
from clinic.roles import Role, role_required
from clinic.user_services import UserChangeRefused

INVITED = "Invited %(email)s: they were e-mailed a link to choose a password."
ROLES_SAVED = "Roles saved."
ROLES_UNCHANGED = "Nothing changed."
DEACTIVATED = "%(email)s is deactivated; %(ended)s session(s) ended."
REACTIVATED = "%(email)s can log in again."
PASSWORD_LINK_SENT = "A link to choose a new password is on its way to %(email)s."  # noqa: S105 (a message)
SESSION_ENDED = "The session was ended."
OWN_SESSION = "This is the session you are using: log out instead."
SEARCH_MAX = 100


@not_phi("staff accounts and their sessions: no patient record")
@role_required(Role.CLINIC_ADMIN)
def users(request: HttpRequest) -> HttpResponse:
    search = search_param(request)
    # No name or address is longer: the rest is not searched, but shown as typed.
    found = selectors.user_list(actor=request.user, search=search[:SEARCH_MAX])
    page = Paginator(found, 25).get_page(request.GET.get("page"))
    return render(request, "clinic/users/list.html", {"page": page, "q": search})


@not_phi("staff accounts and their sessions: no patient record")
@role_required(Role.CLINIC_ADMIN)
def user_invite(request: HttpRequest) -> HttpResponse:
    form = UserInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_services.user_invite(actor=request.user, **form.cleaned_data)
        except UserChangeRefused as exc:
            form.add_error("email" if str(exc) == user_services.EMAIL_TAKEN else "roles", str(exc))
        else:
            messages.success(request, INVITED % {"email": user.email})
            return redirect("clinic:user", pk=user.pk)
    return render(request, "clinic/users/invite.html", {"form": form}, status=400 if form.errors else 200)


def _detail(request: HttpRequest, account: User, *, roles_form: UserRolesForm | None = None, status: int = 200):
    held = user_services.roles_held(user=account)
    context = {
        "account": account,
        "roles_form": roles_form or UserRolesForm(initial={"roles": [role.name for role in held]}),
        "other_roles": [role for role in held if role not in user_services.ASSIGNABLE_ROLES],
        "sessions": user_sessions.sessions_active(user=account),
        "current_session_key": request.session.session_key,
    }
    return render(request, "clinic/users/detail.html", context, status=status)


@not_phi("staff accounts and their sessions: no patient record")
@role_required(Role.CLINIC_ADMIN)
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, selectors.get_user_for_admin(actor=request.user, pk=pk))


@not_phi("POST only: changes an account; its service writes the audit row")
@role_required(Role.CLINIC_ADMIN)
@require_POST
def user_roles(request: HttpRequest, pk: int) -> HttpResponse:
    account = selectors.get_user_for_admin(actor=request.user, pk=pk)
    form = UserRolesForm(request.POST)
    if form.is_valid():
        try:
            changed = user_services.user_roles_set(actor=request.user, user=account, roles=form.cleaned_data["roles"])
        except UserChangeRefused as exc:
            form.add_error("roles", str(exc))
        else:
            messages.success(request, ROLES_SAVED if changed else ROLES_UNCHANGED)
            return redirect("clinic:user", pk=account.pk)
    return _detail(request, account, roles_form=form, status=400)


def _act(request: HttpRequest, pk: int, action, done: str) -> HttpResponse:
    """Run one of the one-button services on the account and say how it went."""
    account = selectors.get_user_for_admin(actor=request.user, pk=pk)
    try:
        result = action(actor=request.user, user=account)
    except UserChangeRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done % {"email": account.email, "ended": result})
    return redirect("clinic:user", pk=account.pk)


@not_phi("POST only: changes an account; its service writes the audit row")
@role_required(Role.CLINIC_ADMIN)
@require_POST
def user_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, user_services.user_deactivate, DEACTIVATED)


@not_phi("POST only: changes an account; its service writes the audit row")
@role_required(Role.CLINIC_ADMIN)
@require_POST
def user_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, user_services.user_reactivate, REACTIVATED)


@not_phi("POST only: changes an account; its service writes the audit row")
@role_required(Role.CLINIC_ADMIN)
@require_POST
def user_password_link(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, user_services.user_password_reset_send, PASSWORD_LINK_SENT)


@not_phi("POST only: changes an account; its service writes the audit row")
@role_required(Role.CLINIC_ADMIN)
@require_POST
def user_session_end(request: HttpRequest, pk: int, session_pk: int) -> HttpResponse:
    session = selectors.get_user_session_for_admin(actor=request.user, user_pk=pk, pk=session_pk)
    if session.session_key == request.session.session_key:
        # Deleting the session this request runs in would fail its save at the response.
        messages.error(request, OWN_SESSION)
    else:
        user_sessions.user_session_end(actor=request.user, session=session)
        messages.success(request, SESSION_ENDED)
    return redirect("clinic:user", pk=pk)
