"""Portal pages of payments: the list (filters, CSV), a payment with its refunds, the account."""

import uuid
from datetime import timedelta
from decimal import Decimal

import django_filters
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy
from django.views import View

from billing import payments
from billing.api.views import PAYMENTS_OFF, refund_as, refund_failure_words
from billing.choices import RefundStatus
from billing.filtersets import PAYMENT_ORDERING, PaymentFilterSet
from billing.models import Payment, PaymentAccount
from billing.providers import PaymentsNotConfigured, ProviderError
from billing.views import BillingTabMixin, bad_filters, filter_query, paged, sorted_rows
from core import timezones
from core.api.csv import CHUNK_ROWS, csv_response
from core.lists import Nouns, summarize
from core.ordering import PARAM as ORDERING
from organizations.choices import Role
from organizations.portal import OrganizationMixin, OrganizationModelForm, PortalView
from sessions_app.models import ChargingSession

PAYMENT_NOUNS = Nouns(
    matched=ngettext_lazy(
        "%(count)s payment matches these filters.",
        "%(count)s payments match these filters.",
        "count",
    ),
    total=ngettext_lazy("%(count)s payment.", "%(count)s payments.", "count"),
    none_matched=gettext_lazy("No payments match these filters."),
    none=gettext_lazy(
        "No payments yet: drivers' payments are listed here once payments are enabled."
    ),
)
PAYMENT_CSV_COLUMNS = [
    ("id", "id"),
    ("created", "created"),
    ("provider", "provider"),
    ("reference", "reference"),
    ("purpose", "purpose"),
    ("status", "status"),
    ("currency", "currency"),
    ("amount_authorized", "amount_authorized"),
    ("amount_captured", "amount_captured"),
    ("amount_refunded", "amount_refunded"),
    ("session", "session_id"),
    ("cdr", "cdr_id"),
    ("email", "email"),
    ("failure", "failure"),
    ("authorized_at", "authorized_at"),
    ("captured_at", "captured_at"),
    ("canceled_at", "canceled_at"),
]


class PortalPaymentFilterSet(PaymentFilterSet):
    """The API's payment filters over one organization, with local days of payment."""

    date_from = django_filters.DateFilter(method="filter_date_from")
    date_to = django_filters.DateFilter(method="filter_date_to")

    class Meta(PaymentFilterSet.Meta):
        fields = [*PaymentFilterSet.Meta.fields, "date_from", "date_to"]

    SHOWN = ["status", "purpose", "date_from", "date_to"]

    def __init__(self, data=None, queryset=None, *, request=None, organization):
        super().__init__(data, queryset, request=request)
        self.zone = timezones.zone_of(organization)
        self.filters["session"].queryset = ChargingSession.objects.for_org(organization)
        labels = {
            "status": _("Status"),
            "purpose": _("Purpose"),
            "date_from": _("From"),
            "date_to": _("To"),
        }
        for name, label in labels.items():
            self.filters[name].label = label
        for name in ("status", "purpose"):
            self.filters[name].extra["empty_label"] = _("Any")
        for name in ("date_from", "date_to"):
            # ISO in the value whatever the language: the browser's date picker reads only that.
            self.filters[name].extra["widget"] = forms.DateInput(
                attrs={"type": "date"}, format="%Y-%m-%d"
            )

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(created__gte=timezones.day_start(value, self.zone))

    def filter_date_to(self, queryset, name, value):
        # The whole day: before the start of the next local day.
        return queryset.filter(
            created__lt=timezones.day_start(value + timedelta(days=1), self.zone)
        )

    def shown_fields(self):
        """The filter bar's bound fields."""
        return [self.form[name] for name in self.SHOWN]


class RefundForm(forms.Form):
    """An amount to pay back and why; the payment services decide whether it may be."""

    amount = forms.DecimalField(
        label=gettext_lazy("Amount"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=255,
        help_text=gettext_lazy("Kept with the refund and sent to the payment provider."),
    )
    # One per form shown: a double click sends it twice and still makes one refund.
    request_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args, payment: Payment, **kwargs):
        super().__init__(*args, **kwargs)
        # What a full refund would be, so the usual case needs no typing.
        self.fields["amount"].initial = payment.refundable.quantize(Decimal("0.01"))
        self.fields["request_key"].initial = uuid.uuid4().hex
        self.fields["amount"].help_text = _("At most %(amount)s %(currency)s.") % {
            "amount": payment.refundable.quantize(Decimal("0.01")),
            "currency": payment.currency,
        }


class PaymentAccountForm(OrganizationModelForm):
    """The organization's account with the payment provider (its connected account is staff's)."""

    class Meta:
        model = PaymentAccount
        fields = ["currency", "enabled"]


def payment_page(organization, payment) -> str:
    """The URL of a payment's own page."""
    return reverse("billing:payment-detail", kwargs={"org": organization.slug, "pk": payment.pk})


class PaymentFilterMixin:
    """The organization's payments, newest first, narrowed by the query string."""

    def get_filterset(self) -> PortalPaymentFilterSet:
        if not hasattr(self, "_filterset"):
            self._filterset = PortalPaymentFilterSet(
                self.request.GET,
                queryset=Payment.objects.for_org(self.organization).select_related("session"),
                request=self.request,
                organization=self.organization,
            )
        return self._filterset


class PaymentListView(BillingTabMixin, PaymentFilterMixin, PortalView):
    """The organization's payments, filtered, newest first, a page at a time."""

    tab = "payments"
    template_name = "billing/payment_list.html"

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        status = 200 if context["filterset"].is_valid() else 400
        return self.render_to_response(context, status=status)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = self.get_filterset()
        page, rows = paged(self.request, filterset, PAYMENT_ORDERING)
        context.update(
            filterset=filterset,
            filter_fields=filterset.shown_fields(),
            page_obj=page,
            payments=rows,
            filter_query=filter_query(self.request),
            time_zone=timezones.zone_of(self.organization),
            sort=PAYMENT_ORDERING.parse(self.request.GET.get(ORDERING)),
            summary=summarize(PAYMENT_NOUNS, page.paginator.count, self.request)
            if page is not None
            else None,
        )
        return context


class PaymentExportView(PaymentFilterMixin, OrganizationMixin, View):
    """The filtered payments as CSV, streamed, in the order the list shows them."""

    def get(self, request, *args, **kwargs):
        filterset = self.get_filterset()
        if not filterset.is_valid():
            return bad_filters(filterset)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        return csv_response(
            sorted_rows(request, filterset, PAYMENT_ORDERING).iterator(chunk_size=CHUNK_ROWS),
            PAYMENT_CSV_COLUMNS,
            f"payments-{stamp}.csv",
        )


class PaymentDetailView(BillingTabMixin, PortalView):
    """A payment: its amounts and status, its session, the provider's events and its refunds."""

    tab = "payments"
    template_name = "billing/payment_detail.html"

    def get_payment(self) -> Payment:
        if not hasattr(self, "_payment"):
            self._payment = get_object_or_404(
                Payment.objects.for_org(self.organization).select_related(
                    "session__station", "cdr"
                ),
                pk=self.kwargs["pk"],
            )
        return self._payment

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        payment = self.get_payment()
        context.update(
            payment=payment,
            refunds=list(
                payment.refunds.select_related("created_by", "credit").order_by("-created", "-id")
            ),
            events=list(payment.events.order_by("-received_at", "-id")),
            time_zone=timezones.zone_of(self.organization),
        )
        if self.can.administer:
            context.setdefault("refund_form", RefundForm(payment=payment))
        return context


class PaymentRefundView(PaymentDetailView):
    """Pay back part or all of a captured payment (admins), answered by the payment's page."""

    required_role = Role.ADMIN
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        payment = self.get_payment()
        form = RefundForm(request.POST, payment=payment)
        if not form.is_valid():
            return self.refused(form)
        amount, reason = form.cleaned_data["amount"], form.cleaned_data["reason"]
        try:
            refund = refund_as(
                payment, amount, reason, request.user, form.cleaned_data["request_key"]
            )
        except PaymentsNotConfigured:
            form.add_error(None, str(PAYMENTS_OFF))
            return self.refused(form)
        except payments.PaymentRefused as refused:
            form.add_error(None, str(refused))
            return self.refused(form)
        except ProviderError as error:
            # Refused: nothing was paid back and the amount is refundable again. No answer:
            # the refund stays pending and the sweep asks again with the same key.
            messages.error(request, refund_failure_words(error))
            return self.refused(form, status=502)
        if refund.status == RefundStatus.FAILED:
            messages.error(
                request,
                _("The payment provider did not pay the refund back: %(reason)s")
                % {"reason": refund.failure or _("no reason given")},
            )
        else:
            messages.success(
                request,
                _("%(amount)s %(currency)s paid back.")
                % {"amount": refund.amount.quantize(Decimal("0.01")), "currency": payment.currency},
            )
        return redirect(payment_page(self.organization, payment))

    def refused(self, form, status=400):
        """The payment's page again, with the form as it was sent and why it was refused."""
        # Read again: a refusal may follow a change the page should show (a refund meanwhile).
        del self._payment
        if form.is_bound:
            # Sending the form again is a new request: the refused one stays what it was.
            form.data = form.data.copy()
            form.data["request_key"] = uuid.uuid4().hex
        return self.render_to_response(self.get_context_data(refund_form=form), status=status)


class PaymentAccountView(BillingTabMixin, PortalView):
    """The organization's payment account: admins set it, operators read it."""

    required_role = Role.OPERATOR
    tab = "payments"
    template_name = "billing/payment_account.html"

    def get_account(self) -> PaymentAccount:
        account = PaymentAccount.objects.for_org(self.organization).first()
        return account or PaymentAccount(organization=self.organization)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        account = self.get_account()
        context["account"] = account
        context["platform_ready"] = bool(settings.STRIPE_SECRET_KEY)
        if self.can.administer:
            context.setdefault(
                "form", PaymentAccountForm(instance=account, organization=self.organization)
            )
        return context

    def post(self, request, *args, **kwargs):
        if not self.can.administer:
            raise PermissionDenied(f"role {self.membership.role}, needs {Role.ADMIN}")
        form = PaymentAccountForm(
            request.POST, instance=self.get_account(), organization=self.organization
        )
        if form.is_valid():
            try:
                with transaction.atomic():
                    form.save()
            except IntegrityError:
                # Another request created the account meanwhile: the page shows it now.
                form.add_error(None, _("The payment account was saved meanwhile; try again."))
            else:
                messages.success(request, _("Payment account saved."))
                return redirect("billing:payment-account", org=self.organization.slug)
        return self.render_to_response(self.get_context_data(form=form), status=400)


# Stripe's payout statuses, in words.
PAYOUT_STATUS = {
    "paid": gettext_lazy("Paid"),
    "pending": gettext_lazy("Pending"),
    "in_transit": gettext_lazy("In transit"),
    "canceled": gettext_lazy("Canceled"),
    "failed": gettext_lazy("Failed"),
}


class PayoutListView(BillingTabMixin, PortalView):
    """The account's balance and latest payouts at the provider, read live (operators)."""

    required_role = Role.OPERATOR
    tab = "payments"
    template_name = "billing/payouts.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            balance, payouts = payments.payouts_of(self.organization)
        except payments.NoConnectedAccount:
            context["platform_account"] = True
        except PaymentsNotConfigured:
            context["not_configured"] = True
        except ProviderError as error:
            context["provider_error"] = error.message
        else:
            context.update(
                balance=[
                    (
                        currency,
                        balance.available.get(currency, Decimal(0)),
                        balance.pending.get(currency, Decimal(0)),
                    )
                    for currency in sorted(balance.available.keys() | balance.pending.keys())
                ],
                payouts=[
                    (payout, PAYOUT_STATUS.get(payout.status, payout.status)) for payout in payouts
                ],
            )
        return context
