"""label-studio-sso: single sign-on for Label Studio Community Edition."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("label-studio-sso")  # written once, in the Dockerfile
except PackageNotFoundError:  # imported from a checkout, not installed
    __version__ = "0+unknown"
