"""The widgets in a real JupyterLab, clicked in Debian's headless Chromium as a new user would.

The notebook ``widgets_demo.ipynb`` defines its pipelines in its cells, shows a run's
panel and the dashboard, all on a TinyDB file beside it. The test runs every cell from
the Run menu, then drives the panel (start, continue, finish the waiting step by hand)
and the dashboard (new runs, a run's panel, run until done with its progress bar, stop
midway, run to the end), and after each click waits for the diagram, the tables and the
logs to show what the click did. Every control is found by its role and accessible name,
as assistive technology finds it. Screenshots and the browser console go to
``artifacts/browser/`` (git-ignored); ``final.png`` is the page at the end.
"""

from __future__ import annotations

import itertools
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from prorch_nb.styles import style_of
from prorch_nb.utils.constants import Status
from tests.browser.conftest import LabServer

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture fails with how to install it
    expect = None

pytestmark = pytest.mark.browser

FINISHED, PENDING, CREATED = (style_of(status) for status in (Status.FINISHED, Status.PENDING, Status.CREATED))
#: Milliseconds any one expectation waits (a 2-core machine, a kernel doing 0.5 s ticks).
WAIT = 60_000
#: What JupyterLab shows while it loads the page and connects the kernel, on a cold start.
FIRST_LOAD = 180_000
#: Tall enough for the whole dashboard, so element screenshots are not cut by the notebook's scrolling.
VIEWPORT = {"width": 1440, "height": 2400}
#: Console messages that say a widget failed (the widget manager logs these instead of throwing).
WIDGET_TROUBLE = re.compile(r"\bwidgets?\b|\bcomms?\b|Could not create (a )?(model|view)", re.IGNORECASE)


# Server ---------------------------------------------------------------------------------


def listening_addresses(port: int) -> set[str]:
    """Addresses with a TCP socket listening on ``port``, read from Linux's /proc/net/tcp and tcp6."""
    found = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state != "0A" or int(port_hex, 16) != port:  # 0A: LISTEN
                continue
            raw = b"".join(bytes.fromhex(address[i : i + 8])[::-1] for i in range(0, len(address), 8))
            found.add(socket.inet_ntop(family, raw))
    return found


def test_the_server_wants_its_token_and_listens_on_loopback_only(jupyterlab: LabServer):
    assert jupyterlab.get("/api/status")[0] == 200
    assert jupyterlab.get("/api/status", token=False)[0] == 403
    assert jupyterlab.get(f"/api/contents/widgets_demo.ipynb?token=not-{jupyterlab.token}", token=False)[0] == 403
    assert jupyterlab.get("/api/contents/widgets_demo.ipynb", token=False)[0] == 403
    assert jupyterlab.get("/api/contents/widgets_demo.ipynb")[0] == 200
    if not Path("/proc/net/tcp").exists():
        pytest.fail("cannot tell where the server listens: no /proc/net/tcp (the browser tests expect Linux)")
    assert listening_addresses(jupyterlab.port) == {"127.0.0.1"}


# Page helpers ---------------------------------------------------------------------------


@dataclass
class Console:
    """What the page logged: console messages (``type: text``) and uncaught errors."""

    lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def widget_trouble(self) -> list[str]:
        """Uncaught errors, and console errors about widgets or their comms."""
        return self.errors + [line for line in self.lines if line.startswith("error:") and WIDGET_TROUBLE.search(line)]


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser, console: Console, artifacts: Path) -> Iterator[object]:
    """A new page, its console recorded (and written to ``console.log`` at the end)."""
    expect.set_options(timeout=WAIT)
    context = browser.new_context(viewport=VIEWPORT)
    opened = context.new_page()
    opened.set_default_timeout(WAIT)
    opened.on("console", lambda message: console.lines.append(f"{message.type}: {message.text}"))
    opened.on("pageerror", lambda error: console.errors.append(f"uncaught: {error}"))
    yield opened
    (artifacts / "console.log").write_text("".join(f"{line}\n" for line in console.lines + console.errors))
    context.close()


def outline(nodes, index: int):
    """The shape of the diagram's node ``index`` (each dot node is one polygon)."""
    return nodes.nth(index).locator("polygon")


def row(table, text: str):
    """The body row of ``table`` that mentions ``text``."""
    return table.locator("tbody tr").filter(has_text=text)


#: Whether the last line of a log's text lies inside the log's visible box (not scrolled away).
NEWEST_LINE_IN_SIGHT = """log => {
    const text = log.querySelector("pre")?.lastChild;
    if (!text || !text.data) return false;
    const line = document.createRange();
    line.setStart(text, text.data.lastIndexOf("\\n") + 1);
    line.setEnd(text, text.data.length);
    const shown = line.getBoundingClientRect(), box = log.getBoundingClientRect();
    return shown.height > 0 && shown.top >= box.top - 1 && shown.bottom <= box.bottom + 1;
}"""


def newest_line_in_sight(page, log) -> None:
    """Wait until the log shows its newest line (a log taller than its box keeps the end in sight)."""
    page.wait_for_function(NEWEST_LINE_IN_SIGHT, arg=log.element_handle())


def shown_whole(inner, outer) -> bool:
    """Whether ``inner``'s text is not cut short and its box lies inside ``outer``'s, horizontally."""
    a, b = inner.bounding_box(), outer.bounding_box()
    inside = a["width"] > 0 and b["x"] - 1 <= a["x"] and a["x"] + a["width"] <= b["x"] + b["width"] + 1
    return inside and inner.evaluate("element => element.scrollWidth <= element.clientWidth")


def control(scope, role: str, name: str):
    """The one control in ``scope`` with this role and accessible name (exactly), as a screen reader finds it."""
    found = scope.get_by_role(role, name=name, exact=True)
    expect(found).to_have_count(1)
    return found


#: ``{node id: [x, y]}`` of a dot SVG's nodes (the node's ``<title>`` is its id: ``step0``, ``step1``, ...).
NODE_PLACES = """nodes => Object.fromEntries(nodes.map(node => {
    const box = node.getBoundingClientRect();
    return [node.querySelector("title").textContent, [box.x, box.y]];
}))"""


def reads_in_order(nodes) -> None:
    """A diagram of 12 steps in rows of 8: each row left to right, the second row below the first, from the left."""
    expect(nodes).to_have_count(12)
    places = nodes.evaluate_all(NODE_PLACES)
    x, y = ([places[f"step{index}"][axis] for index in range(12)] for axis in (0, 1))
    assert all(a < b for row in (x[:8], x[8:]) for a, b in itertools.pairwise(row)), x
    assert min(y[8:]) > max(y[:8]), y
    assert x[8] < x[1], "the second row starts again at the left"


def run_all_cells(page) -> None:
    """Run → Run All Cells, from JupyterLab's menu bar."""
    page.locator(".lm-MenuBar-itemLabel").filter(has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel").filter(has_text=re.compile(r"^Run All Cells$")).click()


# The test -------------------------------------------------------------------------------


def test_panel_and_dashboard_follow_every_click(page, console: Console, jupyterlab: LabServer, artifacts: Path):
    page.goto(jupyterlab.url("/lab/tree/widgets_demo.ipynb"))
    expect(page.locator(".jp-Notebook")).to_be_visible(timeout=FIRST_LOAD)
    expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=FIRST_LOAD)  # kernel connected
    expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(1)

    run_all_cells(page)
    panel = page.locator(".prorch-panel:not(.prorch-panel-box .prorch-panel)")
    dashboard = page.locator(".prorch-dashboard")
    expect(panel).to_be_visible()
    expect(dashboard).to_be_visible()
    prompts = page.locator(".jp-CodeCell .jp-InputPrompt")
    expect(prompts).to_have_text([re.compile(r"\[\d+\]:")] * 4)  # every code cell ran, none is still queued
    expect(page.locator(".jp-OutputArea-output").filter(has_text="Traceback")).to_have_count(0)
    page.screenshot(path=artifacts / "1-cells-ran.png")

    drive_the_panel(page, panel, artifacts)
    hold = jupyterlab.root / "hold"
    try:
        drive_the_dashboard(page, dashboard, artifacts, hold)
    finally:
        hold.unlink(missing_ok=True)  # never leave the kernel's run waiting

    page.screenshot(path=artifacts / "final.png")
    assert console.widget_trouble() == []


def drive_the_panel(page, panel, artifacts: Path) -> None:
    """Start, continue, finish the waiting Approve step by hand with a note, continue to the end."""
    status, log = panel.locator(".prorch-status"), panel.locator(".prorch-log")
    table, nodes = panel.locator(".prorch-steps-table"), panel.locator(".prorch-diagram svg g.node")
    start, go_on = control(panel, "button", "Start"), control(panel, "button", "Continue")
    resolve = panel.locator(".prorch-resolve")

    expect(nodes).to_have_count(4)
    expect(status).to_have_text(re.compile(r"^Review [0-9a-f]{8} · created — not started$"))
    expect(outline(nodes, 0)).to_have_attribute("fill", CREATED.fill)
    expect(go_on).to_be_disabled()
    expect(resolve).to_be_hidden()

    start.click()  # Greet finishes in on_start
    expect(outline(nodes, 0)).to_have_attribute("fill", FINISHED.fill)
    expect(outline(nodes, 1)).to_have_attribute("fill", CREATED.fill)
    expect(row(table, "Greet")).to_contain_text("✓ finished")
    expect(row(table, "Compute")).to_contain_text("· created")
    expect(log).to_contain_text(re.compile(r"\[Greet\] Greet: hello, run [0-9a-f]{8}"))
    expect(log).to_contain_text("Start: started Greet -> finished")
    expect(status).to_contain_text("pending — step 1/4 Greet ✓ finished")
    expect(start).to_be_disabled()
    expect(go_on).to_be_enabled()
    panel.screenshot(path=artifacts / "2-panel-started.png")

    go_on.click()  # Compute starts a job, polls it once (running) and waits
    expect(row(table, "Compute")).to_contain_text("▶ pending")
    expect(outline(nodes, 1)).to_have_attribute("fill", PENDING.fill)
    expect(log).to_contain_text(
        re.compile(r"\[Compute\] Compute: submitted job-\w{4}\n.*\[Compute\] Compute: job-\w{4} is running")
    )
    expect(log).to_contain_text("Continue: started Compute (waiting)")
    expect(resolve).to_be_visible()
    expect(resolve.locator(".prorch-resolve-label")).to_have_text("Compute is waiting:")

    go_on.click()  # the second poll: Compute finishes in on_continue
    expect(row(table, "Compute")).to_contain_text("✓ finished")
    expect(outline(nodes, 1)).to_have_attribute("fill", FINISHED.fill)
    expect(log).to_contain_text(re.compile(r"\[Compute\] Compute: job-\w{4} is done"))
    expect(resolve).to_be_hidden()

    go_on.click()  # Approve starts and waits for an approval that never comes
    expect(row(table, "Approve")).to_contain_text("▶ pending")
    expect(outline(nodes, 2)).to_have_attribute("fill", PENDING.fill)
    expect(log).to_contain_text("[Approve] Approve: still waiting for approval")
    expect(resolve.locator(".prorch-resolve-label")).to_have_text("Approve is waiting:")
    panel.screenshot(path=artifacts / "3-panel-waiting.png")

    note = control(panel, "textbox", "Note")
    note.fill("approved in the browser test")
    control(resolve, "button", "Finish step").click()
    expect(row(table, "Approve")).to_contain_text("✓ finished")
    expect(row(table, "Approve")).to_contain_text("approved in the browser test")  # the note, in its step's row
    expect(outline(nodes, 2)).to_have_attribute("fill", FINISHED.fill)
    expect(log).to_contain_text("Finish step: Approve finished by hand (note: approved in the browser test)")
    expect(resolve).to_be_hidden()
    expect(note).to_have_value("")

    go_on.click()  # Publish finishes in on_start
    expect(row(table, "Publish")).to_contain_text("✓ finished")
    expect(log).to_contain_text("[Publish] Publish: published")
    expect(panel.locator(f'.prorch-diagram svg g.node polygon[fill="{FINISHED.fill}"]')).to_have_count(4)
    expect(status).to_have_text(re.compile(r"^Review [0-9a-f]{8} ▶ pending — step 4/4 Publish ✓ finished$"))

    go_on.click()  # every step finished: the run ends
    expect(status).to_have_text(re.compile(r"^Review [0-9a-f]{8} ✓ finished — step 4/4 Publish ✓ finished$"))
    expect(log).to_contain_text("Continue: ended finished")
    expect(panel.locator(f'.prorch-diagram svg g.node polygon[fill="{FINISHED.fill}"]')).to_have_count(4)
    expect(table.locator("tbody tr")).to_have_count(4)
    expect(table.locator("tbody tr").filter(has_text="✓ finished")).to_have_count(4)
    assert log.evaluate("log => log.scrollHeight > log.clientHeight")  # more lines than the box holds
    newest_line_in_sight(page, log)
    for name in ("Start", "Continue", "Cancel"):
        expect(control(panel, "button", name)).to_be_disabled()
    panel.screenshot(path=artifacts / "4-panel-finished.png")


def wait_for_file(path: Path) -> None:
    """Wait until ``path`` exists (as long as an expectation waits)."""
    deadline = time.monotonic() + WAIT / 1000
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def drive_the_dashboard(page, dashboard, artifacts: Path, hold: Path) -> None:
    """New runs (one started from its panel), run until done, stop midway, run to the end.

    To stop midway whatever the machine's speed, the file ``hold`` makes the Long runs
    wait at their third step (the notebook's ``Crunch``), and the Stop click comes then.
    """
    header, runs = dashboard.locator(".prorch-dashboard-header"), dashboard.locator(".prorch-runs-table")
    rows = runs.locator("tbody tr")
    label, bar = dashboard.locator(".prorch-progress-label"), dashboard.locator(".prorch-progress .progress-bar")
    run_button, stop_button = control(dashboard, "button", "Run until done"), control(dashboard, "button", "Stop")
    choice, at_once = control(dashboard, "combobox", "Pipeline"), control(dashboard, "checkbox", "start at once")
    new_run = control(dashboard, "button", "New run")
    board_log = dashboard.locator(".prorch-dashboard-log")
    chosen = dashboard.locator(".prorch-panel-box .prorch-panel")
    choose = dashboard.locator(".prorch-choose")

    control(choose, "button", "Refresh").click()  # the panel's run, made after the dashboard
    expect(header).to_contain_text("1 run, 0 pending")
    expect(rows).to_have_count(1)
    expect(row(runs, "Review")).to_contain_text("✓ finished")

    choice.select_option(label="Short")
    at_once.uncheck()
    new_run.click()  # created, not started: its panel offers Start
    expect(header).to_contain_text("2 runs, 0 pending")
    expect(rows.filter(has_text="· created")).to_have_count(1)
    expect(chosen).to_be_visible()
    expect(chosen.locator(".prorch-status")).to_contain_text("Short")
    control(chosen, "button", "Start").click()
    expect(outline(chosen.locator(".prorch-diagram svg g.node"), 0)).to_have_attribute("fill", FINISHED.fill)
    expect(header).to_contain_text("2 runs, 1 pending")  # the panel's click redraws the dashboard
    expect(rows.filter(has_text="▶ pending")).to_have_count(1)

    at_once.check()
    new_run.click()
    expect(header).to_contain_text("3 runs, 2 pending")
    choice.select_option(label="Long")
    for count in (4, 5):
        new_run.click()
        expect(header).to_contain_text(f"{count} runs, {count - 1} pending")
    expect(chosen.locator(".prorch-diagram svg g.node")).to_have_count(12)
    expect(board_log).to_contain_text(
        re.compile(r"New run: Long [0-9a-f]{8} created, started FetchCustomerRecordsFromCRM -> finished")
    )
    reads_in_order(chosen.locator(".prorch-diagram svg g.node"))
    page.screenshot(path=artifacts / "5-dashboard-runs-made.png")

    hold.touch()
    run_button.click()
    expect(board_log).to_contain_text("Run until done: 4 pending")
    expect(run_button).to_be_disabled()
    expect(stop_button).to_be_enabled()
    expect(label).to_have_text("pass 1, 0 ended")
    expect(board_log).to_contain_text(  # what hooks print in the thread, tagged with the run and step
        re.compile(r"\[Short [0-9a-f]{8} · Publish\] Publish: published")
    )
    wait_for_file(hold.with_name("held"))  # pass 2 ended both Short runs, and waits in a Long one's third step
    stop_button.click()
    expect(stop_button).to_be_disabled()  # the kernel took the click: the run stops after the pass under way
    hold.unlink()  # which goes on to its end
    expect(label).to_contain_text("pass 2, 2 ended")
    expect(label).to_contain_text("stopped: a stop was requested")
    expect(run_button).to_be_enabled()
    expect(bar).to_have_attribute("style", re.compile(r"width: 50%"))  # stopped before the end
    expect(rows.filter(has_text="Long").filter(has_text="▶ pending")).to_have_count(2)
    expect(header).to_contain_text("5 runs, 2 pending")
    left_to_do = chosen.locator(f'.prorch-diagram svg g.node polygon[fill="{CREATED.fill}"]')
    expect(left_to_do).to_have_count(9)  # the chosen Long run did three of its twelve steps
    page.screenshot(path=artifacts / "6-dashboard-stopped.png")

    run_button.click()
    expect(board_log).to_contain_text("Run until done: 2 pending")
    expect(label).to_contain_text("stopped: no pipeline is pending")
    expect(bar).to_have_attribute("style", re.compile(r"width: 100%"))
    expect(header).to_contain_text("5 runs, 0 pending")
    expect(rows).to_have_count(5)
    expect(rows.filter(has_text="✓ finished")).to_have_count(5)
    expect(chosen.locator(f'.prorch-diagram svg g.node polygon[fill="{FINISHED.fill}"]')).to_have_count(12)
    expect(chosen.locator(".prorch-status")).to_contain_text("✓ finished — step 12/12 WriteAuditTrail ✓ finished")
    expect(board_log).to_contain_text(
        re.compile(
            r"Run until done: <RunReport: \d+ pass(?:es)?, 2 ended, 0 errors; stopped: no pipeline is pending>\s*$"
        )
    )  # its last line
    newest_line_in_sight(page, board_log)
    assert shown_whole(label, dashboard), "the progress label is cut off"
    long_nodes, status = chosen.locator(".prorch-diagram svg g.node"), chosen.locator(".prorch-status")
    left = status.bounding_box()["x"]
    for index in [*range(12), 0]:  # a diagram wider than the output scrolls to its every node, and back
        long_nodes.nth(index).scroll_into_view_if_needed()
        expect(long_nodes.nth(index)).to_be_in_viewport()
        assert status.bounding_box()["x"] == pytest.approx(left, abs=1), "the whole panel scrolled, not the diagram"
    dashboard.screenshot(path=artifacts / "7-dashboard-done.png")
