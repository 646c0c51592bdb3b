"""Tables of the database photo store: writes, their chunks, stored photos (migration photostore_0001).

Core tables with no ORM model: nothing but ``inspector.photostore.database`` reads them. A photo
becomes visible only when its ``photo_object`` row is inserted, in one transaction, naming the
write (``upload_id``) whose chunks hold its bytes; chunks of a write that never got that row are
invisible and swept like a half-written file.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, LargeBinary, String, Table
from sqlmodel import SQLModel

# One write into the store, finished or not.
upload_table = Table(
    "photo_upload",
    SQLModel.metadata,
    Column("upload_id", String(32), primary_key=True),
    Column("shelf", String(16), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False, index=True),
)

# A piece of a write, in order from ``seq`` 0.
chunk_table = Table(
    "photo_chunk",
    SQLModel.metadata,
    Column(
        "upload_id", String(32), ForeignKey("photo_upload.upload_id", ondelete="CASCADE"), primary_key=True
    ),
    Column("seq", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

# A stored photo: its digest on a shelf, the write holding its bytes, when it was last stored.
object_table = Table(
    "photo_object",
    SQLModel.metadata,
    Column("shelf", String(16), primary_key=True),
    Column("sha256", String(64), primary_key=True),
    Column("upload_id", String(32), ForeignKey("photo_upload.upload_id"), nullable=False, unique=True),
    Column("size", Integer, nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
)
