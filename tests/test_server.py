"""The image's server settings, from one place: gunicorn's bind and the healthcheck's URL agree."""

from __future__ import annotations

import pytest

from label_studio_sso.container.environment import EnvironmentInvalid
from label_studio_sso.container.server import bind_address, gunicorn_settings, health_url


@pytest.mark.parametrize(
    ("address", "bind", "health"),
    [
        ("0.0.0.0", "0.0.0.0:8080", "http://127.0.0.1:8080/health"),
        ("::", "[::]:8080", "http://[::1]:8080/health"),
        ("127.0.0.1", "127.0.0.1:8080", "http://127.0.0.1:8080/health"),
        ("10.1.2.3", "10.1.2.3:8080", "http://10.1.2.3:8080/health"),
        ("2001:db8::7", "[2001:db8::7]:8080", "http://[2001:db8::7]:8080/health"),
        (" 0:0::0 ", "[::]:8080", "http://[::1]:8080/health"),
    ],
)
def test_the_healthcheck_asks_where_gunicorn_listens(address: str, bind: str, health: str) -> None:
    environ = {"LISTEN_ADDRESS": address}
    assert bind_address(environ) == bind
    assert gunicorn_settings(environ)["bind"] == [bind]
    assert health_url(environ) == health


def test_port_and_tls_reach_both() -> None:
    environ = {"PORT": "8443", "TLS_CERT_FILE": "/tls/cert.pem", "TLS_KEY_FILE": "/tls/key.pem"}
    settings = gunicorn_settings(environ)
    assert settings["bind"] == ["0.0.0.0:8443"]
    assert (settings["certfile"], settings["keyfile"]) == ("/tls/cert.pem", "/tls/key.pem")
    assert health_url(environ) == "https://127.0.0.1:8443/health"


def test_workers_are_threaded_so_idle_connections_do_not_hold_them() -> None:
    settings = gunicorn_settings({"WEB_CONCURRENCY": "3", "GUNICORN_THREADS": "6", "GUNICORN_TIMEOUT": "60"})
    assert (settings["worker_class"], settings["workers"], settings["threads"]) == ("gthread", 3, 6)
    assert settings["timeout"] == 60
    assert settings["graceful_timeout"] < 60  # Kubernetes' default grace period


def test_defaults_are_two_workers_of_four_threads_on_every_address() -> None:
    settings = gunicorn_settings({})
    assert (settings["bind"], settings["workers"], settings["threads"]) == (["0.0.0.0:8080"], 2, 4)
    assert settings["certfile"] is None


@pytest.mark.parametrize("address", ["fe80::1%eth0", "localhost", "0.0.0.0:8080", ""])
def test_an_address_gunicorn_cannot_bind_is_refused_naming_the_variable(address: str) -> None:
    with pytest.raises(EnvironmentInvalid, match="LISTEN_ADDRESS="):
        bind_address({"LISTEN_ADDRESS": address})
