"""Every domain's registry; a new domain with workflows adds its own here."""

from common.temporal.registry import DomainRegistry
from worker.workflows import identity, media

REGISTRIES: list[DomainRegistry] = [identity.REGISTRY, media.REGISTRY]
