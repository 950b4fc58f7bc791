"""What a failed connection check means, in plain words: the one home of the advice that the connection pages,
the list and the API show after a test.

The advice replaces the cloud's message for the common refusals: a signature refusal quotes the string the
server signed, and none of it helps the person who typed a wrong secret. Other codes keep the cloud's message,
with any string to sign cut off.
"""

import re
from urllib.parse import urlencode

from django.urls import reverse

from cloud.errors import CloudError

WRONG_SECRET = (
    "The secret does not match the AccessKey ID: the cloud refused the signature. "
    "Enter the AccessKey secret that belongs to this AccessKey ID."
)
UNKNOWN_KEY = (
    "The AccessKey ID does not exist or is disabled: check it in the RAM console, "
    "or create a new AccessKey pair and enter both."
)
NO_PERMISSION = (
    "The AccessKey pair works, but its RAM user or role lacks the permissions for this call: "
    "grant them with a RAM policy."
)
CLOCK_SKEW = (
    "The cloud refused the request time: the clock of the console's server differs from the cloud's by more "
    "than 15 minutes. Correct the server's clock (NTP)."
)
UNREACHABLE = (
    "The endpoint could not be reached: check its host name (DNS), port and scheme, and that this server's "
    "network may connect to it."
)
TLS_FAILED = (
    "The secure connection to the endpoint failed (TLS): its certificate is not trusted or does not match the "
    "host name. Check the endpoint, or use the scheme it serves."
)
UNREADABLE_SECRET = "The stored secret does not open under the current CONSOLE_ROOT_KEY: enter the secret again."

# Codes of OSS and KMS (KMS adds a suffix: InvalidAccessKeyId.NotFound, Forbidden.RAM, ...).
_ADVICE_BY_CODE = (
    (("SignatureDoesNotMatch", "IncompleteSignature", "InvalidSignature"), WRONG_SECRET),
    (("InvalidAccessKeyId",), UNKNOWN_KEY),
    (("AccessDenied", "Forbidden.RAM", "Forbidden.NoPermission", "NoPermission"), NO_PERMISSION),
    (("RequestTimeTooSkewed", "InvalidTimeStamp", "RequestTimeExpired"), CLOCK_SKEW),
)
# A request that carries no valid date is refused as AccessDenied by OSS: a clock matter, not a permission one.
_CLOCK_MESSAGES = re.compile(r"valid Date|request has expired|time", re.IGNORECASE)
_STRING_TO_SIGN = re.compile(r"\s*(server )?string ?to ?sign( is)?:.*", re.IGNORECASE | re.DOTALL)
_TLS_CAUSES = re.compile(r"SSL|TLS|Certificate", re.IGNORECASE)


def advice_for(error: CloudError) -> str:
    """Plain words for a failed call: what it means and what to do; never a secret or a string to sign."""
    if error.code == "RequestError":
        return TLS_FAILED if _TLS_CAUSES.search(error.cloud_message) else UNREACHABLE
    for codes, advice in _ADVICE_BY_CODE:
        if error.code.startswith(codes):
            if advice is NO_PERMISSION and _CLOCK_MESSAGES.search(error.cloud_message):
                return CLOCK_SKEW
            return advice
    return _STRING_TO_SIGN.sub("", error.cloud_message) or f"The cloud refused the call ({error.code})."


def needs_permissions(advice: str) -> bool:
    return advice == NO_PERMISSION


def ram_policy_url(connection) -> str:
    """The RAM policy helper, prefilled with the connection when it is saved (its query is the helper's form)."""
    url = reverse("encryption:ram_policy")
    return f"{url}?{urlencode({'connection': connection.pk})}" if connection.pk else url
