"""Progress of long runs, by tqdm: a bar widget in JupyterLab, one line in a terminal, nothing for short runs.

The training loop knows nothing of displays (the math never imports a view): it
takes a *factory*, called once as ``progress(total=steps, desc="training")``,
whose result it calls ``update(1)`` on after every step, ``set_postfix_str(text,
refresh=False)`` on after every epoch and ``close()`` on at the end -- tqdm's protocol.  So

    bp.train(net, X, d, eta=0.1, epochs=50, rng=rng, progress=bp.progress_bar)

shows a bar, and any ``tqdm`` (``tqdm.auto.tqdm``, ``tqdm.tqdm``) works too.

:func:`progress_bar` is ``tqdm.auto.tqdm`` with the course's defaults: nothing at
all for a run shorter than ``delay`` seconds (5), so quick runs in notebooks and
tests stay silent; after that, tqdm's widget inside a Jupyter kernel (its
plain-text form is the bar as text, never a widget's repr) or a line rewritten
in place on stderr.  We use tqdm rather than our own bar: it is the bar
everyone knows, kept up by others, and measured at about a microsecond per
update (the bench's epoch does not move with it).
"""

from __future__ import annotations

from ..core.checks import check_real

__all__ = ["progress_bar"]


def progress_bar(total: int, desc: str = "", *, delay: float = 5.0, **options):
    """A tqdm progress bar over ``total`` steps, shown only once ``delay`` seconds have passed.

    ``options`` go to ``tqdm.auto.tqdm`` (e.g. ``disable=True``, ``leave=False``).
    """
    from tqdm.auto import tqdm

    delay = check_real(delay, "delay")
    if delay < 0:
        raise ValueError(f"argument 'delay' expected seconds >= 0 before the bar shows, got {delay:g}")
    return tqdm(total=total, desc=desc, delay=delay, **options)
