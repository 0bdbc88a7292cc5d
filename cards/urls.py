"""Portal routes of the cards app: cards and access groups under /o/<org slug>/."""

from django.urls import path

from cards import views

app_name = "cards"

urlpatterns = [
    path("cards/", views.CardListView.as_view(), name="card-list"),
    path("cards/add/", views.CardCreateView.as_view(), name="card-add"),
    path("cards/import/", views.CardImportView.as_view(), name="card-import"),
    path("cards/<int:pk>/", views.CardEditView.as_view(), name="card-edit"),
    path("cards/<int:pk>/block/", views.CardBlockView.as_view(), name="card-block"),
    path("cards/<int:pk>/delete/", views.CardDeleteView.as_view(), name="card-delete"),
    path("groups/", views.GroupListView.as_view(), name="group-list"),
    path("groups/add/", views.GroupCreateView.as_view(), name="group-add"),
    path("groups/<int:pk>/", views.GroupEditView.as_view(), name="group-edit"),
    path("groups/<int:pk>/cards/", views.GroupCardsView.as_view(), name="group-cards"),
    path("groups/<int:pk>/delete/", views.GroupDeleteView.as_view(), name="group-delete"),
]
