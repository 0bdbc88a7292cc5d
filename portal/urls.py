"""The portal's routes: accounts, settings, and each organization's pages under /o/<slug>/."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal import views

app_name = "portal"

organization_patterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("running-sessions/", views.RunningSessionsFragment.as_view(), name="running-sessions"),
    path("key-figures/", views.KeyFiguresFragment.as_view(), name="key-figures"),
    path("station-figures/", views.StationFiguresFragment.as_view(), name="station-figures"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("settings/", views.PreferencesView.as_view(), name="preferences"),
    path("language/", views.set_language, name="set-language"),
    path("o/<slug:org>/", include(organization_patterns)),
]

# Django's own account views with the portal's templates (templates/registration/).
account_patterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"
    ),
]
