"""How long a free-text value the console accepts may be: every form, filter and API field takes its bound from
here (console/tests/test_input_bounds.py holds every one to having a bound). Each is generous for real input and
small enough that nothing downstream (a parser, a query, a log line) is held up by it."""

NAME = 150  # user names, connection names, labels
PASSWORD = 1024
ACCESS_KEY_SECRET = 256
STS_TOKEN = 8192  # STS security tokens run to about 2 KB
OBJECT_KEY = 1023  # OSS's own limit, in bytes: the services check the bytes
BUCKET = 63
REGION = 64
KMS_KEY = 255  # a CMK id, ARN or alias
CONTENT_TYPE = 256
METADATA = 8 * 1024  # OSS's limit on user metadata per object
ETAG = 128
CONTINUATION_TOKEN = 2048
RANGE = 64
WORD = 32  # a method or algorithm name, checked against its choices by the service
SEARCH = 255  # a "contains" filter
PEM = 16 * 1024  # an RSA private key of 4096 bits, encrypted, with room to spare
KEY_MATERIAL = 8 * 1024  # base64 of key material wrapped by a 4096-bit RSA public key
MATERIAL_DESCRIPTION = 2048
CODE = 32  # an authenticator code or a recovery code
FORM_TOKEN = 64  # a form's own token, naming what the server keeps for its next submit
PREFIX_LINES = 20 * (OBJECT_KEY + 1)  # a job's prefixes, one per line, at most jobs.services.jobs.MAX_PREFIXES (20)
