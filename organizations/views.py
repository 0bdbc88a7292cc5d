"""Portal pages of organization administration: members, invitations, API keys, settings."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from core.ordering import PARAM as ORDERING
from organizations.choices import ROLE_ABILITIES, InvitationStatus, Role
from organizations.filtersets import MEMBER_ORDERING
from organizations.forms import (
    APIKeyForm,
    InvitationForm,
    InvitationSignupForm,
    MemberRoleForm,
    OrganizationSettingsForm,
)
from organizations.models import (
    Invitation,
    Membership,
    Organization,
    OrganizationAPIKey,
    normalize_email,
)
from organizations.portal import OrganizationMixin
from organizations.roles import role_at_least
from organizations.services import (
    AlreadyRevoked,
    InvitationNotOpen,
    LastOwnerError,
    NotTheInvitee,
    OwnerRoleRequired,
    RoleAboveOwn,
    accept_invitation,
    change_role,
    create_api_key,
    decline_invitation,
    find_invitation,
    invite_member,
    remove_member,
    resend_invitation,
    revoke_api_key,
    revoke_invitation,
    update_organization,
)


def invitation_link(request, token: str) -> str:
    """The absolute URL of the page where the invited person answers."""
    return request.build_absolute_uri(reverse("invitations:respond", kwargs={"token": token}))


def members_page(organization) -> str:
    """The URL of the organization's members page."""
    return reverse("organizations:member-list", kwargs={"org": organization.slug})


class MemberListView(OrganizationMixin, TemplateView):
    """Who is in the organization; admins also see pending invitations and invite people."""

    section = "members"
    template_name = "organizations/member_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        sort = MEMBER_ORDERING.parse(self.request.GET.get(ORDERING))
        members = list(
            Membership.objects.for_org(self.organization)
            .select_related("user")
            .order_by(*MEMBER_ORDERING.order_by(sort))
        )
        context["sort"] = sort
        actor_role = self.membership.role
        owners = sum(1 for member in members if member.role == Role.OWNER)
        for member in members:
            # Why a row's buttons are greyed out, if they are: the same rules the services apply.
            member.locked_reason = ""
            if member.role == Role.OWNER and actor_role != Role.OWNER:
                member.locked_reason = _("Only an owner may change or remove an owner.")
            elif member.role == Role.OWNER and owners == 1:
                member.locked_reason = _(
                    "The last owner cannot be demoted or removed; make another member owner first."
                )
            member.role_form = MemberRoleForm(
                initial={"role": member.role},
                actor_role=actor_role,
                prefix=f"member-{member.pk}",
            )
        context["members"] = members
        context["role_abilities"] = [
            (Role(role).label, text) for role, text in ROLE_ABILITIES.items()
        ]
        if self.can.administer:
            now = timezone.now()
            invitations = list(
                Invitation.objects.for_org(self.organization)
                .filter(status=InvitationStatus.PENDING)
                .select_related("invited_by")
                .order_by("-created")
            )
            for invitation in invitations:
                invitation.expired = invitation.expires_at <= now
            context["invitations"] = invitations
            context.setdefault("form", InvitationForm(inviter_role=self.membership.role))
        return context


class InviteView(MemberListView):
    """Invite an email address (POST only, admins); the answer never tells who has an account."""

    required_role = Role.ADMIN
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = InvitationForm(request.POST, inviter_role=self.membership.role)
        if form.is_valid():
            email = form.cleaned_data["email"]
            try:
                invite_member(
                    self.organization,
                    email,
                    form.cleaned_data["role"],
                    invited_by=request.user,
                    inviter_role=self.membership.role,
                    link_for=lambda token: invitation_link(request, token),
                )
            except RoleAboveOwn as error:
                form.add_error("role", str(error))
            else:
                messages.success(request, _("Invitation sent to %(email)s.") % {"email": email})
                return redirect(members_page(self.organization))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class InvitationActionView(OrganizationMixin, View):
    """Resend or withdraw a pending invitation (POST only, admins)."""

    required_role = Role.ADMIN
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        invitation = get_object_or_404(
            Invitation.objects.for_org(self.organization).select_related("organization"),
            pk=kwargs["pk"],
        )
        try:
            if kwargs["action"] == "resend":
                resend_invitation(
                    invitation,
                    resent_by=request.user,
                    resender_role=self.membership.role,
                    link_for=lambda token: invitation_link(request, token),
                )
                messages.success(
                    request, _("Invitation sent again to %(email)s.") % {"email": invitation.email}
                )
            elif kwargs["action"] == "revoke":
                revoke_invitation(invitation)
                messages.success(
                    request,
                    _("Invitation to %(email)s withdrawn.") % {"email": invitation.email},
                )
        except RoleAboveOwn:
            raise PermissionDenied from None
        except InvitationNotOpen as error:
            messages.error(request, str(error))
        return redirect(members_page(self.organization))


class MemberActionView(MemberListView):
    """Change a member's role or remove a member (POST only); a refusal re-renders the page."""

    # Any member may leave; changing others needs admin (checked in post, as the API does).
    http_method_names = ["post"]

    def refuse(self, message: str, status: int):
        messages.error(self.request, message)
        return self.render_to_response(self.get_context_data(), status=status)

    def post(self, request, *args, **kwargs):
        member = get_object_or_404(
            Membership.objects.for_org(self.organization).select_related("user", "organization"),
            pk=kwargs["pk"],
        )
        action = kwargs["action"]
        leaving = action == "remove" and member.user_id == request.user.pk
        if not leaving and not self.can.administer:
            raise PermissionDenied
        names = {"user": member.user.username}
        try:
            if action == "role":
                form = MemberRoleForm(
                    request.POST, actor_role=self.membership.role, prefix=f"member-{member.pk}"
                )
                if not form.is_valid():
                    errors = "; ".join(form.errors.get("role", []))
                    return self.refuse(errors or _("Choose a role."), status=400)
                member = change_role(
                    member, form.cleaned_data["role"], actor_role=self.membership.role
                )
                names["role"] = member.get_role_display()
                messages.success(request, _("%(user)s is now %(role)s.") % names)
            else:
                remove_member(member, actor_role=self.membership.role)
                if leaving:
                    messages.success(
                        request,
                        _("You left %(organization)s.") % {"organization": self.organization.name},
                    )
                    return redirect("portal:home")
                messages.success(request, _("%(user)s is no longer a member.") % names)
        except (OwnerRoleRequired, RoleAboveOwn):
            raise PermissionDenied from None
        except LastOwnerError as error:
            return self.refuse(str(error), status=409)
        return redirect(members_page(self.organization))


def api_keys_page(organization) -> str:
    """The URL of the organization's API keys page."""
    return reverse("organizations:api-key-list", kwargs={"org": organization.slug})


# The page that shows a new key's secret once must never come back from a cache or the back
# button (a reload re-posts and makes a second key: the browser asks first).
@method_decorator(never_cache, name="dispatch")
class APIKeyListView(OrganizationMixin, TemplateView):
    """The organization's API keys (admins): list, create (the secret shown once), revoke."""

    section = "api-keys"
    required_role = Role.ADMIN
    template_name = "organizations/api_key_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["api_keys"] = (
            OrganizationAPIKey.objects.for_org(self.organization)
            .select_related("created_by")
            .order_by("revoked", "-created")
        )
        context["now"] = timezone.now()
        context.setdefault("form", APIKeyForm(creator_role=self.membership.role))
        return context

    def post(self, request, *args, **kwargs):
        form = APIKeyForm(request.POST, creator_role=self.membership.role)
        if form.is_valid():
            try:
                api_key, secret = create_api_key(
                    self.organization,
                    created_by=request.user,
                    creator_role=self.membership.role,
                    **form.cleaned_data,
                )
            except RoleAboveOwn as error:
                form.add_error("role", str(error))
            else:
                # Rendered, not redirected: the secret must never be stored, not even in the
                # session, so this response is the only place it ever appears.
                context = self.get_context_data(new_key=api_key, secret=secret)
                return self.render_to_response(context, status=201)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class APIKeyRevokeView(OrganizationMixin, View):
    """Revoke one of the organization's API keys for good (POST only, admins)."""

    required_role = Role.ADMIN
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        api_key = get_object_or_404(
            OrganizationAPIKey.objects.for_org(self.organization), prefix=kwargs["prefix"]
        )
        try:
            revoke_api_key(api_key)
        except AlreadyRevoked as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("API key “%(name)s” revoked.") % {"name": api_key.name})
        return redirect(api_keys_page(self.organization))


class OrganizationSettingsView(OrganizationMixin, TemplateView):
    """The organization's settings: every member reads them, owners change them (as the API)."""

    section = "organization"
    template_name = "organizations/settings.html"
    # The API lets owners only change the organization (OrganizationViewSet.update).
    editor_role = Role.OWNER

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_edit"] = role_at_least(self.membership.role, self.editor_role)
        if "form" not in context:
            form = OrganizationSettingsForm(instance=self.organization)
            if not context["can_edit"]:
                del form.fields["confirm_currency_change"]
                for field in form.fields.values():
                    field.disabled = True
            context["form"] = form
        context["editor_role"] = Role(self.editor_role).label
        return context

    def post(self, request, *args, **kwargs):
        if not role_at_least(self.membership.role, self.editor_role):
            raise PermissionDenied
        # A copy to validate against: the page's header keeps showing the stored organization
        # when the form is refused.
        instance = Organization.objects.get(pk=self.organization.pk)
        form = OrganizationSettingsForm(request.POST, instance=instance)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        changed = form.changed_fields()
        if changed:
            update_organization(self.organization, **changed)
            messages.success(request, _("The organization's settings were saved."))
        else:
            messages.info(request, _("Nothing changed."))
        return redirect(reverse("organizations:settings", kwargs={"org": self.organization.slug}))


# The invited person's own pages, outside any organization (they are not a member yet).


def refused_invitation(request):
    """One answer for an unknown link and for another person's invitation: nothing leaks."""
    return render(request, "organizations/invitation_invalid.html", status=404)


def answer_invitation(request, invitation):
    """Accept or decline as the form's `action` says; where to go next."""
    action = request.POST.get("action")
    organization = invitation.organization
    try:
        if action == "accept":
            membership, created = accept_invitation(invitation, request.user)
            names = {"organization": organization.name, "role": membership.get_role_display()}
            if created:
                message = _("You are now a member of %(organization)s as %(role)s.")
            else:
                message = _(
                    "You are a member of %(organization)s already; your role stays %(role)s."
                )
            messages.success(request, message % names)
            return redirect("portal:dashboard", org=organization.slug)
        if action == "decline":
            decline_invitation(invitation, request.user)
            messages.success(
                request,
                _("You declined the invitation to %(organization)s.")
                % {"organization": organization.name},
            )
        else:
            messages.error(request, _("Unknown action."))
    except NotTheInvitee:
        return refused_invitation(request)
    except InvitationNotOpen as error:
        messages.error(request, str(error))
    return redirect("invitations:mine")


class MyInvitationsView(LoginRequiredMixin, TemplateView):
    """The invitations addressed to the user's email that can still be accepted."""

    template_name = "organizations/my_invitations.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["invitations"] = (
            Invitation.objects.addressed_to(self.request.user)
            .open()
            .select_related("organization", "invited_by")
            .order_by("-created")
        )
        return context


class AnswerInvitationView(LoginRequiredMixin, View):
    """Accept or decline one of the user's invitations from their list (POST only)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        invitation = (
            Invitation.objects.addressed_to(request.user)
            .select_related("organization")
            .filter(pk=pk)
            .first()
        )
        if invitation is None:
            return refused_invitation(request)
        return answer_invitation(request, invitation)


def is_open(invitation) -> bool:
    """Whether an invitation (or None for an unknown link) can still be accepted."""
    return invitation is not None and invitation.effective_status() == InvitationStatus.PENDING


# The session's backend for an account just created: the user is known, so no credentials are
# checked again (axes' backend only counts failed credentials and would need them).
SIGNUP_LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"


def signup_page(request, invitation, token: str, form, status: int = 200):
    """The logged-out answer to an open invitation: log in, or create an account below."""
    context = {
        "invitation": invitation,
        "token": token,
        "form": form,
        "link": reverse("invitations:respond", kwargs={"token": token}),
    }
    return render(request, "organizations/invitation_signup.html", context, status=status)


class InvitationLinkView(View):
    """The emailed link: the invitation to accept or decline; logged out, log in or sign up."""

    def dispatch(self, request, *args, **kwargs):
        self.invitation = find_invitation(kwargs["token"])
        if request.user.is_authenticated:
            # Only the person the invitation is addressed to learns anything about it.
            if self.invitation is None or self.invitation.email != normalize_email(
                request.user.email or ""
            ):
                return refused_invitation(request)
        elif not is_open(self.invitation):
            # Logged out, only the holder of a link that still works learns what it is for.
            return refused_invitation(request)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, token):
        if not request.user.is_authenticated:
            form = InvitationSignupForm(invitation=self.invitation)
            return signup_page(request, self.invitation, token, form)
        status = self.invitation.effective_status()
        context = {
            "invitation": self.invitation,
            "open": status == InvitationStatus.PENDING,
            "status_label": InvitationStatus(status).label,
        }
        return render(request, "organizations/invitation_detail.html", context)

    def post(self, request, token):
        if not request.user.is_authenticated:
            # Accepting and declining are for the logged-in addressee.
            return redirect_to_login(request.get_full_path())
        return answer_invitation(request, self.invitation)


class InvitationSignupView(View):
    """Create an account for an open invitation's address, log in and accept (POST)."""

    # Reachable only with the link's secret (256 random bits), so it is neither an oracle of
    # existing accounts nor a way to create accounts at will: it needs no rate limit of its own.

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect("invitations:respond", token=kwargs["token"])
        self.invitation = find_invitation(kwargs["token"])
        if not is_open(self.invitation):
            return refused_invitation(request)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, token):
        return redirect("invitations:respond", token=token)

    def post(self, request, token):
        invitation = self.invitation
        form = InvitationSignupForm(request.POST, invitation=invitation)
        if not form.is_valid():
            return signup_page(request, invitation, token, form, status=400)
        try:
            # The account exists only if the invitation is accepted with it: both or neither.
            with transaction.atomic():
                user = form.save()
                membership, _created = accept_invitation(invitation, user)
        except InvitationNotOpen as error:
            # Withdrawn, answered or expired since the form was shown.
            messages.error(request, str(error))
            return refused_invitation(request)
        except IntegrityError:
            # The username was taken by a concurrent sign-up between validation and saving.
            form.add_error(
                "username",
                _("This username is taken: choose another one, or log in if it is your account."),
            )
            return signup_page(request, invitation, token, form, status=400)
        login(request, user, backend=SIGNUP_LOGIN_BACKEND)
        organization = invitation.organization
        messages.success(
            request,
            _("Welcome! You are now a member of %(organization)s as %(role)s.")
            % {"organization": organization.name, "role": membership.get_role_display()},
        )
        return redirect("portal:dashboard", org=organization.slug)
