"""backprop: the numpy library behind the course "backpropagation, from the lecture to working code".

    import backprop as bp

Modules, one per concept (lecture notation throughout):

* :mod:`backprop.descent`     -- loss surfaces, gradient descent and the learning rate, saddle points
* :mod:`backprop.influence`   -- influence diagrams and the chain rule as a sum over paths
* :mod:`backprop.explore`     -- first-order errors, path sums checked three ways, the path-sum explorer
* :mod:`backprop.graph`       -- the scalar computational graph: values, gates, backward
* :mod:`backprop.activations` -- identity, sigmoid, tanh, ReLU, leaky ReLU, softmax
* :mod:`backprop.divergences` -- squared error, cross-entropies, KL, fused softmax/sigmoid forms
* :mod:`backprop.scalar_net`  -- the network in scalar notation, loops over neurons
* :mod:`backprop.netdraw`     -- the scalar network drawn, tabulated and stepped through, neuron by neuron
* :mod:`backprop.symbolic_net` -- the scalar network in SymPy symbols: every backward rule derived
* :mod:`backprop.layers`, :mod:`backprop.network` -- the vectorised network for a mini-batch
* :mod:`backprop.gradcheck`   -- central differences, relative error, explained reports
* :mod:`backprop.data`        -- the 8x8 digits shipped with the library, real MNIST from IDX files
* :mod:`backprop.initialisation` -- scaled normal, Xavier and He initialisation; activations per layer
* :mod:`backprop.training`    -- the lecture's training loop, SGD, clipping, the history to plot
* :mod:`backprop.progress`    -- progress of long runs (a widget in JupyterLab, text in a terminal)
* :mod:`backprop.bench`       -- ``python -m backprop.bench``: speed and accuracy against the alternatives
* :mod:`backprop.symbolic`    -- every derivative rule checked against SymPy
* :mod:`backprop.quiz`        -- self-check quizzes (the lecture's polls) with immediate feedback
"""

from .activations import (
    ACTIVATIONS, Activation, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, get_activation,
)
from .divergences import (
    DIVERGENCES, BinaryCrossEntropy, CrossEntropy, Divergence, HalfSquaredError, KLDivergence,
    SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy, SquaredError, get_divergence, log_sum_exp, one_hot,
)
from .descent import (
    SURFACES, CriticalPoint, DescentPath, Surface, classify_critical_point, compare_learning_rates,
    elongated_bowl, explorer_figure, extended_input, extended_weights, get_surface, gradient_descent,
    learning_rate_explorer, learning_rate_regime, plot_curves, plot_descent_1d, plot_descent_2d,
    plot_loss_curves, quadratic_1d, quadratic_step_factor, saddle, saddle_between_minima, steps_to_converge,
    two_minima_1d,
)
from .drawing import draw_dag
from .explore import (
    PathSumCheck, check_path_sum, first_order_errors, loglog_slope, numerical_total_derivative, path_sum_explorer,
    path_sum_table_html, path_sum_view, plot_first_order_errors,
)
from .graph import GATES, GateRecord, Value, draw_graph, maximum, sigmoid_neuron_example, trace, trace_table
from .influence import InfluenceDiagram, PathContribution, influence_diagram
from .gradcheck import (
    EntryCheck, GradientReport, check_derivative, check_gradients, numerical_gradient, relative_error,
)
from .layers import (
    ActivationLayer, Affine, Layer, Multiplicative, Residual, activation_backward, activation_forward,
    affine_backward, affine_forward, multiplicative_backward, multiplicative_forward,
)
from .network import Network, mlp
from .data import (
    Dataset, Scaling, digits_dataset, load_digits, load_idx_pair, mnist_dataset, read_idx, stratified_split,
    two_or_not_two,
)
from .initialisation import INITIALISATIONS, init_std, initialise, layer_outputs
from .progress import Progress
from .training import (
    History, TrainingDiverged, clip_by_global_norm, dead_relu_fraction, descent_variant, evaluate, global_norm,
    gradient_norms, lecture_gradients, lecture_step, predict_labels, sgd_update, train,
)
from .quiz import Quiz, QuizFeedback
from .scalar_net import ScalarNetwork
from .netdraw import (
    PassStep, backward_table, draw_forward_backward, draw_network, forward_table, pass_step_figure, pass_steps,
    pass_stepper, weight_gradient_table,
)
from .symbolic_net import SymbolicNetwork

__version__ = "0.1.0"
