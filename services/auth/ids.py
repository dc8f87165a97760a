from typing import NewType

from common.ids import RichIds

TenantUserId = NewType("TenantUserId", str)
TenantUserIds = RichIds("tenantuser", TenantUserId)

AuthConnectorId = NewType("AuthConnectorId", str)
AuthConnectorIds = RichIds("authconnector", AuthConnectorId)

SessionId = NewType("SessionId", str)
SessionIds = RichIds("session", SessionId)
