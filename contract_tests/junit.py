"""Reports CI can read: JUnit XML (a testcase per check and phase) and JSON.

JUnit: one ``<testsuite>`` per phase, one ``<testcase classname="<phase>" name="<check>">``
per check that ran there (or should have): a violation is a ``<failure>``, a check that could
not judge an answer an ``<error>``, a check that did not run ``<skipped>`` with the reason, and
drift a ``<system-out>`` note (a ``<failure>`` under ``--strict-guesses``).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from contract_tests.report import SuiteReport


def junit_tree(report: SuiteReport) -> ET.Element:
    """The JUnit XML document of ``report``."""
    cases: dict[str, dict[str, ET.Element]] = defaultdict(dict)

    def case(phase: str, check: str) -> ET.Element:
        if check not in cases[phase]:
            element = ET.Element("testcase", classname=f"piapi-contract.{phase}", name=check)
            count = report.checks_by_phase.get((phase, check), 0)
            element.set("assertions", str(count))
            element.set("time", "0")
            cases[phase][check] = element
        return cases[phase][check]

    for phase, check in report.checks_by_phase:
        case(phase, check)
    for finding in report.findings:
        for phase in sorted(set(finding.phases) | {finding.phase}):
            failure = ET.SubElement(
                case(phase, finding.check), "failure", message=finding.message[:500]
            )
            failure.set("type", "violation")
            failure.text = finding.render()
    for drift in report.drift:
        element = case(drift.phase, drift.check)
        if report.strict_guesses:
            failure = ET.SubElement(element, "failure", message=f"drift: {drift.rule}")
            failure.set("type", "drift")
            failure.text = drift.render()
        else:
            ET.SubElement(element, "system-out").text = "drift: " + drift.render()
    for unjudged in report.unjudged:
        error = ET.SubElement(case(unjudged.phase, unjudged.check), "error")
        error.set("message", unjudged.reason)
        error.set("type", "could-not-judge")
        error.text = unjudged.render()
    for item in report.not_run:
        element = case(item.phase if item.phase != "-" else "not-run", item.what)
        if not list(element) and element.get("assertions") == "0":
            ET.SubElement(element, "skipped", message=item.reason)
    root = ET.Element("testsuites", name="piapi-mock contract")
    seconds = {p.name: p.seconds for p in report.phases}
    for phase, by_check in cases.items():
        suite = ET.SubElement(root, "testsuite", name=f"piapi-contract.{phase}")
        elements = list(by_check.values())
        suite.set("tests", str(len(elements)))
        suite.set("failures", str(sum(1 for e in elements if e.find("failure") is not None)))
        suite.set("errors", str(sum(1 for e in elements if e.find("error") is not None)))
        suite.set("skipped", str(sum(1 for e in elements if e.find("skipped") is not None)))
        suite.set("time", f"{seconds.get(phase, 0.0):.3f}")
        suite.extend(elements)
    root.set("tests", str(sum(len(c) for c in cases.values())))
    root.set("time", f"{report.seconds:.3f}")
    return root


def write_junit(report: SuiteReport, path: str | Path) -> None:
    """Write the JUnit XML report to ``path``."""
    tree = ET.ElementTree(junit_tree(report))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def write_json(report: SuiteReport, path: str | Path) -> None:
    """Write the JSON report to ``path``."""
    text = json.dumps(report.as_dict(), indent=2, ensure_ascii=False)
    Path(path).write_text(text + "\n", encoding="utf-8")
