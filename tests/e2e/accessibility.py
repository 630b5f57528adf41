"""axe-core accessibility audits of a Playwright page.

axe-core comes from the npm registry as a pinned dev dependency
(package.json, installed by `make install-test`); the audit reads
node_modules/axe-core/axe.min.js from disk and downloads nothing. The pages'
CSP (`script-src 'self'`) blocks an injected script: open the audited page's
context with `bypass_csp=True` (new_page(..., bypass_csp=True)).
"""

from tests.e2e.harness import ROOT

AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"

# WCAG 2.0, 2.1 and 2.2, levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING_IMPACTS = {"serious", "critical"}

RUN_AXE = """
async (tags) => {
  const results = await axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })),
  }));
}
"""

def axe_violations(page) -> list[dict]:
    """Every WCAG 2.x A/AA violation axe finds on the page as it is now."""
    if not AXE_JS.exists():
        raise RuntimeError(f"{AXE_JS} is missing: run `make install-test` (npm ci installs axe-core)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(RUN_AXE, WCAG_TAGS)

def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            lines.append(f"    {' '.join(str(t) for t in node['target'])}: {node['summary']}".replace("\n", " / "))
    return "\n".join(lines)

def assert_no_serious_violations(page, state: str):
    """Fails with each serious or critical violation's rule, impact, target
    selectors and help, named by the page state the test was looking at."""
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe: serious or critical violations on {state} ({page.url}):\n{describe(blocking)}"


# axe's rule for WCAG 2.5.3 (label in name) is marked experimental and does
# not run with the tags above: run it by name.
RUN_LABEL_IN_NAME = """
async () => {
  const results = await axe.run(document, { runOnly: { type: "rule", values: ["label-content-name-mismatch"] }, resultTypes: ["violations"] });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })),
  }));
}
"""


def assert_labels_contain_visible_text(page, state: str):
    """Fails when a control's accessible name does not contain the text it
    shows (WCAG 2.5.3 label in name: speech input says what it sees)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_JS))
    violations = page.evaluate(RUN_LABEL_IN_NAME)
    assert not violations, f"axe: label not in name on {state} ({page.url}):\n{describe(violations)}"
