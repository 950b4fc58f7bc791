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


def parse(body: bytes) -> ElementTree.Element:
    try:
        return SafeElementTree.fromstring(body)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as error:
        raise XmlError(str(error)) from None


def text(element: ElementTree.Element, path: str, default: str | None = None) -> str | None:
    found = element.find(path)
    if found is None:
        return default
    return found.text or ""
