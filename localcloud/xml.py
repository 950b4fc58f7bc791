"""XML in and out. Parsing goes through defusedxml: request bodies are untrusted."""

import re
from xml.etree import ElementTree

from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

# Characters XML 1.0 cannot carry, even escaped; CR is allowed but parsers turn it into LF.
_NOT_XML = re.compile("[^\t\n\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# A child is (tag, text), (tag, [children...]) or (tag, None) for an empty element; None children are skipped.
Child = tuple


def _append(parent: ElementTree.Element, children) -> None:
    for child in children:
        if child is None:
            continue
        tag, content = child
        element = ElementTree.SubElement(parent, tag)
        if isinstance(content, list):
            _append(element, content)
        elif content is not None:
            element.text = xml_safe(str(content))


def carries(value: str) -> bool:
    """Whether a document can hold `value` unchanged (listings then need encoding-type=url)."""
    return not _NOT_XML.search(value)


def xml_safe(value: str) -> str:
    """The value with characters XML cannot carry replaced, so an echoed bad input never breaks a document."""
    return _NOT_XML.sub("\ufffd", value)


def document(root: str, children) -> bytes:
    element = ElementTree.Element(root)
    _append(element, children)
    return DECLARATION + ElementTree.tostring(element, encoding="utf-8", xml_declaration=False)


class XmlError(ValueError):
    """The body is not well-formed XML, or is dangerous (entities, DTDs)."""


# What OSS takes in a request body although XML 1.0 refuses it: oss2 writes object keys into its bodies (the keys
# of DeleteMultipleObjects among them) with only & < > escaped, so a key's control characters arrive raw; other
# clients send them as character references. CR is here too, or the parser would turn a key's CR into LF.
_TOLERATED = [chr(code) for code in range(0x20) if chr(code) not in "\t\n"] + ["\ufffe", "\uffff"]
_TOLERATED_RAW = re.compile("[" + "".join(_TOLERATED) + "]")
_REFERENCE = re.compile(r"&#(x[0-9a-fA-F]{1,6}|[0-9]{1,7});")
_PRIVATE_USE = range(0xE000, 0xF900)


def parse(body: bytes) -> ElementTree.Element:
    """The body's tree, with the characters of _TOLERATED in its texts (as OSS takes them): each stands in the
    parsed document as a private-use character the body does not hold, and is put back afterwards."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    tolerated = _tolerated_in(text)
    try:
        if not tolerated:
            return SafeElementTree.fromstring(body)
        stand_ins = _stand_ins(text)
        root = SafeElementTree.fromstring(_with_stand_ins(text, stand_ins).encode("utf-8"))
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as error:
        raise XmlError(str(error)) from None
    _put_back(root, {ord(stand_in): original for original, stand_in in stand_ins.items()})
    return root


def _referenced(reference: re.Match) -> str:
    digits = reference.group(1)
    code = int(digits[1:], 16) if digits[0] == "x" else int(digits)
    return chr(code) if code <= 0x10FFFF else ""


def _tolerated_in(text: str) -> bool:
    return bool(_TOLERATED_RAW.search(text)) or any(
        _referenced(reference) in _TOLERATED for reference in _REFERENCE.finditer(text)
    )


def _stand_ins(text: str) -> dict[str, str]:
    present = set(text)
    for start in range(_PRIVATE_USE.start, _PRIVATE_USE.stop - len(_TOLERATED), len(_TOLERATED)):
        block = [chr(start + offset) for offset in range(len(_TOLERATED))]
        if present.isdisjoint(block):
            return dict(zip(_TOLERATED, block, strict=True))
    raise XmlError("The body holds every private-use character localcloud could stand in for control characters.")


def _with_stand_ins(text: str, stand_ins: dict[str, str]) -> str:
    def reference_or_stand_in(reference: re.Match) -> str:
        return stand_ins.get(_referenced(reference), reference.group(0))

    return _REFERENCE.sub(reference_or_stand_in, text.translate(str.maketrans(stand_ins)))


def _put_back(root: ElementTree.Element, originals: dict[int, str]) -> None:
    for element in root.iter():
        if element.text:
            element.text = element.text.translate(originals)
        if element.tail:
            element.tail = element.tail.translate(originals)
        element.attrib = {name: value.translate(originals) for name, value in element.attrib.items()}


def text(element: ElementTree.Element, path: str, default: str | None = None) -> str | None:
    found = element.find(path)
    if found is None:
        return default
    return found.text or ""
