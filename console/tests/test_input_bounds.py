"""Every free-text value the console accepts is bounded, so no field can carry megabytes into a parser, a query
or a log line: each text field of every form and filter has a max_length, and every string the API accepts has a
maxLength in the OpenAPI schema it publishes (which is also what the API enforces)."""

import importlib
import inspect
import pkgutil

import django_filters
from django import forms
from drf_spectacular.generators import SchemaGenerator

APPS = ("accounts", "audit", "buckets", "console", "encryption", "jobs")
# Strings whose shape the schema fixes by other means.
BOUNDED_FORMATS = {"binary", "date", "date-time", "email", "uri", "uuid"}


def project_classes(base):
    for app in APPS:
        for module_info in pkgutil.walk_packages(importlib.import_module(app).__path__, f"{app}."):
            # The server entry points are left out: importing one starts a web process, start checks and all.
            if module_info.name.endswith((".wsgi", ".asgi")):
                continue
            if any(part in module_info.name for part in (".tests", ".migrations", ".management")):
                continue
            module = importlib.import_module(module_info.name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, base) and cls.__module__ == module.__name__:
                    yield cls


def unbounded_form_fields() -> list[str]:
    found = []
    for form in project_classes(forms.BaseForm):
        for name, field in form.base_fields.items():
            if isinstance(field, forms.CharField) and not field.max_length:
                found.append(f"{form.__module__}.{form.__name__}.{name}")
    for filterset in project_classes(django_filters.FilterSet):
        for name, declared in filterset.base_filters.items():
            if isinstance(declared, django_filters.CharFilter) and not declared.extra.get("max_length"):
                found.append(f"{filterset.__module__}.{filterset.__name__}.{name}")
    return found


def test_every_text_field_of_every_form_and_filter_has_a_max_length():
    assert unbounded_form_fields() == []


def _unbounded_strings(schema: dict, components: dict, where: str) -> list[str]:
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    found = []
    for variant in schema.get("allOf", []) + schema.get("oneOf", []) + schema.get("anyOf", []):
        found += _unbounded_strings(variant, components, where)
    if "properties" in schema:
        for name, value in schema["properties"].items():
            if not value.get("readOnly"):
                found += _unbounded_strings(value, components, f"{where}.{name}")
    elif schema.get("type") == "array":
        found += _unbounded_strings(schema.get("items", {}), components, f"{where}[]")
    elif schema.get("type") == "string" and "enum" not in schema and schema.get("format") not in BOUNDED_FORMATS:
        if "maxLength" not in schema:
            found.append(where)
    return found


def _filter_parameters(generator: SchemaGenerator) -> dict[str, set[str]]:
    """The query parameters of each path that a FilterSet declares: their bounds are the filters' own (the form
    test above holds them), which the schema generator does not carry into the schema."""
    generator._initialise_endpoints()
    declared = {}
    for path, _, _, view in generator.endpoints:
        filterset = getattr(view.cls, "filterset_class", None)
        declared[path] = set(filterset.base_filters if filterset else getattr(view.cls, "filterset_fields", ()))
    return declared


def unbounded_api_strings() -> list[str]:
    generator = SchemaGenerator()
    schema = generator.get_schema(request=None, public=True)
    filters = _filter_parameters(generator)
    components = schema["components"]["schemas"]
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "path" and parameter["name"] not in filters.get(path, ()):
                    found += _unbounded_strings(parameter["schema"], components, f"{where} ?{parameter['name']}")
            for content in operation.get("requestBody", {}).get("content", {}).values():
                found += _unbounded_strings(content["schema"], components, f"{where} body")
    return sorted(set(found))


def test_every_string_the_api_accepts_has_a_max_length_in_its_schema():
    assert unbounded_api_strings() == []
