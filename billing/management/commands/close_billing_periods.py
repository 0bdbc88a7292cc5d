"""`manage.py close_billing_periods`: issue the invoices of every ended billing period."""

from argparse import ArgumentTypeError
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from billing import invoicing
from core.timezones import zone_of
from organizations.models import Organization


def _day(value: str) -> date:
    """A calendar day given as YYYY-MM-DD."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        # argparse turns this into a usage error on the command line, CommandError in code.
        raise ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Close every billing period that has ended and is not closed yet into invoices "
        "(what the hourly Celery beat job does, for cron without beat). Safe to repeat."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--organization", metavar="SLUG", help="Close the periods of this organization only."
        )
        parser.add_argument(
            "--until",
            metavar="YYYY-MM-DD",
            type=_day,
            help=(
                "Close only periods that ended by the start of this day (organization time "
                "zone). The running period is never closed."
            ),
        )

    def handle(self, *args, organization=None, until=None, **options):
        organizations = Organization.objects.all()
        if organization is not None:
            organizations = organizations.filter(slug=organization)
            if not organizations.exists():
                raise CommandError(f"No organization {organization!r}.")
        closed = invoicing.close_due_periods(organizations=organizations, until=until)
        for period in closed:
            self.stdout.write(self._describe(period))
        if closed:
            self.stdout.write(f"Closed {len(closed)} billing period(s).")
        else:
            self.stdout.write("No billing period was due.")

    def _describe(self, period) -> str:
        """One line per closed period: organization, local dates, invoice numbers."""
        zone = zone_of(period.organization)
        first = period.start.astimezone(zone).date()
        # The end is exclusive (the next period's first midnight); people read the last day.
        last = period.end.astimezone(zone).date() - timedelta(days=1)
        numbers = list(period.invoices.order_by("sequence").values_list("number", flat=True))
        issued = f"{len(numbers)} invoice(s)"
        if numbers:
            issued += f" {numbers[0]}" if len(numbers) == 1 else f" {numbers[0]}..{numbers[-1]}"
        return f"{period.organization.slug} {first}..{last}: {issued}"
