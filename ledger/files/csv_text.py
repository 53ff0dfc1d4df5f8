"""Reading a CSV file's text, one way for every file openbook imports: UTF-8 only, malformed CSV refused by line.

**Encoding: UTF-8, with or without a byte-order mark; anything else is refused, naming the line and the byte.**
A BOM is not an error: Excel's "CSV UTF-8" writes one, and it is dropped (``utf-8-sig``). A file in another
encoding is *not* guessed at, as PostgreSQL's ``COPY`` and Python's own ``open`` do not guess: they stop at the
first byte that is not UTF-8 and say where. Guessing is what goes wrong quietly: byte 0xA3 is "£" in Windows-1252
and latin-1 but "ú" in the old DOS code page and "Ł" in latin-2, so a guess can turn a provider's note or a
carer's name into other text without a word - and this ledger is append-only, so the wrong text would stay in
its history for good. Refusing costs the user one "Save as CSV UTF-8" (every spreadsheet program offers it) and
says exactly which line and byte to look at. UTF-16 (Excel's "Unicode Text", with or without its BOM) is named
as such rather than reported as a stray byte, and so is a workbook sent where a CSV file is expected.

**Malformed CSV** is read strictly (``csv.reader(strict=True)``): a quoted cell that is never closed swallows
the rest of the file in a lenient reader, and would be reported, if at all, as one enormous cell; strictly read,
it is refused naming the line where the row starts.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path

from domain.errors import InvalidInput

__all__ = ["check_start", "decode", "not_utf8", "read_rows", "refusal_of", "rows_of", "unreadable_csv"]

#: Save-as advice every encoding refusal ends with.
SAVE_AS = "save it as 'CSV UTF-8' from the spreadsheet program"
_ZIP = b"PK\x03\x04"  # an XLSX workbook is a zip archive
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)


def check_start(head: bytes, name: str) -> None:
    """Refuse, by what it is, a file whose first bytes show it is not UTF-8 text: UTF-16 or UTF-32 (with or
    without a BOM: text in them has NUL bytes, UTF-8 text never does) or an Excel workbook."""
    if head.startswith(_ZIP):
        raise InvalidInput(f"{name}: is an Excel workbook, not a CSV file; {SAVE_AS}")
    if head.startswith(_UTF32_BOMS):
        raise InvalidInput(f"{name}: is UTF-32 text, not UTF-8; {SAVE_AS}")
    if head.startswith(_UTF16_BOMS) or b"\x00" in head[:4096]:
        raise InvalidInput(f"{name}: is UTF-16 text (Excel's 'Unicode Text'), not UTF-8; {SAVE_AS}")


def not_utf8(lines: Iterable[bytes], name: str) -> InvalidInput:
    """The refusal of text that is not UTF-8: the first line with a byte that is not, and that byte.

    Only called once decoding has failed, so reading the lines again costs nothing on the way of a good file.
    """
    for number, line in enumerate(lines, start=1):
        # Each line alone: a UTF-8 character never holds a newline byte, so no character spans two lines, and
        # the position is counted in the line's own bytes (a BOM on line 1 included, as an editor shows it).
        start = len(codecs.BOM_UTF8) if number == 1 and line.startswith(codecs.BOM_UTF8) else 0
        try:
            line[start:].decode("utf-8")
        except UnicodeDecodeError as error:
            at = start + error.start
            byte = line[at]
            hint = " (Windows-1252 or latin-1 text, as Excel's plain 'CSV' writes: £ is 0xA3, é is 0xE9)" if (
                byte >= 0x80) else ""  # fmt: skip
            return InvalidInput(
                f"{name}: line {number}, byte {at + 1}: 0x{byte:02X} is not UTF-8{hint}; {SAVE_AS}"
            )
    return InvalidInput(f"{name}: the file ends inside a UTF-8 character; {SAVE_AS}")


def decode(content: bytes, name: str) -> str:
    """A small file's bytes as text: UTF-8 with or without a BOM, else refused (``check_start``, ``not_utf8``)."""
    check_start(content[:4096], name)
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise not_utf8(content.splitlines(keepends=True), name) from None


def unreadable_csv(error: csv.Error, name: str, line: int) -> InvalidInput:
    """The refusal of malformed CSV, naming the line its row starts on."""
    return InvalidInput(
        f"{name}: line {line}: not readable as CSV ({error}); a cell with a double quote (\") must be "
        "quoted whole, its quote doubled"
    )


def rows_of(lines: Iterable[str], name: str) -> Iterator[list[str]]:
    """Each row of CSV text, read strictly: malformed CSV is refused naming the line its row starts on."""
    reader = csv.reader(lines, strict=True)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise unreadable_csv(error, name, start) from None
        yield row
        start = reader.line_num + 1


def read_rows(content: bytes, name: str) -> list[list[str]]:
    """A small CSV file's rows: ``decode`` then ``rows_of``."""
    return list(rows_of(io.StringIO(decode(content, name), newline=""), name))


def refusal_of(path: Path, name: str) -> InvalidInput:
    """Why a CSV file that failed to read while streamed cannot be read, with its line: read again, on the error's
    path only, so the fast path of a good file never pays for the line counting."""
    with open(path, "rb") as f:
        check_start(f.read(4096), name)
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            for _ in rows_of(f, name):
                pass
    except UnicodeDecodeError:
        with open(path, "rb") as f:
            return not_utf8(f, name)
    except InvalidInput as refused:
        return refused
    return InvalidInput(f"{name}: is not a readable CSV file")
