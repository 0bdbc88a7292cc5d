"""Portal routes of availability (report, CSV, maintenance windows and log), under /o/<org>/."""

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
    path(
        "availability/maintenance/<int:pk>/view/",
        views.MaintenanceWindowDetailView.as_view(),
        name="maintenance-detail",
    ),
    path(
        "availability/maintenance/due/", views.MaintenanceDueView.as_view(), name="maintenance-due"
    ),
    path(
        "availability/maintenance/due/export.csv",
        views.MaintenanceDueExportView.as_view(),
        name="maintenance-due-export",
    ),
    path(
        "availability/maintenance/records/",
        views.MaintenanceRecordListView.as_view(),
        name="maintenance-record-list",
    ),
    path(
        "availability/maintenance/records/add/",
        views.MaintenanceRecordCreateView.as_view(),
        name="maintenance-record-add",
    ),
    path(
        "availability/maintenance/records/<int:pk>/",
        views.MaintenanceRecordDetailView.as_view(),
        name="maintenance-record-detail",
    ),
    path(
        "availability/maintenance/records/<int:pk>/edit/",
        views.MaintenanceRecordEditView.as_view(),
        name="maintenance-record-edit",
    ),
    path(
        "availability/maintenance/records/<int:pk>/delete/",
        views.MaintenanceRecordDeleteView.as_view(),
        name="maintenance-record-delete",
    ),
    path(
        "availability/maintenance/records/<int:pk>/attachments/",
        views.MaintenanceAttachmentAddView.as_view(),
        name="maintenance-attachment-add",
    ),
    path(
        "availability/maintenance/records/<int:pk>/attachments/<int:attachment_pk>/",
        views.MaintenanceAttachmentView.as_view(),
        name="maintenance-attachment",
    ),
    path(
        "availability/maintenance/records/<int:pk>/attachments/<int:attachment_pk>/delete/",
        views.MaintenanceAttachmentDeleteView.as_view(),
        name="maintenance-attachment-delete",
    ),
]
