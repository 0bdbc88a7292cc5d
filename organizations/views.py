"""Portal pages of members and invitations: the API's rules and services."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from organizations.choices import InvitationStatus, Role
from organizations.forms import InvitationForm
from organizations.models import Invitation, Membership, normalize_email
from organizations.portal import OrganizationMixin
from organizations.services import (
    InvitationNotOpen,
    NotTheInvitee,
    RoleAboveOwn,
    accept_invitation,
    decline_invitation,
    find_invitation,
    invite_member,
    resend_invitation,
    revoke_invitation,
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
        context["members"] = (
            Membership.objects.for_org(self.organization)
            .select_related("user")
            .order_by("user__username")
        )
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


class InvitationLinkView(LoginRequiredMixin, View):
    """The emailed link: who invites to which organization with which role; accept or decline."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.invitation = find_invitation(kwargs["token"])
            # Only the person the invitation is addressed to learns anything about it.
            if self.invitation is None or self.invitation.email != normalize_email(
                request.user.email or ""
            ):
                return refused_invitation(request)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, token):
        status = self.invitation.effective_status()
        context = {
            "invitation": self.invitation,
            "open": status == InvitationStatus.PENDING,
            "status_label": InvitationStatus(status).label,
        }
        return render(request, "organizations/invitation_detail.html", context)

    def post(self, request, token):
        return answer_invitation(request, self.invitation)
