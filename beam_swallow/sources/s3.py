"""S3 as the pipeline meets it: where a bucket is, how to reach it, and a check that fails fast.

``s3://`` paths for ``--input``, ``--output`` and ``--cache_dir`` go through
Beam's own S3 filesystem (``apache-beam[aws]``), configured by Beam's flags
(``--s3_endpoint_url``, ``--s3_region_name``, ``--s3_access_key_id``,
``--s3_secret_access_key``, ...; without keys, boto3's usual chain: the
``AWS_*`` variables, a profile, an instance role). Beam's client retries a
refused or unreachable request for minutes before it says anything, so
:func:`check_s3_paths` asks each bucket once, with one attempt and short
timeouts, before a run starts: a missing credential, a refused one or an
endpoint that does not answer is a one-line ValueError naming what is wrong.

:class:`S3Settings` carries the same settings (small and picklable) to the
fetch stage, which builds its own boto3 client per worker with
:func:`make_client`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

__all__ = ["S3Settings", "check_s3_paths", "has_credentials", "make_client", "split_s3_url"]

SCHEME = "s3://"
# The check's own limits: one attempt, a few seconds, whatever Beam's client would do.
_CHECK_TIMEOUT_S = 5.0
_DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class S3Settings:
    """How to reach an S3 store: Beam's ``S3Options`` values (None: boto3's default).

    ``verify`` is a CA bundle path or None; ``disable_ssl`` talks plain HTTP.
    The secret and the session token stay out of ``repr``.
    """

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    verify: str | None = None
    disable_ssl: bool = False


def split_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix/`` -> ``("bucket", "some/prefix/")``; raises ValueError
    for a URL that is not ``s3://`` or names no bucket."""
    if not url.startswith(SCHEME):
        raise ValueError(f"not an s3:// URL: {url!r}")
    parts = urlsplit(url)
    if not parts.netloc:
        raise ValueError(f"no bucket in {url!r}")
    return parts.netloc, parts.path.lstrip("/")


def has_credentials(settings: S3Settings) -> bool:
    """Whether keys are given in ``settings`` or boto3's chain finds some."""
    import boto3

    if settings.access_key_id and settings.secret_access_key:
        return True
    return boto3.session.Session().get_credentials() is not None


def make_client(
    settings: S3Settings,
    *,
    anonymous: bool = False,
    timeout_s: float = 60.0,
    max_connections: int = 10,
) -> Any:
    """A boto3 S3 client with no retries of its own (callers decide what to retry).

    ``anonymous`` sends unsigned requests (public buckets). Timeouts are per
    connect and per read, in seconds.
    """
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    config = Config(
        signature_version=UNSIGNED if anonymous else None,
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=timeout_s,
        read_timeout=timeout_s,
        max_pool_connections=max_connections,
    )
    keys = {}
    if not anonymous:
        keys = {
            "aws_access_key_id": settings.access_key_id,
            "aws_secret_access_key": settings.secret_access_key,
            "aws_session_token": settings.session_token,
        }
    return boto3.session.Session().client(
        "s3",
        region_name=settings.region or _DEFAULT_REGION,
        endpoint_url=settings.endpoint_url,
        use_ssl=not settings.disable_ssl,
        verify=settings.verify,
        config=config,
        **keys,
    )


def check_s3_paths(paths: Iterable[str | None], settings: S3Settings) -> None:
    """Raise ValueError (one line) unless each ``s3://`` path's bucket answers a listing.

    Other paths are ignored. Several comma-separated patterns count one by one;
    a glob's prefix up to its first wildcard is listed.
    """
    buckets: dict[str, str] = {}
    for value in paths:
        for path in (value or "").split(","):
            path = path.strip()
            if path.startswith(SCHEME):
                bucket, key = split_s3_url(path)
                buckets.setdefault(bucket, key.split("*")[0].split("?")[0])
    if not buckets:
        return
    if not has_credentials(settings):
        raise ValueError(
            f"no S3 credentials for s3://{next(iter(buckets))}: pass --s3_access_key_id and "
            "--s3_secret_access_key, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(or an AWS profile)"
        )
    client = make_client(settings, timeout_s=_CHECK_TIMEOUT_S)
    for bucket, prefix in buckets.items():
        _check_bucket(client, bucket, prefix, settings)


def _check_bucket(client: Any, bucket: str, prefix: str, settings: S3Settings) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise ValueError(
            f"S3 refused s3://{bucket}: {error.get('Code', '?')}: {error.get('Message', exc)}"
        ) from None
    except BotoCoreError as exc:
        where = settings.endpoint_url or "the default S3 endpoint"
        raise ValueError(f"S3 at {where} did not answer for s3://{bucket}: {exc}") from None
