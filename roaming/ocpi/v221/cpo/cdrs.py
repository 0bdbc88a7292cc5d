"""OCPI 2.2.1 cpo/cdrs (to be written)."""

urlpatterns = []
