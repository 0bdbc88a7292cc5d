"""The portal's error pages (400, 403, 404, 500), in DEBUG too, and one log line per refusal."""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template import loader
from django.templatetags.static import static
from django.urls import Resolver404, get_urlconf, resolve
from django.views.generic import RedirectView

logger = logging.getLogger("portal.errors")


def render_error(
    request, template_name: str, status: int, context: dict | None = None
) -> HttpResponse:
    """An error page rendered without the request: no context processor, no database."""
    # A 500 may come from the database or a context processor itself; the same holds for
    # every error page, so none of them touches what may have failed.
    context = dict(context or {})
    if request is not None and is_fragment_request(request):
        context["base_template"] = "error_fragment.html"
    try:
        body = loader.render_to_string(template_name, context)
    except Exception:
        logger.exception("The %s page could not be rendered", status)
        body = f"<!DOCTYPE html><title>{status}</title><h1>{status}</h1>"
    return HttpResponse(body, status=status)


def is_fragment_request(request) -> bool:
    """An htmx request for part of a page: it gets the message alone, not a whole page."""
    headers = request.headers
    return headers.get("HX-Request") == "true" and headers.get("HX-Boosted") != "true"


def debug_detail(exception) -> str:
    """What a developer sees below the message in DEBUG: the exception's text, never the URLconf."""
    if not settings.DEBUG or exception is None:
        return ""
    if isinstance(exception, Resolver404):
        # Its argument lists every URL pattern tried: not for a page.
        return "No URL pattern matches this path."
    return str(exception)


def bad_request(request, exception=None):
    """400: the request could not be understood."""
    return render_error(request, "400.html", 400)


def permission_denied(request, exception=None):
    """403: the user's role does not allow this page or action."""
    return render_error(request, "403.html", 403, {"debug_detail": debug_detail(exception)})


def page_not_found(request, exception=None):
    """404: no such page, or an object of another organization (the same answer on purpose)."""
    return render_error(
        request,
        "404.html",
        404,
        {"request_path": request.path, "debug_detail": debug_detail(exception)},
    )


def server_error(request):
    """500: something failed on our side."""
    return render_error(request, "500.html", 500)


def csrf_failure(request, reason=""):
    """403 for a form whose CSRF token is missing or stale (typically an expired session)."""
    # django.security.csrf has already logged the one line with the reason.
    return render_error(
        request, "403.html", 403, {"csrf": True, "debug_detail": reason if settings.DEBUG else ""}
    )


def who(request) -> str:
    """The user for a log line: their username, or anonymous."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return "anonymous"
    return user.get_username()


class ErrorPagesMiddleware:
    """Answers a view's PermissionDenied and Http404 with the portal's pages, in DEBUG too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.DEBUG:
            # Django's own DEBUG answer to an unknown path lists every URL pattern: resolving
            # first lets that path get the portal's page (production does not need this:
            # handler404 answers there).
            try:
                resolve(request.path_info, getattr(request, "urlconf", None) or get_urlconf())
            except Resolver404 as error:
                return page_not_found(request, error)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied):
            # A refusal is an expected answer to a role check, not a failure: one line saying
            # who, where and why, instead of django.request's warning with a traceback.
            view = request.resolver_match.view_name if request.resolver_match else "-"
            reason = str(exception) or f"refused by {view}"
            logger.warning("Forbidden: %s %s (%s)", who(request), request.path, reason)
            response = permission_denied(request, exception)
            # Django's request logger skips a response marked as logged (django.utils.log).
            response._has_been_logged = True
            return response
        if isinstance(exception, Http404) and settings.DEBUG:
            # Without DEBUG Django calls handler404 itself; with it, its technical page.
            return page_not_found(request, exception)
        return None


class FaviconView(RedirectView):
    """/favicon.ico, which browsers ask for by themselves: the portal's SVG icon."""

    # Not permanent: the icon's hashed name changes with its content.
    permanent = False

    def get_redirect_url(self, *args, **kwargs):
        return static("portal/favicon.svg")

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Cache-Control"] = "max-age=86400, public"
        return response
