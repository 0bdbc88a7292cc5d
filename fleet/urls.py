"""Portal routes of fleet, under /o/<org>/."""

from django.urls import path

from fleet import views

app_name = "fleet"

urlpatterns = [
    path("campaigns/", views.CampaignListView.as_view(), name="campaign-list"),
    path("campaigns/add/", views.CampaignCreateView.as_view(), name="campaign-add"),
    path("campaigns/<int:pk>/", views.CampaignDetailView.as_view(), name="campaign-detail"),
    path("campaigns/<int:pk>/edit/", views.CampaignEditView.as_view(), name="campaign-edit"),
    path(
        "campaigns/<int:pk>/progress/",
        views.CampaignProgressView.as_view(),
        name="campaign-progress",
    ),
    *(
        path(
            f"campaigns/<int:pk>/{action}/",
            views.CampaignActionView.as_view(action=action),
            name=f"campaign-{action}",
        )
        for action in views.ACTION_ROLES
    ),
]
