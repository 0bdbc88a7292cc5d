"""Portal routes of the organizations app (access groups, RFID cards), under /o/<org slug>/."""

from django.urls import path

from cms.portal.views import not_built_yet as todo

app_name = "organizations"

urlpatterns = [
    path("cards/", todo, name="card-list"),
    path("cards/add/", todo, name="card-add"),
    path("cards/import/", todo, name="card-import"),
    path("cards/<int:pk>/", todo, name="card-edit"),
    path("cards/<int:pk>/block/", todo, name="card-block"),
    path("groups/", todo, name="group-list"),
    path("groups/add/", todo, name="group-add"),
    path("groups/<int:pk>/", todo, name="group-edit"),
]
