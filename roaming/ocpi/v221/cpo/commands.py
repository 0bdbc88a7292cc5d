"""OCPI 2.2.1 cpo/commands (to be written)."""

urlpatterns = []
