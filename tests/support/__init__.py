"""Helpers the tests import (``from tests.support.oidc import sign_in``): peers, corpora, servers."""
