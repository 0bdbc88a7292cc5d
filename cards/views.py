"""Portal pages of cards and access groups: the API's rules and services."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Prefetch
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy
from django.views import View
from django.views.generic import CreateView, DeleteView, DetailView, FormView, ListView, UpdateView

from cards.api import csv_import
from cards.api.serializers import GROUP_SEPARATOR, NAME_TAKEN, UID_TAKEN
from cards.choices import IdTokenStatus
from cards.filtersets import CARD_ORDERING, GROUP_ORDERING
from cards.forms import (
    AccessGroupForm,
    CardFilterSet,
    GroupCardsForm,
    GroupFilterSet,
    IdTokenForm,
    IdTokenImportForm,
    NewAccessGroupForm,
    unknown_uids_error,
)
from cards.models import AccessGroup, IdToken
from cards.services import (
    UnknownCards,
    add_cards_to_group,
    block_id_token,
    card_standing,
    import_id_tokens,
    remove_cards_from_group,
    unblock_id_token,
)
from cards.usage import card_usage
from core.lists import Nouns, SortedListMixin, is_filtered
from core.timezones import zone_of
from organizations.choices import Role
from organizations.portal import OrganizationFormMixin, OrganizationMixin, OrganizationObjectMixin
from stations.models import ChargingStation, Site

# The badge colours of a card's standing, from the portal's status palette.
STANDING_BADGES = {
    IdTokenStatus.ACCEPTED: "status-available",
    IdTokenStatus.BLOCKED: "status-faulted",
    IdTokenStatus.EXPIRED: "status-unavailable",
}
PAGE_SIZE = 50
# The cards shown on a group's page; the card list filtered by the group shows them all.
GROUP_PAGE_CARDS = 50

CARD_NOUNS = Nouns(
    matched=ngettext_lazy(
        "%(count)s card matches these filters.", "%(count)s cards match these filters.", "count"
    ),
    total=ngettext_lazy("%(count)s card.", "%(count)s cards.", "count"),
    none_matched=gettext_lazy("No cards match these filters."),
    none=gettext_lazy("No cards yet."),
)
GROUP_NOUNS = Nouns(
    matched=ngettext_lazy(
        "%(count)s access group matches these filters.",
        "%(count)s access groups match these filters.",
        "count",
    ),
    total=ngettext_lazy("%(count)s access group.", "%(count)s access groups.", "count"),
    none_matched=gettext_lazy("No access groups match these filters."),
    none=gettext_lazy("No access groups yet."),
)


def with_standing(cards, now=None):
    """Give each card its standing (Accepted, Blocked, or Expired also by date) for its badge."""
    now = now or timezone.now()
    for card in cards:
        card.standing = card_standing(card, now)
        card.standing_label = IdTokenStatus(card.standing).label
        card.standing_badge = STANDING_BADGES[card.standing]
    return cards


class ZoneMixin:
    """Times on these pages are shown in the organization's time zone."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["zone"] = zone_of(self.organization)
        return context


class RoleToWrite:
    """A page every member may open, whose form needs `write_role` to send (403 below it)."""

    # As in the API's `required_role` map for the write the form makes.
    write_role = Role.ADMIN

    def post(self, request, *args, **kwargs):
        if not self.membership.has_role(self.write_role):
            raise PermissionDenied
        return super().post(request, *args, **kwargs)


class InvalidFormIs400:
    """A refused form comes back with its errors and 400, like the API's answer."""

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def rolled_back(self, form):
        """The form again after its write was rolled back: the page shows the row as stored."""
        if isinstance(self, CreateView):
            # The instance got a primary key the database no longer has.
            form.instance.pk = None
            self.object = None
        else:
            self.object = self.get_object()
        return self.form_invalid(form)


# --- RFID cards ------------------------------------------------------------------------------


class CardListView(SortedListMixin, ZoneMixin, OrganizationMixin, ListView):
    """Every card of the organization, searchable and filtered like the API's list."""

    section = "cards"
    template_name = "cards/card_list.html"
    context_object_name = "cards"
    paginate_by = PAGE_SIZE
    sorting = CARD_ORDERING
    nouns = CARD_NOUNS

    def get_queryset(self):
        cards = (
            IdToken.objects.for_org(self.organization)
            .prefetch_related(
                Prefetch("access_groups", queryset=AccessGroup.objects.only("id", "name"))
            )
            .annotate(last_used=card_usage.last_used())
        )
        cards = self.sort(cards)
        self.filterset = CardFilterSet(
            self.request.GET or None,
            queryset=cards,
            request=self.request,
            organization=self.organization,
        )
        if self.filterset.is_bound and not self.filterset.is_valid():
            # A bad filter shows its error and no cards, rather than every card unfiltered.
            return cards.none()
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        with_standing(context["cards"])
        context.update(filter=self.filterset, filtered=is_filtered(self.request.GET))
        return context


class CardCreateView(
    ZoneMixin, InvalidFormIs400, OrganizationFormMixin, OrganizationMixin, CreateView
):
    """Add a card (operators)."""

    section = "cards"
    required_role = Role.OPERATOR
    form_class = IdTokenForm
    template_name = "cards/card_form.html"

    def form_valid(self, form):
        try:
            with transaction.atomic():
                # The card and its groups together, or neither.
                response = super().form_valid(form)
        except IntegrityError:
            # The form checked the uid; only a twin saved meanwhile gets here.
            form.add_error("uid", str(UID_TAKEN))
            return self.rolled_back(form)
        messages.success(self.request, _("Card %(uid)s added.") % {"uid": self.object.uid})
        return response

    def get_success_url(self):
        return reverse("cards:card-list", kwargs={"org": self.organization.slug})


class CardEditView(
    ZoneMixin,
    InvalidFormIs400,
    OrganizationFormMixin,
    OrganizationObjectMixin,
    RoleToWrite,
    UpdateView,
):
    """A card's details and recent sessions; operators edit it here."""

    section = "cards"
    write_role = Role.OPERATOR
    model = IdToken
    form_class = IdTokenForm
    template_name = "cards/card_form.html"
    context_object_name = "card"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .prefetch_related(
                Prefetch("access_groups", queryset=AccessGroup.objects.order_by("name"))
            )
            .annotate(last_used=card_usage.last_used())
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        with_standing([self.object])
        # Sections other apps add, such as the card's recent sessions.
        panels, panel_context = card_usage.panels(self.organization, self.object)
        context.update(panel_context, card_panels=panels)
        return context

    def form_valid(self, form):
        try:
            with transaction.atomic():
                response = super().form_valid(form)
        except IntegrityError:
            form.add_error("uid", str(UID_TAKEN))
            return self.rolled_back(form)
        messages.success(self.request, _("Card %(uid)s saved.") % {"uid": self.object.uid})
        return response

    def get_success_url(self):
        return reverse("cards:card-list", kwargs={"org": self.organization.slug})


def next_or(request, fallback: str) -> str:
    """The form's `next` page if it is one of ours, else `fallback`."""
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return fallback


class CardBlockView(OrganizationMixin, View):
    """Block a card, or lift its block (POST only, operators): the API's block and unblock."""

    required_role = Role.OPERATOR
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        card = get_object_or_404(IdToken.objects.for_org(self.organization), pk=kwargs["pk"])
        # The button says what it does, so a stale page or a second click cannot undo it;
        # without an action the card's block is toggled.
        action = request.POST.get("action") or (
            "unblock" if card.status == IdTokenStatus.BLOCKED else "block"
        )
        if action == "block":
            block_id_token(card)
            messages.success(request, _("Card %(uid)s is blocked.") % {"uid": card.uid})
        elif action == "unblock":
            if unblock_id_token(card):
                messages.success(request, _("Card %(uid)s is unblocked.") % {"uid": card.uid})
            else:
                messages.info(request, _("Card %(uid)s was not blocked.") % {"uid": card.uid})
        else:
            messages.error(request, _("Unknown action."))
        fallback = reverse("cards:card-list", kwargs={"org": self.organization.slug})
        return HttpResponseRedirect(next_or(request, fallback))


class CardDeleteView(OrganizationObjectMixin, DeleteView):
    """Delete a card after a confirmation (operators); its past sessions keep their id tag."""

    section = "cards"
    required_role = Role.OPERATOR
    model = IdToken
    context_object_name = "card"
    template_name = "cards/card_confirm_delete.html"

    def form_valid(self, form):
        messages.success(self.request, _("Card %(uid)s deleted.") % {"uid": self.object.uid})
        return super().form_valid(form)

    def get_success_url(self):
        return reverse("cards:card-list", kwargs={"org": self.organization.slug})


class CardImportView(OrganizationMixin, FormView):
    """Create and update cards from a CSV file (operators): the API's import, all or nothing."""

    section = "cards"
    required_role = Role.OPERATOR
    form_class = IdTokenImportForm
    template_name = "cards/card_import.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            writable_columns=csv_import.WRITABLE_COLUMNS,
            ignored_columns=csv_import.IGNORED_COLUMNS,
            group_separator=GROUP_SEPARATOR,
            max_rows=csv_import.MAX_ROWS,
            max_megabytes=csv_import.MAX_BYTES // (1024 * 1024),
            example=(
                "uid,label,type,holder_name,status,expires_at,access_groups\n"
                "04A2B3C4D5E6F7,Fleet car 1,ISO14443,Anna Berg,Accepted,2027-12-31T23:59:00Z,"
                f"Staff{GROUP_SEPARATOR}Fleet\n"
                "04A2B3C4D5E6F8,Visitor,ISO14443,,,,Visitors\n"
            ),
        )
        return context

    def form_invalid(self, form, status=400):
        return self.render_to_response(self.get_context_data(form=form), status=status)

    def form_valid(self, form):
        dry_run = form.cleaned_data["dry_run"]
        # One byte beyond the cap is enough to refuse the file.
        content = form.cleaned_data["file"].read(csv_import.MAX_BYTES + 1)
        try:
            plan = csv_import.plan_import(self.organization, content)
        except csv_import.CsvFileError as error:
            form.add_error("file", str(error))
            return self.form_invalid(form)
        if not plan.ok:
            return self.show_report(form, plan.report(dry_run=dry_run, written=False), 400)
        if not dry_run:
            try:
                import_id_tokens(plan.creates, plan.updates, plan.update_fields)
            except IntegrityError:
                # A card with one of the new uids was created meanwhile.
                form.add_error(None, _("Cards changed while importing; try again."))
                return self.form_invalid(form, status=409)
        return self.show_report(form, plan.report(dry_run=dry_run, written=not dry_run), 200)

    def show_report(self, form, report, status):
        rows = report["rows"]
        context = self.get_context_data(
            form=form,
            report=report,
            failed_rows=[row for row in rows if row["outcome"] == csv_import.ERROR],
        )
        return self.render_to_response(context, status=status)


# --- Access groups ---------------------------------------------------------------------------


def groups_with_places():
    """Access groups with their sites and stations, loaded in one query each."""
    return AccessGroup.objects.prefetch_related(
        Prefetch("sites", queryset=Site.objects.only("id", "name").order_by("name")),
        Prefetch(
            "stations", queryset=ChargingStation.objects.only("id", "ocpp_id").order_by("ocpp_id")
        ),
    ).annotate(card_count=Count("id_tokens", distinct=True))


class GroupListView(SortedListMixin, OrganizationMixin, ListView):
    """Every access group with its number of cards and where it may charge."""

    section = "groups"
    template_name = "cards/group_list.html"
    context_object_name = "groups"
    paginate_by = PAGE_SIZE
    sorting = GROUP_ORDERING
    nouns = GROUP_NOUNS

    def get_queryset(self):
        groups = self.sort(groups_with_places().for_org(self.organization))
        self.filterset = GroupFilterSet(
            self.request.GET or None,
            queryset=groups,
            request=self.request,
            organization=self.organization,
        )
        if self.filterset.is_bound and not self.filterset.is_valid():
            return groups.none()
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(filter=self.filterset, filtered=is_filtered(self.request.GET))
        return context


def change_group_cards(group, add_uids: list[str], remove_uids: list[str]) -> None:
    """The API's add-cards and remove-cards in one transaction: all of the uids, or none."""
    with transaction.atomic():
        if add_uids:
            add_cards_to_group(group, add_uids)
        if remove_uids:
            remove_cards_from_group(group, remove_uids)


class GroupFormMixin(InvalidFormIs400, OrganizationFormMixin):
    """Save the group, its places and (a new group's) first cards in one transaction."""

    section = "groups"
    template_name = "cards/group_form.html"
    context_object_name = "group"

    def form_valid(self, form):
        try:
            with transaction.atomic():
                response = super().form_valid(form)
                # Only a new group's form has cards; an existing group's go through GroupCardsView.
                change_group_cards(self.object, form.cleaned_data.get("add_uids") or [], [])
        except UnknownCards as error:
            # A card was deleted between the form's check and the write.
            form.add_error("add_uids", unknown_uids_error(error.uids))
            return self.rolled_back(form)
        except IntegrityError:
            # The form checked the name; only a twin saved meanwhile gets here.
            form.add_error("name", str(NAME_TAKEN))
            return self.rolled_back(form)
        messages.success(
            self.request, _("Access group %(name)s saved.") % {"name": self.object.name}
        )
        return response

    def get_success_url(self):
        return group_page(self.organization, self.object)


def group_page(organization, group) -> str:
    """The URL of the group's own page."""
    return reverse("cards:group-edit", kwargs={"org": organization.slug, "pk": group.pk})


class GroupCreateView(GroupFormMixin, OrganizationMixin, CreateView):
    """Add an access group (admins)."""

    required_role = Role.ADMIN
    form_class = NewAccessGroupForm


class GroupPageMixin(OrganizationObjectMixin):
    """A group's page: its details, its first cards, and the card form for operators."""

    section = "groups"
    model = AccessGroup
    template_name = "cards/group_form.html"
    context_object_name = "group"

    def get_queryset(self):
        return groups_with_places().for_org(self.organization)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["cards"] = with_standing(
            list(self.object.id_tokens.order_by("uid")[:GROUP_PAGE_CARDS])
        )
        if self.can.operate and "cards_form" not in context:
            context["cards_form"] = GroupCardsForm(organization=self.organization)
        return context


class GroupEditView(GroupFormMixin, GroupPageMixin, RoleToWrite, UpdateView):
    """An access group's cards and places; admins edit its name and places here."""

    write_role = Role.ADMIN
    form_class = AccessGroupForm


class GroupCardsView(GroupPageMixin, DetailView):
    """Put cards into a group and take cards out (POST only, operators), by uid."""

    required_role = Role.OPERATOR
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = GroupCardsForm(request.POST, organization=self.organization)
        if form.is_valid():
            add, remove = form.cleaned_data["add_uids"], form.cleaned_data["remove_uids"]
            try:
                change_group_cards(self.object, add, remove)
            except UnknownCards as error:
                # A card was deleted between the form's check and the write.
                field = "add_uids" if set(error.uids) & set(add) else "remove_uids"
                form.add_error(field, unknown_uids_error(error.uids))
            else:
                messages.success(
                    request,
                    _("Cards of access group %(name)s saved.") % {"name": self.object.name},
                )
                return redirect(group_page(self.organization, self.object))
        context = self.get_context_data(cards_form=form)
        if self.can.administer:
            # The page shows the admin's group form too, as the group is stored.
            context["form"] = AccessGroupForm(instance=self.object, organization=self.organization)
        return self.render_to_response(context, status=400)


class GroupDeleteView(OrganizationObjectMixin, DeleteView):
    """Delete an access group after a confirmation (admins); its cards stay."""

    section = "groups"
    required_role = Role.ADMIN
    context_object_name = "group"
    template_name = "cards/group_confirm_delete.html"

    def get_queryset(self):
        return groups_with_places().for_org(self.organization)

    def form_valid(self, form):
        messages.success(
            self.request, _("Access group %(name)s deleted.") % {"name": self.object.name}
        )
        return super().form_valid(form)

    def get_success_url(self):
        return reverse("cards:group-list", kwargs={"org": self.organization.slug})
