"""PutBucketLifecycle, GetBucketLifecycle and DeleteBucketLifecycle: the rules are checked as OSS checks them,
stored and given back. Of the rules, only NoncurrentVersionExpiration is carried out, when localcloud is swept
(localcloud.maintenance.expire_noncurrent_versions); nothing else expires or changes class on its own.

The stored document is rebuilt from the checked elements, so it holds only what OSS accepts, with booleans in
the lower case oss2 parses (oss2 itself sends `ExpiredObjectDeleteMarker` as `True`)."""

import re
import uuid
from xml.etree import ElementTree

from localcloud import errors, xml
from localcloud.models import Bucket, BucketLifecycle
from localcloud.oss import common
from localcloud.oss.http import Request, Response, xml_response

MAX_RULES = 1000
MAX_ID_LENGTH = 255
TRANSITION_CLASSES = ("IA", "Archive", "ColdArchive", "DeepColdArchive")
TRANSITION_OPTIONS = ("IsAccessTime", "ReturnToStdWhenVisit", "AllowSmallFile")
# The children each element may have, in the order OSS documents them; REPEATED ones may occur more than once.
CHILDREN = {
    "LifecycleConfiguration": ("Rule",),
    "Rule": (
        "ID", "Prefix", "Status", "Expiration", "Transition", "AbortMultipartUpload", "Tag",
        "NoncurrentVersionExpiration", "NoncurrentVersionTransition", "Filter",
    ),
    "Expiration": ("Days", "Date", "CreatedBeforeDate", "ExpiredObjectDeleteMarker"),
    "Transition": ("Days", "CreatedBeforeDate", "StorageClass", *TRANSITION_OPTIONS),
    "AbortMultipartUpload": ("Days", "CreatedBeforeDate"),
    "Tag": ("Key", "Value"),
    "NoncurrentVersionExpiration": ("NoncurrentDays",),
    "NoncurrentVersionTransition": ("NoncurrentDays", "StorageClass", *TRANSITION_OPTIONS),
    "Filter": ("Not", "ObjectSizeGreaterThan", "ObjectSizeLessThan"),
    "Not": ("Prefix", "Tag"),
}  # fmt: skip
REPEATED = {"Rule", "Transition", "Tag", "NoncurrentVersionTransition", "Not"}
ACTIONS = (
    "Expiration",
    "Transition",
    "AbortMultipartUpload",
    "NoncurrentVersionExpiration",
    "NoncurrentVersionTransition",
)
# Of these an element holds exactly one: the moment its action applies.
ONE_MOMENT = {
    "Expiration": ("Days", "Date", "CreatedBeforeDate", "ExpiredObjectDeleteMarker"),
    "Transition": ("Days", "CreatedBeforeDate"),
    "AbortMultipartUpload": ("Days", "CreatedBeforeDate"),
}
REQUIRED = {
    "Rule": ("Status",),
    "Transition": ("StorageClass",),
    "NoncurrentVersionExpiration": ("NoncurrentDays",),
    "NoncurrentVersionTransition": ("NoncurrentDays", "StorageClass"),
    "Tag": ("Key",),
    "Not": ("Prefix",),
}
_POSITIVE = re.compile(r"^[1-9][0-9]{0,8}$")
_SIZE = re.compile(r"^[0-9]{1,19}$")
# OSS takes dates at midnight UTC only, as oss2 writes them.
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T00:00:00(\.000)?Z$")


def _invalid(message: str, name: str, value: str | None = None) -> errors.OssError:
    return errors.invalid_argument(message, name, None if value is None else xml.xml_safe(value))


def _boolean(name: str, value: str) -> str:
    if value.lower() not in ("true", "false"):
        raise _invalid(f"{name} must be true or false.", name, value)
    return value.lower()


def _leaf(parent: str, name: str, value: str) -> str:
    """The checked, normalised text of a leaf element."""
    value = value.strip() if name != "Prefix" and name != "Value" else value
    if name in ("Days", "NoncurrentDays"):
        if not _POSITIVE.match(value):
            raise _invalid(f"{name} must be a positive integer.", name, value)
    elif name in ("Date", "CreatedBeforeDate"):
        if not _DATE.match(value):
            raise _invalid(f"{name} must be a date at midnight UTC, as 2024-01-01T00:00:00.000Z.", name, value)
    elif name in ("ObjectSizeGreaterThan", "ObjectSizeLessThan"):
        if not _SIZE.match(value):
            raise _invalid(f"{name} must be a number of bytes.", name, value)
    elif name in (*TRANSITION_OPTIONS, "ExpiredObjectDeleteMarker"):
        return _boolean(name, value)
    elif name == "StorageClass" and value not in TRANSITION_CLASSES:
        raise _invalid(f"A lifecycle rule cannot move objects to the storage class {value!r}.", name, value)
    elif name == "Status" and value not in ("Enabled", "Disabled"):
        raise _invalid("The rule status must be Enabled or Disabled.", name, value)
    elif name == "ID" and len(value) > MAX_ID_LENGTH:
        raise _invalid(f"A rule ID is at most {MAX_ID_LENGTH} characters.", name)
    elif not xml.carries(value):
        raise _invalid(f"The {parent} {name} holds characters XML cannot carry.", name)
    return value


def _checked(element: ElementTree.Element) -> ElementTree.Element:
    """A copy of `element` holding only what OSS accepts there; anything else is refused."""
    allowed = CHILDREN[element.tag]
    copy = ElementTree.Element(element.tag)
    seen: list[str] = []
    for child in element:
        if child.tag not in allowed or (child.tag in seen and child.tag not in REPEATED):
            raise errors.malformed_xml()
        seen.append(child.tag)
        if child.tag in CHILDREN:
            copy.append(_checked(child))
        else:
            ElementTree.SubElement(copy, child.tag).text = _leaf(element.tag, child.tag, child.text or "")
    if any(name not in seen for name in REQUIRED.get(element.tag, ())):
        raise errors.malformed_xml()
    if element.tag in ONE_MOMENT and sum(name in seen for name in ONE_MOMENT[element.tag]) != 1:
        raise errors.malformed_xml()
    return copy


def _checked_rules(root: ElementTree.Element) -> ElementTree.Element:
    configuration = _checked(root)
    rules = configuration.findall("Rule")
    if not 1 <= len(rules) <= MAX_RULES:
        raise errors.malformed_xml()
    for rule in rules:
        if not any(rule.find(action) is not None for action in ACTIONS):
            raise _invalid("A lifecycle rule needs at least one action.", "Rule")
        # OSS names a rule sent without an ID itself; every rule it gives back has an ID and a Prefix, first.
        rule_id, prefix = rule.findtext("ID") or str(uuid.uuid4()), rule.findtext("Prefix") or ""
        others = [child for child in rule if child.tag not in ("ID", "Prefix")]
        rule[:] = []
        ElementTree.SubElement(rule, "ID").text = rule_id
        ElementTree.SubElement(rule, "Prefix").text = prefix
        rule.extend(others)
    ids = [rule.findtext("ID") for rule in rules]
    if len(set(ids)) != len(ids):
        raise _invalid("The rule IDs must be unique.", "ID")
    return configuration


def _parse(body: bytes) -> ElementTree.Element:
    try:
        root = xml.parse(body)
    except xml.XmlError:
        raise errors.malformed_xml() from None
    if root.tag != "LifecycleConfiguration":
        raise errors.malformed_xml()
    return root


def _signed_bucket(request: Request) -> Bucket:
    common.require_signed(request)
    return common.get_bucket(request)


def put_bucket_lifecycle(request: Request) -> Response:
    """Replaces the whole configuration, as OSS does."""
    bucket = _signed_bucket(request)
    configuration = _checked_rules(_parse(request.small_body()))
    document = ElementTree.tostring(configuration, encoding="unicode")
    BucketLifecycle.objects.update_or_create(bucket=bucket, defaults={"document": document})
    return Response(200)


def get_bucket_lifecycle(request: Request) -> Response:
    bucket = _signed_bucket(request)
    document = BucketLifecycle.objects.filter(bucket=bucket).values_list("document", flat=True).first()
    if document is None:
        raise errors.OssError(404, "NoSuchLifecycle", "No Row found in Lifecycle Table.", BucketName=bucket.name)
    return xml_response(xml.DECLARATION + document.encode("utf-8"))


def delete_bucket_lifecycle(request: Request) -> Response:
    bucket = _signed_bucket(request)
    BucketLifecycle.objects.filter(bucket=bucket).delete()
    return Response(204)
