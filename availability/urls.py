"""Portal routes of availability (the report, its CSV, maintenance windows), under /o/<org>/."""

from django.urls import path

from availability import views

app_name = "availability"

urlpatterns = [
    path("availability/", views.AvailabilityView.as_view(), name="report"),
    path("availability/export.csv", views.AvailabilityExportView.as_view(), name="export"),
    path("availability/maintenance/", views.MaintenanceListView.as_view(), name="maintenance-list"),
    path(
        "availability/maintenance/add/",
        views.MaintenanceCreateView.as_view(),
        name="maintenance-add",
    ),
    path(
        "availability/maintenance/<int:pk>/",
        views.MaintenanceEditView.as_view(),
        name="maintenance-edit",
    ),
    path(
        "availability/maintenance/<int:pk>/delete/",
        views.MaintenanceDeleteView.as_view(),
        name="maintenance-delete",
    ),
]
