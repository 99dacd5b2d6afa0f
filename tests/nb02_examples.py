"""The two networks of notebook 02, shared by its test files."""

import numpy as np

import backprop as bp

#: the tiny network's instance: x = y(0) and the target d
TINY_X, TINY_D = np.array([1.0, -0.5]), np.array([1.0])


def tiny_network():
    """The two-input network: widths (2, 2, 2, 1), sigmoid, tanh, identity, L2 divergence."""
    return bp.ScalarNetwork(
        weights=[[[0.5, -1.0], [1.5, 0.25]], [[1.0, -0.5], [-2.0, 0.75]], [[1.5], [-1.0]]],
        biases=[[0.1, -0.2], [0.0, 0.3], [0.2]],
        activations=["sigmoid", "tanh", "identity"], divergence="half_squared_error")


def two_relu_example(w2=(1.0, 2.0), ran=False):
    """The lecture's x = 1, d = 3, w(1) = (2, -1), w(2) = (1, 2) example; ``ran``: forward and backward done."""
    net = bp.ScalarNetwork(weights=[[[2.0, -1.0]], [[w2[0]], [w2[1]]]], biases=[[0.0, 0.0], [0.0]],
                           activations=["relu", "identity"], divergence="squared_error")
    if ran:
        net.forward([1.0])
        net.backward(np.array([3.0]))
    return net

