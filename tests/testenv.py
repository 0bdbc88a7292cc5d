"""Pytest plugin loaded first (-p): a throwaway secret key, so the suite needs no .env."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
