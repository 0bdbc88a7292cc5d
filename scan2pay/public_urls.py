"""Public Scan2Pay routes (no login), under /pay/: the language switch and a connector's page."""

from django.urls import path
from django.views.i18n import set_language

from scan2pay import views

app_name = "pay"

urlpatterns = [
    # Django's own switch: it sets the language cookie and returns to the page (`next`).
    # No pay code reads "language" (codes have no "l").
    path("language/", set_language, name="set-language"),
    path("<str:pay_code>/", views.PayPageView.as_view(), name="page"),
]
