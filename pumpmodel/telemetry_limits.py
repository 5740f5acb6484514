"""Resource limits of the telemetry loader: what an uploaded file may expand to.

The upload cap (25 MB, ``ui/data.py``) bounds the compressed bytes only; a zip
or a Parquet file can inflate far beyond it (a 1 MB zip of zeros inflates to
1 GB). Here:

* zip members are read as a stream, 1 MB at a time, counting what they really
  inflate to (the sizes in the zip header are not trusted): more than
  ``MAX_INFLATED_BYTES`` in total, or more than ``MAX_MEMBERS`` members, and
  the upload is refused naming the member, before the rest is inflated;
* a Parquet file's footer is read first: more than ``MAX_ROWS`` rows or more
  than ``MAX_INFLATED_BYTES`` of uncompressed column data is refused before
  any column is decoded.

Plausible ranges of the values themselves are checked in ``telemetry``.
"""
from __future__ import annotations

import io
import zipfile
import zlib

import pyarrow as pa
import pyarrow.parquet as pq

MAX_INFLATED_MB = 100
MAX_INFLATED_BYTES = MAX_INFLATED_MB * 1024 * 1024
MAX_MEMBERS = 5000
MAX_ROWS = 5_000_000
CHUNK = 1024 * 1024

#: what a broken or hostile zip raises while it is read (besides BadZipFile)
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)


class LimitExceeded(ValueError):
    """A file that would inflate past a limit; ``file`` names it."""

    def __init__(self, file: str, message: str):
        super().__init__(message)
        self.file = file


class ZipReader:
    """Members of an uploaded zip, inflated as a stream under one shared budget."""

    def __init__(self, data: bytes, name: str, budget: int = MAX_INFLATED_BYTES, max_members: int = MAX_MEMBERS):
        self.name = name
        self.zf = zipfile.ZipFile(io.BytesIO(data))
        infos = self.zf.infolist()
        if len(infos) > max_members:
            raise LimitExceeded(name, f"{len(infos):,} members in the zip; at most {max_members:,}")
        self.budget = budget
        self.used = 0
        self.members = [i.filename for i in infos
                        if not i.is_dir() and "__MACOSX" not in i.filename]
        declared = sum(i.file_size for i in infos)
        if declared > budget:  # the header already says too much (it may also lie: see read)
            raise LimitExceeded(name, f"the zip inflates to {declared / 1048576:,.0f} MB; at most "
                                      f"{budget / 1048576:,.0f} MB")

    def read(self, member: str) -> bytes:
        out = bytearray()
        with self.zf.open(member) as fh:
            while chunk := fh.read(CHUNK):
                self.used += len(chunk)
                if self.used > self.budget:
                    raise LimitExceeded(f"{self.name}:{member}",
                                        f"inflates past {self.budget / 1048576:,.0f} MB (the limit for a whole "
                                        "upload); refused without inflating the rest")
                out += chunk
        return bytes(out)


def check_parquet(source, file: str, max_rows: int = MAX_ROWS, max_bytes: int = MAX_INFLATED_BYTES) -> None:
    """Refuse a Parquet file whose footer declares too many rows or too much data."""
    meta = pq.ParquetFile(source).metadata
    if meta.num_rows > max_rows:
        raise LimitExceeded(file, f"{meta.num_rows:,} rows; at most {max_rows:,}")
    size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if size > max_bytes:
        raise LimitExceeded(file, f"{size / 1048576:,.0f} MB of uncompressed data; at most "
                                  f"{max_bytes / 1048576:,.0f} MB")


def read_parquet(data: bytes, file: str) -> pa.Table:
    """A Parquet file's table, after its footer passed ``check_parquet``."""
    check_parquet(io.BytesIO(data), file)
    return pq.read_table(io.BytesIO(data))
