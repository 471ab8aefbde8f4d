"""Tables as CSV for spreadsheets: UTF-8 with a BOM (Excel), and no cell runs as a formula."""

import csv
import io

# A cell starting with one of these is a formula (or becomes one) in Excel and LibreOffice.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A leading apostrophe makes a spreadsheet show the text instead of computing it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    """Semicolon-separated (what Excel expects in German), every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for row in [header, *rows]:
        writer.writerow([neutralise(str(cell)) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
