"""factory_boy factories for every domain model."""

import secrets
from datetime import UTC, datetime, timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from billing.models import Tariff
from cards.models import AccessGroup, IdToken
from organizations.choices import Role
from organizations.models import (
    Invitation,
    Membership,
    Organization,
    OrganizationAPIKey,
    normalize_email,
)
from organizations.services import invitation_token_hash
from sessions_app.models import ChargingSession, MeterValue, RemoteStart, Reservation
from stations.models import ChargingProfile, ChargingStation, Connector, Evse, Site

STATION_PASSWORD = "station-secret-123"
USER_PASSWORD = "user-secret-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", USER_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Operator {n}")
    slug = factory.Sequence(lambda n: f"operator-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.ADMIN


class AccessGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccessGroup

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Group {n}")


class IdTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdToken
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    uid = factory.Sequence(lambda n: f"04A1B2{n:08X}")
    label = factory.Sequence(lambda n: f"Card {n}")

    @factory.post_generation
    def access_groups(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.access_groups.set(extracted)


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Site {n}")
    city = "Berlin"
    country = "DE"

    @factory.post_generation
    def access_groups(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.access_groups.set(extracted)


class ChargingStationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChargingStation
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    site = factory.SubFactory(SiteFactory, organization=factory.SelfAttribute("..organization"))
    ocpp_id = factory.Sequence(lambda n: f"CS-{n:05d}")
    serial_number = factory.Sequence(lambda n: f"SN{n:06d}")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or STATION_PASSWORD)
        if create:
            obj.save(update_fields=["password_hash"])

    @factory.post_generation
    def connectors(obj, create, extracted, **kwargs):
        """Create `connectors` connectors (default 2), each on its own EVSE."""
        if not create:
            return
        for number in range(1, (2 if extracted is None else extracted) + 1):
            evse = Evse.objects.create(
                station=obj, evse_number=number, evse_id=f"DE*ABC*E{obj.pk}*{number}"
            )
            Connector.objects.create(station=obj, evse=evse, connector_id=number)


class ChargingProfileFactory(factory.django.DjangoModelFactory):
    """A valid absolute TxDefaultProfile of 16 A; `.build()` leaves it unsaved."""

    class Meta:
        model = ChargingProfile

    organization = factory.SubFactory(OrganizationFactory)
    name = "Night"
    purpose = "TxDefaultProfile"
    kind = "Absolute"
    charging_rate_unit = "A"
    schedule_periods = factory.LazyFunction(lambda: [{"start_period": 0, "limit": 16}])


class ChargingSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChargingSession

    station = factory.SubFactory(ChargingStationFactory)
    organization = factory.SelfAttribute("station.organization")
    connector = factory.LazyAttribute(
        lambda s: s.station.connectors.order_by("connector_id").first()
    )
    id_tag = "04A1B2C3"
    transaction_id = factory.Sequence(lambda n: str(n + 1))
    start = factory.LazyFunction(lambda: datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    meter_start = 0


class MeterValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MeterValue

    session = factory.SubFactory(ChargingSessionFactory)
    station = factory.SelfAttribute("session.station")
    timestamp = factory.LazyFunction(lambda: datetime(2026, 1, 1, 12, 5, tzinfo=UTC))
    value = 1000


class ReservationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reservation

    station = factory.SubFactory(ChargingStationFactory)
    id_tag = "04A1B2C3"
    expiry = factory.LazyFunction(lambda: datetime(2030, 1, 1, tzinfo=UTC))


class RemoteStartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RemoteStart

    station = factory.SubFactory(ChargingStationFactory)
    id_tag = "04A1B2C3"


class TariffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tariff

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Tariff {n}")
    elements = factory.LazyFunction(lambda: energy_elements("0.3900"))
    tax_rate = "19.00"


def energy_elements(price_per_kwh, *, step_size=1, **restrictions) -> list[dict]:
    """OCPI tariff elements with one ENERGY price (and restrictions, when given)."""
    element = {
        "price_components": [
            {"type": "ENERGY", "price": str(price_per_kwh), "step_size": step_size}
        ]
    }
    if restrictions:
        element["restrictions"] = restrictions
    return [element]


def make_api_key(organization, role=Role.VIEWER, name="Integration", **fields):
    """An organization API key and its secret (the only time the secret is known)."""
    return OrganizationAPIKey.objects.create_key(
        organization=organization, role=role, name=name, **fields
    )


def make_invitation(organization, email, role=Role.VIEWER, **fields):
    """A pending invitation and the secret of its link (the only time the secret is known)."""
    token = secrets.token_urlsafe(32)
    fields.setdefault("expires_at", timezone.now() + timedelta(days=7))
    invitation = Invitation.objects.create(
        organization=organization,
        email=normalize_email(email),
        role=role,
        token_hash=invitation_token_hash(token),
        **fields,
    )
    return invitation, token
