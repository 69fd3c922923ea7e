"""What the S3 server's answers mean: which failures are worth another try (transient), and
the BrankasError each becomes. The server's codes and messages are shown escaped and
bounded (hostile input)."""

from __future__ import annotations

from typing import Any

from brankas.core import errors
from brankas.core.offsite.names import shown

MAX_OBJECT = 5 * 1024**4  # S3's largest object (5 TiB)

# Refusals of the credentials themselves (never retried).
AUTH_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
              "TokenRefreshRequired", "InvalidSecurity", "AuthorizationHeaderMalformed",
              "InvalidClientTokenId", "UnrecognizedClientException"}
# Transient answers, retried with back-off.
THROTTLE_CODES = {"SlowDown", "Throttling", "ThrottlingException", "RequestThrottled",
                  "RequestLimitExceeded", "TooManyRequestsException", "RequestTimeout",
                  "ServiceUnavailable", "InternalError", "RequestTimeoutException",
                  "PriorRequestNotComplete", "BandwidthLimitExceeded"}
NOT_FOUND_CODES = {"NoSuchKey", "NoSuchVersion", "404", "NotFound", "MethodNotAllowed", "405"}


def translate(exc: Exception, *, endpoint: str, bucket: str, action: str, key: str = "",
              attempts: int = 1) -> errors.BrankasError:
    """The BrankasError a failed request becomes."""
    from botocore.exceptions import ClientError, FlexibleChecksumError

    shown_key = shown(key) if key else bucket
    if isinstance(exc, FlexibleChecksumError):  # botocore's own check of what it downloaded
        return errors.IntegrityFailure("offsite_checksum_mismatch", key=shown_key,
                                       how=("diunduh", "downloaded"))
    if isinstance(exc, ClientError):
        code, status, text = client_error(exc)
        if code in AUTH_CODES:
            return errors.AuthenticationFailed("offsite_credentials_refused",
                                               endpoint=endpoint, answer=code)
        if code == "RequestTimeTooSkewed":
            return errors.SetupError("offsite_clock_skew")
        if code == "NoSuchBucket":
            return errors.NotFound("offsite_no_bucket", bucket=bucket,
                                   endpoint=endpoint)
        if code == "AccessDenied" or status == 403:
            return errors.AccessDenied("offsite_access_denied", action=action,
                                       key=shown_key)
        if code in ("BadDigest", "XAmzContentSHA256Mismatch", "InvalidDigest"):
            return errors.IntegrityFailure("offsite_checksum_refused", key=shown_key)
        if code == "EntityTooLarge":
            return errors.InvalidInput("offsite_too_large", key=shown_key, size="?",
                                       limit=MAX_OBJECT)
        if code == "InvalidBucketState" or "object lock" in text.lower():
            return errors.SetupError("offsite_no_object_lock", bucket=bucket)
        if status >= 500 or status == 429 or code in THROTTLE_CODES:
            return errors.SetupError("offsite_server_error", endpoint=endpoint,
                                     action=action, status=status, answer=code,
                                     attempts=attempts)
        return errors.SetupError("offsite_refused", action=action, key=shown_key,
                                 status=status, answer=code, detail=text or "-")
    detail = shown(type(exc).__name__ + ": " + str(exc), 160)
    return errors.SetupError("offsite_unreachable", endpoint=endpoint, detail=detail)


def client_error(exc: Any) -> tuple[str, int, str]:
    """The error code, HTTP status and message of a ClientError, made safe to show."""
    response = getattr(exc, "response", None) or {}
    error = response.get("Error") or {}
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    code = shown(error.get("Code") or status or "?", 64)
    return code, status if isinstance(status, int) else 0, shown(error.get("Message") or "",
                                                                 200)


def transient(exc: Exception) -> bool:
    """Worth another try: the server busy or failing, the connection lost or timed out."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(exc, ClientError):
        code, status, _ = client_error(exc)
        if code in AUTH_CODES or code == "AccessDenied":
            return False
        return status >= 500 or status == 429 or code in THROTTLE_CODES
    import builtins

    return isinstance(exc, ConnectionError | HTTPClientError | builtins.ConnectionError
                      | TimeoutError)
