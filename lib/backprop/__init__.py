"""backprop: the numpy library behind the course "backpropagation, from the lecture to working code".

    import backprop as bp

The library is built in five folders, one per kind of code, each depending only on
the ones before it:

* :mod:`backprop.core`        -- the concepts, numpy only: activations, divergences,
  layers, the vectorised and the scalar network, the computational graph, gradient
  checks, initialisation, training, data, the worked examples, checks, tolerance;
* :mod:`backprop.experiments` -- the notebooks' experiments, numpy only, built from
  the concepts: loss surfaces, the subgradient verdict, the backward pass two ways,
  the dashboard's numbers, the lab;
* :mod:`backprop.symbolic`    -- the SymPy witnesses: every rule of the math run on
  symbols and compared with ``sympy.diff``; the symbolic network; influence diagrams;
* :mod:`backprop.views`       -- what a student sees: figures, tables, widgets,
  quizzes, progress bars (matplotlib, ipywidgets, tqdm);
* :mod:`backprop.grading`     -- the homework's self-checks and the instructor's grader;

and ``python -m backprop.bench``, which measures speed and accuracy.  The math never
imports the views or SymPy.

The names the course writes (the notebooks, the homework, the README) are also here,
at the top: ``bp.Network``, ``bp.draw_network``...; every other public name is reached
through its module (``backprop.core.layers.Affine``, or ``bp.core.layers.Affine``).
They are looked up on first use (:data:`EXPORTS` says where each lives), so
``import backprop`` itself loads numpy alone: no SymPy, matplotlib or ipywidgets
until a name that needs them is used.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: where each top-level name lives: {module under backprop: names}
EXPORTS: dict[str, tuple[str, ...]] = {
    "core.activations": ("Identity", "Sigmoid", "ReLU", "LeakyReLU", "Softmax", "RandomizedLeakyReLU",
                         "max_forward", "max_backward", "max_pool_forward", "max_pool_backward", "get_activation"),
    "core.divergences": ("CrossEntropy", "SoftmaxCrossEntropy", "get_divergence", "one_hot"),
    "core.layers": ("affine_forward", "affine_backward", "multiplicative_forward", "multiplicative_backward",
                    "extended_input", "extended_weights", "Residual"),
    "core.network": ("Network", "mlp"),
    "core.scalar_net": ("ScalarNetwork",),
    "core.graph": ("Value", "maximum", "topological_order", "trace", "value_names"),
    "core.tolerance": ("agree",),
    "core.gradcheck": ("numerical_gradient", "numerical_jacobian", "lecture_name", "check_gradients",
                       "check_derivative", "first_order_errors", "loglog_slope"),
    "core.initialisation": ("init_std", "initialise", "layer_outputs"),
    "core.training": ("global_norm", "clip_by_global_norm", "lecture_gradients", "lecture_step", "History",
                      "train", "evaluate", "predict_labels"),
    "core.data": ("digits_dataset", "two_or_not_two", "mnist_dataset"),
    "experiments.descent": ("quadratic_1d", "two_minima_1d", "elongated_bowl", "saddle", "saddle_between_minima",
                            "gradient_descent", "steps_to_converge", "quadratic_step_factor",
                            "learning_rate_regime"),
    "core.examples": ("two_relu_network", "two_relu_residual_networks", "tiny_network", "sigmoid_neuron_example",
                      "vector_231_network"),
    "symbolic.network": ("SymbolicNetwork",),
    "symbolic.influence": ("InfluenceDiagram", "influence_diagram"),
    "symbolic.paths": ("numerical_total_derivative",),
    "symbolic.surfaces": ("surface_symbols", "surface_expression", "critical_points", "classify_critical_point"),
    "views.dag": ("draw_graph", "draw_influence_diagram"),
    "views.network": ("draw_network", "draw_forward_backward"),
    "views.plots": ("plot_curves", "plot_descent_2d", "plot_loss_curves", "compare_learning_rates",
                    "plot_first_order_errors"),
    "views.tables": ("forward_table", "backward_table", "weight_gradient_table", "pass_steps", "trace_table",
                     "path_table", "witness_table"),
    "views.widgets": ("described",),
    "views.descent": ("learning_rate_explorer",),
    "views.paths": ("path_sum_view", "path_sum_explorer"),
    "views.stepper": ("pass_step_figure", "pass_stepper"),
    "views.polls": ("poll", "question"),
    "views.style": ("new_figure",),
    "views.progress": ("progress_bar",),
    "experiments.vector_form": ("layer_pairs", "jacobian_backward", "time_loops_and_matrices", "stored_speedup"),
    "views.shapes": ("shape_table", "index_table", "notation_table", "speedup_figure", "product_figure",
                     "product_explorer"),
    "experiments.subgradients": ("subgradient_verdict", "kink_census"),
    "symbolic.subgradients": ("verify_subgradients",),
    "views.subgradient": ("draw_kinks", "subgradient_explorer", "central_difference_figure"),
    "symbolic.softmax": ("general_softmax_jacobian", "softmax_jacobian_derivation", "softmax_divergence_collapse"),
    "views.softmax": ("activation_diagrams", "jacobian_heatmap", "softmax_view", "softmax_explorer"),
    "experiments.dashboard": ("DashboardSettings", "PRESETS", "dashboard_network", "dashboard_state", "diagnose"),
    "views.dashboard": ("dashboard_figure", "dashboard_grid_figure", "activation_histograms",
                        "vanishing_dashboard"),
    "experiments.lab": ("LAB", "lab_network", "lab_run", "lab_challenge", "stored_lab_sweeps"),
    "views.training": ("descent_figure", "confusion_figure", "misclassified_figure", "sweep_figure",
                       "dead_units_figure"),
}

#: modules reachable as attributes: ``bp.symbolic.verify(...)``, ``bp.examples.TWO_RELU``
MODULES = {"core": "core", "experiments": "experiments", "symbolic": "symbolic", "views": "views", "grading": "grading", "examples": "core.examples"}

_WHERE = {name: module for module, names in EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    elif name in MODULES:
        value = importlib.import_module(f"{__name__}.{MODULES[name]}")
    else:
        home = None if name.startswith("_") else _home(name)  # (IPython probes _repr_... names: no search)
        hint = f": it lives in its module, from backprop.{home} import {name}" if home else ""
        raise AttributeError(f"module 'backprop' has no attribute {name!r}{hint}")
    globals()[name] = value  # looked up once
    return value


def _home(name: str) -> str | None:
    """The module under backprop whose ``__all__`` lists ``name``, read from the source (nothing is imported)."""
    import ast
    from pathlib import Path

    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if (isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets)
                    and isinstance(node.value, (ast.List, ast.Tuple))
                    and name in [getattr(e, "value", None) for e in node.value.elts]):
                return ".".join(path.relative_to(root).with_suffix("").parts)
    return None


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(MODULES))
