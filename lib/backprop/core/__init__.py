"""The math of the course, numpy only: its concepts, one module each.

Activations, divergences, layers, the vectorised and the scalar network, the
computational graph, gradient checks, initialisation, training, data, the worked
examples, argument checks and the one tolerance.  The notebooks' experiments built
from them live in :mod:`backprop.experiments`, which this folder never imports.

Every module here imports numpy and the modules beside it, nothing else: no
matplotlib, no ipywidgets, no SymPy, nothing from :mod:`backprop.views` (a test
walks the imports).  Each rule is written once, with arithmetic, comparisons and
an ``xp`` namespace, so :mod:`backprop.symbolic` can run the same lines on
symbols.  Arguments are checked where they enter (:mod:`.checks`); the
tolerance for "these numbers agree" is :mod:`.tolerance`; the worked examples of
the lecture are :mod:`.examples`.
"""
