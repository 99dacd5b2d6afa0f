"""The notebooks as a student meets them: JupyterLab in a real (headless) Chromium.

The other tests call each widget's callback headless; these open the lecture
notebooks in JupyterLab.  First *unrun*, as a student who opens the course to read
it: every output must make sense (no widget repr such as ``VBox(children=...``, no
"Error displaying widget"; a widget cell says in words what running it gives).
Then every cell is run in that same page, every output is compared with the file's
as nbval compares them (so nbval need not run these notebooks a second time: the
conftest leaves their cells out of a run where these tests run), and the widgets are
used with the mouse:
every widget cell must show a widget, a slider or dropdown must redraw its figure,
and every quiz of every poll must show, for each option picked, the feedback
``Quiz.check`` gives.  pytest-xdist hands these tests out a notebook at a time
(``work_unit`` in conftest.py), so the two cores share them with the other tests.

JupyterLab runs on 127.0.0.1 on copies of the notebooks in a temporary folder,
with its own settings, workspace, data and runtime folders: nothing of the
checkout or of the user's Jupyter set-up is touched.  Needs Debian's ``chromium``
(``apt-get install chromium``; set ``BACKPROP_CHROMIUM`` for another path) and
``playwright`` (pyproject.toml's group ``test``); ``.ci/run`` installs Chromium, so CI always
runs them.  Without Chromium they are skipped, with that reason.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

import backprop as bp
from backprop.views.dashboard import DASHBOARD_ETAS
from backprop.views.subgradient import subgradient_slopes
import backprop.views.polls
import backprop.views.quiz
from backprop.experiments.dashboard import EPOCHS, MAX_DEPTH
from backprop.views.style import png
from nbval.plugin import coalesce_streams, get_sanitize_patterns, transform_streams_for_comparison
from strategies import OBJECT_REPR, chromium

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = chromium()
TIMEOUT_MS = 120_000

playwright_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pyproject.toml's group 'test': make install)")
playwright_api.expect.set_options(timeout=30_000)  # a busy CI machine answers slowly; a wrong answer still fails

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium: apt-get install chromium (.ci/run installs it)"),
]


WIDGET = "application/vnd.jupyter.widget-view+json"


def widget_cells(name):
    """Indices and sources of the cells that display a widget."""
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    return {i: c.source for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and any(WIDGET in o.get("data", {}) for o in c.outputs)}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# session-scoped: the browser's tests are handed out a notebook at a time, between other files' tests,
# and each worker starts JupyterLab and Chromium once, not at every return to this module
@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """A JupyterLab server on copies of the notebooks: ``(base_url, token)``."""
    home = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", home / "notebooks")
    settings = home / "settings"
    for plugin, values in {"@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
                           # every cell in the page, so that any cell can be found and scrolled to
                           "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"}}.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), IPYTHONDIR=str(home / "ipython"))
    port, token = _free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={home}", "--LabApp.expose_app_in_browser=True"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        command.append("--allow-root")
    log = open(home / "server.log", "w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start; its log:\n{(home / 'server.log').read_text()[-3000:]}")
                time.sleep(0.3)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


class Notebook:
    """One notebook open in its own page, every cell run."""

    def __init__(self, page, name):
        self.page, self.name, self.ran = page, name, False
        self.panel = page.locator(f"#{page.evaluate('window.jupyterapp.shell.currentWidget.id')}")

    def run_all(self):
        """Run every cell, as Run > Run All Cells does, and wait until each has run and the kernel is idle."""
        if self.ran:
            return
        self.page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        # every code cell has run, or one raised (Run All stops there), and the kernel is idle
        self.page.wait_for_function("""() => { const w = window.jupyterapp.shell.currentWidget;
            const code = w.content.widgets.filter(c => c.model.type === 'code');
            const raised = code.some(c => c.model.outputs.toJSON().some(o => o.output_type === 'error'));
            return (raised || code.every(c => c.model.executionCount !== null))
                && w.sessionContext.session.kernel.status === 'idle'; }""")
        self.ran = True
        self.check_cells()
        check_outputs_are_the_files(self)

    def check_cells(self):
        """As many cells in the page as in the file, and no error or warning output."""
        cells = self.cells()
        expected = len(nbformat.read(ROOT / "notebooks" / self.name, as_version=4).cells)
        assert cells.count() == expected, f"{self.name}: {cells.count()} cells in the page, {expected} in the file"
        errors_shown = self.panel.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        assert errors_shown.count() == 0, f"{self.name}: an error or warning output: {errors_shown.first.inner_text()}"

    def cells(self):
        return self.panel.locator(".jp-Notebook .jp-Cell")

    def cell(self, index):
        return self.cells().nth(index)

    def widget_cell(self, index):
        """The index-th cell, scrolled into view."""
        cell = self.cell(index)
        cell.scroll_into_view_if_needed()
        return cell

    def image_source(self, cell):
        return cell.locator("img").first.get_attribute("src")

    def wait_for_change(self, read, old, what):
        """Wait until ``read()`` no longer returns ``old`` (the kernel has answered a change), at most 30 s."""
        deadline = time.monotonic() + 30
        while read() == old:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: {what} did not change")
            self.page.wait_for_timeout(100)

    def wait_for_new_image(self, cell, old):
        """Wait until the cell's first image shows other bytes than ``old`` (a new figure from the kernel)."""
        self.wait_for_change(lambda: self.image_source(cell), old, "the figure")

    def drag_slider_to(self, cell, index, value, values):
        """Drag the index-th slider with the mouse until its readout shows ``value``; ``values``: every
        readout the slider can show, in order (a drag lands within a step or two; each miss corrects the aim)."""
        readout = cell.locator(".widget-slider").nth(index).locator(".widget-readout")
        target, last = values.index(value), len(values) - 1
        fraction = target / last
        for _ in range(8):
            self.drag_slider(cell, index, fraction=fraction)
            shown = readout.inner_text().strip()
            if shown == value:
                return
            fraction -= (values.index(shown) - target) / last
        raise AssertionError(f"{self.name}: the slider did not reach {value}: it shows {readout.inner_text()}")

    def drag_slider(self, cell, index=0, fraction=0.8):
        """Drag the index-th slider's handle to ``fraction`` of its track, as a student would."""
        track = cell.locator(".widget-slider .noUi-target").nth(index)
        handle = track.locator(".noUi-handle").first
        track.scroll_into_view_if_needed()
        box, grip = track.bounding_box(), handle.bounding_box()
        self.page.mouse.move(grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
        self.page.mouse.down()
        self.page.mouse.move(box["x"] + fraction * box["width"], grip["y"] + grip["height"] / 2, steps=8)
        self.page.mouse.up()


class Pages:
    """The notebooks' pages, one per notebook: opened unrun and kept, so that a later test runs its cells there.

    A student opens a notebook, reads it, then runs it: so does the module.  The
    test that reads a notebook unrun leaves its page open; the test that uses its
    widgets runs every cell in that same page (one JupyterLab and one kernel per
    notebook, not two), or opens the page itself when it runs alone.
    """

    def __init__(self, lab, browser, shots):
        (self.base, self.token), self.browser, self.shots = lab, browser, shots
        self.open = {}  # name -> (Notebook, JavaScript errors)

    def unrun(self, name):
        """The notebook opened before running (a fresh page if its page has run already)."""
        if name in self.open and self.open[name][0].ran:
            self.close(name)
        if name not in self.open:
            self.open[name] = self._open(name)
        return self.open[name][0]

    def ran(self, name):
        """The notebook with every cell run, in its page, and every widget cell showing its widget."""
        notebook = self.unrun(name)
        if not notebook.ran:
            notebook.run_all()
            check_widget_cells_render(notebook)
            check_answers_unfolded(notebook)
            check_explorers_fit(notebook)
        return notebook

    def _open(self, name):
        page = self.browser.new_page(viewport={"width": 1400, "height": 900})  # a laptop, the file browser open
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.set_default_timeout(TIMEOUT_MS)
        # a workspace of its own (reset): only this notebook open, none restored from an earlier page
        page.goto(f"{self.base}/lab/workspaces/{name.split('_')[0]}/tree/notebooks/{name}?reset&token={self.token}")
        # JupyterLab replaces its first kernel just after opening: wait for one that is idle
        page.wait_for_function("""() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
            const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
            return k && k.status === 'idle' && w.content && w.content.widgets.length > 0; }""")
        notebook = Notebook(page, name)
        # make install turns nbgrader's menus and buttons off in the course's JupyterLab
        menus = page.locator("#jp-menu-panel .lm-MenuBar-itemLabel").all_inner_texts()
        assert "File" in menus and "Nbgrader" not in menus, menus
        assert page.get_by_text("Create Assignment").count() == 0
        notebook.check_cells()
        return notebook, errors

    def close(self, name):
        notebook, errors = self.open.pop(name)
        notebook.page.screenshot(path=str(self.shots / f"{name}.png"))  # for a failing run: pytest keeps it
        notebook.page.close()
        assert errors == [], f"{name}: JavaScript errors in the page: {errors}"


@pytest.fixture(scope="session")
def pages(lab, chromium_browser, tmp_path_factory):
    opened = Pages(lab, chromium_browser, tmp_path_factory.mktemp("screenshots"))
    yield opened
    for name in list(opened.open):
        opened.close(name)


@pytest.fixture
def open_notebook(pages):
    """``open_notebook(name, run=True)``: the notebook's page, its cells run (or not); closed after a run test."""
    used = []

    def open_(name, run=True):
        used.append((name, run))
        return pages.ran(name) if run else pages.unrun(name)

    yield open_
    for name, run in used:
        if name not in pages.open:
            continue
        if run:
            pages.close(name)  # JavaScript errors in the page fail the test that ran it
        else:  # the page stays open for the widget test; its JavaScript errors so far fail this test
            errors = pages.open[name][1]
            assert errors == [], f"{name}: JavaScript errors in the page: {errors}"


#: what nbval leaves out of a comparison (its defaults, pyproject's --nbval options): metadata, counts, images
#: (PNG and JPEG), widget model ids
NOT_COMPARED = {"metadata", "traceback", "prompt_number", "output_type", "name", "execution_count", "transient",
                WIDGET, "image/png", "image/jpeg"}
SANITIZE = get_sanitize_patterns((ROOT / "tests" / "nbval_sanitize.cfg").read_text())


def _sanitized(value):
    if isinstance(value, list):  # a multi-line string, as a list of lines
        value = "".join(value)
    if isinstance(value, str):
        for regex, substitute in SANITIZE:
            value = re.sub(regex, substitute, value)
    return value


def comparable(outputs) -> dict:
    """A cell's outputs as nbval compares them: streams merged by name, every key of ``data`` on its own, each
    value sanitized by tests/nbval_sanitize.cfg, what nbval skips left out."""
    flat: dict = {}
    nodes = coalesce_streams([nbformat.from_dict(json.loads(json.dumps(o))) for o in outputs])
    for output in transform_streams_for_comparison(nodes):
        for key, value in output.items():
            if key == "data":
                for kind, shown in value.items():
                    if kind not in NOT_COMPARED:
                        flat.setdefault(kind, []).append(_sanitized(shown))
            elif key not in NOT_COMPARED:
                flat.setdefault(key, []).append(_sanitized(value))
    return flat


def _not_compared(cell) -> bool:
    tags = set(cell.metadata.get("tags", ()))
    return bool(tags & {"nbval-ignore-output", "nbval-skip"}) or any(
        marker in cell.source for marker in ("# NBVAL_IGNORE_OUTPUT", "# NBVAL_SKIP"))


def check_outputs_are_the_files(notebook):
    """Every output of the run page, as nbval would compare it with the file's stored output."""
    ran = notebook.page.evaluate("window.jupyterapp.shell.currentWidget.model.toJSON()")["cells"]
    stored = nbformat.read(ROOT / "notebooks" / notebook.name, as_version=4).cells
    differ = []
    for index, (cell, live) in enumerate(zip(stored, ran)):
        if cell.cell_type != "code" or _not_compared(cell):
            continue
        want, got = comparable(cell.outputs), comparable(live.get("outputs", []))
        if want != got:
            keys = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
            differ.append(f"cell {index} ({', '.join(keys)}):\n  stored: {str({k: want.get(k) for k in keys})[:600]}"
                          f"\n  now:    {str({k: got.get(k) for k in keys})[:600]}")
    assert not differ, f"{notebook.name}: outputs differ from the file's (re-execute it?):\n" + "\n".join(differ)


def folded_cells(name):
    """Indices of the cells stored with their output folded (``"jupyter": {"outputs_hidden": true}``)."""
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    return [i for i, c in enumerate(nb.cells) if c.metadata.get("jupyter", {}).get("outputs_hidden")]


def check_answers_folded(notebook):
    """Opened unrun, every answer cell shows one grey line, the heading, in place of its output."""
    for index in folded_cells(notebook.name):
        cell = notebook.cell(index)
        placeholder = cell.locator(".jp-OutputPlaceholder")
        assert placeholder.count() == 1, f"{notebook.name} cell {index}: its answer is not folded"
        shown = cell.locator(".jp-Cell-outputWrapper").inner_text().strip()
        assert shown == "Check your answer:", f"{notebook.name} cell {index} shows {shown[:120]!r} while folded"
    if folded_cells(notebook.name):  # a student who would rather not run the cell clicks the dots, and back
        cell = notebook.cell(folded_cells(notebook.name)[0])
        cell.scroll_into_view_if_needed()
        cell.locator(".jp-OutputPlaceholder").click()
        playwright_api.expect(cell.locator(".jp-OutputArea-output").first).to_be_visible()
        cell.locator(".jp-OutputCollapser").first.click()
        playwright_api.expect(cell.locator(".jp-OutputPlaceholder")).to_have_count(1)


def check_answers_unfolded(notebook):
    """Once run, every answer cell shows its output (JupyterLab unfolds a cell it runs)."""
    for index in folded_cells(notebook.name):
        cell = notebook.cell(index)
        assert cell.locator(".jp-OutputPlaceholder").count() == 0, f"{notebook.name} cell {index} stays folded"
        assert cell.locator(".jp-OutputArea-output").first.is_visible(), f"{notebook.name} cell {index}: no output"


def check_explorers_fit(notebook):
    """At 1400 x 900 with the file browser open, no control of an explorer overlaps its figure or is cut, and
    no figure is shown wider than its natural size."""
    for index in widget_cells(notebook.name):
        cell = notebook.widget_cell(index)
        images = cell.locator(".jp-OutputArea img")
        for k in range(images.count()):
            natural, shown = images.nth(k).evaluate("img => [img.naturalWidth, img.getBoundingClientRect().width]")
            assert shown <= natural + 1, f"{notebook.name} cell {index}: a {natural} px figure stretched to {shown} px"
            box = images.nth(k).bounding_box()
            controls = cell.locator(".widget-slider, .widget-dropdown, .widget-checkbox, .widget-button, "
                                    ".widget-readout")
            for c in range(controls.count()):
                b = controls.nth(c).bounding_box()
                if b is None or box is None:
                    continue
                overlap = min(b["x"] + b["width"], box["x"] + box["width"]) - max(b["x"], box["x"]) > 1 and \
                    min(b["y"] + b["height"], box["y"] + box["height"]) - max(b["y"], box["y"]) > 1
                assert not overlap, f"{notebook.name} cell {index}: a control overlaps the figure: {b} and {box}"
        for readout in cell.locator(".widget-readout").all():  # the whole value shows, never cut
            assert readout.evaluate("r => r.scrollWidth <= r.clientWidth + 1"), \
                f"{notebook.name} cell {index}: the readout {readout.inner_text()!r} is cut"


def check_widget_cells_render(notebook):
    for index in widget_cells(notebook.name):
        cell = notebook.widget_cell(index)
        views = cell.locator(".jp-OutputArea-output .jupyter-widgets")
        views.first.wait_for(state="visible")
        text = cell.locator(".jp-OutputArea").inner_text()
        assert "Error displaying widget" not in text and "Loading widget" not in text, f"cell {index}: {text[:200]}"


def quizzes_of(source):
    """The quizzes a widget cell shows: a poll's (``bp.poll(1)``) or a question's, evaluated here too."""
    shown = eval(source.strip().splitlines()[-1], {"bp": bp})
    return list(shown.quizzes) if isinstance(shown, backprop.views.polls.Poll) else [shown] if isinstance(shown, backprop.views.quiz.Quiz) else []


def html_text(snippet):
    """The text a browser shows for an HTML snippet of the quiz's (no maths in it)."""
    return html.unescape(re.sub(r"<[^>]*>", "", snippet))


def check_quizzes(notebook, index):
    """In each quiz of the cell: every label sits beside its box; pick each option alone, press Check, and read the
    summary (``Quiz.feedback_html``) and the verdict under that option (``Quiz.option_html``: its mark, since the
    explanation is typeset by MathJax); no other option gets a verdict."""
    quizzes = quizzes_of(widget_cells(notebook.name)[index])
    assert quizzes, f"cell {index} shows no quiz"
    cell = notebook.widget_cell(index)
    quiz_boxes = cell.locator(".bp-quiz")
    assert quiz_boxes.count() == len(quizzes)
    for n, quiz in enumerate(quizzes):
        box = quiz_boxes.nth(n)
        box.scroll_into_view_if_needed()
        rows = box.locator(".bp-quiz-option")
        inputs, summary, verdicts = rows.locator("input[type=checkbox]"), box.locator(".bp-quiz-summary"), \
            box.locator(".bp-quiz-verdict")
        assert rows.count() == inputs.count() == verdicts.count() == len(quiz.options)
        for r in range(rows.count()):  # the box to the left of its label, on the label's first line
            tick, label = inputs.nth(r).bounding_box(), rows.nth(r).locator(".widget-htmlmath").bounding_box()
            assert tick["x"] + tick["width"] <= label["x"] + 2 and label["y"] - 4 <= tick["y"] <= label["y"] + 12, \
                f"{notebook.name} cell {index}, quiz {n}, option {r}: box {tick}, label {label}"
        button = box.get_by_role("button", name="Check")
        button.click()  # nothing picked yet: a one-answer quiz asks for a pick, a many-answer quiz judges none
        expected = html_text(backprop.views.quiz.Quiz.feedback_html(quiz.check([]))) if quiz.multiple else "Pick an option first."
        playwright_api.expect(summary).to_have_text(expected)
        for i in range(len(quiz.options)):
            if quiz.multiple and i > 0:
                inputs.nth(i - 1).click()  # untick the previous box: one box at a time
            inputs.nth(i).click()  # with one answer, ticking a box unticks the others
            playwright_api.expect(summary).to_have_text("")  # a new choice clears the old feedback
            for j in range(len(quiz.options)):  # the kernel unticks the others: each box's state arrives on its own
                playwright_api.expect(inputs.nth(j)).to_be_checked(checked=j == i)
            button.click()
            feedback = quiz.check([i] if quiz.multiple else i)
            playwright_api.expect(summary).to_have_text(html_text(backprop.views.quiz.Quiz.feedback_html(feedback)))
            playwright_api.expect(verdicts.nth(i)).to_contain_text("right" if feedback.options[0].right else "wrong")
            assert all(verdicts.nth(j).inner_text().strip() == "" for j in range(len(quiz.options)) if j != i)
    return quizzes


REPR = re.compile(r"\b[A-Z]\w*\((children|value|description|options|layout)=")


def check_reads_well_unrun(notebook):
    """Opened before running: no repr, no widget error; each widget cell says what running it gives."""
    outputs = notebook.panel.locator(".jp-OutputArea")
    text = "\n".join(outputs.all_inner_texts())
    assert not REPR.search(text), f"{notebook.name}: a repr is shown: {REPR.search(text).group()}"
    assert not OBJECT_REPR.search(text), f"{notebook.name}: a repr is shown: {OBJECT_REPR.search(text).group()}"
    for bad in ("Error displaying widget", "Loading widget", "model not found", "Traceback"):
        assert bad not in text, f"{notebook.name}: {bad!r} is shown"
    for index in widget_cells(notebook.name):
        output = notebook.widget_cell(index).locator(".jp-OutputArea")
        shown = output.inner_text()
        assert "run this cell" in shown.lower(), f"{notebook.name} cell {index} shows: {shown[:200]}"
        # a reading edition's form of an explorer (a sentence and its first figure, under its own mime type) is
        # stored beside the widget: JupyterLab has no renderer for it and shows the plain text alone
        assert output.locator("img").count() == 0 and "In JupyterLab, this" not in shown, \
            f"{notebook.name} cell {index}: the reading edition's form is shown"
    check_answers_folded(notebook)
    images = notebook.panel.locator(".jp-OutputArea img")
    for i in range(images.count()):  # stored figures show at their natural size: <= 1,000 px wide
        width = images.nth(i).evaluate("img => img.naturalWidth")
        assert 0 < width <= 1000, f"{notebook.name}: figure {i} is {width} px wide"


@pytest.mark.parametrize("name", [p.name for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))])
def test_each_notebook_reads_well_before_it_is_run(open_notebook, name):
    check_reads_well_unrun(open_notebook(name, run=False))


def folded_answers(name):
    """Indices of the cells whose output the file stores folded: the answers under a Predict or Your turn prompt."""
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    return [i for i, c in enumerate(nb.cells) if c.get("metadata", {}).get("jupyter", {}).get("outputs_hidden")]


def check_answers_fold_until_run(unrun, name, open_notebook):
    """Opened unrun, every answer shows only its heading; once the cells have run, the answer is in sight."""
    answers = folded_answers(name)
    assert answers, f"{name} folds no answer"
    for index in answers:
        cell = unrun.cell(index)
        assert cell.locator(".jp-OutputPlaceholder").inner_text().strip() == "Check your answer:", f"cell {index}"
        assert cell.locator(".jp-OutputArea-output").count() == 0, f"{name} cell {index}: an answer in sight unrun"
    ran = open_notebook(name)
    for index in answers:
        shown = ran.cell(index).locator(".jp-OutputArea-output")
        assert shown.count() and shown.first.is_visible(), f"{name} cell {index}: the answer stays folded after a run"
        lines = ran.cell(index).locator(".jp-OutputArea").inner_text().strip().splitlines()
        assert lines[0] == "Check your answer:" and len(lines) > 1, f"{name} cell {index}: {lines[:3]}"
    return ran


def check_explorer_fits(notebook, cell):
    """At 1400 px with the file browser open: no control under the figure, each readout whole, the figure no wider
    than its natural width."""
    image = cell.locator(".jupyter-widgets img").first
    picture = image.bounding_box()
    for control in cell.locator(".widget-slider, .widget-dropdown").all():
        box = control.bounding_box()
        assert box["y"] + box["height"] <= picture["y"] + 1, f"{notebook.name}: a control reaches into the figure"
    for readout in cell.locator(".widget-readout").all():
        assert readout.evaluate("el => el.scrollWidth <= el.clientWidth"), f"{notebook.name}: {readout.inner_text()} is cut"
    assert picture["width"] <= image.evaluate("img => img.naturalWidth") + 1, f"{notebook.name}: the figure is stretched"


def step_slider_to(notebook, cell, index, value, limit=120):
    """Move the index-th slider with the arrow keys, one of its values at a time, until its readout shows ``value``."""
    slider = cell.locator(".widget-slider").nth(index)
    readout, handle = slider.locator(".widget-readout"), slider.locator(".noUi-handle").first
    handle.focus()
    for _ in range(limit):
        shown = readout.inner_text().strip()
        if shown == value:
            return
        handle.press("ArrowRight" if float(shown) < float(value) else "ArrowLeft")
    raise AssertionError(f"{notebook.name}: the slider did not reach {value}: it shows {readout.inner_text()}")


def test_notebook_00_explorer_and_quiz(open_notebook):
    name = "00_problem_setup.ipynb"
    nb = check_answers_fold_until_run(open_notebook(name, run=False), name, open_notebook)
    cells = widget_cells(nb.name)
    (explorer,) = [i for i, source in cells.items() if "learning_rate_explorer" in source]
    (quiz,) = [i for i, source in cells.items() if "bp.question" in source]
    above = nbformat.read(ROOT / "notebooks" / name, as_version=4).cells[:quiz]
    assert not any("oscillat" in str(o) for c in above if c.cell_type == "code" for o in c.outputs)  # asked first
    cell = nb.widget_cell(explorer)
    before = nb.image_source(cell)
    assert before, "the explorer shows no figure"
    check_explorer_fits(nb, cell)
    cell.locator("select").first.select_option(index=1)  # another surface
    nb.wait_for_new_image(cell, before)
    before = nb.image_source(cell)
    readout = cell.locator(".widget-readout").first
    eta = readout.inner_text()
    nb.drag_slider(cell, 0, fraction=0.9)  # a larger learning rate
    nb.wait_for_new_image(cell, before)
    assert readout.inner_text() != eta
    check_explorer_fits(nb, cell)
    check_quizzes(nb, quiz)


def test_notebook_01_path_sum_explorer_and_polls(open_notebook):
    name = "01_calculus_refresher.ipynb"
    nb = check_answers_fold_until_run(open_notebook(name, run=False), name, open_notebook)
    cells = widget_cells(nb.name)
    (explorer,) = [i for i, source in cells.items() if "path_sum_explorer" in source]
    polls = [i for i in cells if i != explorer]
    assert max(polls) < folded_answers(name)[1]  # poll 1 comes before section 3 works the chain rule out
    cell = nb.widget_cell(explorer)
    table = cell.locator(".widget-htmlmath").last
    before, text = nb.image_source(cell), table.inner_text()
    assert before and re.search(r"\d", text), "the explorer shows no diagram or no numbers"
    check_explorer_fits(nb, cell)
    cell.locator("select").first.select_option(label="four paths")
    nb.wait_for_new_image(cell, before)
    step_slider_to(nb, cell, 0, "1.312")  # where c = -2: the paths cancel in pairs
    numbers = lambda: [float(v) for v in re.findall(r"-?\d+\.\d{4}", table.inner_text())]
    # the table of x = 1.312: its sum is 0 while no path's product is (a stale table of x = 0 has every product 0)
    drawn = lambda: (lambda n: len(n) == 6 and n[-2] == 0.0 and n[0] != 0.0)(numbers())
    nb.wait_for_change(drawn, False, "the sum over paths at x = 1.312 (where it is 0)")
    check_explorer_fits(nb, cell)
    *paths, total, numeric = numbers()
    assert len(paths) == 4 and total == numeric == 0.0, table.inner_text()
    assert paths[0] == -paths[1] != 0 and paths[2] == -paths[3] != 0, paths  # no product is 0: they cancel in pairs
    text = table.inner_text()
    nb.drag_slider(cell, 0, fraction=0.9)  # move an input
    nb.wait_for_change(table.inner_text, text, "the path sums (an input moved)")
    kinds = {quiz.multiple for index in polls for quiz in check_quizzes(nb, index)}
    assert kinds == {True, False}  # Poll 1: one question with one answer, one with several


#: the SHA-256 of the PNG an Image widget shows (its src is a blob: URL of the bytes the kernel sent)
IMAGE_HASH = """async img => { const bytes = await (await fetch(img.src)).arrayBuffer();
    const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    return Array.from(hash, b => b.toString(16).padStart(2, '0')).join(''); }"""


def test_notebook_02_pass_stepper_and_poll(open_notebook):
    nb = open_notebook("02_scalar_backprop.ipynb")
    cells = widget_cells(nb.name)
    (stepper,) = [i for i, source in cells.items() if "pass_stepper" in source]
    (poll,) = [i for i, source in cells.items() if "bp.poll(2)" in source]
    cell = nb.widget_cell(stepper)
    readout, image = cell.locator(".widget-readout").first, cell.locator(".jp-OutputArea img").first
    assert readout.inner_text().strip() == "1"  # step 1 of N, as its picture says
    # 17 quick taps of the arrow key: within seconds of the last one the figure shows the slider's step (the
    # stepper draws only the newest setting; a queue of the steps passed over once took 30 s to catch up)
    image.evaluate("img => { img.changes = 0; new MutationObserver(records => { img.changes += records.length; })"
                   ".observe(img, {attributes: true, attributeFilter: ['src']}); }")
    net, x, d, step = bp.tiny_network(), bp.examples.TINY["x"], bp.examples.TINY["d"], 18
    expected = hashlib.sha256(png(bp.pass_step_figure(net, x, d, step))).hexdigest()  # the kernel draws the same
    cell.locator(".noUi-handle").first.focus()
    for _ in range(step - 1):
        nb.page.keyboard.press("ArrowRight")
        nb.page.wait_for_timeout(120)
    assert readout.inner_text().strip() == str(step)
    deadline = time.monotonic() + 10  # measured: 2 s after the last key, on a machine busy with other work
    while image.evaluate(IMAGE_HASH) != expected:
        assert time.monotonic() < deadline, (f"10 s after the last key, the figure does not show step {step} "
                                             f"(redrawn {image.evaluate('img => img.changes')} times)")
        nb.page.wait_for_timeout(100)
    before = nb.image_source(cell)
    nb.drag_slider(cell, 0, fraction=0.3)
    nb.wait_for_new_image(cell, before)
    assert 1 < int(readout.inner_text()) < step
    check_quizzes(nb, poll)


def test_notebook_05_shape_explorer_and_poll_4(open_notebook):
    nb = open_notebook("05_vector_formulation.ipynb")
    poll, shapes = sorted(widget_cells(nb.name))
    cell = nb.widget_cell(shapes)
    before = nb.image_source(cell)
    assert before, "the shape explorer shows no figure"
    cell.locator("select").first.select_option(index=4)  # the gradient of W(1): width_0, width_1 and B show
    nb.wait_for_new_image(cell, before)
    before = nb.image_source(cell)
    nb.drag_slider(cell, 3, fraction=0.95)  # a larger batch
    nb.wait_for_new_image(cell, before)
    quizzes = check_quizzes(nb, poll)
    assert len(quizzes) == 1 and not quizzes[0].multiple  # Poll 4: one question, one answer


def test_notebook_04_slope_slider_verdict_and_poll_3(open_notebook):
    nb = open_notebook("04_subgradients.ipynb")
    question, explorer, poll_3 = sorted(widget_cells(nb.name))  # the question comes before section 2 answers it
    cell = nb.widget_cell(explorer)
    readout, verdict = cell.locator(".widget-readout").first, cell.locator(".bp-verdict").first
    slopes = [f"{v:.4g}" for v in subgradient_slopes()]
    assert readout.inner_text().strip() == "0.5" and "is a subgradient" in verdict.inner_text()

    def drag_to(label):
        before = nb.image_source(cell)
        nb.drag_slider_to(cell, 0, label, slopes)
        nb.wait_for_new_image(cell, before)  # the figure follows the handle

    def says(valid):
        words = "is a subgradient" if valid else "is not a subgradient"
        playwright_api.expect(verdict).to_contain_text(words)

    for label, valid in (("-0.01", False), ("0", True), ("1", True), ("1.01", False)):
        drag_to(label)
        says(valid)  # the verdict changes exactly at 0 and at 1
    assert any(q.multiple for q in check_quizzes(nb, poll_3))  # Poll 3: tick every true derivative
    check_quizzes(nb, question)


def test_notebook_03_softmax_explorer_and_quiz(open_notebook):
    nb = open_notebook("03_vector_activations.ipynb")
    paths, signs, explorer = sorted(widget_cells(nb.name))
    cell = nb.widget_cell(explorer)
    readout = cell.locator(".widget-html").last

    def shown():
        return readout.inner_text().strip()

    text, before = shown(), nb.image_source(cell)
    assert before and "y = (0.167, 0.333, 0.500)" in text, text  # it opens at the hand example, T = 1
    nb.drag_slider(cell, 2, fraction=0.95)  # raise the logit z_3
    nb.wait_for_new_image(cell, before)
    nb.wait_for_change(shown, text, "the readout (z_3 moved)")
    assert "y = (0.167, 0.333, 0.500)" not in shown()
    text, before = shown(), nb.image_source(cell)
    nb.drag_slider(cell, 3, fraction=0.9)  # a high temperature
    nb.wait_for_new_image(cell, before)
    nb.wait_for_change(shown, text, "the readout (T moved)")
    assert "T = 1:" not in shown(), shown()
    assert [q.multiple for q in check_quizzes(nb, paths) + check_quizzes(nb, signs)] == [False, True]


#: each preset's verdict, and whether its training run pays off (the Loss ends at most at 85 % of its start)
#: or not (at least 95 %, or it diverges)
PRESET_OUTCOMES = {"deep sigmoid": ("vanishing", False), "too-large scale": ("exploding", False),
                   "ReLU + He": ("healthy", True), "residual": ("healthy", True), "clipping": ("exploding", True)}


def test_notebook_06_dashboard_bands_divergence_presets_and_the_question(open_notebook):
    nb = open_notebook("06_training_loop.ipynb")
    dashboard, question, clipping = sorted(widget_cells(nb.name))
    cell = nb.widget_cell(dashboard)
    expect = playwright_api.expect
    assert cell.locator("svg text").count() > 10, "the dashboard shows no figure"

    def shown(label):
        """Wait until the readout shows ``label``'s settings with their training run, then the numbers."""
        expect(cell.locator(".bp-settings")).to_have_text(label)
        expect(cell.locator(".bp-training")).to_have_attribute("data-trained", "true")
        training = cell.locator(".bp-training")
        bands = cell.locator("svg text.bp-bands")
        return {"diagnosis": cell.locator(".bp-diagnosis").inner_text(),
                "ratio": float(training.get_attribute("data-loss-ratio")),
                "diverged": training.get_attribute("data-diverged") == "true",
                "vanished": int(bands.get_attribute("data-vanished")),
                "ticks": cell.locator("svg text.bp-ytick-gradient").evaluate_all("ts => ts.map(t => t.textContent)"),
                "loss points": cell.locator("svg circle.bp-loss").count()}

    # depth 30 -> 50 with the deep sigmoid: the same axis range, more layers in the vanished band
    start = bp.PRESETS["deep sigmoid"]
    at_30 = shown(start.label())
    nb.drag_slider_to(cell, 0, "50", [str(d) for d in range(1, MAX_DEPTH + 1)])
    at_50 = shown(replace(start, depth=50).label())
    assert at_30["ticks"] == at_50["ticks"] == ["1e-12", "1e-8", "1e-4", "1", "1e4", "1e8", "1e12"]
    assert at_50["vanished"] >= at_30["vanished"] + 15, (at_30, at_50)
    assert at_30["diagnosis"] == at_50["diagnosis"] == "vanishing"
    # each preset's verdict and training curve, as the notebook states them
    for name, (verdict, pays_off) in PRESET_OUTCOMES.items():
        cell.get_by_role("button", name=name, exact=True).click()
        state = shown(bp.PRESETS[name].label())
        assert state["diagnosis"] == verdict, (name, state)
        if pays_off:
            assert not state["diverged"] and state["ratio"] <= 0.85 and state["loss points"] == EPOCHS + 1, (name, state)
        else:
            assert state["diverged"] or state["ratio"] >= 0.95, (name, state)
    # a learning rate too large for ReLU + He: diverged, not exploding
    cell.get_by_role("button", name="ReLU + He", exact=True).click()
    shown(bp.PRESETS["ReLU + He"].label())
    nb.drag_slider_to(cell, 1, "1", [f"{v:g}" for v in DASHBOARD_ETAS])
    state = shown(replace(bp.PRESETS["ReLU + He"], eta=1.0).label())
    assert state["diagnosis"] == "diverged" and state["diverged"], state
    check_quizzes(nb, question)
    check_quizzes(nb, clipping)
