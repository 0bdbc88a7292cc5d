"""Portal routes of the organizations app: cards, groups and members under /o/<org slug>/,
and the invited person's own pages under /invitations/."""

from django.urls import path

from organizations import views

app_name = "organizations"

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
    path("members/", views.MemberListView.as_view(), name="member-list"),
    path("members/invite/", views.InviteView.as_view(), name="member-invite"),
    path(
        "invitations/<int:pk>/resend/",
        views.InvitationActionView.as_view(),
        {"action": "resend"},
        name="invitation-resend",
    ),
    path(
        "invitations/<int:pk>/revoke/",
        views.InvitationActionView.as_view(),
        {"action": "revoke"},
        name="invitation-revoke",
    ),
]

# Included by cms/urls.py under /invitations/ with the namespace "invitations".
invitation_patterns = [
    path("", views.MyInvitationsView.as_view(), name="mine"),
    path("<int:pk>/answer/", views.AnswerInvitationView.as_view(), name="answer"),
    path("<str:token>/", views.InvitationLinkView.as_view(), name="respond"),
]
