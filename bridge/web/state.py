"""What every endpoint reads from the app: settings and the database, typed."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from bridge.db import Database
from bridge.settings import Settings


@dataclass(frozen=True, slots=True)
class AppState:
    """The bridge's settings and database, as :func:`bridge.app.create_app` built them."""

    settings: Settings
    database: Database


def app_state(request: Request) -> AppState:
    """Return the state of the app serving ``request``."""
    state = request.app.state.bridge
    assert isinstance(state, AppState)  # set once by create_app, never replaced
    return state
