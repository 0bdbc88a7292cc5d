"""Portal routes of baselines, under /o/<org>/."""

from django.urls import path

from baselines import views

app_name = "baselines"

urlpatterns = [
    path("baselines/", views.BaselineListView.as_view(), name="baseline-list"),
    path("baselines/new/", views.BaselineCreateView.as_view(), name="baseline-create"),
    path("baselines/<int:pk>/", views.BaselineDetailView.as_view(), name="baseline-detail"),
    path("baselines/<int:pk>/edit/", views.BaselineEditView.as_view(), name="baseline-edit"),
    path("baselines/<int:pk>/delete/", views.BaselineDeleteView.as_view(), name="baseline-delete"),
    path("baselines/<int:pk>/runs/", views.BaselineRunsPartView.as_view(), name="baseline-runs"),
]
