"""Portal routes of the sessions app (sessions, CSV export, analytics), under /o/<org slug>/."""

from django.urls import path

from cms.portal.views import not_built_yet as todo

app_name = "sessions"

urlpatterns = [
    path("sessions/", todo, name="session-list"),
    path("sessions/export.csv", todo, name="session-export"),
    path("sessions/<int:pk>/", todo, name="session-detail"),
    path("analytics/", todo, name="analytics"),
    path("sites/<int:site>/sessions/", todo, name="site-sessions"),
    path("sites/<int:site>/analytics/", todo, name="site-analytics"),
]
