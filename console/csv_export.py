"""Every CSV download of the console (job reports, the audit log), pages and API alike: streamed row by row, so a
long export never sits in memory, and safe to open in a spreadsheet."""

import csv
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

# A spreadsheet runs a cell that starts with one of these as a formula (a tab or carriage return can hide one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def spreadsheet_safe(cell):
    """Object keys, reasons and names are anyone's text: one that starts like a formula is quoted, so a spreadsheet
    shows it instead of running it. Numbers stay numbers. A cell that starts with the quote itself is quoted too, so
    a program reading the CSV back (retry from a completion report) gets every key exactly: spreadsheet_unsafe."""
    if isinstance(cell, str) and cell.startswith((*FORMULA_STARTS, QUOTE)):
        return f"{QUOTE}{cell}"
    return cell


def spreadsheet_unsafe(cell: str) -> str:
    """The cell as it was before spreadsheet_safe."""
    if cell.startswith(QUOTE) and cell[1:].startswith((*FORMULA_STARTS, QUOTE)):
        return cell[1:]
    return cell


class _Echo:
    """A file-like object whose write returns the line, so csv.writer feeds a streaming response."""

    def write(self, line: str) -> str:
        return line


def csv_lines(rows: Iterable[Iterable]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([spreadsheet_safe(cell) for cell in row])


def csv_download(rows: Iterable[Iterable], filename: str) -> StreamingHttpResponse:
    """`rows` (the header first) as a CSV attachment named `filename`, written as the client reads it."""
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
