"""OCPI 2.2.1 cpo/locations (to be written)."""

urlpatterns = []
