"""Portal forms of our eMSP role: filters of what our drivers did abroad, and invoice upload."""

from django import forms
from django.utils.translation import gettext_lazy as _

from roaming.models import RoamingPartner
from roaming.reconciliation import EXCL_VAT, INCL_VAT, MAX_BYTES, InvoiceError, read_invoice_csv


class MonthField(forms.DateField):
    """A calendar month typed as YYYY-MM (the first day of it once cleaned)."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    input_formats = ["%Y-%m"]
    default_error_messages = {"invalid": _("Enter a month as YYYY-MM.")}


class PartnerChoiceForm(forms.Form):
    """A form with a `partner` field narrowed to the organization's partners."""

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        # Another organization's partner is then refused like one that does not exist.
        self.fields["partner"].queryset = RoamingPartner.objects.for_org(organization)


class AbroadFilterForm(PartnerChoiceForm):
    """Where our drivers charged: by partner and by month."""

    partner = forms.ModelChoiceField(
        label=_("Partner"),
        queryset=RoamingPartner.objects.none(),
        required=False,
        empty_label=_("Any partner"),
    )
    month = MonthField(label=_("Month"), required=False)


class LocationFilterForm(PartnerChoiceForm):
    """Partners' locations by partner, or by a name or city."""

    partner = forms.ModelChoiceField(
        label=_("Partner"),
        queryset=RoamingPartner.objects.none(),
        required=False,
        empty_label=_("Any partner"),
    )
    search = forms.CharField(label=_("Name or city contains"), required=False, max_length=100)


class InvoiceForm(PartnerChoiceForm):
    """A partner's invoice as CSV, to reconcile with the CDRs it sent."""

    partner = forms.ModelChoiceField(
        label=_("Partner"), queryset=RoamingPartner.objects.none(), empty_label=None
    )
    month = MonthField(
        label=_("Invoiced month"),
        help_text=_("CDRs that started in this month and are not on the invoice are listed."),
    )
    basis = forms.ChoiceField(
        label=_("The amounts are"),
        choices=[(INCL_VAT, _("including VAT")), (EXCL_VAT, _("excluding VAT"))],
        initial=INCL_VAT,
    )
    invoice_reference = forms.CharField(
        label=_("Invoice number"),
        required=False,
        max_length=64,
        help_text=_("For lines without an invoice_reference column."),
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns cdr_id and amount, optionally invoice_reference; header line first, "
            "separated by commas or semicolons, UTF-8."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # One byte beyond the cap is enough to refuse the file.
        content = upload.read(MAX_BYTES + 1)
        try:
            self.lines = read_invoice_csv(content)
        except InvoiceError as error:
            raise forms.ValidationError(error.messages) from None
        return upload
