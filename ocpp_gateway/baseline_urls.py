"""Portal routes of applying baselines, under /o/<org>/ (namespace baseline-apply)."""

from django.urls import path

from ocpp_gateway.baseline_views import BaselineApplyView

app_name = "baseline-apply"

urlpatterns = [
    path("baselines/<int:pk>/apply/", BaselineApplyView.as_view(), name="apply"),
]
