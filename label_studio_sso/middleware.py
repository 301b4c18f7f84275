"""Every middleware of label-studio-sso, importable from one stable place.

``JWTAutoLoginMiddleware`` keeps its 6.x path; the others are listed here so a settings
file names ``label_studio_sso.middleware.*`` whatever the package's inner layout.
"""

from .frame_stack import FrameRoomMiddleware
from .guards.body_limit import TokenApiBodyLimitMiddleware
from .guards.cross_origin import CrossOriginWriteMiddleware
from .guards.ended_sessions import EndedSessionMiddleware
from .guards.framing import FrameAncestorsMiddleware
from .portal.middleware import JWTAutoLoginMiddleware
from .proxy.middleware import TrustedGatewayMiddleware

__all__ = [
    "CrossOriginWriteMiddleware",
    "EndedSessionMiddleware",
    "FrameAncestorsMiddleware",
    "FrameRoomMiddleware",
    "JWTAutoLoginMiddleware",
    "TokenApiBodyLimitMiddleware",
    "TrustedGatewayMiddleware",
]
