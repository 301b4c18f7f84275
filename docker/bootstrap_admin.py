"""Create Label Studio's first user from LABEL_STUDIO_USERNAME/_PASSWORD/_USER_TOKEN.

This is Label Studio's own start-up code (label_studio.server._create_user), the same
that ``label-studio start`` runs, so the user, its organization and its token are made
exactly as Label Studio makes them. It is idempotent: an existing user is left as is.
"""

import django

django.setup()

from label_studio.core.argparser import parse_input_args  # noqa: E402
from label_studio.server import _create_user  # noqa: E402

_create_user(parse_input_args(["start"]), {})
