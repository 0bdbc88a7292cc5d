"""OCPI 2.2.1 emsp/tariffs (to be written)."""

urlpatterns = []
