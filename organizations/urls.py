"""Portal routes of the organizations app: members under /o/<org slug>/, and the invited
person's own pages under /invitations/."""

from django.urls import path

from organizations import views

app_name = "organizations"

urlpatterns = [
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
