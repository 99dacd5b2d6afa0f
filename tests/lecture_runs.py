"""Runs of 12 words the course may not share with the lecture (no copied sentences).

The lecture's documents (``../shared/lecture/`` beside the repository, or the
folder named by ``$BACKPROP_LECTURE``) are not part of the project, so their
12-word runs are kept in ``tests/data/lecture_runs.txt`` as short hashes, never as
text: a clean checkout (CI) checks against the hashes, a machine with the lecture
also checks that the hashes are current.  Words are the letters a-z of the
lowercased text; everything else (digits, punctuation, formulas) separates them.
Each word is cut to its first five letters, so a near-copy that only changes an
ending ("influencer" for "influencing", "derived" for "derivative") still counts.

    python tests/lecture_runs.py    # rewrite tests/data/lecture_runs.txt from the lecture
"""

from __future__ import annotations

import hashlib
import os
import re
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HASHES = ROOT / "tests" / "data" / "lecture_runs.txt"
RUN = 12  # words


def lecture_folder() -> Path | None:
    """The lecture's documents, if this machine has them."""
    folder = Path(os.environ.get("BACKPROP_LECTURE", ROOT.parent / "shared" / "lecture"))
    return folder if any(folder.glob("0*.txt")) else None


def runs(text: str, n: int = RUN) -> dict[str, str]:
    """``{hash: run}`` for every run of ``n`` consecutive words of ``text``."""
    words = [w[:5] for w in re.findall(r"[a-z]+", text.lower())]
    out = {}
    for i in range(len(words) - n + 1):
        run = " ".join(words[i:i + n])
        out[hashlib.blake2b(run.encode(), digest_size=5).hexdigest()] = run
    return out


def from_lecture(folder: Path) -> set[str]:
    return {h for path in sorted(folder.glob("0*.txt")) for h in runs(path.read_text(encoding="utf-8"))}


@lru_cache(maxsize=None)
def lecture_hashes() -> frozenset[str]:
    """The lecture's 12-word runs, hashed: from the lecture when present, else from the committed file."""
    folder = lecture_folder()
    if folder is not None:
        return frozenset(from_lecture(folder))
    return frozenset(HASHES.read_text().split())


def copied(text: str) -> list[str]:
    """The runs of ``text`` that the lecture also has (each a 12-word string); [] when none."""
    hashes = lecture_hashes()
    return sorted(run for h, run in runs(text).items() if h in hashes)


if __name__ == "__main__":
    folder = lecture_folder()
    if folder is None:
        raise SystemExit("no lecture found: set BACKPROP_LECTURE to the folder of the lecture's documents")
    HASHES.parent.mkdir(exist_ok=True)
    HASHES.write_text("\n".join(sorted(from_lecture(folder))) + "\n")
    print(f"wrote {len(from_lecture(folder))} hashed runs to {HASHES.relative_to(ROOT)}")
