"""`manage.py seed_demo`: create or refresh the demo organization and print its credentials."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from demo.seed import DEMO_PASSWORD, seed_demo
from stations.exceptions import StationAssignmentError


class Command(BaseCommand):
    help = "Create or refresh the demo organization, its sites, stations, cards and tariff."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=DEMO_PASSWORD,
            help=f"Password of the demo admin (default: {DEMO_PASSWORD}).",
        )
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON object describing the demo data."
        )

    def handle(self, *args, **options):
        try:
            demo = seed_demo(password=options["password"])
        except ValidationError as exc:
            raise CommandError("Password rejected: " + " ".join(exc.messages)) from exc
        except StationAssignmentError as exc:
            raise CommandError(f"Cannot seed the demo: {exc}") from exc
        self.stdout.write(_as_json(demo) if options["json"] else _as_text(demo))


def _as_json(demo: dict) -> str:
    return json.dumps(demo, indent=2, ensure_ascii=False)


def _as_text(demo: dict) -> str:
    org = demo["organization"]
    lines = [f"Demo organization {org['name']!r} (slug {org['slug']}) is ready."]
    lines += [f"  Login: {u['username']} / {u['password']}" for u in demo["users"]]
    lines.append(f"  Sites: {', '.join(site['name'] for site in demo['sites'])}")
    lines.append("  Stations (OCPP identity / Basic-auth password):")
    lines += [f"    {s['ocpp_id']} / {s['password']}  at {s['site']}" for s in demo["stations"]]
    lines.append(f"  RFID cards: {', '.join(card['uid'] for card in demo['cards'])}")
    billing = demo["billing"]
    lines.append(
        f"  Billing: {billing['charge_detail_records']} charge detail records, "
        f"{billing['invoices']} invoices"
    )
    return "\n".join(lines)
