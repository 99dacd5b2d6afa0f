"""Every graded part of every homework, listed once.

A part is one graded cell of a homework notebook; its nbgrader ``grade_id`` is the
part's ``id``.  The homework modules define their parts and list them in their
``PARTS``; this module only gathers them, so nothing imports the registry back
(no circle): ``parts`` <- ``hw01`` ... ``hw06`` <- ``registry`` <- the self-check and the grader.
"""

from __future__ import annotations

from . import hw01, hw02, hw03, hw04, hw05, hw06
from .parts import Part

__all__ = ["PARTS", "HOMEWORK", "get_part"]

#: the homework modules, by assignment
HOMEWORK = {"01_calculus_refresher": hw01, "02_scalar_backprop": hw02, "03_vector_activations": hw03,
            "04_subgradients": hw04, "05_vector_formulation": hw05, "06_training_loop": hw06}

#: every part, by id, in the notebooks' order
PARTS: dict[str, Part] = {part.id: part for module in HOMEWORK.values() for part in module.PARTS}


def get_part(part_id: str) -> Part:
    """The part with this id (the nbgrader grade_id of its check cell)."""
    if not isinstance(part_id, str) or part_id not in PARTS:
        raise KeyError(f"argument 'part_id' expected one of {sorted(PARTS)}, got {part_id!r}")
    return PARTS[part_id]
