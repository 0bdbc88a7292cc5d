"""Serializers of access groups and id tokens (RFID cards), and of the cards' CSV import."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cards.models import AccessGroup, IdToken, normalize_uid
from organizations.api.fields import TenantRelatedField
from stations.models import ChargingStation, Site

# Access groups travel in the CSV as names joined by this character (see csv_import).
GROUP_SEPARATOR = ";"
UID_TAKEN = _("A card with this uid already exists in this organization.")
NAME_TAKEN = _("An access group with this name already exists in this organization.")


class TenantRelatedList(serializers.ManyRelatedField):
    """Ids of objects in the row's organization, as a JSON list (DRF would take a dict's keys)."""

    def to_internal_value(self, data):
        if not isinstance(data, list | tuple):
            self.fail("not_a_list", input_type=type(data).__name__)
        return super().to_internal_value(data)


def related_ids(queryset, **kwargs) -> TenantRelatedList:
    """A list of TenantRelatedField ids over `queryset`."""
    return TenantRelatedList(child_relation=TenantRelatedField(queryset=queryset), **kwargs)


class CardSummarySerializer(serializers.ModelSerializer):
    """A card as listed inside an access group."""

    class Meta:
        model = IdToken
        fields = ["id", "uid", "label"]
        read_only_fields = fields


class SiteSummarySerializer(serializers.ModelSerializer):
    """A site as listed inside an access group."""

    class Meta:
        model = Site
        fields = ["id", "name"]
        read_only_fields = fields


class StationSummarySerializer(serializers.ModelSerializer):
    """A station as listed inside an access group."""

    class Meta:
        model = ChargingStation
        fields = ["id", "ocpp_id"]
        read_only_fields = fields


class AccessGroupSerializer(serializers.ModelSerializer):
    """An access group: its cards, and the sites and stations where they may charge."""

    sites = related_ids(
        Site.objects.all(),
        required=False,
        help_text="Ids of the sites where the group's cards may charge.",
    )
    stations = related_ids(
        ChargingStation.objects.all(),
        required=False,
        help_text="Ids of the stations where the group's cards may charge (beyond its sites).",
    )
    site_details = SiteSummarySerializer(source="sites", many=True, read_only=True)
    station_details = StationSummarySerializer(source="stations", many=True, read_only=True)
    cards = CardSummarySerializer(
        source="id_tokens",
        many=True,
        read_only=True,
        help_text="Operators change them with add-cards and remove-cards.",
    )
    card_count = serializers.SerializerMethodField()

    class Meta:
        model = AccessGroup
        fields = [
            "id",
            "organization",
            "name",
            "description",
            "sites",
            "site_details",
            "stations",
            "station_details",
            "cards",
            "card_count",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "organization", "created", "updated"]

    def get_card_count(self, group) -> int:
        # len() of the prefetched cards: count() would cost a query per group.
        return len(group.id_tokens.all())

    def validate_name(self, name):
        if GROUP_SEPARATOR in name:
            # The CSV of cards lists their groups by name, separated by this character.
            raise serializers.ValidationError(
                _("A name may not contain %(sep)r.") % {"sep": GROUP_SEPARATOR}
            )
        # The organization is not a serializer field, so DRF checks no unique_together here.
        groups = AccessGroup.objects.for_org(self.context.get("organization_id")).filter(name=name)
        if self.instance is not None:
            groups = groups.exclude(pk=self.instance.pk)
        if groups.exists():
            raise serializers.ValidationError(NAME_TAKEN)
        return name


class CardUidsSerializer(serializers.Serializer):
    """`{"uids": [...]}`: cards of the group's organization, named by uid (any case)."""

    uids = serializers.ListField(
        child=serializers.CharField(max_length=36),
        allow_empty=False,
        max_length=10_000,
        help_text="Card uids; compared upper-cased, like stations send them.",
    )

    def validate_uids(self, uids):
        # Order kept, duplicates dropped: the service reports each unknown uid once.
        return list(dict.fromkeys(normalize_uid(uid) for uid in uids))


class IdTokenSerializer(serializers.ModelSerializer):
    """An RFID card (or other id token) with the access groups it belongs to."""

    access_groups = related_ids(
        AccessGroup.objects.all(),
        required=False,
        help_text="Ids of the access groups the card belongs to.",
    )

    class Meta:
        model = IdToken
        fields = [
            "id",
            "organization",
            "uid",
            "type",
            "label",
            "holder_name",
            "holder_email",
            "status",
            "expires_at",
            "parent_id_tag",
            "max_concurrent_transactions",
            "roaming",
            "access_groups",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "organization", "created", "updated"]
        extra_kwargs = {
            "uid": {"help_text": "Stored upper-cased; unique in the organization."},
            "roaming": {
                "help_text": "Published to the organization's CPO partners (OCPI Tokens): "
                "the card may charge at their stations."
            },
        }

    def validate_uid(self, uid):
        # CharField has already refused a blank uid and trimmed the spaces.
        uid = normalize_uid(uid)
        if self.uid_taken(uid):
            raise serializers.ValidationError(UID_TAKEN)
        return uid

    def uid_taken(self, uid: str) -> bool:
        """Whether another card of the organization has this (normalized) uid."""
        # The organization is not a serializer field, so DRF checks no unique_together here.
        tokens = IdToken.objects.for_org(self.context.get("organization_id")).filter(uid=uid)
        if self.instance is not None:
            tokens = tokens.exclude(pk=self.instance.pk)
        return tokens.exists()


class AccessGroupNamesField(serializers.Field):
    """Access groups by name, `;`-separated, resolved from the context without a query."""

    default_error_messages = {
        "unknown": _("No access group named {names} in this organization."),
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(_("Expected names separated by ';'."))
        by_name = self.context["access_groups_by_name"]
        names = list(dict.fromkeys(n.strip() for n in data.split(GROUP_SEPARATOR) if n.strip()))
        unknown = [name for name in names if name not in by_name]
        if unknown:
            self.fail("unknown", names=", ".join(repr(name) for name in unknown))
        return [by_name[name] for name in names]

    def to_representation(self, value):
        return GROUP_SEPARATOR.join(group.name for group in value.all())


class IdTokenImportRowSerializer(IdTokenSerializer):
    """One CSV row: the API's card rules, with groups by name and no query per row."""

    # Every field, validator and rule comes from IdTokenSerializer, so the import cannot
    # accept what the API refuses; only the two checks that would query per row differ.
    access_groups = AccessGroupNamesField(required=False)

    def uid_taken(self, uid: str) -> bool:
        # An existing uid is updated, not refused; csv_import finds duplicates in the file.
        return False
