"""OCPI 2.2.1 cpo/tariffs (to be written)."""

urlpatterns = []
