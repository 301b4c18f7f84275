"""Coverage-guided fuzzing (atheris) of login-token verification and the token API's parser.

Run by tests/test_fuzz.py for a bounded time:
    python -m tests.fuzz.fuzz_inputs -max_total_time=20 [corpus directory]
The first input byte picks the target. A crash is any exception other than the ones each
function documents, or a token that verifies without the instance's signature.
"""

import contextlib
import os
import sys
import tempfile

from tests.support.label_studio import BASE_ENV

os.environ.update({**BASE_ENV, "LABEL_STUDIO_BASE_DATA_DIR": tempfile.mkdtemp(prefix="lsso-fuzz-")})

import atheris

# Coverage feedback from this project's code and PyJWT only: instrumenting all of Label
# Studio takes minutes. These modules import no models, so they load before Django is set up.
with atheris.instrument_imports(include=["label_studio_sso", "jwt"]):
    import jwt

    import label_studio_sso.http
    import label_studio_sso.login_tokens
    import label_studio_sso.portal.tokens  # noqa: F401

import django

django.setup()

from django.test import RequestFactory  # noqa: E402
from rest_framework.request import Request  # noqa: E402

from label_studio_sso.errors import ApiError, TokenRejected  # noqa: E402
from label_studio_sso.login_tokens import verify_login_token  # noqa: E402
from label_studio_sso.portal import token_request  # noqa: E402
from label_studio_sso.portal.keys import signing_key  # noqa: E402
from label_studio_sso.portal.tokens import issue_login_token  # noqa: E402

for function in (
    token_request.parse_token_request,
    token_request._clean_email,
    token_request._clean_next,
):  # loaded after set-up
    atheris.instrument_func(function)

KEY = signing_key().secret
FACTORY = RequestFactory()
CONTENT_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "application/json; charset=x",
)


def fuzz_token(data: bytes) -> None:
    raw = data.decode("utf-8", errors="surrogateescape")
    try:
        verify_login_token(raw)
    except TokenRejected:
        return
    # Accepted: it must carry a valid signature of this instance's key.
    jwt.decode(raw, KEY, algorithms=["HS256"], options={"verify_aud": False, "verify_exp": False})


def fuzz_body(data: bytes) -> None:
    content_type = CONTENT_TYPES[data[0] % len(CONTENT_TYPES)] if data else CONTENT_TYPES[0]
    request = FACTORY.generic("POST", "/api/sso/token", data[1:], content_type=content_type)
    with contextlib.suppress(ApiError):
        token_request.parse_token_request(Request(request))


def test_one_input(data: bytes) -> None:
    if not data:
        return
    (fuzz_token if data[0] % 2 == 0 else fuzz_body)(data[1:])


def seeds(directory: str) -> None:
    """A valid token and a valid body, so the search starts from deep inside both paths."""
    os.makedirs(directory, exist_ok=True)
    token = issue_login_token(1, "alice@example.com").token.encode()
    for name, content in (("token", b"\x00" + token), ("body", b"\x01\x00" + b'{"email": "a@example.com"}')):
        with open(os.path.join(directory, name), "wb") as seed:
            seed.write(content)


if __name__ == "__main__":
    corpus = [argument for argument in sys.argv[1:] if not argument.startswith("-")]
    if corpus:
        seeds(corpus[0])
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
