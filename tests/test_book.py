"""The reading edition (book/build.py, ``make book``): built from the tracked files alone, read in Chromium offline.

One build (module fixture) from a copy of the files git tracks, as a fresh clone has them, then one
Chromium session that opens the front page and every notebook's page from the disk with every
request outside the build blocked: each page loads with no failed request and no script error,
every formula is typeset, every image has alt text, no answer is in view, and the pages link in
the course's order.  The browser part needs Debian's ``chromium``, as tests/test_browser.py does
(skipped without it, with that reason; CI sets BACKPROP_REQUIRE_BROWSER and installs it).
"""

from __future__ import annotations

import base64
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from strategies import chromium

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = chromium()
needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="needs Chromium: apt-get install chromium (.ci/run installs it)")


def _load_build():
    spec = importlib.util.spec_from_file_location("book_build", ROOT / "book" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()
NOTEBOOKS = [p.stem for p in build.notebook_paths()]
WIDGET, READER = build.WIDGET_MIME, build.READER_MIME


def tracked_copy(target: Path) -> Path:
    """The files git tracks or would track (as the working tree has them; nothing .gitignore leaves out, no
    earlier build), copied to ``target``: what a fresh clone holds once they are committed."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    """The edition built by the copy's own book/build.py, as `make book` runs it: its html folder."""
    clone = tracked_copy(tmp_path_factory.mktemp("clone"))
    assert not (clone / "book" / "_build").exists()
    done = subprocess.run([sys.executable, str(clone / "book" / "build.py")], cwd=clone, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    front = Path(done.stdout.strip().splitlines()[-1])  # the last line printed: the front page's path
    assert front == clone / "book" / "_build" / "html" / "index.html" and front.is_file()
    return front.parent


# -- the notebooks made for a reader ------------------------------------------------------------------------
def _notebook(*cells):
    return nbformat.v4.new_notebook(cells=list(cells), metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})


def _widget(text, reader=None):
    data = {WIDGET: {"model_id": "x", "version_major": 2, "version_minor": 0}, "text/plain": text}
    if reader:
        data[READER] = reader
    return nbformat.v4.new_output("execute_result", data=data, execution_count=1)


def test_an_answer_stays_folded_behind_check_your_answer():
    cell = nbformat.v4.new_code_cell("print('Check your answer:')", metadata={"jupyter": {"outputs_hidden": True}},
                                     outputs=[nbformat.v4.new_output("stream", name="stdout", text="Check your answer:\n4\n")])
    shown = build.for_reader(_notebook(cell), "t.ipynb", polls={}).cells[0]
    assert "hide-output" in shown.metadata.tags
    assert shown.metadata.mystnb["code_prompt_show"] == build.SHOW_ANSWER
    assert shown.outputs == cell.outputs


def test_an_explorer_becomes_its_first_figure_with_alt_text_and_a_sentence_for_a_reader():
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(24)).decode()
    reader = {"text": "Explorer. In JupyterLab, this explorer lets you move <z>.", "image/png": png,
              "alt": "Figure. A line."}
    cell = nbformat.v4.new_code_cell("bp.explorer()", outputs=[_widget("Explorer: run this cell.", reader)])
    shown = build.for_reader(_notebook(cell), "t.ipynb", polls={}).cells[0]
    sentence, figure = shown.outputs
    assert sentence.data == {"text/html": '<p class="bp-reader">Explorer. In JupyterLab, this explorer lets you move '
                                          '&lt;z&gt;.</p>'}
    assert figure.data["image/png"] == png and shown.metadata.mystnb["image"] == {"alt": "Figure. A line."}
    assert not any(WIDGET in o.get("data", {}) for o in shown.outputs)


def test_a_quiz_shows_its_question_and_options_with_the_answers_in_a_closed_block():
    import backprop as bp

    poll = bp.poll(3)
    cell = nbformat.v4.new_code_cell("bp.poll(3)", outputs=[_widget(poll.text())])
    page = build.for_reader(_notebook(cell), "t.ipynb").cells[0].outputs[0].data["text/html"]
    outside = re.sub(r"<details.*?</details>", "", page, flags=re.S)
    for quiz in poll.quizzes:
        assert build.html.escape(quiz.question) in outside
        assert all(f"<li>{build.html.escape(option)}</li>" in outside for option in quiz.options)
        for why in quiz.explanations:  # every explanation, and so every verdict, only inside the closed block
            assert build.html.escape(why) not in outside and build.html.escape(why) in page
    for verdict in ("The right option", "The true options", ": true.", ": not true.", ": right.", ": wrong."):
        assert verdict not in outside
    assert "<details" in page and "<details open" not in page
    assert "run this cell" not in page.lower() and "In JupyterLab" in outside


@pytest.mark.parametrize("cell, message", [
    (nbformat.v4.new_code_cell("w", outputs=[_widget("Some widget: run this cell.")]), "no form for a reader"),
    (nbformat.v4.new_code_cell("fig", outputs=[nbformat.v4.new_output(
        "display_data", data={"image/png": "iVBO", "text/plain": "<Figure>"})]), "image without alt text"),
], ids=["a widget of unknown kind", "an image without alt text"])
def test_what_a_reader_could_not_read_stops_the_build_and_says_where(cell, message):
    with pytest.raises(build.EditionError, match=rf"t\.ipynb, cell 0: .*{message}"):
        build.for_reader(_notebook(cell), "t.ipynb", polls={})


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_widget_of_the_course_has_a_form_for_a_reader_and_every_image_alt_text(name):
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    shown = build.for_reader(nb, name)
    outputs = [o for c in shown.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if WIDGET in o.get("data", {})]
    assert "run this cell" not in str(outputs).lower()
    explorers = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if READER in o.get("data", {})]
    assert len(explorers) == 1, f"{name}: one explorer a notebook"  # the course's seven, one per notebook
    folded = [c for c in nb.cells if c.metadata.get("jupyter", {}).get("outputs_hidden")]
    hidden = [c for c in shown.cells if "hide-output" in c.metadata.get("tags", [])]
    assert len(hidden) == len(folded) > 0


def test_the_front_page_maps_the_course_in_order():
    titles = {p.stem: build.title_of(nbformat.read(p, as_version=4)) for p in build.notebook_paths()}
    page = build.front_page(titles, build.course_parts(), build.readme_intro())
    links = re.findall(r"\]\((\d\d_\w+)\.ipynb\)", page)
    assert links == NOTEBOOKS == sorted(NOTEBOOKS) and len(links) == 7
    assert titles["00_problem_setup"] == "Problem setup and gradient descent"
    assert all(build.course_parts()[stem] in page for stem in NOTEBOOKS)


# -- the built edition -----------------------------------------------------------------------------------------
def test_the_edition_is_small_and_loads_nothing_from_outside(edition):
    files = [p for p in edition.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    assert size < 8.5e6, f"{size / 1e6:.1f} MB"  # pages and figures about 2 MB, MathJax 2.3, the theme the rest
    assert not [p for p in files if p.suffix == ".map" or "locales" in p.parts]
    pages = sorted(p.name for p in edition.glob("*.html"))
    assert {f"{n}.html" for n in NOTEBOOKS} | {"index.html"} <= set(pages)
    for page in edition.glob("*.html"):
        text = page.read_text()
        external = re.findall(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="((?:https?:)?//[^"]+)"', text)
        assert external == [], f"{page.name} loads {external}"
        assert "run this cell" not in text.lower(), page.name
    mathjax = edition / "_static" / "mathjax"
    assert (mathjax / "MathJax.js").is_file() and sum(p.stat().st_size for p in mathjax.rglob("*")) < 3e6


#: after MathJax has typeset the page: what is left of it in the text a reader sees, outside code
UNTYPESET = r"""() => {
    const body = document.body.cloneNode(true);
    body.querySelectorAll('pre, code, script, style, .MathJax, .MathJax_Display, .MathJax_Preview')
        .forEach(e => e.remove());
    return (body.textContent.match(/\$[^$\n]+\$|\\\(|\\\[|\\begin\{|\\(?:frac|partial|eta|sum|mathbf)\b/g) || []);
}"""

#: formulas MathJax found (its script elements) and how many of them it did not render (no frame before it)
RENDERED = r"""() => { const scripts = [...document.querySelectorAll('script[type^="math/tex"]')];
    return [scripts.length, scripts.filter(s => { const f = s.previousElementSibling;
        return !f || !(f.classList.contains('MathJax') || f.classList.contains('MathJax_Display')); }).length]; }"""

#: every details block, and whether it is open or shows any of its content
DETAILS = r"""() => [...document.querySelectorAll('details')].map(d => ({
    open: d.open, summary: (d.querySelector('summary') || {}).textContent || '',
    shown: [...d.children].filter(c => c.tagName !== 'SUMMARY' && c.checkVisibility()).length }))"""


@needs_chromium
@pytest.mark.browser
def test_each_page_reads_offline_in_chromium_with_its_formulas_typeset_and_its_answers_out_of_sight(edition,
                                                                                                   chromium_browser):
    root = edition.resolve().as_uri() + "/"
    blocked, failed, errors = [], [], []
    page = chromium_browser.new_page(viewport={"width": 1400, "height": 900})
    page.on("requestfailed", lambda r: failed.append(f"{r.url}: {r.failure}"))
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        if r.request.url.startswith(root):
            r.continue_()
        else:  # the network, or the disk outside the edition
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    # MathJax calls AuthorInit as it starts: from there, a flag is set once it has typeset the page
    page.add_init_script("window.MathJax = {AuthorInit: () => MathJax.Hub.Register.StartupHook("
                         "'End', () => { window.typesetDone = true; })};")
    figures = {}
    for name in ["index", *NOTEBOOKS]:
        failed.clear()
        page.goto(root + f"{name}.html", wait_until="load")
        page.wait_for_function("window.typesetDone === true", timeout=60_000)
        where = f"{name}.html"
        assert page.locator("main h1").count() >= 1, f"{where}: no page"
        assert failed == [] and blocked == [] and errors == [], f"{where}: {failed} {blocked} {errors}"
        assert page.evaluate(UNTYPESET) == [], f"{where}: formulas left untypeset"
        assert page.locator(".MathJax_Error, merror, .MathJax .merror").count() == 0, f"{where}: a MathJax error"
        images = page.locator("main img")
        alts = [images.nth(i).get_attribute("alt") or "" for i in range(images.count())]
        assert all(a.strip() for a in alts), f"{where}: {alts.count('')} images without alt text"
        assert all(images.nth(i).evaluate("i => i.complete && i.naturalWidth > 0") for i in range(images.count()))
        figures[name] = len(alts)
        details = page.evaluate(DETAILS)
        assert [d for d in details if d["open"] or d["shown"]] == [], f"{where}: an answer in view"
        outputs = page.locator(".cell_output").filter(visible=True).all_inner_texts()
        assert not [o for o in outputs if o.lstrip().startswith("Check your answer:")], f"{where}: an answer in view"
        seen = page.inner_text("main")
        for shown in ("The right option", "The true options", "run this cell"):
            assert shown not in seen, f"{where}: {shown!r} in view"
        if name == "index":
            links = page.locator("main table a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
            assert links == [f"{n}.html" for n in NOTEBOOKS], links
            continue
        found, unrendered = page.evaluate(RENDERED)
        assert found > 100 and unrendered == 0, f"{where}: {unrendered} of {found} formulas not rendered"
        position = NOTEBOOKS.index(name)
        previous = page.locator("a.left-prev").get_attribute("href")
        assert previous == ("index.html" if position == 0 else f"{NOTEBOOKS[position - 1]}.html"), previous
        following = page.locator("a.right-next")
        if position + 1 < len(NOTEBOOKS):
            assert following.get_attribute("href") == f"{NOTEBOOKS[position + 1]}.html"
        else:
            assert following.count() == 0
        folded = [d for d in details if d["summary"].strip().startswith(build.SHOW_ANSWER)]
        stored = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        assert len(folded) == sum(bool(c.metadata.get("jupyter", {}).get("outputs_hidden")) for c in stored.cells)
        assert page.locator(".bp-reader").filter(has_text="In JupyterLab, this").count() == 1, where
        if position == 0:  # a reader who opens an answer sees it, typeset
            answer = page.locator("details.hide").first
            answer.locator("summary").click()
            assert answer.locator(".cell_output").first.is_visible()
            assert "Check your answer:" in answer.inner_text()
    page.close()
    assert sum(figures.values()) >= 47, figures  # 40 figures and the 7 explorers' first ones
