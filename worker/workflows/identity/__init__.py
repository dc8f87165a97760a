"""The identity domain's workflows, run by the core queue's worker."""

from services.identity.workflows.session_cleanup import SessionCleanupWorkflow
from services.identity.workflows.signup import SignupWorkflow

WORKFLOWS: list[type] = [SignupWorkflow, SessionCleanupWorkflow]
