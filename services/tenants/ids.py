from typing import NewType

from common.ids import RichIds

TenantId = NewType("TenantId", str)
TenantIds = RichIds("tenant", TenantId)
