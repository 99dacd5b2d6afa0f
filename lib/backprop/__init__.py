"""backprop: the numpy library behind the course "backpropagation, from the lecture to working code".

    import backprop as bp

Modules, one per concept (lecture notation throughout):

* :mod:`backprop.influence`   -- influence diagrams and the chain rule as a sum over paths
* :mod:`backprop.graph`       -- the scalar computational graph: values, gates, backward
* :mod:`backprop.activations` -- identity, sigmoid, tanh, ReLU, leaky ReLU, softmax
* :mod:`backprop.divergences` -- squared error, cross-entropies, KL, fused softmax/sigmoid forms
* :mod:`backprop.scalar_net`  -- the network in scalar notation, loops over neurons
* :mod:`backprop.layers`, :mod:`backprop.network` -- the vectorised network for a mini-batch
* :mod:`backprop.gradcheck`   -- central differences, relative error, explained reports
* :mod:`backprop.symbolic`    -- every derivative rule checked against SymPy
"""

from .activations import (
    ACTIVATIONS, Activation, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, get_activation,
)
from .divergences import (
    DIVERGENCES, BinaryCrossEntropy, CrossEntropy, Divergence, HalfSquaredError, KLDivergence,
    SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy, SquaredError, get_divergence, log_sum_exp, one_hot,
)
from .drawing import draw_dag
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
from .scalar_net import ScalarNetwork

__version__ = "0.1.0"
