"""The vendor watch: what changed in a vendor's behaviour since it was last accepted.

Schema tools notice a new field; none notices a vendor that starts ignoring
the window, counts its total differently or moves the key to a header. The
probe observes those behaviours (`ProbeReport.behaviours`, in words that stay
the same while the vendor does), and `<group>/vendor_contract` keeps them day to
day (defs/inventory_api/vendor_contract.py). This module is the comparison:
which behaviours differ from the accepted ones, and what the accepted ones
become after a run. A behaviour observed in only one of the two (the probe's
budget ran out sooner, or a check had nothing to try) is not a change, nor is
a name missing from one day's sample of a list of names (NAME_LISTS).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# endpoint -> check -> behaviour, as the probe words it
Behaviours = Mapping[str, Mapping[str, str]]
# Behaviours that are lists of names seen in a sample of records or answers (a field
# only some records have, a header only some answers carry): a name never accepted
# before is a change, a name missing from one day's sample is not.
NAME_LISTS = frozenset({"unknown fields", "nested fields", "rate-limit headers"})
_NO_NAMES = frozenset({"none", "none seen"})


@dataclass(frozen=True)
class Change:
    """One behaviour of one endpoint that differs from the accepted one."""

    endpoint: str
    check: str
    was: str
    now: str

    def __str__(self) -> str:
        return f"{self.endpoint}: {self.check} was '{self.was}', now '{self.now}'"


def _names(behaviour: str) -> set[str]:
    return set() if behaviour in _NO_NAMES else set(behaviour.split(", "))


def _differs(check: str, was: str, now: str) -> bool:
    if check in NAME_LISTS:
        return bool(_names(now) - _names(was))
    return was != now


def _merged(check: str, was: str | None, now: str) -> str:
    """What is accepted once `now` is: for a list of names, every name seen so far."""
    if check not in NAME_LISTS or was is None:
        return now
    return ", ".join(sorted(_names(was) | _names(now))) or "none"


def changes(accepted: Behaviours, observed: Behaviours) -> list[Change]:
    """The behaviours observed now that differ from the accepted ones, in a stable order."""
    return [
        Change(endpoint, check, was, now)
        for endpoint, seen in sorted(observed.items())
        for check, now in seen.items()
        if (was := accepted.get(endpoint, {}).get(check)) is not None and _differs(check, was, now)
    ]


def accepted_after(
    accepted: Behaviours, observed: Behaviours, found: list[Change], accept: bool
) -> dict[str, dict[str, str]]:
    """The accepted behaviours once this observation is judged.

    Unchanged or accepted (`accept`): the observation, over what it did not see.
    Changed and not accepted: the old ones stay, so every run fails until the
    change is accepted; behaviours seen for the first time are added either way.
    """
    keep_old = bool(found) and not accept
    merged: dict[str, dict[str, str]] = {name: dict(seen) for name, seen in accepted.items()}
    for endpoint, seen in observed.items():
        known = merged.setdefault(endpoint, {})
        for check, behaviour in seen.items():
            if not (keep_old and check in known):
                known[check] = _merged(check, known.get(check), behaviour)
    return merged
