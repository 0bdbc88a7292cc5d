"""localstripe, a stateful fake of Stripe's API from PyPI, as a real process for payment tests."""

import os
import subprocess
import time

import pytest
import requests

from tests.serverprocess import BASE_DIR, free_port, start_listening

VENV = BASE_DIR / ".venv-localstripe"
SECRET_KEY = "sk_test_platform"
WEBHOOK_SECRET = "whsec_test_endpoint"


class StripeFake:
    """A running localstripe: its base URL, and the calls a payer's browser would make."""

    def __init__(self, url: str):
        self.url = url

    def _post(self, path: str, data: dict | None = None) -> dict:
        answer = requests.post(
            f"{self.url}{path}", data=data or {}, auth=(SECRET_KEY, ""), timeout=10
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def flush(self) -> None:
        """Forget every object and webhook endpoint (a fresh account per test)."""
        requests.delete(f"{self.url}/_config/data", timeout=10).raise_for_status()

    def card(self, number: str = "4242424242424242") -> str:
        """A card payment method as Stripe.js makes it in the payer's browser; its id."""
        return self._post(
            "/v1/payment_methods",
            {
                "type": "card",
                "card[number]": number,
                "card[exp_month]": "12",
                "card[exp_year]": "2034",
                "card[cvc]": "123",
            },
        )["id"]

    def pay(self, intent_id: str, number: str = "4242424242424242") -> dict:
        """What the hosted payment element does: attach the payer's card and confirm."""
        self._post(f"/v1/payment_intents/{intent_id}", {"payment_method": self.card(number)})
        answer = requests.post(
            f"{self.url}/v1/payment_intents/{intent_id}/confirm",
            auth=(SECRET_KEY, ""),
            timeout=10,
        )
        return answer.json()

    def intent(self, intent_id: str) -> dict:
        """The payment as Stripe has it."""
        answer = requests.get(
            f"{self.url}/v1/payment_intents/{intent_id}", auth=(SECRET_KEY, ""), timeout=10
        )
        answer.raise_for_status()
        return answer.json()

    def send_webhooks_to(self, url: str, secret: str = WEBHOOK_SECRET) -> None:
        """Register our endpoint; localstripe signs each event it sends there with `secret`."""
        answer = requests.post(
            f"{self.url}/_config/webhooks/endpoint",
            data={"url": url, "secret": secret},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text


@pytest.fixture(scope="session")
def localstripe_server():
    """One localstripe process for the session (flushed per test by `stripe_fake`)."""
    executable = VENV / "bin" / "localstripe"
    assert executable.exists(), "run `make localstripe-venv` (the README's test command does)"
    port = free_port()
    # Its access log would fill a pipe nobody reads.
    server = start_listening(
        [str(executable), "--port", str(port)],
        port,
        dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield StripeFake(f"http://127.0.0.1:{port}")
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def stripe_fake(localstripe_server, settings):
    """Settings pointing the stripe library at localstripe, which starts empty."""
    localstripe_server.flush()
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_platform"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = localstripe_server.url
    return localstripe_server


def wait_for(condition, timeout: float = 10.0):
    """Poll until `condition()` is truthy (localstripe sends webhooks a second after events)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    return condition()
