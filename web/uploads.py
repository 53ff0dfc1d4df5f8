"""The name an uploaded file is known by: what the browser sent, made safe to show, record and list.

A browser sends whatever name the user's file had: ``..``, a path, or text
with bidirectional-override characters that make ``evil\u202excod.csv`` read as
``evilvdoc.csv`` on a page. The ledger records the name (a return's or an
import's source) and pages show it, so every upload is named through here
once: its last part through ``werkzeug.utils.secure_filename`` (ASCII letters, digits, ``._-``; no
path, no leading dots) after the bidi and other invisible format controls are
removed. The file itself is never stored under this name
(``ledger.jobs.activity_import.keep_upload`` picks its own).
"""

from __future__ import annotations

import re
import unicodedata

from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

__all__ = ["upload_name"]


def _visible(text: str) -> str:
    """``text`` without format controls (Unicode category Cf: the bidi overrides and isolates, zero-width marks)."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def upload_name(upload: FileStorage, default: str) -> str:
    """The upload's name to record and show: its last part (a browser may send ``C:\\Users\\me\\q1.csv``), cleaned;
    ``default`` when nothing of it is left (``..``, ``/``)."""
    last = re.split(r"[\\/]", upload.filename or "")[-1]
    return secure_filename(_visible(last)) or default
