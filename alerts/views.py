"""Portal pages of alerting: the inbox, an alert, rules, my notifications, webhook endpoints."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import CreateView, DeleteView, TemplateView, UpdateView

from alerts import selectors, webhooks
from alerts.api.serializers import secret_hint
from alerts.api.views import (
    delete_endpoint,
    not_live_reason,
    rotate_endpoint_secret,
    save_endpoint,
)
from alerts.choices import DeliveryStatus, RuleKind
from alerts.exceptions import AlertNotLive
from alerts.filtersets import ALERT_ORDERING
from alerts.forms import (
    KIND_FIELDS,
    AlertInboxFilterSet,
    AlertNoteForm,
    AlertRuleForm,
    NotificationPreferenceForm,
    WebhookEndpointForm,
)
from alerts.models import AlertRule, NotificationPreference, WebhookEndpoint
from alerts.services import acknowledge_alert, resolve_alert
from core.lists import Nouns, is_filtered, summarize
from core.ordering import PARAM as ORDERING
from organizations.choices import Role
from organizations.portal import OrganizationFormMixin, OrganizationMixin, OrganizationObjectMixin
from stations.site_views import SiteTabMixin

PAGE_SIZE = 50
DELIVERY_LOG_SIZE = 50
# Where the secret of an endpoint just created or rotated waits for the one page that shows it.
NEW_SECRET_SESSION_KEY = "alerts:new-webhook-secret"

ALERT_NOUNS = Nouns(
    matched=ngettext_lazy(
        "%(count)s alert matches these filters.", "%(count)s alerts match these filters.", "count"
    ),
    total=ngettext_lazy("%(count)s alert.", "%(count)s alerts.", "count"),
    none_matched=gettext_lazy("No alerts match these filters."),
    none=gettext_lazy("No alerts: nothing has gone wrong yet."),
)


# --- The inbox ------------------------------------------------------------------------------


class AlertListView(OrganizationMixin, TemplateView):
    """Every alert of the organization, filtered, live ones first, a page at a time."""

    section = "alerts"
    template_name = "alerts/alert_list.html"

    def get_template_names(self):
        # The live refresh (htmx) fetches the table alone.
        if self.request.htmx:
            return ["alerts/_alert_table.html"]
        return [self.template_name]

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        # A filter that does not validate shows its error and no rows, as the API answers 400.
        status = 200 if context["filterset"].is_valid() else 400
        return self.render_to_response(context, status=status)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = AlertInboxFilterSet(
            self.request.GET,
            queryset=selectors.alert_rows(self.organization),
            request=self.request,
            organization=self.organization,
        )
        page = summary = None
        sort = ALERT_ORDERING.parse(self.request.GET.get(ORDERING))
        if filterset.is_valid():
            rows = filterset.qs.order_by(*ALERT_ORDERING.order_by(sort))
            page = Paginator(rows, PAGE_SIZE).get_page(self.request.GET.get("page"))
            summary = summarize(
                ALERT_NOUNS,
                page.paginator.count,
                self.request,
                path=reverse("alerts:alert-list", kwargs={"org": self.organization.slug}),
            )
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            filterset=filterset,
            filter_fields=filterset.shown_fields(),
            filtered=is_filtered(self.request.GET),
            page_obj=page,
            alerts=page.object_list if page else [],
            query=query.urlencode(),
            sort=sort,
            summary=summary,
        )
        return context


class AlertPageMixin(OrganizationMixin):
    """A page about one alert of the organization (`pk`); another organization's is a 404."""

    section = "alerts"

    def get_alert(self):
        if not hasattr(self, "_alert"):
            self._alert = get_object_or_404(
                selectors.alert_rows(self.organization).select_related(
                    "acknowledged_by", "resolved_by"
                ),
                pk=self.kwargs["pk"],
            )
        return self._alert


class AlertDetailView(AlertPageMixin, TemplateView):
    """One alert: what was seen, where, its history, and acknowledging or resolving it."""

    template_name = "alerts/alert_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        alert = self.get_alert()
        context.update(
            alert=alert,
            details=seen(alert),
            history=selectors.alert_history(alert),
            note_form=AlertNoteForm(),
        )
        return context


def seen(alert) -> list[tuple[str, object]]:
    """What the alert's details say, as (label, value) pairs: "error_code" → "Error code"."""
    if not isinstance(alert.details, dict):
        return []
    return [
        (str(key).replace("_", " ").capitalize(), value)
        for key, value in sorted(alert.details.items())
    ]


class AlertChangeView(AlertPageMixin, View):
    """Acknowledge or resolve an alert (POST only, operators), with an optional note."""

    required_role = Role.OPERATOR
    http_method_names = ["post"]
    # The service that makes the change, and the message that confirms it.
    change = None
    done = ""

    def post(self, request, *args, **kwargs):
        alert = self.get_alert()
        form = AlertNoteForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
        else:
            try:
                self.change(alert, request.user, form.cleaned_data["note"])
            except AlertNotLive as error:
                # A second operator (or the station recovering) was quicker: say so plainly.
                messages.error(request, not_live_reason(error.alert))
            else:
                messages.success(request, self.done % {"alert": alert})
        return redirect("alerts:alert-detail", org=self.organization.slug, pk=alert.pk)


class AlertAcknowledgeView(AlertChangeView):
    """Acknowledge an open alert: escalation stops; it resolves when the condition clears."""

    change = staticmethod(acknowledge_alert)
    done = gettext_lazy("%(alert)s acknowledged.")


class AlertResolveView(AlertChangeView):
    """Resolve a live alert by hand."""

    change = staticmethod(resolve_alert)
    done = gettext_lazy("%(alert)s resolved.")


class OpenFaultsFragment(OrganizationMixin, TemplateView):
    """The dashboard's open faults alone, fetched again when a connector's status changes."""

    template_name = "alerts/_open_faults.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(faults=list(selectors.open_faults(self.organization)), fragment=True)
        return context


class SiteAlertsView(SiteTabMixin, TemplateView):
    """A site's alerts tab: the alerts of the site and its stations, live first."""

    tab = "alerts"
    template_name = "alerts/site_alerts.html"

    def get_template_names(self):
        if self.request.htmx:
            return ["alerts/_alert_table.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        alerts = selectors.site_alerts(self.get_site(), self.organization)
        page = Paginator(alerts, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(
            page_obj=page,
            alerts=page.object_list,
            hide_site=True,
            summary=summarize(ALERT_NOUNS, page.paginator.count, self.request),
        )
        return context


# --- Rules ----------------------------------------------------------------------------------


class RuleListView(OrganizationMixin, TemplateView):
    """The organization's alert rules; admins add, change, switch and delete them."""

    section = "alerts"
    template_name = "alerts/rule_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            rules=AlertRule.objects.for_org(self.organization)
            .select_related("site", "station")
            .order_by("kind", "name", "pk"),
            kinds=RuleKind.choices,
        )
        return context


class RuleFormMixin(OrganizationFormMixin):
    """The rule form of one condition; a refused form comes back with 400."""

    section = "alerts"
    template_name = "alerts/rule_form.html"
    form_class = AlertRuleForm
    context_object_name = "rule"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["kind"] = self.rule_kind()
        return kwargs

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Rule %(name)s saved.") % {"name": self.object.name})
        return response

    def get_success_url(self):
        return reverse("alerts:rule-list", kwargs={"org": self.organization.slug})

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(kind=self.rule_kind(), kind_label=RuleKind(self.rule_kind()).label)
        return context


class RuleCreateView(RuleFormMixin, OrganizationMixin, CreateView):
    """Add a rule (admins): first its condition (`?kind=`), then the fields that apply to it."""

    required_role = Role.ADMIN

    def rule_kind(self) -> str:
        kind = self.request.GET.get("kind") or self.request.POST.get("kind")
        if kind not in KIND_FIELDS:
            raise Http404
        return kind

    def get(self, request, *args, **kwargs):
        if not request.GET.get("kind"):
            # No condition chosen yet: the list offers them.
            return redirect("alerts:rule-list", org=self.organization.slug)
        return super().get(request, *args, **kwargs)

    def form_valid(self, form):
        form.instance.kind = self.rule_kind()
        return super().form_valid(form)


class RuleEditView(RuleFormMixin, OrganizationObjectMixin, UpdateView):
    """Change a rule (admins); its condition stays."""

    required_role = Role.ADMIN
    model = AlertRule

    def rule_kind(self) -> str:
        return self.get_object().kind

    def get_object(self, queryset=None):
        if not hasattr(self, "_rule"):
            self._rule = super().get_object(queryset)
        return self._rule


class RuleToggleView(OrganizationMixin, View):
    """Switch a rule on or off (POST only, admins)."""

    required_role = Role.ADMIN
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        rule = get_object_or_404(AlertRule.objects.for_org(self.organization), pk=kwargs["pk"])
        # The button says what it does, so a stale page or a second click cannot undo it.
        action = request.POST.get("action")
        if action not in ("enable", "disable"):
            messages.error(request, _("Unknown action."))
        else:
            rule.enabled = action == "enable"
            rule.save(update_fields=["enabled", "updated"])
            if rule.enabled:
                messages.success(request, _("Rule %(name)s is on.") % {"name": rule.name})
            else:
                messages.success(request, _("Rule %(name)s is off.") % {"name": rule.name})
        return redirect("alerts:rule-list", org=self.organization.slug)


class RuleDeleteView(OrganizationObjectMixin, DeleteView):
    """Delete a rule after a confirmation (admins); its past alerts stay."""

    section = "alerts"
    required_role = Role.ADMIN
    model = AlertRule
    context_object_name = "rule"
    template_name = "alerts/rule_confirm_delete.html"

    def form_valid(self, form):
        messages.success(self.request, _("Rule %(name)s deleted.") % {"name": self.object.name})
        return super().form_valid(form)

    def get_success_url(self):
        return reverse("alerts:rule-list", kwargs={"org": self.organization.slug})


# --- My notifications -------------------------------------------------------------------------


class PreferenceView(OrganizationMixin, TemplateView):
    """The member's own notification preferences in this organization."""

    section = "alerts"
    template_name = "alerts/preferences.html"

    def preference(self) -> NotificationPreference:
        # Not stored until the member saves it: until then the defaults apply.
        stored = NotificationPreference.objects.filter(membership=self.membership).first()
        return stored or NotificationPreference(membership=self.membership)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if "form" not in context:
            context["form"] = NotificationPreferenceForm(
                instance=self.preference(), organization=self.organization
            )
        return context

    def post(self, request, *args, **kwargs):
        form = NotificationPreferenceForm(
            request.POST, instance=self.preference(), organization=self.organization
        )
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        try:
            with transaction.atomic():
                form.save()
        except IntegrityError:
            # The member's first preferences were stored meanwhile (a second tab): save over them.
            form = NotificationPreferenceForm(
                request.POST, instance=self.preference(), organization=self.organization
            )
            if not form.is_valid():
                return self.render_to_response(self.get_context_data(form=form), status=400)
            form.save()
        messages.success(request, _("Your notification preferences were saved."))
        return redirect("alerts:preferences", org=self.organization.slug)


# --- Webhook endpoints ------------------------------------------------------------------------


class EndpointMixin(OrganizationMixin):
    """Pages of webhook endpoints: admins only."""

    section = "alerts"
    required_role = Role.ADMIN

    def get_endpoint(self) -> WebhookEndpoint:
        if not hasattr(self, "_endpoint"):
            self._endpoint = get_object_or_404(
                WebhookEndpoint.objects.for_org(self.organization), pk=self.kwargs["pk"]
            )
        return self._endpoint

    def endpoint_page(self, endpoint) -> str:
        return reverse(
            "alerts:endpoint-detail", kwargs={"org": self.organization.slug, "pk": endpoint.pk}
        )

    def show_secret_once(self, endpoint) -> None:
        """Keep the endpoint's secret for the next page, which shows it and forgets it."""
        self.request.session[NEW_SECRET_SESSION_KEY] = {
            "endpoint": endpoint.pk,
            "secret": endpoint.secret,
        }


class EndpointListView(EndpointMixin, TemplateView):
    """The organization's webhook endpoints."""

    template_name = "alerts/endpoint_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        endpoints = list(WebhookEndpoint.objects.for_org(self.organization).order_by("url", "pk"))
        for endpoint in endpoints:
            endpoint.secret_hint = secret_hint(endpoint.secret)
        context["endpoints"] = endpoints
        return context


class EndpointCreateView(EndpointMixin, OrganizationFormMixin, CreateView):
    """Add a webhook endpoint (admins); its secret is shown once, on the next page."""

    form_class = WebhookEndpointForm
    template_name = "alerts/endpoint_form.html"

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form):
        endpoint = form.save(commit=False)
        endpoint.organization = self.organization
        save_endpoint(endpoint)
        self.show_secret_once(endpoint)
        messages.success(self.request, _("Webhook endpoint added."))
        return HttpResponseRedirect(self.endpoint_page(endpoint))


@method_decorator(never_cache, name="dispatch")
class EndpointDetailView(EndpointMixin, TemplateView):
    """An endpoint: its settings (editable), its secret once, test, rotate, its delivery log."""

    template_name = "alerts/endpoint_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        endpoint = self.get_endpoint()
        waiting = self.request.session.get(NEW_SECRET_SESSION_KEY)
        secret = None
        if waiting and waiting.get("endpoint") == endpoint.pk:
            secret = self.request.session.pop(NEW_SECRET_SESSION_KEY)["secret"]
        if "form" not in context:
            context["form"] = WebhookEndpointForm(instance=endpoint, organization=self.organization)
        context.update(
            endpoint=endpoint,
            secret=secret,
            secret_hint=secret_hint(endpoint.secret),
            deliveries=endpoint.deliveries.order_by("-created", "-id")[:DELIVERY_LOG_SIZE],
            delivered=DeliveryStatus.DELIVERED,
            failed=DeliveryStatus.FAILED,
        )
        return context

    def post(self, request, *args, **kwargs):
        endpoint = self.get_endpoint()
        form = WebhookEndpointForm(request.POST, instance=endpoint, organization=self.organization)
        if not form.is_valid():
            # The page's heading and log show the endpoint as stored.
            self._endpoint = WebhookEndpoint.objects.get(pk=endpoint.pk)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        save_endpoint(form.save(commit=False))
        messages.success(request, _("Webhook endpoint saved."))
        return HttpResponseRedirect(self.endpoint_page(endpoint))


class EndpointRotateView(EndpointMixin, View):
    """Give an endpoint a new signing secret (POST only); shown once on its page."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        endpoint = self.get_endpoint()
        rotate_endpoint_secret(endpoint)
        self.show_secret_once(endpoint)
        messages.success(request, _("A new signing secret is in force; the old one no longer is."))
        return HttpResponseRedirect(self.endpoint_page(endpoint))


class EndpointTestView(EndpointMixin, View):
    """Send a test message to an endpoint now (POST only) and say how it answered."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        endpoint = self.get_endpoint()
        delivery = webhooks.send_test(endpoint)
        if delivery.status == DeliveryStatus.DELIVERED:
            messages.success(
                request,
                _("Test message delivered: the endpoint answered HTTP %(code)s.")
                % {"code": delivery.last_status_code},
            )
        elif delivery.last_status_code:
            messages.error(
                request,
                _("Test message refused: the endpoint answered HTTP %(code)s.")
                % {"code": delivery.last_status_code},
            )
        else:
            messages.error(
                request,
                _("Test message not delivered: %(error)s")
                % {"error": delivery.last_error or _("no answer")},
            )
        return HttpResponseRedirect(self.endpoint_page(endpoint))


class EndpointDeleteView(EndpointMixin, TemplateView):
    """Delete an endpoint after a confirmation, with its delivery log."""

    template_name = "alerts/endpoint_confirm_delete.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["endpoint"] = self.get_endpoint()
        return context

    def post(self, request, *args, **kwargs):
        endpoint = self.get_endpoint()
        delete_endpoint(endpoint)
        messages.success(request, _("Webhook endpoint %(url)s deleted.") % {"url": endpoint.url})
        return redirect("alerts:endpoint-list", org=self.organization.slug)
