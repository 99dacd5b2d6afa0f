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

Every public name is also here, at the top: ``bp.Network``, ``bp.draw_network``...
They are looked up on first use (:data:`EXPORTS` says where each lives), so
``import backprop`` itself loads numpy alone: no SymPy, matplotlib or ipywidgets
until a name that needs them is used.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: where each top-level name lives: {module under backprop: names}
EXPORTS: dict[str, tuple[str, ...]] = {
    # the math
    "core.activations": ("Activation", "Identity", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax", "tempered_softmax",
                         "RandomizedLeakyReLU", "max_forward", "max_routing", "max_backward", "max_pool_forward",
                         "max_pool_backward", "ACTIVATIONS", "get_activation"),
    "core.divergences": ("Divergence", "SquaredError", "HalfSquaredError", "BinaryCrossEntropy", "CrossEntropy",
                         "KLDivergence", "SoftmaxCrossEntropy", "SigmoidBinaryCrossEntropy", "DIVERGENCES",
                         "get_divergence", "one_hot", "log_sum_exp"),
    "core.layers": ("affine_forward", "affine_backward", "activation_forward", "activation_backward",
                    "multiplicative_forward", "multiplicative_backward", "extended_input", "extended_weights",
                    "Layer", "Affine", "ActivationLayer", "Multiplicative", "Residual"),
    "core.network": ("Network", "mlp"),
    "core.scalar_net": ("ScalarNetwork",),
    "core.graph": ("GateRule", "GATES", "Value", "maximum", "GateRecord", "topological_order", "trace",
                   "value_names", "gate_symbol"),
    "core.tolerance": ("RTOL", "ATOL", "relative_error", "agree"),
    "core.gradcheck": ("numerical_gradient", "numerical_jacobian", "EntryCheck", "subscript", "lecture_name", "GradientReport", "check_gradients", "check_derivative",
                       "first_order_errors", "loglog_slope", "straddles_kink"),
    "core.initialisation": ("INITIALISATIONS", "init_std", "initialise", "layer_outputs"),
    "core.training": ("sgd_update", "global_norm", "clip_by_global_norm", "lecture_gradients", "lecture_step",
                      "descent_variant", "History", "TrainingDiverged", "train", "evaluate", "predict_labels",
                      "gradient_norms", "dead_relu_fraction"),
    "core.data": ("Dataset", "Scaling", "load_digits", "stratified_split", "digits_dataset", "two_or_not_two",
                  "read_idx", "load_idx_pair", "mnist_dataset", "MNIST_FILES"),
    "experiments.descent": ("Surface", "quadratic_1d", "two_minima_1d", "elongated_bowl", "saddle", "saddle_between_minima",
                     "SURFACES", "get_surface", "DescentPath", "gradient_descent", "steps_to_converge",
                     "quadratic_step_factor", "learning_rate_regime"),
    "core.examples": ("TWO_RELU", "TWO_RELU_RESIDUAL", "SIGMOID_NEURON", "TINY", "HOMEWORK_01", "scalar_network",
                      "vector_network",
                      "two_relu_network", "two_relu_residual_networks", "tiny_network", "sigmoid_neuron_example",
                      "VECTOR_231", "vector_231_network", "SOFTMAX_HAND", "MULTIPLICATIVE_HAND"),
    # the witnesses
    "symbolic.network": ("SymbolicNetwork",),
    "symbolic.influence": ("InfluenceDiagram", "PathContribution", "influence_diagram"),
    "symbolic.paths": ("numerical_total_derivative", "PathSumCheck", "check_path_sum"),
    "symbolic.surfaces": ("surface_symbols", "surface_expression", "verify_surface", "critical_points",
                          "CriticalPoint", "classify_critical_point"),
    # the views
    "views.dag": ("layered_layout", "draw_dag", "draw_graph", "draw_influence_diagram"),
    "views.network": ("draw_network", "draw_forward_backward"),
    "views.plots": ("plot_curves", "plot_descent_1d", "plot_descent_2d", "plot_loss_curves", "compare_learning_rates",
                    "plot_first_order_errors"),
    "views.tables": ("forward_table", "backward_table", "weight_gradient_table", "PassStep", "pass_steps",
                     "trace_table", "path_table", "path_sum_table_html", "witness_table"),
    "views.widgets": ("described", "grid", "explorer_figure", "learning_rate_explorer", "path_sum_view",
                      "path_sum_explorer", "pass_step_figure", "pass_stepper"),
    "views.quiz": ("Quiz", "QuizFeedback"),
    "views.polls": ("Poll", "POLLS", "QUESTIONS", "poll", "question"),
    "views.style": ("DPI", "MAX_WIDTH", "MIN_FONT", "CourseFigure", "new_figure", "png"),
    "views.progress": ("progress_bar",),
    "experiments.vector_form": ("layer_pairs", "jacobian_backward", "delta_backward", "shape_rows", "time_loops_and_matrices",
                         "SPEEDUP_FILE", "stored_speedup"),
    "views.shapes": ("shape_table", "index_table", "notation_table", "speedup_figure", "PRODUCTS",
                     "product_shapes", "product_figure", "product_explorer"),
    "experiments.subgradients": ("SubgradientVerdict", "subgradient_verdict", "line_gap", "KinkCensus", "kink_census"),
    "symbolic.subgradients": ("SUBGRADIENT_RULES", "verify_subgradient", "verify_subgradients"),
    "views.subgradient": ("draw_kinks", "subgradient_view", "subgradient_slopes", "subgradient_explorer",
                          "central_difference_figure"),
    "symbolic.softmax": ("general_softmax_jacobian", "softmax_jacobian_derivation", "softmax_divergence_collapse"),
    "views.softmax": ("activation_diagrams", "jacobian_heatmap", "softmax_view", "softmax_explorer"),
    "experiments.dashboard": ("DASHBOARD_ACTIVATIONS", "DASHBOARD_INITS", "DashboardSettings", "PRESETS", "DashboardState",
                       "dashboard_network", "dashboard_state", "diagnose", "DIAGNOSES"),
    "views.dashboard": ("dashboard_svg", "dashboard_view", "dashboard_text", "dashboard_figure", "dashboard_grid_figure",
                        "activation_histograms", "vanishing_dashboard", "DASHBOARD_ETAS",
                        "DASHBOARD_SCALES", "DASHBOARD_CLIPS"),
    "experiments.lab": ("LAB", "LAB_SWEEPS", "LAB_FILE", "LAB_CHALLENGE", "LabChallenge", "lab_network", "lab_run",
                 "lab_challenge", "lab_sweeps", "stored_lab_sweeps"),
    "views.training": ("descent_figure", "confusion_matrix", "confusion_figure", "misclassified_figure",
                       "sweep_figure", "dead_units_figure"),
}

#: modules reachable as attributes: ``bp.symbolic.verify(...)``, ``bp.examples.TWO_RELU``
MODULES = {"core": "core", "symbolic": "symbolic", "views": "views", "grading": "grading", "examples": "core.examples"}

_WHERE = {name: module for module, names in EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    elif name in MODULES:
        value = importlib.import_module(f"{__name__}.{MODULES[name]}")
    else:
        raise AttributeError(f"module 'backprop' has no attribute {name!r}")
    globals()[name] = value  # looked up once
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(MODULES))
