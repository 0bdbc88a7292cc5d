"""OCPI 2.2.1 cpo/sessions (to be written)."""

urlpatterns = []
