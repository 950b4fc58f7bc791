"""The HTTP answers that stream an object to the browser, shared by the object page and the objects API."""

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

from buckets.services import cse_transfer
from buckets.services import objects as services


def decrypted_download(download: cse_transfer.DecryptedDownload) -> StreamingHttpResponse:
    """The plaintext of a client-side encrypted object (206 with Content-Range for a range), as an attachment."""
    response = StreamingHttpResponse(
        download.stream, content_type=download.content_type, status=206 if download.content_range else 200
    )
    response["Content-Disposition"] = content_disposition_header(True, download.filename)
    response["Content-Length"] = str(download.length)
    if download.content_range:
        response["Content-Range"] = download.content_range
    return response


def streaming_download(download, key: str) -> StreamingHttpResponse:
    """The stored bytes as an attachment named after the key's last segment, with the object's own headers."""
    head = download.head
    response = StreamingHttpResponse(
        download.chunks, content_type=head.header("content-type") or "application/octet-stream"
    )
    response["Content-Disposition"] = content_disposition_header(True, services.download_filename(key))
    response["Content-Length"] = str(head.size)
    if head.header("content-encoding"):
        response["Content-Encoding"] = head.header("content-encoding")
    return response
