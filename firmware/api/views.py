"""Views of the firmware API: the catalogue, uploads, and signed download URLs."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from core.api.exceptions import Conflict
from core.api.schema import DETAIL
from firmware.api.serializers import (
    DownloadUrlRequestSerializer,
    DownloadUrlSerializer,
    FirmwareImageNotesSerializer,
    FirmwareImageSerializer,
)
from firmware.filtersets import FIRMWARE_ORDERING, FirmwareImageFilterSet
from firmware.models import FirmwareImage
from firmware.services import create_image, delete_image, signed_download, update_release_notes
from organizations.api.viewsets import TenantCreateModelMixin, TenantViewSet
from organizations.choices import Role

IN_USE = _("A firmware campaign uses this image; it stays as long as the campaign does.")


@extend_schema_view(
    create=extend_schema(request={"multipart/form-data": FirmwareImageSerializer}),
    destroy=extend_schema(
        responses={
            204: OpenApiResponse(description="Deleted, with its file."),
            409: OpenApiResponse(response=DETAIL, description="A campaign uses the image."),
        }
    ),
)
class FirmwareImageViewSet(
    TenantCreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Firmware images of the user's organizations; admins upload, annotate and delete them."""

    queryset = FirmwareImage.objects.all()
    serializer_class = FirmwareImageSerializer
    filterset_class = FirmwareImageFilterSet
    parser_classes = [JSONParser, MultiPartParser]
    sorting = FIRMWARE_ORDERING
    ordering_fields = sorting.keys
    ordering = list(sorting.default)
    required_role = {
        "list": Role.VIEWER,
        "retrieve": Role.VIEWER,
        "create": Role.ADMIN,
        "update": Role.ADMIN,
        "partial_update": Role.ADMIN,
        "destroy": Role.ADMIN,
        "download_url": Role.OPERATOR,
    }

    def get_serializer_class(self):
        if self.action in {"update", "partial_update"}:
            return FirmwareImageNotesSerializer
        return super().get_serializer_class()

    def perform_create(self, serializer):
        user = self.request.user
        try:
            serializer.instance = create_image(
                organization=self.get_organization(),
                # An API key is no person: its uploads name nobody.
                uploaded_by=None if getattr(user, "api_key", None) else user,
                **serializer.validated_data,
            )
        except DjangoValidationError as error:
            raise ValidationError(as_serializer_error(error)) from None

    def perform_update(self, serializer):
        update_release_notes(
            serializer.instance,
            serializer.validated_data.get("release_notes", serializer.instance.release_notes),
        )

    def perform_destroy(self, instance):
        try:
            delete_image(instance)
        except ProtectedError:
            raise Conflict(IN_USE) from None

    @extend_schema(
        request=DownloadUrlRequestSerializer,
        responses={201: DownloadUrlSerializer},
        description="A fresh signed URL stations download the image from, without login, "
        "until `expires_at` (FIRMWARE_URL_HOURS unless `hours` says otherwise).",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="download-url",
        filter_backends=[],
        pagination_class=None,
    )
    def download_url(self, request, pk=None):
        """A new signed download URL of the image (operators)."""
        image = self.get_object()
        body = DownloadUrlRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        signed = signed_download(image, hours=body.validated_data.get("hours"))
        return Response(
            DownloadUrlSerializer({"url": signed.url, "expires_at": signed.expires_at}).data,
            status=201,
        )
