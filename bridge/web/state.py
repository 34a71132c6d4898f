"""What every endpoint reads from the app: settings, the database and shared checks, typed."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from bridge.db import Database
from bridge.settings import Settings
from bridge.usecases.pbx_health import PbxHealth, check_pbxes
from bridge.web.shared_check import SharedCheck

# How long one round of PBX health checks answers /healthz?pbx=1 for everyone.
PBX_HEALTH_TTL = 30.0


@dataclass(frozen=True, slots=True)
class AppState:
    """The bridge's settings and database, as :func:`bridge.app.create_app` built them."""

    settings: Settings
    database: Database
    pbx_health: SharedCheck[list[PbxHealth]] = field(init=False)

    def __post_init__(self) -> None:
        key = self.settings.encryption_key
        check = SharedCheck(lambda: check_pbxes(self.database, key=key), ttl=PBX_HEALTH_TTL)
        object.__setattr__(self, "pbx_health", check)


def app_state(request: Request) -> AppState:
    """Return the state of the app serving ``request``."""
    state = request.app.state.bridge
    assert isinstance(state, AppState)  # set once by create_app, never replaced
    return state
