"""The platform's URLconf and error handlers, plus a view that fails: for the 500 page's tests."""

from django.urls import path

from cms.urls import handler400, handler403, handler404, handler500
from cms.urls import urlpatterns as platform_patterns


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), *platform_patterns]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
