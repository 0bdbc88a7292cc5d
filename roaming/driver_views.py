"""Portal pages of our eMSP role: our drivers charging at partners, their locations, invoices.

Every member reads; reconciling an invoice writes and needs the admin role. Everything starts
from the organization of the URL, so another organization's partners, CDRs and locations are
a 404 or an invalid choice, exactly like ones that do not exist.
"""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import HttpResponse
from django.utils import timezone
from django.views import View

from core.api.csv import CHUNK_ROWS, csv_response
from core.ordering import PARAM as ORDERING
from organizations.choices import Role
from organizations.portal import OrganizationMixin, PortalView
from roaming.choices import ReconciliationState
from roaming.driver_forms import AbroadFilterForm, InvoiceForm, LocationFilterForm
from roaming.filtersets import PARTNER_CDR_ORDERING
from roaming.models import PartnerCdr, PartnerLocation, PartnerSession
from roaming.reconciliation import InvoiceError, month_bounds, reconcile_invoice

PAGE_SIZE = 50
# The newest sessions shown beside the CDRs; the API lists them all.
SESSIONS_SHOWN = 50

CDR_CSV_COLUMNS = [
    ("partner", "partner.name"),
    ("country_code", "country_code"),
    ("party_id", "party_id"),
    ("cdr_id", "ocpi_id"),
    ("session_id", "session_id"),
    ("token_uid", "token_uid"),
    ("card_label", "id_token.label"),
    ("location_id", "location_id"),
    ("location_name", "location_name"),
    ("start", "start"),
    ("end", "end"),
    ("kwh", "kwh"),
    ("currency", "currency"),
    ("total_cost_excl_vat", "total_cost_excl_vat"),
    ("total_cost_incl_vat", "total_cost_incl_vat"),
    ("reconciliation", "reconciliation"),
    ("invoiced_amount", "invoiced_amount"),
    ("invoice_reference", "invoice_reference"),
]


def narrowed(queryset, organization, cleaned: dict):
    """Rows of the organization, of the chosen partner, that started in the chosen month."""
    rows = queryset.for_org(organization)
    if cleaned.get("partner"):
        rows = rows.filter(partner=cleaned["partner"])
    if cleaned.get("month"):
        first, following = month_bounds(organization, cleaned["month"])
        rows = rows.filter(start__gte=first, start__lt=following)
    return rows


def totals_per_partner(cdrs) -> list[dict]:
    """CDRs, energy and cost per partner; one row per currency it charged in."""
    return list(
        cdrs.order_by()
        .values("partner", "partner__name", "currency")
        .annotate(
            cdrs=Count("pk"),
            kwh=Sum("kwh"),
            excl_vat=Sum("total_cost_excl_vat"),
            incl_vat=Sum("total_cost_incl_vat"),
            disputed=Count("pk", filter=Q(reconciliation=ReconciliationState.DISPUTED)),
        )
        .order_by("partner__name", "partner", "currency")
    )


def evse_count(location: PartnerLocation) -> int:
    """EVSEs of a partner's location, leaving out those it marked REMOVED."""
    return sum(
        1
        for evse in location.data.get("evses") or []
        if isinstance(evse, dict) and evse.get("status") != "REMOVED"
    )


class AbroadFilterMixin:
    """The partner and month filter of the "charging abroad" pages."""

    def filter_form(self) -> AbroadFilterForm:
        if not hasattr(self, "_form"):
            self._form = AbroadFilterForm(self.request.GET or None, organization=self.organization)
        return self._form

    def cleaned(self) -> dict | None:
        """The filters, or None when one is not valid (then nothing is listed)."""
        form = self.filter_form()
        if not form.is_bound:
            return {}
        return form.cleaned_data if form.is_valid() else None


class ChargingAbroadView(AbroadFilterMixin, PortalView):
    """Where our drivers charged at partners, and at what cost: CDRs, totals, sessions."""

    section = "roaming"
    template_name = "roaming/driver_abroad.html"

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        # A filter that does not validate (another organization's partner, a bad month) shows
        # its error and no rows, as the API answers 400.
        return self.render_to_response(context, status=400 if context["invalid"] else 200)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        cleaned = self.cleaned()
        if cleaned is None:
            cdrs = PartnerCdr.objects.none()
            sessions = PartnerSession.objects.none()
        else:
            cdrs = narrowed(PartnerCdr.objects, self.organization, cleaned)
            sessions = narrowed(PartnerSession.objects, self.organization, cleaned)
        raw = self.request.GET.get(ORDERING)
        page = Paginator(
            PARTNER_CDR_ORDERING.apply(cdrs.select_related("partner", "id_token"), raw), PAGE_SIZE
        ).get_page(self.request.GET.get("page"))
        context.update(
            form=self.filter_form(),
            invalid=cleaned is None,
            partner_totals=totals_per_partner(cdrs),
            page_obj=page,
            cdrs=page.object_list,
            sessions=list(
                sessions.select_related("partner", "id_token").order_by("-start", "-pk")[
                    :SESSIONS_SHOWN
                ]
            ),
            session_count=sessions.count(),
            export_query=self.request.GET.urlencode(),
            sort=PARTNER_CDR_ORDERING.parse(raw),
        )
        return context


class ChargingAbroadExportView(AbroadFilterMixin, OrganizationMixin, View):
    """The filtered CDRs of our drivers at partners as CSV, streamed."""

    def get(self, request, *args, **kwargs):
        cleaned = self.cleaned()
        if cleaned is None:
            form = self.filter_form()
            lines = [f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()]
            return HttpResponse(
                "\n".join(lines), status=400, content_type="text/plain; charset=utf-8"
            )
        # In the order the page shows (its `ordering` is in the link).
        cdrs = PARTNER_CDR_ORDERING.apply(
            narrowed(PartnerCdr.objects, self.organization, cleaned).select_related(
                "partner", "id_token"
            ),
            request.GET.get(ORDERING),
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        return csv_response(
            cdrs.iterator(chunk_size=CHUNK_ROWS), CDR_CSV_COLUMNS, f"roaming-cdrs-{stamp}.csv"
        )


class PartnerLocationListView(PortalView):
    """The locations our CPO partners published: name, city, EVSEs."""

    section = "roaming"
    template_name = "roaming/driver_locations.html"

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        return self.render_to_response(context, status=400 if context["invalid"] else 200)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = LocationFilterForm(self.request.GET or None, organization=self.organization)
        locations = PartnerLocation.objects.for_org(self.organization).select_related("partner")
        invalid = form.is_bound and not form.is_valid()
        if invalid:
            locations = locations.none()
        elif form.is_bound:
            if form.cleaned_data.get("partner"):
                locations = locations.filter(partner=form.cleaned_data["partner"])
            if form.cleaned_data.get("search"):
                term = form.cleaned_data["search"]
                locations = locations.filter(Q(name__icontains=term) | Q(city__icontains=term))
        page = Paginator(locations.order_by("partner__name", "name", "pk"), PAGE_SIZE).get_page(
            self.request.GET.get("page")
        )
        for location in page.object_list:
            location.evse_count = evse_count(location)
        context.update(form=form, invalid=invalid, page_obj=page, locations=page.object_list)
        return context


class CdrReconciliationView(PortalView):
    """Upload a partner's invoice (CSV): its CDRs matched or disputed, the rest listed."""

    section = "roaming"
    template_name = "roaming/driver_reconciliation.html"
    # Every member sees the disputes; sending an invoice writes, for admins.
    write_role = Role.ADMIN

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if "form" not in context:
            context["form"] = InvoiceForm(organization=self.organization)
        cdrs = PartnerCdr.objects.for_org(self.organization)
        context.update(
            disputed=list(
                cdrs.filter(reconciliation=ReconciliationState.DISPUTED)
                .select_related("partner")
                .order_by("-start", "-pk")[:PAGE_SIZE]
            ),
            states=dict(
                cdrs.order_by()
                .values_list("reconciliation")
                .annotate(count=Count("pk"))
                .values_list("reconciliation", "count")
            ),
        )
        return context

    def post(self, request, *args, **kwargs):
        if not self.membership.has_role(self.write_role):
            raise PermissionDenied
        form = InvoiceForm(request.POST, request.FILES, organization=self.organization)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        data = form.cleaned_data
        try:
            result = reconcile_invoice(
                data["partner"],
                form.lines,
                month=data["month"],
                basis=data["basis"],
                invoice_reference=data["invoice_reference"],
            )
        except InvoiceError as error:
            form.add_error(None, error.messages)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        context = self.get_context_data(form=form, result=result, partner=data["partner"])
        return self.render_to_response(context)
