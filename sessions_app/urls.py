"""Portal routes of the sessions app (sessions, CSV export, analytics), under /o/<org slug>/."""

from django.urls import path

from sessions_app import views

app_name = "sessions"

urlpatterns = [
    path("sessions/", views.SessionListView.as_view(), name="session-list"),
    path("sessions/table/", views.SessionTableView.as_view(), name="session-table"),
    path("sessions/export.csv", views.SessionExportView.as_view(), name="session-export"),
    path("sessions/<int:pk>/", views.SessionDetailView.as_view(), name="session-detail"),
    path(
        "sessions/<int:pk>/progress/",
        views.SessionProgressView.as_view(),
        name="session-progress",
    ),
    path("sessions/<int:pk>/review/", views.SessionReviewView.as_view(), name="session-review"),
    path("analytics/", views.AnalyticsView.as_view(), name="analytics"),
    path("sites/<int:site>/sessions/", views.SiteSessionsView.as_view(), name="site-sessions"),
    path(
        "sites/<int:site>/sessions/table/",
        views.SiteSessionTableView.as_view(),
        name="site-session-table",
    ),
    path("sites/<int:site>/analytics/", views.SiteAnalyticsView.as_view(), name="site-analytics"),
]
