"""Portal routes of the roaming app (activity, partners, our profile), under /o/<org slug>/."""

from django.urls import path

from roaming import driver_views, views

app_name = "roaming"

PARTNER_ACTIONS = (
    "issue-token",
    "rotate",
    "unregister",
    "suspend",
    "reactivate",
    "retry-pushes",
    "sync",
)

urlpatterns = [
    path("roaming/", views.RoamingActivityView.as_view(), name="activity"),
    path(
        "sites/<int:site>/roaming/", views.SiteRoamingActivityView.as_view(), name="site-activity"
    ),
    path("roaming/partners/", views.PartnerListView.as_view(), name="partner-list"),
    path("roaming/partners/new/", views.PartnerCreateView.as_view(), name="partner-create"),
    path("roaming/profile/", views.ProfileUpdateView.as_view(), name="profile"),
    # Our eMSP role: our drivers at partners' stations, their locations, their invoices.
    path("roaming/abroad/", driver_views.ChargingAbroadView.as_view(), name="abroad"),
    path(
        "roaming/abroad/export/",
        driver_views.ChargingAbroadExportView.as_view(),
        name="abroad-export",
    ),
    path(
        "roaming/partner-locations/",
        driver_views.PartnerLocationListView.as_view(),
        name="partner-locations",
    ),
    path(
        "roaming/reconciliation/",
        driver_views.CdrReconciliationView.as_view(),
        name="reconciliation",
    ),
    path("roaming/partners/<int:pk>/", views.PartnerDetailView.as_view(), name="partner-detail"),
    path(
        "roaming/partners/<int:pk>/edit/",
        views.PartnerUpdateView.as_view(),
        name="partner-update",
    ),
    path(
        "roaming/partners/<int:pk>/connect/",
        views.PartnerConnectView.as_view(),
        name="partner-connect",
    ),
    *(
        path(
            f"roaming/partners/<int:pk>/{action}/",
            views.PartnerActionView.as_view(action=action),
            name=f"partner-{action}",
        )
        for action in PARTNER_ACTIONS
    ),
]
