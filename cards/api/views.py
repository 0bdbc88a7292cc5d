"""Access groups and id tokens (RFID cards): CRUD, membership, block/unblock, CSV in and out."""

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response

from cards.api import csv_import
from cards.api.serializers import (
    GROUP_SEPARATOR,
    AccessGroupSerializer,
    CardUidsSerializer,
    IdTokenSerializer,
)
from cards.filtersets import (
    CARD_ORDERING,
    GROUP_ORDERING,
    AccessGroupFilterSet,
    IdTokenFilterSet,
)
from cards.models import AccessGroup, IdToken
from cards.services import (
    UnknownCards,
    add_cards_to_group,
    block_id_token,
    import_id_tokens,
    remove_cards_from_group,
    unblock_id_token,
)
from core.api.csv import CsvExportMixin
from core.api.exceptions import Conflict
from core.api.schema import DETAIL
from organizations.api.viewsets import TenantCreateModelMixin, TenantViewSet
from organizations.choices import Role
from stations.models import ChargingStation, Site


class SavedAtomically:
    """Create and update in one transaction; a uniqueness race is a 400, not a 500."""

    # The field whose serializer validator checks uniqueness in the organization.
    unique_field = ""

    def perform_create(self, serializer):
        self._atomic(super().perform_create, serializer)

    def perform_update(self, serializer):
        self._atomic(super().perform_update, serializer)

    def _atomic(self, save, serializer):
        try:
            with transaction.atomic():
                # The row and its many-to-many links together, or neither.
                save(serializer)
        except IntegrityError:
            # The serializer checked uniqueness first; only a twin saved meanwhile gets here.
            # Checked again so that any other integrity error still surfaces as the bug it is.
            value = serializer.validated_data.get(self.unique_field)
            if value is not None:
                try:
                    getattr(serializer, f"validate_{self.unique_field}")(value)
                except ValidationError as error:
                    raise ValidationError({self.unique_field: error.detail}) from None
            raise


# --- Access groups ---------------------------------------------------------------------------


def uids_refused(error: UnknownCards) -> ValidationError:
    """The 400 for uids that name no card of the group's organization."""
    return ValidationError(
        {
            "uids": [
                _("No card with uid %(uids)s in this organization.")
                % {"uids": ", ".join(error.uids)}
            ],
            "unknown_uids": error.uids,
        }
    )


class AccessGroupViewSet(
    SavedAtomically,
    TenantCreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Access groups: admins shape them, operators put cards in and take them out."""

    queryset = AccessGroup.objects.prefetch_related(
        Prefetch("id_tokens", queryset=IdToken.objects.only("id", "uid", "label")),
        Prefetch("sites", queryset=Site.objects.only("id", "name")),
        Prefetch("stations", queryset=ChargingStation.objects.only("id", "ocpp_id")),
    )
    serializer_class = AccessGroupSerializer
    filterset_class = AccessGroupFilterSet
    sorting = GROUP_ORDERING.subset("cards")
    ordering_fields = sorting.keys
    ordering = ["name"]
    required_role = {
        "list": Role.VIEWER,
        "retrieve": Role.VIEWER,
        "create": Role.ADMIN,
        "update": Role.ADMIN,
        "partial_update": Role.ADMIN,
        "destroy": Role.ADMIN,
        "add_cards": Role.OPERATOR,
        "remove_cards": Role.OPERATOR,
    }
    unique_field = "name"

    @extend_schema(
        request=CardUidsSerializer,
        responses=AccessGroupSerializer,
        description="Put the cards with these uids into the group (cards already in it stay). "
        "An unknown uid is a 400 naming it in `unknown_uids`, and no card is added.",
    )
    @action(detail=True, methods=["post"], url_path="add-cards")
    def add_cards(self, request, pk=None):
        """Put cards into the group, by uid."""
        return self._change_cards(request, add_cards_to_group)

    @extend_schema(
        request=CardUidsSerializer,
        responses=AccessGroupSerializer,
        description="Take the cards with these uids out of the group (cards not in it are "
        "ignored). An unknown uid is a 400 naming it in `unknown_uids`, and no card is removed.",
    )
    @action(detail=True, methods=["post"], url_path="remove-cards")
    def remove_cards(self, request, pk=None):
        """Take cards out of the group, by uid."""
        return self._change_cards(request, remove_cards_from_group)

    def _change_cards(self, request, change):
        group = self.get_object()
        body = CardUidsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            change(group, body.validated_data["uids"])
        except UnknownCards as error:
            raise uids_refused(error) from None
        # The cards prefetched with the group are stale now.
        return Response(self.get_serializer(self.get_object()).data)


# --- Id tokens -------------------------------------------------------------------------------


def group_names(token) -> str:
    """The card's access groups by name, as the CSV holds them (prefetched: no query)."""
    return GROUP_SEPARATOR.join(group.name for group in token.access_groups.all())


# The JSON fields, in the same order, under the same names; the import reads these back.
CSV_ACCESSORS = {"organization": "organization_id", "access_groups": group_names}
ID_TOKEN_CSV_COLUMNS = [
    (name, CSV_ACCESSORS.get(name, name)) for name in IdTokenSerializer.Meta.fields
]


class IdTokenViewSet(
    SavedAtomically,
    CsvExportMixin,
    TenantCreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Cards of the user's organizations; operators manage them. `?format=csv` exports."""

    queryset = IdToken.objects.prefetch_related(
        Prefetch("access_groups", queryset=AccessGroup.objects.only("id", "name"))
    )
    serializer_class = IdTokenSerializer
    filterset_class = IdTokenFilterSet
    sorting = CARD_ORDERING.subset("last_used")
    ordering_fields = sorting.keys
    ordering = ["uid"]
    csv_columns = ID_TOKEN_CSV_COLUMNS
    required_role = {
        "list": Role.VIEWER,
        "retrieve": Role.VIEWER,
        "create": Role.OPERATOR,
        "update": Role.OPERATOR,
        "partial_update": Role.OPERATOR,
        "destroy": Role.OPERATOR,
        "block": Role.OPERATOR,
        "unblock": Role.OPERATOR,
    }
    unique_field = "uid"

    @extend_schema(
        request=None,
        responses=IdTokenSerializer,
        description="Block the card: stations refuse it. Blocking a blocked card changes "
        "nothing and answers 200 as well.",
    )
    @action(detail=True, methods=["post"])
    def block(self, request, pk=None):
        """Block the card."""
        token = self.get_object()
        block_id_token(token)
        return Response(self.get_serializer(token).data)

    @extend_schema(
        request=None,
        responses=IdTokenSerializer,
        description="Lift a block: a Blocked card is Accepted again. Any other card (Accepted, "
        "or Expired) is left as it is and answers 200 as well.",
    )
    @action(detail=True, methods=["post"])
    def unblock(self, request, pk=None):
        """Lift the card's block."""
        token = self.get_object()
        unblock_id_token(token)
        return Response(self.get_serializer(token).data)


# --- CSV import ------------------------------------------------------------------------------


class CsvBodyParser(BaseParser):
    """A raw `text/csv` body, as bytes (at most one byte beyond the import's size cap)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read(csv_import.MAX_BYTES + 1)


class IdTokenImportUploadSerializer(serializers.Serializer):
    """The multipart form of an import: the CSV file."""

    file = serializers.FileField(help_text="UTF-8 CSV, header line first.")


class IdTokenImportOptionsSerializer(serializers.Serializer):
    """Query parameters of an import."""

    dry_run = serializers.BooleanField(default=False)


class IdTokenImportResultSerializer(serializers.Serializer):
    """What became of one row of the file."""

    line = serializers.IntegerField(help_text="Line of the file the row starts on (header: 1).")
    uid = serializers.CharField(help_text="The row's uid, upper-cased; empty if it has none.")
    outcome = serializers.ChoiceField(
        choices=csv_import.OUTCOMES,
        help_text="`created` or `updated` (what the row does, or would do in a dry run or "
        "a refused import), or `error`.",
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Each bad column with its messages; `non_field_errors` for the row itself.",
    )


class IdTokenImportReportSerializer(serializers.Serializer):
    """The per-row report of an import."""

    dry_run = serializers.BooleanField()
    written = serializers.BooleanField(help_text="Whether the cards were written.")
    total = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    failed = serializers.IntegerField()
    rows = IdTokenImportResultSerializer(many=True)


IMPORT_DESCRIPTION = f"""Create and update cards from a CSV file: a multipart form with the
file in `file`, or the file itself as a `text/csv` body.

Columns: a header line with the names of the CSV export (the card's JSON fields): `uid`
(required) and any of {", ".join(f"`{c}`" for c in csv_import.WRITABLE_COLUMNS[1:])};
`access_groups` holds group names separated by `{GROUP_SEPARATOR}`. The export's read-only
columns ({", ".join(f"`{c}`" for c in csv_import.IGNORED_COLUMNS)}) are ignored, so an export
imports as it is. A uid the organization already has **updates** that card (only the columns
in the file); a new uid creates one. An empty cell means no expiry, unlimited transactions, no
access groups or an empty text; for `type` and `status` it keeps the card's value (or the
default). Every row is checked with the rules of creating a card through the API.

All or nothing: if any row is bad, nothing is written and the answer is 400 with the report
(each row's `line`, `uid`, `outcome` and `errors`). A problem with the file itself (not UTF-8,
no rows, unknown or missing columns, over {csv_import.MAX_ROWS} rows or
{csv_import.MAX_BYTES // (1024 * 1024)} MB) is a 400 with a `file` error. `?dry_run=true`
checks and reports without writing."""

REPORT_OR_FILE_ERROR = {
    "anyOf": [
        {"$ref": "#/components/schemas/IdTokenImportReport"},
        {
            "type": "object",
            "properties": {"file": {"type": "array", "items": {"type": "string"}}},
            "additionalProperties": True,
        },
    ]
}


class IdTokenImportViewSet(TenantViewSet):
    """`POST /organizations/{id}/id-tokens/import/`: cards from a CSV file, all or none."""

    queryset = IdToken.objects.all()
    parser_classes = [MultiPartParser, CsvBodyParser]
    serializer_class = IdTokenImportReportSerializer
    required_role = {"create": Role.OPERATOR}

    @extend_schema(
        operation_id="organizations_id_tokens_import",
        description=IMPORT_DESCRIPTION,
        parameters=[
            OpenApiParameter(
                "dry_run", OpenApiTypes.BOOL, description="Check and report; write nothing."
            )
        ],
        request={
            "multipart/form-data": IdTokenImportUploadSerializer,
            "text/csv": OpenApiTypes.BINARY,
        },
        responses={
            200: IdTokenImportReportSerializer,
            400: OpenApiResponse(
                response=REPORT_OR_FILE_ERROR,
                description="A bad row (the report, `written` false) or a bad file.",
            ),
            409: OpenApiResponse(
                response=DETAIL, description="Cards changed while importing; try again."
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        """Import cards from a CSV file."""
        organization = self.get_organization()
        options = IdTokenImportOptionsSerializer(data=request.query_params)
        options.is_valid(raise_exception=True)
        dry_run = options.validated_data["dry_run"]
        try:
            plan = csv_import.plan_import(organization, self._content(request))
        except csv_import.CsvFileError as error:
            raise ValidationError({"file": [str(error)]}) from None
        if not plan.ok:
            return Response(plan.report(dry_run=dry_run, written=False), status=400)
        if not dry_run:
            try:
                import_id_tokens(plan.creates, plan.updates, plan.update_fields)
            except IntegrityError:
                # A card with one of the new uids was created meanwhile.
                raise Conflict(_("Cards changed while importing; try again.")) from None
        return Response(plan.report(dry_run=dry_run, written=not dry_run))

    def _content(self, request) -> bytes:
        if isinstance(request.data, bytes):
            return request.data
        upload = IdTokenImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        # One byte beyond the cap is enough to refuse the file.
        return upload.validated_data["file"].read(csv_import.MAX_BYTES + 1)
