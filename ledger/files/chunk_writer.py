"""The chunk writer's child process: compress and store staged chunks while the parent keeps reading.

Run as ``python -m ledger.files.chunk_writer`` by ``ledger.files.chunks.ChunkWriter``, never
by people. Why a process and not a thread: checking rows is pure Python and
holds the GIL, so a writer *thread* spends most of its time waiting to get the
GIL back after each compress and insert, and the import ran no faster than
doing it all in line. A process compresses and writes in parallel for real.

Protocol on stdin, each frame a 4-byte big-endian length then the bytes: first
a JSON config ({"backend", "path" | "conninfo", "level", "timeout", "lease",
"import_id", "lease_seconds"}), then for each chunk a JSON header [digest, kind,
rows] and the chunk's canonical text, and finally the frame ``end``. The child
checks each chunk against its digest, and in one transaction stores it if
absent, adds it to the import's lease and extends the lease (so the sweep never
sees a chunk of a running import unleased, even one an earlier import staged).
It answers ``ok <count>`` on stdout. On end of input without ``end`` (the
parent stopped or was killed) it simply exits: what it stored stays leased
until the lease expires, then unreferenced, which is harmless. Imports only
the standard library (and psycopg for PostgreSQL), so it starts in a few tens
of milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import struct
import sys
import zlib
from datetime import datetime, timedelta, timezone
from typing import Any, BinaryIO

_LENGTH = struct.Struct(">I")
END = b"end"
#: PostgreSQL advisory lock on the chunk store ("chunks" in ASCII): staging and recording an import
#: hold it shared, the sweep exclusively. (On SQLite the database write lock does the same.)
SWEEP_LOCK_KEY = 0x6368756E6B73


def write_frame(stream: BinaryIO, data: bytes) -> None:
    stream.write(_LENGTH.pack(len(data)))
    stream.write(data)


def read_frame(stream: BinaryIO) -> bytes | None:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        return None
    return data


class _Store:
    def __init__(self, config: dict[str, Any]):
        self.backend = config["backend"]
        self.level = int(config["level"])
        self.lease, self.import_id = config["lease"], config["import_id"]
        self.lease_time = timedelta(seconds=float(config["lease_seconds"]))
        if self.backend == "sqlite":
            self.conn: Any = sqlite3.connect(config["path"], timeout=int(config["timeout"]), isolation_level=None)
            self.statements = [
                "INSERT OR IGNORE INTO chunk_leases (lease, digest, import_id, expires_at) VALUES (?, ?, ?, ?)",
                "INSERT OR IGNORE INTO activity_chunks (digest, kind, row_count, size, body, staged_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                "UPDATE chunk_leases SET expires_at = ? WHERE lease = ?",
            ]
        else:
            import psycopg

            self.conn = psycopg.connect(config["conninfo"], autocommit=False)
            self.statements = [
                "INSERT INTO chunk_leases (lease, digest, import_id, expires_at) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                "INSERT INTO activity_chunks (digest, kind, row_count, size, body, staged_at) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                "UPDATE chunk_leases SET expires_at = %s WHERE lease = %s",
            ]

    def put(self, digest: str, kind: str, rows: int, data: bytes) -> None:
        """Store the chunk and lease it, in one transaction."""
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError(f"chunk {digest} arrived damaged")
        body = zlib.compress(data, self.level)
        now = datetime.now(timezone.utc)
        staged: Any = now
        expires: Any = now + self.lease_time
        lease, chunk, extend = self.statements
        if self.backend == "sqlite":
            # SQLAlchemy's SQLite DateTime format, naive UTC, so the read models read it back.
            staged, expires = (moment.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") for moment in (now, expires))
            self.conn.execute("BEGIN IMMEDIATE")
        else:
            self.conn.execute("SELECT pg_advisory_xact_lock_shared(%s)", (SWEEP_LOCK_KEY,))
        self.conn.execute(lease, (self.lease, digest, self.import_id, expires))
        self.conn.execute(chunk, (digest, kind, rows, len(data), body, staged))
        self.conn.execute(extend, (expires, self.lease))
        if self.backend == "sqlite":
            self.conn.execute("COMMIT")
        else:
            self.conn.commit()

    def close(self) -> None:
        self.conn.close()


def main() -> int:
    stdin = sys.stdin.buffer
    config_frame = read_frame(stdin)
    if config_frame is None:
        return 1
    store = _Store(json.loads(config_frame))
    stored = 0
    try:
        while True:
            header = read_frame(stdin)
            if header is None:
                return 1  # the parent stopped: leave what is stored (unreferenced) and go
            if header == END:
                break
            digest, kind, rows = json.loads(header)
            data = read_frame(stdin)
            if data is None:
                return 1
            store.put(digest, kind, rows, data)
            stored += 1
    except Exception as error:  # noqa: BLE001 - reported to the parent on stdout
        sys.stdout.write(f"error {type(error).__name__}: {error}\n")
        sys.stdout.flush()
        return 2
    finally:
        store.close()
    sys.stdout.write(f"ok {stored}\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
