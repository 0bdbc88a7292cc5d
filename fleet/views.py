"""Portal pages of firmware campaigns: list, create, edit a draft, detail with live progress."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from fleet import services
from fleet.choices import CampaignState
from fleet.forms import CampaignForm
from fleet.models import Campaign, CampaignStation
from fleet.selectors import campaign_progress, progress_by_campaign
from fleet.tasks import advance_soon
from organizations.choices import Role
from organizations.portal import OrganizationFormMixin, OrganizationMixin, OrganizationObjectMixin

PAGE_SIZE = 50
# Whoever may press which button: admins manage campaigns, operators run them.
ACTION_ROLES = {
    "launch": Role.ADMIN,
    "cancel": Role.ADMIN,
    "pause": Role.OPERATOR,
    "resume": Role.OPERATOR,
    "retry": Role.OPERATOR,
}


def detail_url(campaign: Campaign) -> str:
    return reverse(
        "fleet:campaign-detail", kwargs={"org": campaign.organization.slug, "pk": campaign.pk}
    )


class InvalidFormIs400:
    """A refused form comes back with its errors and 400, like the API's answer."""

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class CampaignListView(OrganizationMixin, ListView):
    """The organization's firmware campaigns, latest first."""

    section = "fleet"
    template_name = "fleet/campaign_list.html"
    context_object_name = "campaigns"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        return Campaign.objects.for_org(self.organization).select_related("image", "created_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        campaigns = context["campaigns"]
        progress = progress_by_campaign(campaign.pk for campaign in campaigns)
        context["rows"] = [(campaign, progress.get(campaign.pk)) for campaign in campaigns]
        return context


class CampaignCreateView(InvalidFormIs400, OrganizationFormMixin, OrganizationMixin, CreateView):
    """Create a draft campaign (admins)."""

    section = "fleet"
    required_role = Role.ADMIN
    form_class = CampaignForm
    template_name = "fleet/campaign_form.html"

    def get_initial(self):
        # `?target_filter=<the station list's query string>&image=<id>`: a link from the
        # station list or an image's page starts the form with them.
        initial = super().get_initial()
        for name in ("target_filter", "image"):
            if self.request.GET.get(name):
                initial[name] = self.request.GET[name]
        return initial

    def form_valid(self, form):
        form.instance.created_by = self.request.user
        response = super().form_valid(form)
        messages.success(self.request, _("Draft campaign saved: check its stations, then launch."))
        return response

    def get_success_url(self):
        return detail_url(self.object)


class CampaignEditView(
    InvalidFormIs400, OrganizationFormMixin, OrganizationObjectMixin, UpdateView
):
    """Change a draft campaign (admins); a launched one keeps what it was launched with."""

    section = "fleet"
    required_role = Role.ADMIN
    model = Campaign
    form_class = CampaignForm
    template_name = "fleet/campaign_form.html"
    context_object_name = "campaign"

    def get_queryset(self):
        return super().get_queryset().filter(state=CampaignState.DRAFT)

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Draft campaign saved."))
        return response

    def get_success_url(self):
        return detail_url(self.object)


class CampaignPartMixin:
    """The campaign and its progress table, for the page and its live fragment."""

    def get_queryset(self):
        return Campaign.objects.for_org(self.organization).select_related(
            "image", "created_by", "organization"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        campaign = self.object
        context.update(
            progress=campaign_progress(campaign),
            targets=CampaignStation.objects.filter(campaign=campaign)
            .select_related("station__site", "command_log")
            .order_by("wave", "station__ocpp_id"),
            may={
                name: Role(self.membership.role).at_least(role)
                for name, role in ACTION_ROLES.items()
            },
        )
        if campaign.state == CampaignState.DRAFT:
            try:
                context["preview"] = services.preview_targets(campaign)
            except services.CampaignRefused as refusal:
                context["preview_error"] = refusal.reason
        return context


class CampaignDetailView(CampaignPartMixin, OrganizationObjectMixin, DetailView):
    """One campaign: its settings, buttons and per-station progress (live)."""

    section = "fleet"
    model = Campaign
    template_name = "fleet/campaign_detail.html"
    context_object_name = "campaign"


class CampaignProgressView(CampaignPartMixin, OrganizationObjectMixin, DetailView):
    """The campaign page's progress section alone, fetched again on live events."""

    model = Campaign
    template_name = "fleet/_campaign_progress.html"
    context_object_name = "campaign"


class CampaignActionView(OrganizationMixin, View):
    """A button of the campaign page: launch, pause, resume, cancel or retry failed stations."""

    action = ""
    http_method_names = ["post"]

    def dispatch(self, request, *args, **kwargs):
        self.required_role = ACTION_ROLES[self.action]
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        campaign = get_object_or_404(Campaign.objects.for_org(self.organization), pk=kwargs["pk"])
        try:
            message = getattr(self, f"do_{self.action}")(campaign)
        except services.CampaignRefused as refusal:
            messages.error(request, refusal.reason)
        else:
            messages.success(request, message)
        return HttpResponseRedirect(detail_url(campaign))

    def do_launch(self, campaign):
        result = services.launch_campaign(campaign, user=self.request.user)
        advance_soon(campaign.pk)
        message = ngettext(
            "Campaign launched for %(n)d station.",
            "Campaign launched for %(n)d stations.",
            result.targets,
        ) % {"n": result.targets}
        if result.not_fitting:
            message += " " + ngettext(
                "%(n)d matching station was left out: the image is not for its vendor and model.",
                "%(n)d matching stations were left out: the image is not for their vendor and "
                "model.",
                result.not_fitting,
            ) % {"n": result.not_fitting}
        return message

    def do_pause(self, campaign):
        services.pause_campaign(campaign, user=self.request.user)
        return _("Campaign paused: no more stations are sent the update.")

    def do_resume(self, campaign):
        services.resume_campaign(campaign, user=self.request.user)
        advance_soon(campaign.pk)
        return _("Campaign resumed.")

    def do_cancel(self, campaign):
        count = services.cancel_campaign(campaign, user=self.request.user)
        return ngettext(
            "Campaign cancelled; %(n)d station not yet sent the update was cancelled.",
            "Campaign cancelled; %(n)d stations not yet sent the update were cancelled.",
            count,
        ) % {"n": count}

    def do_retry(self, campaign):
        count = services.retry_failed(campaign, user=self.request.user)
        advance_soon(campaign.pk)
        return ngettext(
            "%(n)d failed station will be sent the update again.",
            "%(n)d failed stations will be sent the update again.",
            count,
        ) % {"n": count}
