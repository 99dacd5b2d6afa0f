"""The shape every course notebook keeps (nbval, run from pyproject's addopts, checks their outputs).

These rules are the pattern notebooks 03-06 follow: an opening that says what the
notebook teaches and assumes, numbered headings, a summary at the end, outputs
stored as a clean run makes them, and nbval exemptions only where output cannot be
compared (widgets).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from strategies import OBJECT_REPR

ROOT = Path(__file__).resolve().parents[1]
LECTURES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ALL = LECTURES + sorted((ROOT / "solutions").glob("*.ipynb"))
WIDGET = "application/vnd.jupyter.widget-view+json"


def _ids(p: Path) -> str:
    return f"{p.parent.name}/{p.name}"


def test_the_first_three_lecture_notebooks_exist():
    names = [p.stem for p in LECTURES]
    for stem in ("00_problem_setup", "01_calculus_refresher", "02_scalar_backprop"):
        assert stem in names


@pytest.mark.parametrize("path", LECTURES, ids=_ids)
def test_lecture_notebook_structure(path):
    nb = nbformat.read(path, 4)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    opening = first.source.lower()
    assert "teach" in opening or "you will" in opening or "learn" in opening, "the opening says what it teaches"
    assert "assume" in opening or "prerequisite" in opening or "you need" in opening, "the opening says what it assumes"
    headings = [line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines() if line.startswith("## ")]
    numbered = [h for h in headings if re.match(r"## \d+\.", h)]
    appendix = [h for h in headings if h.startswith("## Appendix")]
    assert len(numbered) >= 3 and len(numbered) >= len(headings) - len(appendix) - 1, headings
    numbers = [int(re.match(r"## (\d+)\.", h).group(1)) for h in numbered]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers), numbers
    body = [h for h in headings if not h.startswith("## Appendix")]  # the witnesses and provenance, after the end
    assert "summary" in body[-1].lower(), body[-1]
    assert headings[len(body):] == [h for h in headings if h.startswith("## Appendix")], "the appendix comes last"


@pytest.mark.parametrize("path", ALL, ids=_ids)
def test_stored_outputs_are_a_clean_run(path):
    nb = nbformat.read(path, 4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert "widgets" not in nb.metadata, "re-execute with --ExecutePreprocessor.store_widget_state=False"
    counts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert "execution" not in cell.metadata, "re-execute with --ExecutePreprocessor.record_timing=False"
        for out in cell.outputs:
            assert out.output_type != "error", cell.source[:80]
            assert out.get("name") != "stderr", f"a warning or error text is stored: {out.get('text', '')[:200]}"
        counts.append(cell.execution_count)
    assert counts == list(range(1, len(counts) + 1)), "outputs must come from one run, top to bottom"


@pytest.mark.parametrize("path", ALL, ids=_ids)
def test_only_widget_cells_are_exempt_from_nbval(path):
    nb = nbformat.read(path, 4)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        exempt = {"nbval-ignore-output", "nbval-skip"} & set(tags) or re.search(r"#\s*NBVAL_(IGNORE_OUTPUT|SKIP)", cell.source)
        if exempt:
            assert "nbval-skip" not in tags and "NBVAL_SKIP" not in cell.source, "every cell runs"
            timing = re.search(r"perf_counter|time_loops_and_matrices|\.seconds\b", cell.source)  # times cannot be stable
            assert timing or any(WIDGET in o.get("data", {}) for o in cell.outputs), \
                f"exempt cell shows no widget and measures no time: {cell.source[:80]}"


# -- as a student meets them: answers out of sight, readable unrun, light, in our own words -------------
STUDENT = LECTURES + sorted((ROOT / "exercises").glob("*.ipynb"))
EVERY = ALL + sorted((ROOT / "exercises").glob("*.ipynb"))
REPR = re.compile(r"^\s*[A-Z]\w*\((children|value|description|options|layout)=")
MAX_BYTES = 400_000
MAX_PNG_WIDTH = 1000


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", STUDENT, ids=_ids)
def test_no_answer_is_in_the_notebook_source(path):
    """Quizzes and polls are called by name or number (views/polls.py); their answers are not in the cell."""
    for cell in _code(nbformat.read(path, 4)):
        for giveaway in ("answer=", "explanations=", "Quiz(", "getsource", "inspect."):
            assert giveaway not in cell.source, f"{giveaway!r} in a code cell: {cell.source[:120]}"


@pytest.mark.parametrize("path", EVERY, ids=_ids)
def test_every_widget_output_reads_well_unrun(path):
    """Opened before it is run, a widget output shows its text/plain: a sentence, never a repr."""
    for cell in _code(nbformat.read(path, 4)):
        for out in cell.outputs:
            data = out.get("data", {})
            text = data.get("text/plain", "")
            assert not REPR.match(text), f"a widget repr is stored: {text[:100]}"
            if WIDGET in data:
                assert "run this cell" in text.lower(), f"the widget's fallback text says what to do: {text[:100]}"
                longest = max(len(line) for line in text.splitlines())
                assert longest <= 80, f"a line of {longest} characters, which JupyterLab breaks mid-word: {text[:80]}"


#: JupyterLab 4's output renderers, most preferred first (their rank), and whether each renders in a notebook
#: the student has not trusted, as a course notebook opened unrun is not: there the first *safe* one present
#: is what shows (an SVG or a script falls back to the text)
JUPYTERLAB_RENDERERS = (("text/html", True), ("text/markdown", True), ("text/latex", True), ("image/svg+xml", False),
                        ("image/png", True), ("image/jpeg", True), ("application/javascript", False),
                        ("text/plain", True))


def shown_unrun(data) -> str | None:
    """The mime type JupyterLab shows of an output's ``data`` in a notebook not trusted (opened unrun)."""
    return next((kind for kind, safe in JUPYTERLAB_RENDERERS if safe and kind in data), None)


@pytest.mark.parametrize("path", EVERY, ids=_ids)
def test_every_output_shows_itself_unrun_not_a_repr(path):
    """Opened before it is run (not trusted), every figure and table shows as itself: never its Python repr,
    which JupyterLab falls back to for an output it only renders trusted (image/svg+xml, a script)."""
    for cell in _code(nbformat.read(path, 4)):
        for out in cell.outputs:
            data = out.get("data", {})
            if out.get("output_type") not in ("display_data", "execute_result") or WIDGET in data:
                continue
            kind = shown_unrun(data)
            assert kind is not None, f"nothing JupyterLab shows unrun in {sorted(data)}: {cell.source[:80]}"
            text = data.get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            assert not (kind == "text/plain" and len(data) > 1 and OBJECT_REPR.match(text.strip())), \
                f"unrun, JupyterLab shows {text.strip()!r} in place of {sorted(set(data) - {'text/plain'})}: {cell.source[:80]}"


@pytest.mark.parametrize("path", EVERY, ids=_ids)
def test_stored_figures_fit_the_page_and_the_notebook_stays_small(path):
    import base64
    import io

    from PIL import Image

    assert path.stat().st_size <= MAX_BYTES, f"{path.name} is {path.stat().st_size:,} bytes"
    for cell in _code(nbformat.read(path, 4)):
        for out in cell.outputs:
            if "image/png" in out.get("data", {}):
                image = Image.open(io.BytesIO(base64.b64decode(out["data"]["image/png"])))
                assert image.width <= MAX_PNG_WIDTH, f"a {image.width} px figure in: {cell.source[:80]}"
                assert image.mode == "P", f"not the course's palette PNG (a plt figure?) in: {cell.source[:80]}"


@pytest.mark.parametrize("path", EVERY + [ROOT / "README.md"], ids=_ids)
def test_no_run_of_twelve_words_comes_from_the_lecture(path):
    from lecture_runs import copied

    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        text = "\n".join(c.source for c in nbformat.read(path, 4).cells)
    assert copied(text) == []


def test_the_hashed_lecture_runs_are_current():
    from lecture_runs import HASHES, from_lecture, lecture_folder

    folder = lecture_folder()
    if folder is None:
        pytest.skip("the lecture's documents are not on this machine; the committed hashes are used")
    assert set(HASHES.read_text().split()) == from_lecture(folder), "run: python tests/lecture_runs.py"


# the vector form W(k)[j, i] and 0-based list indexing stay out of what notebooks 00-04 print
NOT_LECTURE_NAMES = re.compile(r"\bW\(\d+\)\[\d+, ?\d+\]|\bw\[\d+\]\[\d+\]\[\d+\]|\bweights\[\d+\]\[\d+\]\[\d+\]")


@pytest.mark.parametrize("path", [p for p in EVERY if p.name[:2] <= "04"], ids=_ids)
def test_printed_weights_carry_the_lectures_names(path):
    for cell in _code(nbformat.read(path, 4)):
        for out in cell.outputs:
            shown = out.get("text", "") + "".join(out.get("data", {}).get(k, "") for k in ("text/plain", "text/html"))
            assert not NOT_LECTURE_NAMES.search(shown), f"{NOT_LECTURE_NAMES.search(shown).group()} in: {cell.source[:80]}"


@pytest.mark.parametrize("number, call", [("00", 'bp.question("learning rate")'), ("01", "bp.poll(1)"),
                                          ("02", "bp.poll(2)"), ("03", 'bp.question("softmax jacobian")'),
                                          ("04", "bp.poll(3)"), ("05", "bp.poll(4)"),
                                          ("06", 'bp.question("vanishing gradients")')])
def test_each_notebook_asks_its_poll_by_name(number, call):
    (path,) = [p for p in LECTURES if p.name.startswith(number)]
    assert any(c.source.strip().endswith(call) for c in _code(nbformat.read(path, 4)))


# -- predict, then see: answers out of sight until the student runs the cell or unfolds it -------------------
PROMPT = re.compile(r"\*\*(Predict|Your turn)\b")  # the only two words a prompt starts with
#: the first line of every answer cell's output: what JupyterLab shows of an output folded away
#: ("jupyter": {"outputs_hidden": true} in the cell's metadata) is the first non-empty line of its first output
ANSWER_HEADING = "Check your answer:"
#: JupyterLab 4's order of preference for that line (CodeCell.getOutputPlaceholderText)
PLACEHOLDER_MIMES = ("text/html", "image/svg+xml", "application/pdf", "text/markdown", "text/plain")


def placeholder(cell) -> str | None:
    """The line JupyterLab shows in place of the cell's folded output."""
    if not cell.outputs:
        return None
    first = cell.outputs[0]
    data = {"text": first.get("text", "")} if first.output_type == "stream" else first.get("data", {})
    for mime in (*PLACEHOLDER_MIMES, "text"):
        if isinstance(data.get(mime), str):
            return next((line for line in data[mime].split("\n") if line != ""), None)
    return None


def _folded(cell) -> bool:
    return bool(cell.metadata.get("jupyter", {}).get("outputs_hidden"))


def _widget(cell) -> bool:
    return any(WIDGET in o.get("data", {}) for o in cell.outputs)


@pytest.mark.parametrize("path", LECTURES, ids=_ids)
def test_every_prompt_keeps_its_answer_folded_until_the_student_acts(path):
    """Under a **Predict** or **Your turn** prompt, the next code cell's output is stored folded, and what the
    fold shows is the heading, never the answer. (An explorer's cell shows a sentence until it is run.)"""
    cells = nbformat.read(path, 4).cells
    for i, cell in enumerate(cells):
        if i == 0 or cell.cell_type != "markdown" or not PROMPT.search(cell.source):
            continue
        j = next(j for j in range(i + 1, len(cells)) if cells[j].cell_type == "code")
        answer = cells[j]
        if _widget(answer):
            continue
        assert _folded(answer), f"cell {j}, under the prompt of cell {i}, is not folded: {answer.source[:80]}"


@pytest.mark.parametrize("path", LECTURES, ids=_ids)
def test_a_folded_output_shows_only_the_heading(path):
    for j, cell in enumerate(nbformat.read(path, 4).cells):
        if cell.cell_type == "code" and _folded(cell):
            assert placeholder(cell) == ANSWER_HEADING, f"cell {j} shows {placeholder(cell)!r} while folded"


@pytest.mark.parametrize("path", LECTURES, ids=_ids)
def test_every_question_to_check_yourself_has_an_answer_to_unfold(path):
    cells = nbformat.read(path, 4).cells
    sections = [c.source.split("Questions to check yourself", 1)[1] for c in cells
                if c.cell_type == "markdown" and "Questions to check yourself" in c.source]
    assert len(sections) == 1, f"{path.name}: one section of questions to check yourself"
    section = re.split(r"\n#+ ", sections[0])[0]
    questions = re.findall(r"^\d+\. ", section, flags=re.M)
    answers = re.findall(r"<details><summary>[^<]+</summary>", section)
    assert questions and len(answers) == len(questions), f"{path.name}: {len(questions)} questions, {len(answers)} answers"


@pytest.mark.parametrize("path", LECTURES, ids=_ids)
def test_no_cell_prints_only_a_verdict(path):
    """A check that prints only True says nothing a student can read: print the evidence (the numbers compared)."""
    for j, cell in enumerate(_code(nbformat.read(path, 4))):
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        lines = [line for line in text.splitlines() if line.strip()]
        if lines and not any(WIDGET in o.get("data", {}) for o in cell.outputs):
            assert not all(line.rstrip().endswith(("True", "False")) for line in lines), \
                f"code cell {j} prints only verdicts: {lines}"


@pytest.mark.parametrize("path", LECTURES, ids=_ids)
def test_prompts_use_the_two_words_a_student_learns_to_look_for(path):
    for i, cell in enumerate(nbformat.read(path, 4).cells):
        if cell.cell_type == "markdown":
            other = re.search(r"\*\*(Work it out first|Before running|Try it|Guess)\b", cell.source)
            assert not other, f"cell {i}: {other.group()} (write **Predict.** or **Your turn.**)"


#: the prose of these notebooks stays short: words of markdown outside the appendix
MAX_WORDS = {"00": 4000, "02": 4000}


@pytest.mark.parametrize("path", [p for p in LECTURES if p.name[:2] in MAX_WORDS], ids=_ids)
def test_less_to_read(path):
    text = "\n".join(c.source for c in nbformat.read(path, 4).cells if c.cell_type == "markdown")
    words = len(text.split("## Appendix")[0].split())
    assert words <= MAX_WORDS[path.name[:2]], f"{path.name}: {words} words of prose"
