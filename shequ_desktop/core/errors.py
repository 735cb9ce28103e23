"""Errors the domain raises; str() is a Chinese message that says what and where."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str      # field name in the registry ("" when the record as a whole is wrong)
    label: str      # the field's Chinese label
    message: str

    def __str__(self) -> str:
        return f"{self.label}：{self.message}" if self.label else self.message


class DomainError(Exception):
    """An action the rules refuse (for example deleting a grid that still has houses)."""


class ValidationError(DomainError):
    def __init__(self, errors: list[FieldError]):
        self.errors = list(errors)
        super().__init__("；".join(str(e) for e in self.errors))

    def by_field(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for e in self.errors:
            out.setdefault(e.field, e.message)
        return out


class NotFoundError(DomainError):
    pass


class ConflictError(DomainError):
    """The record was changed by someone else since it was read (optimistic locking)."""

    def __init__(self, message: str, changed: dict[str, tuple]):
        super().__init__(message)
        self.changed = changed      # field -> (value when read, value now)


class ReadOnlyError(DomainError):
    """No write is allowed now: the database is being checked, is damaged, or the user may
    only read."""
