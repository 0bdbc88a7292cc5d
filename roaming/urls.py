"""Portal routes of the roaming app (roaming activity), under /o/<org slug>/."""

from django.urls import path

from roaming import views

app_name = "roaming"

urlpatterns = [
    path("roaming/", views.RoamingActivityView.as_view(), name="activity"),
    path(
        "sites/<int:site>/roaming/", views.SiteRoamingActivityView.as_view(), name="site-activity"
    ),
]
