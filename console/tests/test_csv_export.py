"""Every CSV download (job reports and the audit log, pages and API) is one streamed, spreadsheet-safe answer."""

import csv
import io

import pytest

from console.csv_export import csv_download


def downloaded_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_a_download_is_streamed_as_a_named_utf8_csv_attachment():
    rows = [["key", "size"], ["报表/2026.csv", 7]]

    response = csv_download(iter(rows), "reencrypt-3-ledger.csv")

    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="reencrypt-3-ledger.csv"'
    assert downloaded_rows(response) == [["key", "size"], ["报表/2026.csv", "7"]]


@pytest.mark.parametrize("text", ['=HYPERLINK("http://evil")', "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_text_that_a_spreadsheet_would_run_as_a_formula_is_quoted(text):
    response = csv_download([["key"], [text]], "report.csv")

    assert downloaded_rows(response)[1] == [f"'{text}"]


def test_other_text_and_numbers_are_written_as_they_are():
    row = ["logs/a=b.txt", "KMS AES256 alias/app", "", -5, 1.5, None]

    response = csv_download([row], "report.csv")

    assert downloaded_rows(response) == [["logs/a=b.txt", "KMS AES256 alias/app", "", "-5", "1.5", ""]]
