"""The list framework: page limits, opaque tamper-evident cursors, keyset positions.

A cursor carries the original ListXInput and the key of the last row served, signed with
a key derived for cursors. It is bound to the input's message type, so a cursor of one
list is refused by another.

A client may send its query again beside the cursor (AIP-158): `limit` may change from page
to page, any other field must equal the cursor's own. `CursorResumer.resume` is that rule; the
gateway applies it without the cursors' key, which only services hold: it reads the cursor
unverified, and a new limit goes after the signed cursor as `SIGNED.LIMIT`, which the service
verifies and applies (a limit is the client's to choose, and is bounded like any other).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar, cast
from uuid import UUID

from google.protobuf.message import DecodeError, Message
from psycopg import sql

from central.lists.v1 import lists_pb2
from common.errors import ValidationError
from common.signing import BadSignatureError, Sealer, b64decode, b64encode

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


InputT = TypeVar("InputT", bound=Message)
RowT = TypeVar("RowT")


class _SharedListFields(Protocol):
    """What every ListXInput copies in: `optional uint32 limit = 1; ListOrder order = 2;`."""

    limit: int
    order: int


class _InputOrCursor(Protocol):
    """A ListXInputOrCursor: `oneof kind { ListXInput input = 1; string cursor = 2; }`."""

    input: Message
    cursor: str


@dataclass(frozen=True, slots=True)
class Page(Generic[InputT]):
    """Where a list request starts: its input, and the key after which to resume."""

    input: InputT
    after: str | None
    limit: int
    newest_first: bool

    def keyset(self, key_column: str) -> sql.Composed:
        """The end of a WHERE clause: past the cursor's key, in order, one row more than the page.

        Its parameters are `keyset_params`: keyset paging, never OFFSET.
        """
        return sql.SQL(
            " AND (%(after)s::uuid IS NULL OR {key} {comparison} %(after)s)"
            " ORDER BY {key} {direction} LIMIT %(limit)s"
        ).format(
            key=sql.Identifier(key_column),
            comparison=sql.SQL("<" if self.newest_first else ">"),
            direction=sql.SQL("DESC" if self.newest_first else "ASC"),
        )

    def keyset_params(self, after: UUID | None) -> dict[str, object]:
        # One row more than the page tells whether another page follows.
        return {"after": after, "limit": self.limit + 1}


# The one shared list field a client may change from page to page.
_PAGE_SIZE_FIELD = "limit"


def _invalid_cursor() -> ValidationError:
    return ValidationError.of("cursor", "is not a cursor this list issued", reason="INVALID_CURSOR")


# A signed cursor, then optionally the page size a client asked for since: digits, no leading 0.
_LIMIT_SUFFIX = re.compile(r"^(?P<signed>[^.]+\.[^.]+)(?:\.(?P<limit>[1-9][0-9]{0,8}))?$")


def _unsigned_parts(cursor: str) -> tuple[str, int | None, dict[str, object]]:
    """The signed cursor, the page size after it, and its payload, read without verifying it."""
    matched = _LIMIT_SUFFIX.match(cursor)
    if matched is None:
        raise _invalid_cursor()
    try:
        fields = json.loads(b64decode(matched["signed"].partition(".")[0]))
    except (BadSignatureError, ValueError):
        raise _invalid_cursor() from None
    if not isinstance(fields, dict):
        raise _invalid_cursor()
    limit = matched["limit"]
    return matched["signed"], None if limit is None else int(limit), fields


class CursorResumer:
    """What the gateway does with a cursor: fold a query sent again into it, holding no key."""

    def resume(self, cursor: str, resent: InputT) -> str:
        """The cursor that continues `cursor` for a client that sent its query again beside it.

        `resent` is that query. Its `limit`, when given, replaces the cursor's; every other
        field it sets must equal the cursor's own, or the answer names the field. A field at
        its default value counts as not sent: proto3 cannot tell the two apart. The cursor is
        verified where it is used, by the service that issued it.
        """
        signed, _, fields = _unsigned_parts(cursor)
        original = _list_input(fields, type(resent))
        for field, value in resent.ListFields():
            if field.name != _PAGE_SIZE_FIELD and getattr(original, field.name) != value:
                raise ValidationError.of(
                    field.name,
                    "differs from the query this cursor continues: send the same value, or the cursor alone",
                    reason="CURSOR_QUERY_MISMATCH",
                )
        if not resent.HasField(_PAGE_SIZE_FIELD):
            return cursor
        limit = getattr(resent, _PAGE_SIZE_FIELD)
        if original.HasField(_PAGE_SIZE_FIELD) and getattr(original, _PAGE_SIZE_FIELD) == limit:
            return signed
        return f"{signed}.{limit}"


def _list_input(fields: dict[str, object], input_type: type[InputT]) -> InputT:
    if fields.get("t") != input_type.DESCRIPTOR.full_name or not isinstance(fields.get("i"), str):
        raise _invalid_cursor()
    try:
        return input_type.FromString(b64decode(cast(str, fields["i"])))
    except (BadSignatureError, DecodeError):
        raise _invalid_cursor() from None


class Cursors(CursorResumer):
    """Issuing and reading cursors: what a service does, with the cursors' key."""

    def __init__(self, key: bytes, previous: tuple[bytes, ...] = ()) -> None:
        self._sealer = Sealer(key, previous)

    def encode(self, list_input: Message, last_key: str) -> str:
        payload = json.dumps(
            {
                "t": list_input.DESCRIPTOR.full_name,
                "i": b64encode(list_input.SerializeToString(deterministic=True)),
                "k": last_key,
            },
            separators=(",", ":"),
        ).encode()
        return self._sealer.seal(payload)

    def decode(self, cursor: str, input_type: type[InputT]) -> tuple[InputT, str]:
        """The query and last key `cursor` carries, with the page size a client set since."""
        signed, limit, _ = _unsigned_parts(cursor)
        try:
            fields = json.loads(self._sealer.open(signed))
        except (BadSignatureError, ValueError):
            raise _invalid_cursor() from None
        list_input = _list_input(fields, input_type)
        last_key = fields.get("k")
        if not isinstance(last_key, str):
            raise _invalid_cursor()
        if limit is not None:
            setattr(list_input, _PAGE_SIZE_FIELD, limit)
        return list_input, last_key

    def start(self, input_or_cursor: Message, input_type: type[InputT]) -> Page[InputT]:
        """Resolve a ListXInputOrCursor (`oneof kind { input, cursor }`) into the page it asks for."""
        after: str | None = None
        kind = input_or_cursor.WhichOneof("kind")
        if kind == "cursor":
            list_input, after = self.decode(cast(_InputOrCursor, input_or_cursor).cursor, input_type)
        elif kind == "input":
            list_input = cast(InputT, cast(_InputOrCursor, input_or_cursor).input)
        else:
            list_input = input_type()
        shared = cast(_SharedListFields, list_input)
        limit = shared.limit if list_input.HasField("limit") else DEFAULT_LIMIT
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationError.of("limit", f"must be between 1 and {MAX_LIMIT}")
        newest_first = shared.order == lists_pb2.LIST_ORDER_NEWEST_FIRST
        return Page(input=list_input, after=after, limit=limit, newest_first=newest_first)

    def next_cursor(self, page: Page[InputT], keys: list[str]) -> str:
        """The cursor after `keys` (the page's rows, fetched with one extra to probe for more)."""
        if len(keys) <= page.limit:
            return ""
        return self.encode(page.input, keys[page.limit - 1])

    def page_end(
        self, page: Page[InputT], rows: Sequence[RowT], key: Callable[[RowT], str]
    ) -> tuple[list[RowT], str]:
        """The end of every keyset list: the page's rows, and the cursor after them ("" at the end).

        `rows` were fetched with `Page.keyset`, one more than the page; `key` is a row's key.
        """
        return list(rows[: page.limit]), self.next_cursor(page, [key(row) for row in rows])
