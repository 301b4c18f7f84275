"""label-studio-sso: single sign-on for Label Studio Community Edition."""

__version__ = "7.0.0"
