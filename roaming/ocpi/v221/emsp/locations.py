"""OCPI 2.2.1 emsp/locations (to be written)."""

urlpatterns = []
