"""What a student sees: figures, diagrams, tables, widgets, quizzes and progress bars.

One module per kind of view: :mod:`.dag` (influence diagrams and computational
graphs), :mod:`.network` (the scalar network, neuron by neuron), :mod:`.plots`
(curves and loss surfaces), :mod:`.tables` (passes, traces and path sums as
text), :mod:`.widgets` (the explorers and the stepper, each beside its pure
callback), :mod:`.quiz` (the self-check quizzes), :mod:`.progress` (tqdm's bar).
Views draw what :mod:`backprop.core` computed; they compute no derivative of
their own.  Figures are ``matplotlib.figure.Figure`` objects (no pyplot).
"""
