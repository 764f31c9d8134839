# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Type predicates for the fields of a cluster description, and their safe display."""

from __future__ import annotations

from collections.abc import Callable, Mapping

# (field, predicate, what the field must be): one entry of a section's checks.
Check = tuple[str, Callable[[object], bool], str]

MISSING = object()


# type() first in the two predicates below: an exact type test is the fast path for the common
# case (they run for every field of every host); subclasses (Ansible's tagged values) still pass
# through isinstance(). pylint's unidiomatic-typecheck does not apply to a fast path.
def is_mapping(value: object) -> bool:
    """True for a dictionary (or any mapping)."""
    return type(value) is dict or isinstance(value, Mapping)  # pylint: disable=unidiomatic-typecheck


def is_int(value: object) -> bool:
    """True for an integer that is not a boolean."""
    return type(value) is int or (  # pylint: disable=unidiomatic-typecheck
        isinstance(value, int) and not isinstance(value, bool)
    )


def is_positive_int(value: object) -> bool:
    """True for an integer above 0."""
    return is_int(value) and value > 0  # type: ignore[operator]


def is_non_negative_int(value: object) -> bool:
    """True for an integer of 0 or more."""
    return is_int(value) and value >= 0  # type: ignore[operator]


def is_port(value: object) -> bool:
    """True for an integer from 1 to 65535."""
    return is_int(value) and 0 < value < 65536  # type: ignore[operator]


def is_bool(value: object) -> bool:
    """True for a real boolean."""
    return value is True or value is False


def is_text(value: object) -> bool:
    """True for a string that is not empty or blank."""
    return isinstance(value, str) and value != "" and not value.isspace()


def is_optional_text(value: object) -> bool:
    """True for None or non-blank text."""
    return value is None or is_text(value)


def is_list(value: object) -> bool:
    """True for a list (or tuple)."""
    return isinstance(value, (list, tuple))


def is_names(value: object) -> bool:
    """True for a list of strings."""
    return is_list(value) and all(isinstance(item, str) for item in value)  # type: ignore[union-attr]


def is_optional_names(value: object) -> bool:
    """True for None or a list of strings."""
    return value is None or is_names(value)


def show(value: object) -> str:
    """A short, safe rendering of a schema value for messages (containers by type only)."""
    if isinstance(value, str):
        text = str(value)
        return repr(text if len(text) <= 60 else text[:57] + "...")
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, (int, float)):
        return repr(value)
    return f"a {type(value).__name__}"
