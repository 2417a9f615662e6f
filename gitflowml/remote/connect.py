"""Connecting to a remote's file system: fsspec with its options (S3 names mapped to
s3fs's), and what its errors mean, as one line naming the remote and what to do."""

from __future__ import annotations

from typing import Any

_S3_ALIASES = {
    "access_key_id": "key",
    "aws_access_key_id": "key",
    "secret_access_key": "secret",
    "aws_secret_access_key": "secret",
    "session_token": "token",
    "aws_session_token": "token",
}


def explain(name: str, url: str, exc: BaseException, doing: str) -> str:
    """One line for what the file system raised: what is wrong with remote `name`, and what
    to do about it."""
    who = f"remote '{name}' ({url})"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    names = {c.__name__ for c in type(exc).__mro__}
    if names & {"EndpointConnectionError", "ConnectTimeoutError", "ConnectionError"} or (
        isinstance(exc, (ConnectionError, TimeoutError))
    ):
        return (
            f"{who} cannot be reached ({text}); check the URL or endpoint_url "
            "(gitflowml remote modify) and the network"
        )
    if isinstance(exc, PermissionError) or names & {"NoCredentialsError"}:
        return (
            f"{who} refused access ({text}); check the credentials: key/secret set with "
            "'gitflowml remote modify --local', AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
            "or the profile"
        )
    if isinstance(exc, FileNotFoundError) and "bucket" in text.lower():
        bucket = url.partition("://")[2].split("/", 1)[0]
        return f"{who}: bucket '{bucket}' does not exist; create it or fix the URL"
    if isinstance(exc, ImportError):
        protocol = url.partition("://")[0]
        return f"{who}: the '{protocol}' file system is not installed ({text})"
    action = f" while {doing}" if doing else ""
    return f"{who} failed{action}: {text}"


def filesystem(protocol: str, options: dict[str, str]) -> Any:
    import fsspec

    opts: dict[str, Any] = {}
    client_kwargs: dict[str, Any] = {}
    # fail within seconds, not minutes, when the endpoint is down
    config = {"retries": {"max_attempts": 3, "mode": "standard"}, "connect_timeout": 10}
    for key, value in options.items():
        if protocol in ("s3", "s3a"):
            key = _S3_ALIASES.get(key, key)
            if key == "endpoint_url":
                client_kwargs["endpoint_url"] = value
                continue
            if key == "region":
                client_kwargs["region_name"] = value
                continue
        opts[key] = value
    if protocol in ("s3", "s3a"):
        if client_kwargs:
            opts["client_kwargs"] = client_kwargs
        opts.setdefault("config_kwargs", config)
    return fsspec.filesystem(protocol, skip_instance_cache=True, **opts)
