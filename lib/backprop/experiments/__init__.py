"""The notebooks' experiments, numpy only, built from the concepts of :mod:`backprop.core`.

Each module here is a harness one notebook runs, not a rule of the math: loss
surfaces and gradient descent on them (:mod:`.descent`, notebook 00), the
subgradient verdict and the kink census (:mod:`.subgradients`, 04), the backward
pass written two ways and the loops-against-matrices timing (:mod:`.vector_form`,
05), the vanishing/exploding-gradients dashboard's numbers (:mod:`.dashboard`, 06)
and the lab with its sweeps and its task (:mod:`.lab`, 06).  They import
:mod:`backprop.core` (and each other); :mod:`backprop.core` never imports them, and
nothing here imports matplotlib, ipywidgets or SymPy (a test walks the imports).
"""
