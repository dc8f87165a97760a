from uuid import UUID

import pytest

from common.errors import ValidationError
from common.ids import RichIds
from services.tenants.ids import TenantIds


def test_round_trip_between_rich_id_and_uuid() -> None:
    tenant_id = TenantIds.new()
    assert tenant_id.startswith("tenant-")
    uuid = TenantIds.to_uuid(tenant_id)
    assert isinstance(uuid, UUID)
    assert TenantIds.to_rich_id(uuid) == tenant_id
    assert TenantIds.to_rich_id(tenant_id) == tenant_id


def test_rich_ids_sort_by_creation_like_their_uuids() -> None:
    ids = [TenantIds.new() for _ in range(50)]
    assert sorted(ids, key=TenantIds.to_uuid) == sorted(ids)


@pytest.mark.parametrize(
    "value",
    [
        "tenant-",
        "tenant-01ARZ3NDEKTSV4RRFFQ69G5FA",  # 25 characters
        "tenant-01ARZ3NDEKTSV4RRFFQ69G5FAVX",  # 27 characters
        "tenant-81ARZ3NDEKTSV4RRFFQ69G5FAV",  # over 128 bits
        "tenant-01ARZ3NDEKTSV4RRFFQ69G5FAU",  # U is not Crockford base32
        "tenant-01arz3ndektsv4rrffq69g5fav",
        "user-01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "01ARZ3NDEKTSV4RRFFQ69G5FAV",
        # `$` matches before a final newline: a pattern must match the whole value.
        "tenant-01ARZ3NDEKTSV4RRFFQ69G5FAV\n",
        "tenant-01ARZ3NDEKTSV4RRFFQ69G5FAV\r\n",
        " tenant-01ARZ3NDEKTSV4RRFFQ69G5FAV",
        42,
        None,
    ],
)
def test_guard_and_ensure_refuse_what_is_not_a_tenant_id(value: object) -> None:
    assert not TenantIds.guard(value)
    with pytest.raises(ValidationError) as caught:
        TenantIds.ensure(value, field="tenant_id")
    assert caught.value.violations[0].field == "tenant_id"


def test_ensure_accepts_a_valid_id() -> None:
    assert TenantIds.ensure("tenant-01ARZ3NDEKTSV4RRFFQ69G5FAV") == "tenant-01ARZ3NDEKTSV4RRFFQ69G5FAV"


def test_to_uuid_refuses_a_trailing_newline_with_a_validation_error() -> None:
    with pytest.raises(ValidationError) as caught:
        TenantIds.to_uuid("tenant-01ARZ3NDEKTSV4RRFFQ69G5FAV\n", field="tenant_id")
    assert caught.value.reason == "INVALID_ID"


def test_a_prefix_must_be_one_lowercase_word_whole() -> None:
    with pytest.raises(ValueError, match="one lowercase word"):
        RichIds("tenant\n", str)
