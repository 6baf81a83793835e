"""A tenant as AWS resource names spell it: hashed, never its id.

Tenant ids may be long or use characters resource names may not, and two tenants may both name a
workflow "support"; a short hash of the id is safe in names and ARNs, and lets an IAM policy be
scoped to one tenant's prefix. State machine names and secret names both use it.
"""

from __future__ import annotations

import hashlib

TENANT_HASH_LENGTH = 10


def tenant_hash(tenant_id: str) -> str:
    return hashlib.sha256(tenant_id.encode()).hexdigest()[:TENANT_HASH_LENGTH]
