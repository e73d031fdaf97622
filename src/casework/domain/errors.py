"""Domain errors carry enough structure for the API to build a precise problem report."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the case lifecycle was broken; maps to HTTP 409 unless a subclass says otherwise."""

    status = 409
    title = "Conflict with the case lifecycle"

    def __init__(self, message: str, *, field: str | None = None, **extra: object) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra


class InvalidTransition(DomainError):
    """The requested phase move is not one the lifecycle allows from the current phase."""

    title = "Transition not allowed"

    def __init__(self, current: str, target: str, allowed: list[str], why: str = "") -> None:
        msg = f"cannot move from {current} to {target}"
        if why:
            msg += f": {why}"
        msg += f"; allowed transitions: {', '.join(allowed) if allowed else 'none'}"
        super().__init__(msg, field="to_phase", allowed_transitions=allowed, current_phase=current)
        self.allowed = allowed


class MissingReason(DomainError):
    """Returns to an earlier phase and reopenings must be justified."""

    status = 422
    title = "Reason required"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="reason")


class MissingOutcome(DomainError):
    """A closed case without an outcome would make evaluation meaningless."""

    status = 422
    title = "Outcome required"

    def __init__(self, message: str = "closing a case requires an outcome") -> None:
        super().__init__(message, field="outcome")


class NotFound(DomainError):
    status = 404
    title = "Not found"


class StaleVersion(DomainError):
    """Someone else changed the record since the caller read it."""

    status = 409
    title = "Stale version"


class PreconditionFailed(DomainError):
    """An If-Match header did not match the current version."""

    status = 412
    title = "Precondition failed"


class InvalidInput(DomainError):
    """Input that passed the schema but breaks a business rule (unknown reference, bad combination)."""

    status = 422
    title = "Invalid input"


class Unauthenticated(DomainError):
    """No valid credentials: the caller must sign in or send a valid token."""

    status = 401
    title = "Authentication failed"


class Forbidden(DomainError):
    """The caller is known but their role or token scope does not allow the action."""

    status = 403
    title = "Forbidden"


class CriteriaNotMet(DomainError):
    """The case type's exit or entry criteria for the requested move are not all met."""

    status = 409
    title = "Phase criteria not met"

    def __init__(self, current: str, target: str, unmet: list[str]) -> None:
        super().__init__(f"cannot move from {current} to {target}: " + "; ".join(unmet), field="to_phase", unmet_criteria=unmet)
        self.unmet = unmet


class PayloadTooLarge(DomainError):
    """An uploaded file went over the configured size limit."""

    status = 413
    title = "Payload too large"


class Gone(DomainError):
    """The record is kept as a tombstone, but its content was purged under the retention rules."""

    status = 410
    title = "Gone"


class StorageFailure(DomainError):
    """The stored bytes of a record are missing or damaged: an operator must restore them."""

    status = 500
    title = "Storage failure"
