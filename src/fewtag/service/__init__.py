"""The HTTP service: FastAPI app, settings, micro-batching and the GitHub webhook.

``fewtag serve MODEL`` runs :func:`create_app` under uvicorn. Import this
package only with the ``serve`` extra installed (fastapi, uvicorn,
pydantic-settings).
"""

from fewtag.service.app import create_app
from fewtag.service.settings import ServiceSettings, get_settings

__all__ = ["create_app", "ServiceSettings", "get_settings"]
