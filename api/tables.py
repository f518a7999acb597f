"""The API's tables: issued tokens, stored as hashes, the audit log of personal-data reads, close-out photos."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Integer, LargeBinary, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from caretaker.estate.clock import UtcDateTime


class ApiBase(DeclarativeBase):
    pass


class TokenRow(ApiBase):
    __tablename__ = "api_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)  # None: never
    # written at most once a minute per token (api.deps), so a busy client does not write on every request
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    replaced_by: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the hash rotation issued


class AuditRow(ApiBase):
    """One read of a resident's personal data (个人信息保护法): who, what, which ticket, when. Append-only:
    triggers from migration 0005_privacy refuse UPDATE and DELETE, on PostgreSQL and SQLite alike."""

    __tablename__ = "api_audit"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(64))  # the token's subject
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))  # ticket.read, .list, .report, .step; stream.ticket
    what: Mapped[str] = mapped_column(String(200))  # the fields shown, e.g. "reporter_name,reporter_phone(masked)"
    ticket_id: Mapped[str] = mapped_column(String(32), index=True)


class PhotoRow(ApiBase):
    """A close-out photo uploaded by the technician's app (docs/api.md, "Photos"): in the database, so every
    instance serves it and a backup holds it with its ticket; at most 10 MB (api/photos.py)."""

    __tablename__ = "api_photos"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random: the URL is not guessable
    ticket_id: Mapped[str] = mapped_column(String(32), index=True)
    content_type: Mapped[str] = mapped_column(String(32))  # as sniffed from the bytes, never as the client said
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    data: Mapped[bytes] = mapped_column(LargeBinary)
