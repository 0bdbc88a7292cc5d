"""OCPI 2.2.1 emsp/tokens (to be written)."""

urlpatterns = []
