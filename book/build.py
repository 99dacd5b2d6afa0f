"""The course's reading edition: notebooks 00-06 as static web pages, built offline from their stored outputs.

    make book                      # or: .venv/bin/python book/build.py [--out DIR]: DIR/_build/html

Jupyter Book 1 (Sphinx + MyST-NB) makes the pages: a front page with the course map, one page
per notebook, each linked to the one before and after it, and search.  It reads a copy of each
notebook staged here for a reader of a static page, where nothing runs:

* an answer cell (stored with its output folded, ``"jupyter": {"outputs_hidden": true}``) keeps
  its output folded behind "Check your answer", as JupyterLab does;
* an explorer (a widget) becomes what the library stored for this edition beside its widget
  (``backprop.views.widgets.READER_MIME``): a sentence for a reader ("In JupyterLab, this
  explorer lets you ...") and the figure it draws first, never "run this cell";
* a quiz becomes its question and its options, typeset, with the answers and why in a block
  that stays closed until the reader opens it (taken from ``backprop.views.polls`` at build
  time: no notebook holds an answer);
* every image keeps the alt text stored with it (``backprop.views.style.alt_text``).

The formulas are typeset by MathJax 2.7, copied from the Jupyter package
``jupyter-server-mathjax`` into the edition (only the parts it loads), so a page needs no
network; nor does the build.  The last line printed is the path of the front page.
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = ROOT / "notebooks"

#: what an answer cell's fold says, closed and open
SHOW_ANSWER, HIDE_ANSWER = "Check your answer", "Hide the answer"

#: the mime type of a widget output's form for this edition (backprop.views.widgets.READER_MIME)
READER_MIME = "application/vnd.backprop.reader+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
#: the images a figure of the course comes as: matplotlib's as PNG, the dashboard's as SVG (views.style.SvgFigure)
IMAGE_MIMES = ("image/png", "image/svg+xml")

#: the parts of MathJax 2.7 the edition loads, as paths inside jupyter-server-mathjax's copy: the loader (and
#: its licence), the combined TeX configuration, the HTML-CSS output with its STIX-Web fonts (the only fonts
#: that package ships, and what JupyterLab's MathJax 2 uses), and the operator tables it loads as it meets them
#: (the menu and the zoom are off: book/_config.yml)
MATHJAX_PARTS = (
    "MathJax.js",
    "LICENSE",
    "config/TeX-AMS-MML_HTMLorMML-full.js",
    "jax/output/HTML-CSS",
    "fonts/HTML-CSS/STIX-Web/woff",
    "jax/element/mml/optable",
)


class EditionError(ValueError):
    """A notebook holds something the reading edition cannot show as the course promises."""


# -- notebooks for a reader -----------------------------------------------------------------------------
def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def polls_by_title() -> dict:
    """Every poll and question of the course by its title: the first line of its stored plain text."""
    from backprop.views.polls import POLLS, QUESTIONS

    return {p.title: p for p in [*POLLS.values(), *QUESTIONS.values()]}


def quiz_html(poll) -> str:
    """A poll for a static page: each question and its lettered options, typeset; the answers, each option's
    verdict and why, in a ``<details>`` block that stays closed until the reader opens it."""
    from backprop.views.quiz import Quiz

    parts = [f'<div class="bp-quiz">\n<p class="bp-quiz-title"><strong>{html.escape(poll.title)}</strong></p>']
    for quiz in poll.quizzes:
        right = quiz.answer if quiz.multiple else [quiz.answer]
        options = "\n".join(f"<li>{html.escape(o)}</li>" for o in quiz.options)
        verdicts = []
        for i, option in enumerate(quiz.options):
            verdict = ("true" if i in right else "not true") if quiz.multiple else ("right" if i in right else "wrong")
            why = f" {html.escape(quiz.explanations[i])}" if quiz.explanations else ""
            verdicts.append(f"<li><strong>{Quiz.letter(i)}: {verdict}.</strong>{why}</li>")
        letters = ", ".join(Quiz.letter(i) for i in right)
        parts.append(
            f'<div class="bp-quiz-question">\n<p>{html.escape(quiz.question)}</p>\n'
            f'<ol type="A">\n{options}\n</ol>\n'
            f'<details class="bp-answer"><summary>Answer</summary>\n'
            f'<p>{"The true options" if quiz.multiple else "The right option"}: {letters}.</p>\n'
            f'<ul>\n{chr(10).join(verdicts)}\n</ul>\n</details>\n</div>')
    kinds = {quiz.multiple for quiz in poll.quizzes}
    kind = "tick every option that is true" if kinds == {True} else "pick one" if kinds == {False} else "answer"
    parts.append(f'<p class="bp-reader">In JupyterLab, each option has a box beside it: {kind}, press Check, and '
                 f'each option you ticked is judged, with why.</p>\n</div>')
    return "\n".join(parts)


def _display(data: dict, metadata: dict | None = None):
    return nbformat.v4.new_output("display_data", data=data, metadata=metadata or {})


def reader_outputs(output, where: str, polls: dict) -> list:
    """The outputs a static page shows in place of one widget output."""
    data = output["data"]
    reader = data.get(READER_MIME)
    if reader is not None:
        sentence = f'<p class="bp-reader">{html.escape(reader["text"])}</p>'
        shown = [_display({"text/html": sentence})]
        for kind in IMAGE_MIMES:
            if kind in reader:
                if not reader.get("alt", "").strip():
                    raise EditionError(f"{where}: the explorer's figure has no alt text")
                shown.append(_display({kind: reader[kind], "text/plain": reader["alt"]}, {kind: {"alt": reader["alt"]}}))
        return shown
    title = _text(data.get("text/plain", "")).split("\n", 1)[0].strip()
    if title in polls:
        return [_display({"text/html": quiz_html(polls[title])})]
    raise EditionError(f"{where}: a widget with no form for a reader (neither a quiz nor a widget made with "
                       f"backprop.views.widgets.described(..., reader=...)); it shows {title!r}")


def for_reader(nb, name: str, polls: dict | None = None):
    """A copy of notebook ``nb`` (called ``name`` in errors) made for a static page (see the module's docstring)."""
    polls = polls_by_title() if polls is None else polls
    nb = copy.deepcopy(nb)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        where = f"{name}, cell {index}"
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") in ("display_data", "execute_result") and WIDGET_MIME in output["data"]:
                outputs += reader_outputs(output, where, polls)
            elif output.get("output_type") == "execute_result":  # no prompt numbers on a static page
                outputs.append(_display(dict(output["data"]), dict(output.get("metadata", {}))))
            else:
                outputs.append(output)
        cell.outputs = outputs
        alts = []
        for output in outputs:
            for kind in IMAGE_MIMES:
                if kind not in output.get("data", {}):
                    continue
                alt = output.get("metadata", {}).get(kind, {}).get("alt", "")
                if not alt.strip():
                    raise EditionError(f"{where}: an image without alt text (re-execute the notebook: "
                                       "backprop.views.style stores one with every figure)")
                alts.append(alt)
                break  # one image an output, whichever form the page shows
        if len(alts) > 1:  # MyST-NB takes an image's alt text from its cell: one image a cell
            raise EditionError(f"{where}: {len(alts)} images in one cell; the edition gives one alt text a cell")
        metadata = cell.metadata.setdefault("mystnb", {})
        if alts:
            metadata["image"] = {"alt": alts[0]}
        if cell.metadata.get("jupyter", {}).get("outputs_hidden") and outputs:
            tags = cell.metadata.setdefault("tags", [])
            tags.append("hide-output")
            metadata.update(code_prompt_show=SHOW_ANSWER, code_prompt_hide=HIDE_ANSWER)
    return nb


# -- the front page ----------------------------------------------------------------------------------------
def notebook_paths(folder: Path = NOTEBOOKS) -> list[Path]:
    """The course's notebooks, in order: ``NN_name.ipynb``."""
    paths = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise EditionError(f"no notebooks NN_name.ipynb in {folder}")
    return paths


def title_of(nb) -> str:
    """A notebook's title: its first heading, without the number (``# 00 — Problem setup`` gives ``Problem setup``)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return re.sub(r"^\d+\s*[—-]\s*", "", line[2:].strip())
    raise EditionError("a notebook without a title (a first '# ' heading)")


def course_parts(readme: Path = NOTEBOOKS / "README.md") -> dict[str, str]:
    """What part of the lecture each notebook covers, from the table in ``notebooks/README.md``."""
    parts = dict(re.findall(r"^\|\s*`(\d\d_\w+)`\s*\|\s*(.+?)\s*\|\s*$", readme.read_text(), flags=re.M))
    if not parts:
        raise EditionError(f"{readme} has no table of the notebooks (| `NN_name` | part of the lecture |)")
    return parts


def front_page(titles: dict[str, str], parts: dict[str, str], intro: str) -> str:
    """The front page in MyST markdown: what the course is, how to read this edition, the course map."""
    rows = "\n".join(f"| {stem[:2]} | [{title}]({stem}.ipynb) | {parts.get(stem, '')} |" for stem, title in titles.items())
    return f"""# Backpropagation, from the lecture to working code

{intro}

This is the course's **reading edition**: notebooks 00 to 06 as they are stored, with their figures
and typeset formulas, to read anywhere. The course itself runs in JupyterLab, where every cell can be
run, the explorers move and the quizzes answer back (see the repository's README: `make lab`, or the
Binder link).

**Predict, then see**, here too. Where a notebook asks you to predict or to work something out, its
answer is folded: click **{SHOW_ANSWER}** under the code to open it. Sentences that restate an answer
sit in a *What this shows* block, and every question at a notebook's end has its answer or a hint in
a block of its own, all closed until you open them; so are the quizzes' answers. Each explorer shows
the figure it draws first, with what it lets you do in JupyterLab.

## The course map

| | notebook | part of the lecture |
|---|---|---|
{rows}

Read them in order: each page ends with a link to the next.
"""


def readme_intro(readme: Path = ROOT / "README.md") -> str:
    """The README's first paragraph (what the course is)."""
    paragraphs = [p.strip() for p in readme.read_text().split("\n\n")]
    return next(p for p in paragraphs if p and not p.startswith("#"))


# -- staging and building ------------------------------------------------------------------------------------
def mathjax_source() -> Path:
    """The MathJax 2.7 that the Jupyter package jupyter-server-mathjax ships."""
    try:
        import jupyter_server_mathjax
    except ImportError as error:  # pragma: no cover - make install puts it in place
        raise EditionError("jupyter-server-mathjax is not installed: run `make install` "
                           "(pyproject.toml's optional dependencies 'book')") from error
    return Path(jupyter_server_mathjax.__file__).parent / "static"


def copy_mathjax(target: Path) -> None:
    source = mathjax_source()
    for part in MATHJAX_PARTS:
        src, dst = source / part, target / part
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)


def stage(stage_dir: Path, notebooks: Path = NOTEBOOKS) -> list[str]:
    """Write the edition's sources into ``stage_dir``: configuration, table of contents, front page, the notebooks
    made for a reader, MathJax.  Returns the pages' names in order."""
    if stage_dir.exists():
        shutil.rmtree(stage_dir)
    stage_dir.mkdir(parents=True)
    shutil.copy2(BOOK / "_config.yml", stage_dir / "_config.yml")
    # the edition's static files, in _assets (copied into its _static/): not in a folder called _static, from
    # which Jupyter Book would link every .js file into every page, though MathJax loads its parts itself
    (stage_dir / "_assets").mkdir()
    shutil.copy2(BOOK / "edition.css", stage_dir / "_assets" / "edition.css")
    copy_mathjax(stage_dir / "_assets" / "mathjax")
    polls = polls_by_title()
    titles = {}
    for path in notebook_paths(notebooks):
        nb = nbformat.read(path, as_version=4)
        titles[path.stem] = title_of(nb)
        nbformat.write(for_reader(nb, path.name, polls), stage_dir / path.name)
    toc = {"format": "jb-book", "root": "index", "chapters": [{"file": stem} for stem in titles]}
    (stage_dir / "_toc.yml").write_text(json.dumps(toc, indent=1) + "\n")  # JSON is YAML
    (stage_dir / "index.md").write_text(front_page(titles, course_parts(notebooks / "README.md"), readme_intro()))
    return list(titles)


def build(out: Path = BOOK, notebooks: Path = NOTEBOOKS, *, quiet: bool = True) -> Path:
    """Stage and build the edition under ``out/_build`` (sources in ``source``, pages in ``html``); returns the
    front page, ``out/_build/html/index.html``."""
    build_dir = out.resolve() / "_build"
    stage(build_dir / "source", notebooks)
    html_dir = build_dir / "html"
    if html_dir.exists():
        shutil.rmtree(html_dir)  # no page of an earlier build survives
    command = [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; sys.exit(main())", "build",
               str(build_dir / "source"),
               "--path-output", str(out.resolve()), "--builder", "html", "--all", "--warningiserror", "--keep-going"]
    if quiet:
        command.append("-q")
    done = subprocess.run(command, capture_output=quiet, text=True)
    front = html_dir / "index.html"
    if done.returncode != 0 or not front.exists():
        raise EditionError(f"jupyter-book failed ({done.returncode}):\n{done.stdout or ''}{done.stderr or ''}")
    prune(html_dir)
    return front


#: what the theme copies into the edition that no page loads: source maps (read only by a browser's developer
#: tools) and the theme's translations (used while building), about 4 MB of 12
UNUSED = ("**/*.map", "_static/locales", ".buildinfo")


def prune(html_dir: Path) -> None:
    for pattern in UNUSED:
        for path in html_dir.glob(pattern):
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=BOOK,
                        help="build into OUT/_build (default: book/, so the front page is book/_build/html/index.html)")
    args = parser.parse_args(argv)
    try:
        front = build(args.out)
    except EditionError as error:
        print(f"book: {error}", file=sys.stderr)
        return 1
    print(front)
    return 0


if __name__ == "__main__":
    sys.exit(main())
