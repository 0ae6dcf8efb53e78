"""Dumps the first sheet of an .xlsx workbook as JSON with openpyxl
(independent of the Rust writer): the sheet name, and per row the cells'
values (text, numbers, booleans, dates as ISO text, empty as null) and the
solid fill colour of each cell (RRGGBB, or null).

usage: python read_xlsx.py BOOK.xlsx > sheet.json
"""

import datetime
import json
import sys

import openpyxl


def value(v):
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    return v


def fill(cell):
    f = cell.fill
    if f is None or f.fill_type != "solid":
        return None
    rgb = f.fgColor.rgb if f.fgColor is not None else None
    if not isinstance(rgb, str):
        return None
    return rgb[-6:].upper()


def main(path):
    book = openpyxl.load_workbook(path, data_only=True)
    sheet = book.worksheets[0]
    rows = []
    fills = []
    for row in sheet.iter_rows():
        rows.append([value(c.value) for c in row])
        fills.append([fill(c) for c in row])
    json.dump(
        {"sheet": sheet.title, "freeze_panes": sheet.freeze_panes, "rows": rows, "fills": fills},
        sys.stdout,
        ensure_ascii=False,
    )


if __name__ == "__main__":
    main(sys.argv[1])
