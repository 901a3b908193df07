"""What the probe found: its findings, the vendor's shape as defs.yaml says it, the settings.

`ProbeReport` is filled by the probe (behaviour.py) and read by its fronts:
`inventory-api-probe` prints `as_text()`, `<group>_api_probe_job` shows
`as_markdown()` in the run's metadata, and the vendor watch (watch.py) keeps
`behaviours()` from one day to the next.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml


@dataclass(frozen=True)
class Finding:
    """One line of the report: what was checked, whether it keeps the contract, how.

    `behaviour` is what the vendor does, in words that stay the same while it
    does (no counts or samples, unlike `detail`), so the watch can tell a change;
    None when the check observed nothing (no records to try a window on, say).
    """

    check: str
    ok: bool
    detail: str
    behaviour: str | None = None


@dataclass
class ProbeReport:
    """The findings, the vendor's shape as defs.yaml says it, and the settings it needs."""

    url: str
    findings: list[Finding] = field(default_factory=list)
    needed: dict[str, str] = field(default_factory=dict)  # without these, loads are wrong
    suggested: dict[str, str] = field(default_factory=dict)  # these only save requests
    fragment: dict[str, Any] = field(default_factory=dict)  # defs.yaml, under attributes
    reshaped: list[str] = field(default_factory=list)  # how the shape differs from defs.yaml
    requests: int = 0

    @property
    def loads_correctly(self) -> bool:
        """Whether the current settings load this vendor exactly."""
        auth_ok = all(f.ok for f in self.findings if f.check == "auth")
        return auth_ok and not self.needed and not self.reshaped

    def add(self, check: str, ok: bool, detail: str, behaviour: str | None = None) -> None:
        self.findings.append(Finding(check, ok, detail, behaviour))

    def behaviours(self) -> dict[str, str]:
        """What the vendor was seen to do, by check: what the watch compares day to day."""
        return {f.check: f.behaviour for f in self.findings if f.behaviour is not None}

    def settings_lines(self) -> list[str]:
        """What to paste: the shape in defs.yaml, the variables it needs, the optional ones."""
        lines: list[str] = []
        if self.fragment:
            heading = "Change defs.yaml to" if self.reshaped else "This vendor's shape in defs.yaml"
            lines += [f"{heading} (under attributes:, merged into what is there):", ""]
            lines += ["  " + line for line in self.fragment_yaml().splitlines()] + [""]
        if self.needed:
            lines.append("This vendor needs these settings (paste them into the environment):")
            lines += [f"{name}={value}" for name, value in sorted(self.needed.items())]
        if self.loads_correctly:
            lines.append("The current settings load this vendor correctly.")
        if self.suggested:
            lines.append("Optional, to save requests or say what the probe found:")
            lines += [f"{name}={value}" for name, value in sorted(self.suggested.items())]
        return lines

    def fragment_yaml(self) -> str:
        return yaml.safe_dump(self.fragment, sort_keys=False, default_flow_style=False)

    def as_text(self) -> str:
        """The report as the console shows it: a table, then the settings to paste."""
        width = max(len(finding.check) for finding in self.findings)
        lines = [f"inventory-api-probe: {self.url} ({self.requests} requests)", ""]
        lines += [
            f"{finding.check:<{width}}  {'ok ' if finding.ok else 'NO '}  {finding.detail}"
            for finding in self.findings
        ]
        return "\n".join([*lines, "", *self.settings_lines()])

    def as_markdown(self) -> str:
        """The same report for the UI: a table, then the settings as a code block."""
        rows = [f"| {f.check} | {'ok' if f.ok else '**no**'} | {f.detail} |" for f in self.findings]
        table = ["| check | result | detail |", "| --- | --- | --- |", *rows]
        settings = "\n".join(self.settings_lines())
        return "\n".join(
            [f"`{self.url}`, {self.requests} requests", "", *table, "", "```", settings, "```"]
        )


def what_fits(reports: Mapping[str, ProbeReport]) -> str:
    """What the probe says fits the vendor now, for the endpoints of `reports`, in one line:
    the settings it needs and the defs.yaml changes, else the findings no setting fixes."""
    needed = {name: value for report in reports.values() for name, value in report.needed.items()}
    reshaped = [f"{name}: {', '.join(r.reshaped)}" for name, r in reports.items() if r.reshaped]
    parts = [f"set {' '.join(f'{k}={v}' for k, v in sorted(needed.items()))}"] if needed else []
    parts += [f"change defs.yaml ({'; '.join(reshaped)})"] if reshaped else []
    if not parts:
        # Nothing to set, but something the settings cannot fix by themselves (a refused key).
        parts = [
            f"{name}: {finding.check}: {finding.detail}"
            for name, report in reports.items()
            for finding in report.findings
            if not finding.ok
        ]
    if not parts:
        return "The probe says the current settings still load it correctly."
    return f"The probe says: {'; '.join(parts)} (the run's metadata has its full reports)."
