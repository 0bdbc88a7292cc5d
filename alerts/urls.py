"""Portal routes of alerting, under /o/<org slug>/."""

from django.urls import path

from alerts import views

app_name = "alerts"

urlpatterns = [
    path("alerts/", views.AlertListView.as_view(), name="alert-list"),
    path("alerts/<int:pk>/", views.AlertDetailView.as_view(), name="alert-detail"),
    path(
        "alerts/<int:pk>/acknowledge/",
        views.AlertAcknowledgeView.as_view(),
        name="alert-acknowledge",
    ),
    path("alerts/<int:pk>/resolve/", views.AlertResolveView.as_view(), name="alert-resolve"),
    path("alerts/open-faults/", views.OpenFaultsFragment.as_view(), name="open-faults"),
    path("alerts/preferences/", views.PreferenceView.as_view(), name="preferences"),
    path("alerts/rules/", views.RuleListView.as_view(), name="rule-list"),
    path("alerts/rules/add/", views.RuleCreateView.as_view(), name="rule-add"),
    path("alerts/rules/<int:pk>/", views.RuleEditView.as_view(), name="rule-edit"),
    path("alerts/rules/<int:pk>/toggle/", views.RuleToggleView.as_view(), name="rule-toggle"),
    path("alerts/rules/<int:pk>/delete/", views.RuleDeleteView.as_view(), name="rule-delete"),
    path("alerts/webhooks/", views.EndpointListView.as_view(), name="endpoint-list"),
    path("alerts/webhooks/add/", views.EndpointCreateView.as_view(), name="endpoint-add"),
    path("alerts/webhooks/<int:pk>/", views.EndpointDetailView.as_view(), name="endpoint-detail"),
    path(
        "alerts/webhooks/<int:pk>/rotate/",
        views.EndpointRotateView.as_view(),
        name="endpoint-rotate",
    ),
    path("alerts/webhooks/<int:pk>/test/", views.EndpointTestView.as_view(), name="endpoint-test"),
    path(
        "alerts/webhooks/<int:pk>/delete/",
        views.EndpointDeleteView.as_view(),
        name="endpoint-delete",
    ),
    path("sites/<int:site>/alerts/", views.SiteAlertsView.as_view(), name="site-alerts"),
]
