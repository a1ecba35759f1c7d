"""The committed contract: openapi/openapi.json is this document, byte for byte."""

from __future__ import annotations

from typing import Any

from service.app import create_app
from service.settings import Settings


def openapi_document() -> dict[str, Any]:
    # Default settings, so the document does not depend on the environment it is generated in.
    app = create_app(Settings.model_construct())
    return app.openapi()
