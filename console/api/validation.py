"""Request validation shared by the API views that take input outside a serializer-backed ViewSet action."""


def validated(serializer_class, data) -> dict:
    """The serializer's validated data; a 400 with the field errors (through the exception handler) otherwise."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
