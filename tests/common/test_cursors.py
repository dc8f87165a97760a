import base64

import pytest

from central.lists.v1 import lists_pb2
from central.tenants.v1 import tenants_pb2
from common.errors import ValidationError
from common.lists import DEFAULT_LIMIT, MAX_LIMIT, CursorResumer, Cursors

CURSORS = Cursors(b"k" * 32)


def test_round_trip_carries_the_input_and_the_last_key() -> None:
    original = tenants_pb2.ListTenantsInput(limit=7, order=lists_pb2.LIST_ORDER_NEWEST_FIRST)
    cursor = CURSORS.encode(original, "tenant-01ARZ3NDEKTSV4RRFFQ69G5FAV")
    decoded, last_key = CURSORS.decode(cursor, tenants_pb2.ListTenantsInput)
    assert decoded == original
    assert last_key == "tenant-01ARZ3NDEKTSV4RRFFQ69G5FAV"

    page = CURSORS.start(tenants_pb2.ListTenantsInputOrCursor(cursor=cursor), tenants_pb2.ListTenantsInput)
    assert (page.limit, page.newest_first, page.after) == (7, True, last_key)


def test_start_defaults_to_fifty_oldest_first() -> None:
    page = CURSORS.start(tenants_pb2.ListTenantsInputOrCursor(), tenants_pb2.ListTenantsInput)
    assert (page.limit, page.newest_first, page.after) == (DEFAULT_LIMIT, False, None)


@pytest.mark.parametrize("limit", [0, 201, 10_000])
def test_limits_outside_one_to_two_hundred_are_refused(limit: int) -> None:
    request = tenants_pb2.ListTenantsInputOrCursor(input=tenants_pb2.ListTenantsInput(limit=limit))
    with pytest.raises(ValidationError) as caught:
        CURSORS.start(request, tenants_pb2.ListTenantsInput)
    assert caught.value.violations[0].field == "limit"


def _flip_one_byte(cursor: str) -> str:
    payload, _, mac = cursor.partition(".")
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[-3] ^= 1
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode() + "." + mac


@pytest.mark.parametrize(
    "mangle",
    [
        _flip_one_byte,
        lambda c: c[:-1] + ("A" if c[-1] != "A" else "B"),
        lambda c: c.replace(".", ""),
        lambda c: "",
        lambda c: "not a cursor",
        lambda c: Cursors(b"other key".ljust(32, b"!")).encode(tenants_pb2.ListTenantsInput(), "x"),
    ],
)
def test_tampered_or_foreign_cursors_are_refused(mangle: object) -> None:
    cursor = CURSORS.encode(tenants_pb2.ListTenantsInput(limit=3), "tenant-01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert callable(mangle)
    with pytest.raises(ValidationError) as caught:
        CURSORS.decode(mangle(cursor), tenants_pb2.ListTenantsInput)
    assert caught.value.reason == "INVALID_CURSOR"


def test_a_cursor_of_another_list_is_refused() -> None:
    cursor = CURSORS.encode(tenants_pb2.GetTenantInput(tenant_id="x"), "k")
    with pytest.raises(ValidationError):
        CURSORS.decode(cursor, tenants_pb2.ListTenantsInput)


def test_next_cursor_only_when_a_row_beyond_the_page_exists() -> None:
    page = CURSORS.start(
        tenants_pb2.ListTenantsInputOrCursor(input=tenants_pb2.ListTenantsInput(limit=2)),
        tenants_pb2.ListTenantsInput,
    )
    assert CURSORS.next_cursor(page, ["a", "b"]) == ""
    cursor = CURSORS.next_cursor(page, ["a", "b", "c"])
    assert CURSORS.decode(cursor, tenants_pb2.ListTenantsInput)[1] == "b"


def test_the_page_end_keeps_the_page_and_continues_after_its_last_row() -> None:
    page = CURSORS.start(
        tenants_pb2.ListTenantsInputOrCursor(input=tenants_pb2.ListTenantsInput(limit=2)),
        tenants_pb2.ListTenantsInput,
    )
    rows = [{"id": "a"}, {"id": "b"}, {"id": "c"}]
    kept, cursor = CURSORS.page_end(page, rows, lambda row: row["id"])
    assert kept == rows[:2]
    assert CURSORS.decode(cursor, tenants_pb2.ListTenantsInput)[1] == "b"
    assert CURSORS.page_end(page, rows[:2], lambda row: row["id"]) == (rows[:2], "")


def _resumed(cursor: str, resent: tenants_pb2.ListTenantsInput) -> tuple[int, bool, str | None]:
    page = CURSORS.start(
        tenants_pb2.ListTenantsInputOrCursor(cursor=CURSORS.resume(cursor, resent)),
        tenants_pb2.ListTenantsInput,
    )
    return page.limit, page.newest_first, page.after


def test_a_query_sent_again_beside_its_cursor_may_change_the_limit_only() -> None:
    original = tenants_pb2.ListTenantsInput(limit=2, order=lists_pb2.LIST_ORDER_NEWEST_FIRST)
    cursor = CURSORS.encode(original, "k")
    assert _resumed(cursor, tenants_pb2.ListTenantsInput(limit=2, order=original.order)) == (2, True, "k")
    assert _resumed(cursor, tenants_pb2.ListTenantsInput(limit=9, order=original.order)) == (9, True, "k")
    # A query that leaves a field out keeps the cursor's own.
    assert _resumed(cursor, tenants_pb2.ListTenantsInput(limit=5)) == (5, True, "k")
    assert CURSORS.resume(cursor, tenants_pb2.ListTenantsInput()) == cursor


def test_a_query_that_differs_from_its_cursor_is_refused_naming_the_field() -> None:
    cursor = CURSORS.encode(tenants_pb2.ListTenantsInput(order=lists_pb2.LIST_ORDER_NEWEST_FIRST), "k")
    with pytest.raises(ValidationError) as caught:
        CURSORS.resume(cursor, tenants_pb2.ListTenantsInput(limit=1, order=lists_pb2.LIST_ORDER_OLDEST_FIRST))
    assert caught.value.reason == "CURSOR_QUERY_MISMATCH"
    assert [v.field for v in caught.value.violations] == ["order"]


def test_a_resumed_limit_is_still_bounded() -> None:
    cursor = CURSORS.encode(tenants_pb2.ListTenantsInput(limit=2), "k")
    with pytest.raises(ValidationError) as caught:
        _resumed(cursor, tenants_pb2.ListTenantsInput(limit=MAX_LIMIT + 1))
    assert caught.value.violations[0].field == "limit"


def test_a_tampered_cursor_resumed_is_refused_where_it_is_used() -> None:
    cursor = CURSORS.encode(tenants_pb2.ListTenantsInput(limit=2), "k")
    with pytest.raises(ValidationError) as caught:
        _resumed(_flip_one_byte(cursor), tenants_pb2.ListTenantsInput(limit=3))
    assert caught.value.reason == "INVALID_CURSOR"


def test_the_gateway_resumes_a_cursor_without_the_key_and_the_service_applies_the_new_limit() -> None:
    cursor = CURSORS.encode(tenants_pb2.ListTenantsInput(limit=2), "k")
    resumed = CursorResumer().resume(cursor, tenants_pb2.ListTenantsInput(limit=9))
    assert resumed == f"{cursor}.9"
    assert CURSORS.decode(resumed, tenants_pb2.ListTenantsInput) == (
        tenants_pb2.ListTenantsInput(limit=9),
        "k",
    )
    # The same limit again is the cursor itself: one page, one spelling.
    assert CursorResumer().resume(resumed, tenants_pb2.ListTenantsInput(limit=2)) == cursor
    # A cursor signed by another key, whatever limit follows it, is refused by the service.
    forged = Cursors(b"x" * 32).encode(tenants_pb2.ListTenantsInput(limit=2), "k")
    with pytest.raises(ValidationError) as caught:
        CURSORS.decode(
            CursorResumer().resume(forged, tenants_pb2.ListTenantsInput(limit=9)),
            tenants_pb2.ListTenantsInput,
        )
    assert caught.value.reason == "INVALID_CURSOR"


@pytest.mark.parametrize("suffix", [".0", ".09", ".", ".x", ".9.9", ".1234567890"])
def test_a_page_size_after_the_cursor_is_refused_unless_in_its_one_spelling(suffix: str) -> None:
    cursor = CURSORS.encode(tenants_pb2.ListTenantsInput(limit=2), "k")
    with pytest.raises(ValidationError) as caught:
        CURSORS.decode(cursor + suffix, tenants_pb2.ListTenantsInput)
    assert caught.value.reason == "INVALID_CURSOR"
