"""XML in and out. Parsing goes through defusedxml: request bodies are untrusted."""

from xml.etree import ElementTree

from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

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
            element.text = str(content)


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
