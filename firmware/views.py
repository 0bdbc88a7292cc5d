"""Portal pages of the firmware catalogue: list, upload, detail with matching stations, delete."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy
from django.views.generic import DetailView, FormView, ListView, TemplateView

from core.lists import Nouns, SortedListMixin, is_filtered
from firmware.filtersets import FIRMWARE_ORDERING, FirmwareImageFilterSet
from firmware.forms import FirmwareImageForm
from firmware.models import FirmwareImage
from firmware.services import create_image, delete_image, signed_download
from organizations.choices import Role
from organizations.portal import OrganizationMixin, OrganizationObjectMixin
from stations.models import ChargingStation

PAGE_SIZE = 50
# The detail page lists this many matching stations; the counts cover all of them.
STATIONS_SHOWN = 100
IMAGE_NOUNS = Nouns(
    matched=ngettext_lazy(
        "%(count)s firmware image matches these filters.",
        "%(count)s firmware images match these filters.",
        "count",
    ),
    total=ngettext_lazy("%(count)s firmware image.", "%(count)s firmware images.", "count"),
    none_matched=gettext_lazy("No firmware images match these filters."),
    none=gettext_lazy("No firmware images yet."),
)


class FirmwareSectionMixin:
    """The catalogue's pages share the portal section."""

    section = "firmware"


class ImageListView(FirmwareSectionMixin, SortedListMixin, OrganizationMixin, ListView):
    """The organization's firmware images, filtered by vendor and model, sortable."""

    template_name = "firmware/image_list.html"
    context_object_name = "images"
    paginate_by = PAGE_SIZE
    sorting = FIRMWARE_ORDERING
    nouns = IMAGE_NOUNS

    def get_queryset(self):
        images = self.sort(FirmwareImage.objects.for_org(self.organization))
        self.filterset = FirmwareImageFilterSet(self.request.GET or None, queryset=images)
        if self.filterset.is_bound and not self.filterset.is_valid():
            return images.none()
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(filter=self.filterset, filtered=is_filtered(self.request.GET))
        return context


class ImageCreateView(FirmwareSectionMixin, OrganizationMixin, FormView):
    """Upload a firmware image (admins); checksums are computed from the file."""

    required_role = Role.ADMIN
    template_name = "firmware/image_form.html"
    form_class = FirmwareImageForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["organization"] = self.organization
        return kwargs

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            image = create_image(
                organization=self.organization,
                uploaded_by=self.request.user,
                vendor=data["vendor"],
                model=data["model"],
                version=data["version"],
                file=data["file"],
                release_notes=data.get("release_notes", ""),
                signature=data.get("signature", ""),
                signing_certificate=data.get("signing_certificate", ""),
            )
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Firmware %(image)s uploaded.") % {"image": image})
        return redirect("firmware:image-detail", org=self.organization.slug, pk=image.pk)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ImageDetailView(FirmwareSectionMixin, OrganizationObjectMixin, DetailView):
    """One image: checksums, signature, and the organization's stations it fits."""

    model = FirmwareImage
    template_name = "firmware/image_detail.html"
    context_object_name = "image"

    def get_queryset(self):
        return super().get_queryset().select_related("uploaded_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        image = self.object
        stations = (
            ChargingStation.objects.for_org(self.organization)
            .filter(vendor__iexact=image.vendor, model__iexact=image.model)
            .select_related("site")
            .order_by("ocpp_id")
        )
        context.update(
            stations=list(stations[:STATIONS_SHOWN]),
            station_count=stations.count(),
            running_count=stations.filter(firmware_version=image.version).count(),
            stations_shown=STATIONS_SHOWN,
        )
        return context


class ImageLinkView(ImageDetailView):
    """The detail page with a fresh signed download URL (operators), e.g. for a manual update."""

    required_role = Role.OPERATOR
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        context = self.get_context_data(object=self.object)
        context["signed"] = signed_download(self.object)
        return self.render_to_response(context)


class ImageDeleteView(FirmwareSectionMixin, OrganizationMixin, TemplateView):
    """Delete an image after a confirmation (admins); refused while a campaign uses it."""

    required_role = Role.ADMIN
    template_name = "firmware/image_confirm_delete.html"

    def get_image(self) -> FirmwareImage:
        return get_object_or_404(
            FirmwareImage.objects.for_org(self.organization), pk=self.kwargs["pk"]
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["image"] = self.get_image()
        return context

    def post(self, request, *args, **kwargs):
        image = self.get_image()
        try:
            delete_image(image)
        except ProtectedError:
            messages.error(
                request,
                _(
                    "Firmware %(image)s is used by a firmware campaign and cannot be deleted "
                    "while the campaign exists."
                )
                % {"image": image},
            )
            return redirect("firmware:image-detail", org=self.organization.slug, pk=image.pk)
        messages.success(request, _("Firmware %(image)s deleted.") % {"image": image})
        return redirect("firmware:image-list", org=self.organization.slug)
