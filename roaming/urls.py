"""Portal routes of the roaming app (roaming activity), under /o/<org slug>/."""

from django.urls import path

from cms.portal.views import not_built_yet as todo

app_name = "roaming"

urlpatterns = [
    path("roaming/", todo, name="activity"),
    path("sites/<int:site>/roaming/", todo, name="site-activity"),
]
