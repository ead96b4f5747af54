"""The reports' tables written out: one CSV text, or an XLSX workbook with a sheet per table.

CSV: one file for the whole report. Every row starts with its part's name (Sessions, Questions,
Polls, Attendance, in the reader's language), and each part starts with its own header row, so a
filter on the first column gives one clean table. Comma-separated with decimal points by default;
`semicolon` for spreadsheets set to French (and most of continental Europe), where the comma is
the decimal mark: then decimals are written with a comma. A byte-order mark first, so spreadsheets
read the accents right. Times are the event's local time, "YYYY-MM-DD HH:MM:SS".

Both formats: no cell ever runs as a formula. In CSV, text starting with = + - @ (or a tab or
carriage return) gets a leading apostrophe; in XLSX every text cell is written as text, never as a
formula, whatever it starts with (openpyxl would write "=…" as a formula otherwise).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from live.reports.tables import Cell, Table

FORMULA_LEADS = "=+-@\t\r"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_WIDTH = 60  # characters: a longer text wraps in its cell rather than making a wall of a column
WIDTH_SAMPLE = 500  # rows read to size a column: enough for its typical width, cheap on big ones
_SHEET_UNSAFE = re.compile(r"[\[\]:*?/\\]")


def defuse(text: str) -> str:
    """A text cell that a spreadsheet would run as a formula, made inert (CSV)."""
    return f"'{text}" if text[:1] and text[0] in FORMULA_LEADS else text


def csv_cell(value: Cell, *, decimal_comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    if isinstance(value, float):
        return str(value).replace(".", ",") if decimal_comma else str(value)
    if isinstance(value, int):
        return str(value)
    return defuse(value)


def csv_text(tables: Sequence[Table], *, semicolon: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if semicolon else ",")
    for table in tables:
        writer.writerow([table.title, *(defuse(h) for h in table.headers)])
        for row in table.rows:
            writer.writerow([table.title,
                             *(csv_cell(value, decimal_comma=semicolon) for value in row)])
    return "\ufeff" + out.getvalue()


def _width(value: Cell) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 19
    return max((len(line) for line in str(value).splitlines()), default=0)


def _sheet_title(title: str, taken: set[str]) -> str:
    base = _SHEET_UNSAFE.sub(" ", title).strip()[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        name = f"{base[:28]} {n}"
        n += 1
    taken.add(name.lower())
    return name


def xlsx_bytes(tables: Sequence[Table], *, title: str = "") -> bytes:
    """A workbook with one sheet per table: bold header row kept in view, a filter on it, column
    widths from the content, times as dates (the event's local time), shares with one decimal."""
    book = Workbook()
    book.remove(book.active)
    book.properties.title = ILLEGAL_CHARACTERS_RE.sub("", title)[:200]
    taken: set[str] = set()
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    for table in tables:
        sheet = book.create_sheet(_sheet_title(table.title, taken))
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", h) for h in table.headers])
        for cell in sheet[1]:
            cell.font = bold
            cell.data_type = "s"
        for row in table.rows:
            sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v
                          for v in row])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text, even "=…": never a formula
                    if len(cell.value) > MAX_WIDTH:
                        cell.alignment = wrap
                elif isinstance(cell.value, datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm:ss"
                elif isinstance(cell.value, float):
                    cell.number_format = "0.0"
        for index, header in enumerate(table.headers, start=1):
            sample = [row[index - 1] for row in table.rows[:WIDTH_SAMPLE]]
            width = max([len(header), *map(_width, sample)])
            sheet.column_dimensions[get_column_letter(index)].width = min(width, MAX_WIDTH) + 2
        sheet.freeze_panes = "A2"
        if table.headers:
            sheet.auto_filter.ref = (f"A1:{get_column_letter(len(table.headers))}"
                                     f"{max(1, len(table.rows) + 1)}")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
