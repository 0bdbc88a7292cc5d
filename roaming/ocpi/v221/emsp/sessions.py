"""OCPI 2.2.1 emsp/sessions (to be written)."""

urlpatterns = []
