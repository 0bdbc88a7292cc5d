"""The portal's language: the user's setting wins over the browser's Accept-Language."""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import translation

from portal.models import UserPreference

SESSION_KEY = "portal_language"


def remember_language(request, response, language: str) -> None:
    """Use `language` from now on in this session and browser; empty forgets the choice."""
    if language:
        request.session[SESSION_KEY] = language
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    else:
        request.session.pop(SESSION_KEY, None)
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)


@receiver(user_logged_in)
def load_language(sender, request, user, **kwargs):
    """Carry the user's saved language into the new session."""
    language = UserPreference.objects.filter(user=user).values_list("language", flat=True).first()
    if language and request is not None:
        request.session[SESSION_KEY] = language


class UserLanguageMiddleware:
    """After authentication: the session's saved language overrides what the browser asked."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        if language and language != request.LANGUAGE_CODE:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language:
            response.headers.setdefault("Content-Language", language)
        return response
