"""Rotating the encryption key: client secrets sealed under the old key are sealed again under the new."""

from __future__ import annotations

import os

from ulid import ULID

from central.auth.v1 import auth_connectors_pb2 as pb
from common.crypto import SecretBox
from common.lists import Cursors
from services.auth.auth_connectors import AuthConnectorService
from services.tenants.ids import TenantIds
from tests.support.stack import Stack


async def test_reencrypt_seals_old_secrets_under_the_current_key(stack: Stack) -> None:
    old, new = os.urandom(32), os.urandom(32)
    cursors = Cursors(os.urandom(32))
    pools = await stack.container.pools()
    before = AuthConnectorService(pools.rw, pools.ro, cursors, SecretBox(old))
    tenant_id = TenantIds.to_rich_id(ULID().to_uuid())
    created = await before.create_auth_connector(
        pb.CreateAuthConnectorInput(
            tenant_id=tenant_id,
            name="sso",
            oidc=pb.OidcConnectorConfigInput(
                issuer="https://id.example", client_id="c", client_secret="the-secret-0123456789"
            ),
        )
    )
    rotated = AuthConnectorService(pools.rw, pools.ro, cursors, SecretBox(new, (old,)))
    first = await rotated.tx_reencrypt_secrets()
    assert first.reencrypted >= 1
    # Other tests' connectors are under the stack's own key, which this service does not hold.
    again = await rotated.tx_reencrypt_secrets()
    assert (again.reencrypted, again.unopened) == (0, first.unopened)

    row = await rotated.get_oidc_connector(created.auth_connector_id)
    # Only the new key is needed now.
    only_new = AuthConnectorService(pools.rw, pools.ro, cursors, SecretBox(new))
    assert only_new.client_secret(row) == "the-secret-0123456789"
