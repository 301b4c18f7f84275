"""The 6.x import path of the authentication backend (``AUTHENTICATION_BACKENDS``); sessions store it."""

from .portal.backend import JWTAuthenticationBackend

__all__ = ["JWTAuthenticationBackend"]
