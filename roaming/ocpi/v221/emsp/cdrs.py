"""OCPI 2.2.1 emsp/cdrs (to be written)."""

urlpatterns = []
