"""Portal routes of the stations app (stations and sites), under /o/<org slug>/."""

from django.urls import path

from cms.portal.views import not_built_yet as todo

app_name = "stations"

urlpatterns = [
    path("stations/", todo, name="station-list"),
    path("stations/add/", todo, name="station-add"),
    path("stations/<int:pk>/", todo, name="station-detail"),
    path("stations/<int:pk>/commands/", todo, name="station-command"),
    path("sites/", todo, name="site-list"),
    path("sites/<int:pk>/", todo, name="site-detail"),
    path("sites/<int:pk>/sheet/", todo, name="site-sheet"),
    path("sites/<int:pk>/configuration/", todo, name="site-config"),
    path("sites/<int:pk>/controllers/", todo, name="site-controllers"),
]
