"""A URL configuration that serves nothing over HTTP."""

urlpatterns = []
