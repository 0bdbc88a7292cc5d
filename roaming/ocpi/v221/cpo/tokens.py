"""OCPI 2.2.1 cpo/tokens (to be written)."""

urlpatterns = []
