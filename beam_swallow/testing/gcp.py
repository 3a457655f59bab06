"""Google credentials for runs against local stand-ins of Google's services.

Beam asks google-auth for the machine's default credentials the first time a
process opens ``gs://`` or builds a Dataflow client, and on a machine without
any it retries with backoff for about 22 s (Beam's ``_get_credentials_with_retrys``:
four retries) before it goes on anonymously; google-auth's own switches do not
shorten that (``NO_GCE_CHECK=True``: 21 s, a closed ``GCE_METADATA_HOST``: 38 s,
measured on 2 cores). :func:`offline_credentials` writes an application-default
credentials file that google-auth accepts at once and never refreshes: an
authorized user with a token valid until 2999, which the GCS emulator and the
Dataflow stand-in ignore. Point ``GOOGLE_APPLICATION_CREDENTIALS`` at it (every
process started with that environment takes it too); never use it against
Google's real services, which refuse the token.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["CREDENTIALS_ENV", "offline_credentials"]

CREDENTIALS_ENV = "GOOGLE_APPLICATION_CREDENTIALS"

_OFFLINE = {
    "type": "authorized_user",
    "client_id": "offline",
    "client_secret": "offline",
    "refresh_token": "offline",
    "token": "offline",
    "expiry": "2999-01-01T00:00:00Z",
}


def offline_credentials(directory: Path) -> Path:
    """Write the offline credentials file into ``directory``; returns its path."""
    path = Path(directory) / "offline-credentials.json"
    path.write_text(json.dumps(_OFFLINE), encoding="utf-8")
    return path
