"""Portal routes of the organizations app: members, API keys and settings under /o/<org slug>/,
and the invited person's own pages under /invitations/."""

from django.urls import path

from organizations import views

app_name = "organizations"

urlpatterns = [
    path("members/", views.MemberListView.as_view(), name="member-list"),
    path("members/invite/", views.InviteView.as_view(), name="member-invite"),
    path(
        "members/<int:pk>/role/",
        views.MemberActionView.as_view(),
        {"action": "role"},
        name="member-role",
    ),
    path(
        "members/<int:pk>/remove/",
        views.MemberActionView.as_view(),
        {"action": "remove"},
        name="member-remove",
    ),
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
    path("api-keys/", views.APIKeyListView.as_view(), name="api-key-list"),
    path("api-keys/<str:prefix>/revoke/", views.APIKeyRevokeView.as_view(), name="api-key-revoke"),
    path("organization/", views.OrganizationSettingsView.as_view(), name="settings"),
]

# Included by cms/urls.py under /invitations/ with the namespace "invitations".
invitation_patterns = [
    path("", views.MyInvitationsView.as_view(), name="mine"),
    path("<int:pk>/answer/", views.AnswerInvitationView.as_view(), name="answer"),
    path("<str:token>/", views.InvitationLinkView.as_view(), name="respond"),
    path("<str:token>/sign-up/", views.InvitationSignupView.as_view(), name="signup"),
]
