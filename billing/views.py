"""Portal pages of billing: invoices (list, CSV, page, PDF), tariffs (edited here), and CDRs."""

import re
from datetime import UTC, timedelta
from decimal import Decimal

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, ProtectedError, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy
from django.views import View
from django.views.generic import DetailView, TemplateView
from django.views.generic.detail import SingleObjectMixin

from billing import engine
from billing.api.serializers import TariffSerializer
from billing.api.views import TARIFF_PUBLISHED
from billing.choices import AssignmentScope, CdrKind
from billing.filtersets import (
    CDR_ORDERING,
    INVOICE_ORDERING,
    TARIFF_ORDERING,
    ChargeDetailRecordFilterSet,
    InvoiceFilterSet,
)
from billing.forms import (
    SampleSessionForm,
    TariffAssignmentForm,
    TariffForm,
    sample_usage,
)
from billing.models import BillingPeriod, ChargeDetailRecord, Invoice, Tariff, TariffAssignment
from billing.pdf import document_context, last_day, prefetched_invoices, render_invoice_pdf
from billing.services import price_with_settings
from billing.words import (
    duration_words,
    money,
    number_words,
    short_date,
    tariff_words,
    unit_price,
)
from cards.models import IdToken
from core import timezones
from core.api.csv import CHUNK_ROWS, csv_response
from core.lists import Nouns, summarize
from core.ordering import PARAM as ORDERING
from organizations.choices import Role
from organizations.portal import OrganizationMixin, OrganizationObjectMixin, PortalView
from sessions_app.models import ChargingSession
from stations.models import ChargingStation, Site

# Roaming sits above billing: its partner model is reached through the tariff's reverse relation.
RoamingPartner = Tariff._meta.get_field("roaming_partners").related_model
PAGE_SIZE = 50

INVOICE_NOUNS = Nouns(
    matched=ngettext_lazy(
        "%(count)s invoice matches these filters.",
        "%(count)s invoices match these filters.",
        "count",
    ),
    total=ngettext_lazy("%(count)s invoice.", "%(count)s invoices.", "count"),
    none_matched=gettext_lazy("No invoices match these filters."),
    none=gettext_lazy("No invoices yet: they are issued when a billing period is closed."),
)
CDR_NOUNS = Nouns(
    matched=ngettext_lazy(
        "%(count)s charge detail record matches these filters.",
        "%(count)s charge detail records match these filters.",
        "count",
    ),
    total=ngettext_lazy(
        "%(count)s charge detail record.", "%(count)s charge detail records.", "count"
    ),
    none_matched=gettext_lazy("No charge detail records match these filters."),
    none=gettext_lazy("No charge detail records yet: sessions get one when they are priced."),
)
TARIFF_NOUNS = Nouns(
    matched=ngettext_lazy(
        "%(count)s tariff matches these filters.", "%(count)s tariffs match these filters.", "count"
    ),
    total=ngettext_lazy("%(count)s tariff.", "%(count)s tariffs.", "count"),
    none_matched=gettext_lazy("No tariffs match these filters."),
    none=gettext_lazy("No tariffs yet: sessions are not priced until a tariff applies to them."),
)
INVOICE_CSV_COLUMNS = [
    ("number", "number"),
    ("issued_at", "issued_at"),
    ("period_start", "period_start"),
    ("period_end", "period_end"),
    ("holder_name", "holder_name"),
    ("holder_email", "holder_email"),
    ("currency", "currency"),
    ("total_excl_tax", "total_excl_tax"),
    ("tax_amount", "tax_amount"),
    ("total_incl_tax", "total_incl_tax"),
    ("status", "status"),
]


# --- tariffs ----------------------------------------------------------------------------------


def validity(tariff: Tariff, now=None) -> str:
    """Whether the tariff applies now: "current", "upcoming" or "expired"."""
    now = now or timezone.now()
    if tariff.valid_from and now < tariff.valid_from:
        return "upcoming"
    if tariff.valid_to and now >= tariff.valid_to:
        return "expired"
    return "current"


# --- invoices --------------------------------------------------------------------------------


class PeriodChoiceField(forms.ModelChoiceField):
    """A billing period shown as its local first and last day."""

    def __init__(self, *args, zone=UTC, **kwargs):
        self.zone = zone
        super().__init__(*args, **kwargs)

    def label_from_instance(self, period):
        first = period.start.astimezone(self.zone).date()
        return f"{short_date(first)} – {short_date(last_day(period.end, self.zone))}"


class PeriodFilter(django_filters.ModelChoiceFilter):
    """Invoices of one closed billing period."""

    field_class = PeriodChoiceField


class PortalInvoiceFilterSet(InvoiceFilterSet):
    """The API's invoice filters over one organization, with search and the billing period."""

    # `q`, as links to a search say; `search` stays for links made before.
    q = django_filters.CharFilter(method="filter_search")
    search = django_filters.CharFilter(method="filter_search")
    period = PeriodFilter(field_name="billing_period", queryset=BillingPeriod.objects.none())

    class Meta(InvoiceFilterSet.Meta):
        fields = [*InvoiceFilterSet.Meta.fields, "q", "search", "period"]

    SHOWN = ["q", "status", "period"]

    def __init__(self, data=None, queryset=None, *, request=None, organization):
        super().__init__(data, queryset, request=request)
        self.filters["id_token"].queryset = IdToken.objects.for_org(organization)
        period = self.filters["period"]
        period.queryset = BillingPeriod.objects.for_org(organization)
        period.extra.update(zone=timezones.zone_of(organization), empty_label=_("Any"))
        period.label = _("Billing period")
        self.filters["status"].label = _("Status")
        self.filters["status"].extra["empty_label"] = _("Any")
        self.filters["q"].label = _("Search (number, holder)")

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value)
            | Q(holder_name__icontains=value)
            | Q(holder_email__icontains=value)
            | Q(roaming_partner__name__icontains=value)
        )

    def shown_fields(self):
        """The filter bar's bound fields."""
        return [self.form[name] for name in self.SHOWN]


def filter_query(request) -> str:
    """The query string of the current filters without the page, for the CSV link."""
    data = request.GET.copy()
    data.pop("page", None)
    return data.urlencode()


def sorted_rows(request, filterset, sorting):
    """The filtered rows in the order `?ordering=` asks for (the list's default else)."""
    return sorting.apply(filterset.qs, request.GET.get(ORDERING))


def paged(request, filterset, sorting) -> tuple:
    """The filterset's page (None when a filter is invalid) and its rows, sorted."""
    if not filterset.is_valid():
        return None, []
    page = Paginator(sorted_rows(request, filterset, sorting), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page.object_list = list(page.object_list)
    return page, page.object_list


def bad_filters(filterset) -> HttpResponse:
    """A refused filter as plain text with 400, as the sessions export answers."""
    lines = [f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items()]
    return HttpResponse("\n".join(lines), status=400, content_type="text/plain; charset=utf-8")


class BillingTabMixin:
    """The billing pages share a section and a row of tabs."""

    section = "billing"
    tab = ""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tab"] = self.tab
        return context


class InvoiceFilterMixin:
    """The organization's invoices, newest first, narrowed by the query string."""

    def get_filterset(self) -> PortalInvoiceFilterSet:
        if not hasattr(self, "_filterset"):
            invoices = (
                Invoice.objects.for_org(self.organization)
                .select_related("roaming_partner")
                .order_by("-issued_at", "-sequence")
            )
            self._filterset = PortalInvoiceFilterSet(
                self.request.GET,
                queryset=invoices,
                request=self.request,
                organization=self.organization,
            )
        return self._filterset


class InvoiceListView(BillingTabMixin, InvoiceFilterMixin, PortalView):
    """The organization's invoices, filtered, newest first, a page at a time."""

    tab = "invoices"
    template_name = "billing/invoice_list.html"

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        status = 200 if context["filterset"].is_valid() else 400
        return self.render_to_response(context, status=status)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = self.get_filterset()
        page, invoices = paged(self.request, filterset, INVOICE_ORDERING)
        zone = timezones.zone_of(self.organization)
        for invoice in invoices:
            # Periods are half-open: March ends at April 1, 00:00, and reads "to March 31".
            invoice.period_last_day = last_day(invoice.period_end, zone)
        context.update(
            filterset=filterset,
            filter_fields=filterset.shown_fields(),
            page_obj=page,
            invoices=invoices,
            filter_query=filter_query(self.request),
            time_zone=zone,
            sort=INVOICE_ORDERING.parse(self.request.GET.get(ORDERING)),
            summary=summarize(INVOICE_NOUNS, page.paginator.count, self.request)
            if page is not None
            else None,
        )
        return context


class InvoiceExportView(InvoiceFilterMixin, OrganizationMixin, View):
    """The filtered invoices as CSV, streamed, one row per invoice with its totals."""

    def get(self, request, *args, **kwargs):
        filterset = self.get_filterset()
        if not filterset.is_valid():
            return bad_filters(filterset)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        # In the order the list shows (its `ordering` is in the link).
        return csv_response(
            sorted_rows(request, filterset, INVOICE_ORDERING).iterator(chunk_size=CHUNK_ROWS),
            INVOICE_CSV_COLUMNS,
            f"invoices-{stamp}.csv",
        )


class InvoiceObjectMixin(OrganizationObjectMixin):
    """One invoice of the organization with its lines; another organization's is a 404."""

    model = Invoice

    def get_queryset(self):
        return prefetched_invoices(super().get_queryset())


class InvoiceDetailView(BillingTabMixin, InvoiceObjectMixin, DetailView):
    """An invoice as a printable page, with a link to its PDF."""

    tab = "invoices"
    template_name = "billing/invoice_detail.html"
    context_object_name = "invoice"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(document_context(self.object))
        return context


def pdf_filename(invoice: Invoice) -> str:
    """The download's file name: the invoice number, with a prefix's "/" made safe."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", invoice.number) + ".pdf"


class InvoicePdfView(InvoiceObjectMixin, SingleObjectMixin, View):
    """The invoice as a PDF download."""

    def get(self, request, *args, **kwargs):
        invoice = self.get_object()
        response = HttpResponse(render_invoice_pdf(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{pdf_filename(invoice)}"'
        return response


# --- tariffs ---------------------------------------------------------------------------------


def assignment_words(assignment) -> str:
    """Where an assignment applies: "Default of the organization", "Site Hafen"."""
    if assignment.scope == AssignmentScope.ORGANIZATION:
        return _("Default of the organization")
    if assignment.scope == AssignmentScope.SITE:
        return _("Site %(name)s") % {"name": assignment.site.name}
    if assignment.scope == AssignmentScope.STATION:
        return _("Station %(name)s") % {"name": assignment.station.ocpp_id}
    return _("Access group %(name)s") % {"name": assignment.access_group.name}


class TariffListView(BillingTabMixin, PortalView):
    """Every tariff with its prices in words and where it applies (read-only)."""

    tab = "tariffs"
    template_name = "billing/tariff_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        org = self.organization
        sort = TARIFF_ORDERING.parse(self.request.GET.get(ORDERING))
        tariffs = list(
            Tariff.objects.for_org(org)
            .prefetch_related(
                "assignments__site",
                "assignments__station",
                "assignments__access_group",
                Prefetch(
                    "roaming_partners",
                    queryset=RoamingPartner.objects.for_org(org).order_by("name"),
                ),
            )
            .order_by(*TARIFF_ORDERING.order_by(sort))
        )
        now = timezone.now()
        for tariff in tariffs:
            tariff.words, tariff.errors = tariff_words(tariff)
            tariff.validity = validity(tariff, now)
            tariff.places = sorted(
                assignment_words(a) for a in tariff.assignments.all() if a.organization_id == org.pk
            )
            tariff.places += [
                _("Roaming partner %(name)s") % {"name": partner.name}
                for partner in tariff.roaming_partners.all()
            ]
            tariff.min_price_text = (
                money(tariff.min_price, tariff.currency) if tariff.min_price is not None else ""
            )
            tariff.max_price_text = (
                money(tariff.max_price, tariff.currency) if tariff.max_price is not None else ""
            )
        context.update(
            tariffs=tariffs,
            time_zone=timezones.zone_of(org),
            sort=sort,
            summary=summarize(TARIFF_NOUNS, len(tariffs), self.request),
        )
        return context


# --- editing tariffs -------------------------------------------------------------------------


def refusal(partners: list[str]) -> str:
    """Why a tariff is not deleted: the API's words (it is published to roaming partners)."""
    return TARIFF_PUBLISHED % {"partners": ", ".join(partners)}


def tariff_page(organization, tariff) -> str:
    """The URL of a tariff's own page."""
    return reverse("billing:tariff-edit", kwargs={"org": organization.slug, "pk": tariff.pk})


def preview_context(tariff: Tariff | None, sample_form, organization, errors=()) -> dict:
    """The sample session priced by the engine with `tariff`, as the preview shows it."""
    context = {"preview_errors": list(errors), "sample_form": sample_form, "price": None}
    if tariff is None:
        return context
    if sample_form.is_bound and not sample_form.is_valid():
        context["preview_errors"] = [
            f"{sample_form[name].label}: {' '.join(messages_)}"
            for name, messages_ in sample_form.errors.items()
        ]
        return context
    sample = sample_form.sample_or_default()
    try:
        price = price_with_settings(
            tariff.definition(), sample_usage(sample, organization.timezone)
        )
    except (ArithmeticError, ValueError) as error:  # TariffError is a ValueError
        context["preview_errors"] = [str(error)]
        return context
    context["price"] = {
        "currency": price.currency,
        "energy_kwh": Decimal(price.energy_wh) / 1000,
        "charging": duration_words(price.charging_seconds),
        "parking": duration_words(price.parking_seconds),
        "rows": [preview_row(line, price.currency) for line in price.lines],
        "total_excl_tax": price.total_excl_tax,
        "tax_amount": price.tax_amount,
        "total_incl_tax": price.total_incl_tax,
    }
    return context


def preview_row(line: engine.Line, currency: str) -> dict:
    """One line of the engine's price: what, how much, at what price, VAT and amount."""
    bound = line.dimension in (engine.MIN_PRICE, engine.MAX_PRICE)
    return {
        "label": COMPONENT_LABELS.get(line.dimension, line.dimension),
        "element": line.element,
        "quantity": quantity_words(line.as_json()),
        "unit_price": "–" if bound else unit_price(line.unit_price, currency),
        "tax_rate": number_words(line.tax_rate),
        "amount": money(line.amount, currency),
    }


def form_errors(form) -> list[str]:
    """Every error of a form in one list, each named by its field's label."""
    errors = [str(error) for error in form.non_field_errors()]
    for name, field_errors in form.errors.items():
        if name != forms.forms.NON_FIELD_ERRORS:
            errors += [f"{form[name].label}: {error}" for error in field_errors]
    return errors


class TariffEditorMixin(BillingTabMixin, OrganizationMixin):
    """A tariff's page or the new-tariff page: the form, a sample session and its price."""

    tab = "tariffs"
    template_name = "billing/tariff_form.html"
    tariff = None

    def get_tariff(self) -> Tariff | None:
        return None

    def tariff_form(self, data=None) -> TariffForm:
        return TariffForm(data, organization=self.organization, instance=self.get_tariff())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tariff = self.get_tariff()
        if self.can.administer:
            context.setdefault("form", self.tariff_form())
        context.update(tariff=tariff, time_zone=timezones.zone_of(self.organization))
        if "sample_form" not in context:
            context.update(preview_context(tariff, SampleSessionForm(), self.organization))
        return context

    def post(self, request, *args, **kwargs):
        if not self.can.administer:
            raise PermissionDenied
        form = self.tariff_form(request.POST)
        if form.is_valid():
            created = self.get_tariff() is None
            tariff = form.save()
            text = _("Tariff %(name)s added.") if created else _("Tariff %(name)s saved.")
            messages.success(request, text % {"name": tariff.name})
            return redirect(reverse("billing:tariff-list", kwargs={"org": self.organization.slug}))
        # The sample sits outside the form (the preview posts it): the page shows the defaults.
        context = self.get_context_data(
            form=form, **preview_context(None, SampleSessionForm(), self.organization)
        )
        return self.render_to_response(context, status=400)


class TariffCreateView(TariffEditorMixin, TemplateView):
    """A new tariff (admins): simple prices or OCPI elements, with a price preview."""

    required_role = Role.ADMIN


class TariffEditView(TariffEditorMixin, TemplateView):
    """A tariff: admins change it here, everyone sees what a sample session would cost."""

    def get_tariff(self) -> Tariff:
        if self.tariff is None:
            self.tariff = get_object_or_404(
                Tariff.objects.for_org(self.organization), pk=self.kwargs["pk"]
            )
        return self.tariff

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tariff, org = self.get_tariff(), self.organization
        tariff.words, tariff.errors = tariff_words(tariff)
        tariff.validity = validity(tariff)
        assignments = (
            TariffAssignment.objects.for_org(org)
            .filter(tariff=tariff)
            .select_related("site", "station", "access_group")
        )
        context.update(
            cdr_count=ChargeDetailRecord.objects.for_org(org).filter(tariff=tariff).count(),
            assignments=sorted(
                ((assignment_words(a), a) for a in assignments), key=lambda pair: pair[0]
            ),
            partners=list(
                RoamingPartner.objects.for_org(org)
                .filter(tariff=tariff)
                .order_by("name")
                .values_list("name", flat=True)
            ),
        )
        if self.can.administer:
            context.setdefault(
                "assignment_form", TariffAssignmentForm(organization=org, tariff=tariff)
            )
        return context


class TariffPreviewView(OrganizationMixin, View):
    """The preview (htmx): the sample session priced with the tariff as it stands in the form."""

    def post(self, request, *args, **kwargs):
        stored = None
        if "pk" in kwargs:
            stored = get_object_or_404(Tariff.objects.for_org(self.organization), pk=kwargs["pk"])
        tariff, errors = stored, []
        if self.can.administer and "mode" in request.POST:
            # Nothing is saved: the form only checks and describes the tariff.
            form = TariffForm(request.POST, organization=self.organization, instance=stored)
            tariff = form.tariff() if form.is_valid() else None
            errors = [] if tariff else form_errors(form)
        elif stored is None:
            raise PermissionDenied
        context = preview_context(
            tariff, SampleSessionForm(request.POST), self.organization, errors
        )
        context.update(organization=self.organization, tariff=stored)
        return render(request, "billing/_tariff_preview.html", context)


class TariffObjectWriteMixin(OrganizationMixin):
    """A write on one tariff of the organization (admins), answered by its page."""

    required_role = Role.ADMIN
    http_method_names = ["post"]

    def get_tariff(self) -> Tariff:
        return get_object_or_404(Tariff.objects.for_org(self.organization), pk=self.kwargs["pk"])


class TariffEndView(TariffObjectWriteMixin, View):
    """Stop a tariff from applying from now on (it stays, with its CDRs and assignments)."""

    def post(self, request, *args, **kwargs):
        tariff = self.get_tariff()
        serializer = TariffSerializer(
            instance=tariff, data={"valid_to": timezone.now()}, partial=True
        )
        if serializer.is_valid():
            serializer.save()
            messages.success(
                request, _("Tariff %(name)s no longer applies from now on.") % {"name": tariff.name}
            )
        else:
            for field_errors in serializer.errors.values():
                for error in field_errors:
                    messages.error(request, str(error))
        return redirect(tariff_page(self.organization, tariff))


class TariffDeleteView(BillingTabMixin, OrganizationMixin, TemplateView):
    """Delete a tariff after a confirmation (admins); its CDRs keep their copy of it."""

    required_role = Role.ADMIN
    tab = "tariffs"
    template_name = "billing/tariff_confirm_delete.html"

    def get_tariff(self) -> Tariff:
        return get_object_or_404(Tariff.objects.for_org(self.organization), pk=self.kwargs["pk"])

    def partners(self, tariff) -> list[str]:
        return list(tariff.roaming_partners.order_by("name").values_list("name", flat=True))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tariff = self.get_tariff()
        partners = self.partners(tariff)
        context.update(
            tariff=tariff,
            refusal=refusal(partners) if partners else "",
            cdr_count=ChargeDetailRecord.objects.for_org(self.organization)
            .filter(tariff=tariff)
            .count(),
            assignment_count=tariff.assignments.count(),
        )
        return context

    def post(self, request, *args, **kwargs):
        # As the API's delete: CDRs keep their snapshot (SET_NULL); a partner's tariff stays.
        tariff = self.get_tariff()
        partners = self.partners(tariff)
        if not partners:
            try:
                with transaction.atomic():
                    tariff.delete()
            except ProtectedError:
                partners = self.partners(tariff)
            else:
                messages.success(request, _("Tariff %(name)s deleted.") % {"name": tariff.name})
                return redirect("billing:tariff-list", org=self.organization.slug)
        messages.error(request, refusal(partners))
        return redirect(tariff_page(self.organization, tariff))


class TariffAssignmentAddView(TariffEditView):
    """Apply the tariff to the organization, a site, a station or an access group (admins)."""

    required_role = Role.ADMIN
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        tariff = self.get_tariff()
        form = TariffAssignmentForm(request.POST, organization=self.organization, tariff=tariff)
        if form.is_valid():
            try:
                with transaction.atomic():
                    assignment = form.save()
            except IntegrityError:
                # The serializer checked the target; only a concurrent request gets here.
                form.add_error(None, _("This target got a tariff meanwhile; try again."))
            else:
                messages.success(
                    request,
                    _("Tariff %(name)s now applies to: %(place)s.")
                    % {"name": tariff.name, "place": assignment_words(assignment)},
                )
                return redirect(tariff_page(self.organization, tariff))
        return self.render_to_response(self.get_context_data(assignment_form=form), status=400)


class TariffAssignmentDeleteView(TariffObjectWriteMixin, View):
    """Stop applying the tariff to one place."""

    def post(self, request, *args, **kwargs):
        tariff = self.get_tariff()
        assignment = get_object_or_404(
            TariffAssignment.objects.for_org(self.organization).filter(tariff=tariff),
            pk=kwargs["assignment"],
        )
        place = assignment_words(assignment)
        assignment.delete()
        messages.success(
            request,
            _("Tariff %(name)s no longer applies to: %(place)s.")
            % {"name": tariff.name, "place": place},
        )
        return redirect(tariff_page(self.organization, tariff))


# --- charge detail records -------------------------------------------------------------------


class PortalCdrFilterSet(ChargeDetailRecordFilterSet):
    """The API's CDR filters over one organization, with local days of accounting."""

    date_from = django_filters.DateFilter(method="filter_date_from")
    date_to = django_filters.DateFilter(method="filter_date_to")

    class Meta(ChargeDetailRecordFilterSet.Meta):
        fields = [*ChargeDetailRecordFilterSet.Meta.fields, "date_from", "date_to"]

    SHOWN = ["date_from", "date_to", "station", "kind"]
    ORGANIZATION_ROWS = {"session": ChargingSession, "station": ChargingStation, "site": Site}

    def __init__(self, data=None, queryset=None, *, request=None, organization):
        super().__init__(data, queryset, request=request)
        self.zone = timezones.zone_of(organization)
        for name, model in self.ORGANIZATION_ROWS.items():
            self.filters[name].queryset = model.objects.for_org(organization)
        labels = {
            "date_from": _("From"),
            "date_to": _("To"),
            "station": _("Station"),
            "kind": _("Kind"),
        }
        for name, label in labels.items():
            self.filters[name].label = label
        for name in ("station", "kind"):
            self.filters[name].extra["empty_label"] = _("Any")
        for name in ("date_from", "date_to"):
            # ISO in the value whatever the language: the browser's date picker reads only that.
            self.filters[name].extra["widget"] = forms.DateInput(
                attrs={"type": "date"}, format="%Y-%m-%d"
            )

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(accounted_at__gte=timezones.day_start(value, self.zone))

    def filter_date_to(self, queryset, name, value):
        # The whole day: before the start of the next local day.
        next_day = timezones.day_start(value + timedelta(days=1), self.zone)
        return queryset.filter(accounted_at__lt=next_day)

    def shown_fields(self):
        """The filter bar's bound fields."""
        return [self.form[name] for name in self.SHOWN]


class CdrListView(BillingTabMixin, PortalView):
    """The organization's charge detail records, newest first, linked to their sessions."""

    tab = "cdrs"
    template_name = "billing/cdr_list.html"

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        status = 200 if context["filterset"].is_valid() else 400
        return self.render_to_response(context, status=status)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        records = (
            ChargeDetailRecord.objects.for_org(self.organization)
            .select_related("session__station", "id_token", "roaming_partner")
            .order_by("-accounted_at", "-id")
        )
        filterset = PortalCdrFilterSet(
            self.request.GET,
            queryset=records,
            request=self.request,
            organization=self.organization,
        )
        page, cdrs = paged(self.request, filterset, CDR_ORDERING)
        context.update(
            filterset=filterset,
            filter_fields=filterset.shown_fields(),
            page_obj=page,
            cdrs=cdrs,
            sort=CDR_ORDERING.parse(self.request.GET.get(ORDERING)),
            summary=summarize(CDR_NOUNS, page.paginator.count, self.request)
            if page is not None
            else None,
            time_zone=timezones.zone_of(self.organization),
        )
        return context


# --- a session's price -----------------------------------------------------------------------

COMPONENT_LABELS = {
    engine.ENERGY: gettext_lazy("Energy"),
    engine.TIME: gettext_lazy("Charging time"),
    engine.PARKING_TIME: gettext_lazy("Parking time"),
    engine.FLAT: gettext_lazy("Session fee"),
    engine.MIN_PRICE: gettext_lazy("Minimum price"),
    engine.MAX_PRICE: gettext_lazy("Maximum price"),
}


def quantity_words(component: dict) -> str:
    """A component's quantity with its unit: "12.340 kWh", "1:30:05 h", "1 session"."""
    kind = component.get("component")
    volume = int(component.get("volume") or 0)
    if kind == engine.ENERGY:
        return f"{number_format(Decimal(volume) / 1000, 3, use_l10n=True)} kWh"
    if kind in (engine.TIME, engine.PARKING_TIME):
        hours, rest = divmod(volume, 3600)
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d} h"
    if kind == engine.FLAT:
        return _("1 session")
    return "–"


def component_rows(cdr: ChargeDetailRecord) -> list[dict]:
    """The CDR's priced lines for a table: component, quantity, unit price and amount."""
    rows = []
    for component in cdr.components or []:
        kind = component.get("component", "")
        price = component.get("unit_price")
        bound = kind in (engine.MIN_PRICE, engine.MAX_PRICE)
        rows.append(
            {
                "label": COMPONENT_LABELS.get(kind, kind),
                "quantity": quantity_words(component),
                "unit_price": "–" if bound or price is None else unit_price(price, cdr.currency),
                "amount": Decimal(str(component.get("amount", "0"))),
            }
        )
    return rows


def session_price_panel(request, session) -> tuple[str, dict]:
    """The session page's price panel (sessions_app.panels): the session's CDRs in lines."""
    return "billing/_session_price.html", {"price": price_breakdown(session)}


def price_breakdown(session) -> dict:
    """A session's charge CDR and its credits, each with its lines, and what is owed in all."""
    records = list(
        ChargeDetailRecord.objects.for_org(session.organization_id)
        .filter(session=session)
        .select_related("billing_stopped_by")
        .order_by("pk")
    )
    for record in records:
        record.rows = component_rows(record)
        # Components with their own VAT: one rate next to the tax total would be wrong.
        rates = {Decimal(c["tax_rate"]) for c in record.components or [] if c.get("tax_rate")}
        record.mixed_vat = len(rates) > 1
    charge = next((r for r in records if r.kind == CdrKind.CHARGE), None)
    return {
        "charge": charge,
        "credits": [r for r in records if r.kind == CdrKind.CREDIT],
        "net": sum((r.total_incl_tax for r in records), Decimal(0)),
        "currency": charge.currency if charge else "",
    }
