"""The ASGI application: HTTP to Django, WebSockets to the call signalling consumer (kinship/calls/routing.py),
behind the allowed-hosts origin check and the session authentication of the HTTP side."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Django must be set up before the routing (and through it the models) is imported.
django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from kinship.calls.provider import preload as preload_media_server  # noqa: E402
from kinship.calls.routing import websocket_urlpatterns  # noqa: E402

# The media server's client is imported at start-up, not while the first call's participants wait for it.
preload_media_server()

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
