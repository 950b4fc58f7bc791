"""Template tags every page may use: the error summary at the top of a form, moments with their zone, and names
with their control characters made visible."""

from django import template

from console import moments

register = template.Library()


@register.inclusion_tag("inc/error_summary.html")
def error_summary(*forms):
    """Every error of `forms` in one list, non-field errors first, each field error linked to its field.

    The summary is what a person sees first after a refused submit (the page script moves focus to it), so an
    error on a field that is not shown at the moment (a hidden input, a field the chosen method hides) is still read.
    """
    problems = []
    for form in forms:
        if form is None or not getattr(form, "errors", None):
            continue
        problems += [{"message": message, "anchor": "", "label": ""} for message in form.non_field_errors()]
        for name, errors in form.errors.items():
            if name == "__all__":
                continue
            bound = form[name] if name in form.fields else None
            label = bound.label if bound is not None else name
            anchor = bound.id_for_label if bound is not None and not bound.is_hidden else ""
            problems += [{"message": message, "anchor": anchor, "label": label} for message in errors]
    return {"problems": problems}


@register.filter
def moment(value):
    """`{{ event.created_at|moment }}`: "2026-12-03 15:04:05 UTC" (console.moments)."""
    return moments.moment(value)


# C0 control characters and DEL as their Unicode control pictures (U+2400-U+2421). Object keys may hold them (OSS
# takes any UTF-8), and a browser would show a form feed as a space and most others as nothing.
_CONTROL_PICTURES = {code: 0x2400 + code for code in range(0x20)} | {0x7F: 0x2421}


@register.filter
def visible_controls(value):
    """`{{ key|visible_controls }}`: "form\\x0cfeed" shows as "form␌feed"; links keep the key itself (urlencode)."""
    return str(value).translate(_CONTROL_PICTURES)
