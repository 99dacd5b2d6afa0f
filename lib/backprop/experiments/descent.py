"""Gradient descent on small loss surfaces, and the learning rate (notebook 00).

Training minimises the loss, Loss(W) = (1/T) sum_t Div(Y_t, d_t), by gradient
descent: starting from W(0), repeat

    W(t+1) = W(t) - eta * grad Loss(W(t))

where the gradient is the transpose of the row-vector derivative dLoss/dW.
This module holds the numbers notebook 00 needs to *see* that update at work:

* :class:`Surface` -- a named loss surface over a parameter vector ``w`` of
  shape ``(dim,)``, with its value, gradient and Hessian rules side by side.
  The rules are polynomials written with plain arithmetic, so the *same code*
  runs on SymPy symbols and :func:`backprop.symbolic.verify_surface` proves it
  equals ``sympy.diff``.  Constructors: :func:`quadratic_1d`,
  :func:`two_minima_1d`, :func:`elongated_bowl`, :func:`saddle`,
  :func:`saddle_between_minima`; :func:`get_surface` builds one by name.
* :func:`gradient_descent` -- the update above, returning a :class:`DescentPath`
  of shape ``(steps + 1, dim)`` that stops cleanly (status ``"diverged"``, no
  overflow warning) when the iterate runs away.
* the 1-D quadratic facts: on f(w) = (c/2)(w - m)^2 one step multiplies the
  error w - m by :func:`quadratic_step_factor` ``1 - eta c``, so eta = 1/c lands
  on the minimum in one step and eta > 2/c diverges (:func:`learning_rate_regime`).

Critical points are classified exactly in :mod:`backprop.symbolic.surfaces`;
the figures and the learning-rate explorer are in :mod:`backprop.views`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ..core.checks import as_array, check_choice, check_positive, check_positive_int, check_real, describe

__all__ = [
    "Surface",
    "quadratic_1d",
    "two_minima_1d",
    "elongated_bowl",
    "saddle",
    "saddle_between_minima",
    "SURFACES",
    "get_surface",
    "DescentPath",
    "gradient_descent",
    "steps_to_converge",
    "quadratic_step_factor",
    "learning_rate_regime",
]


# -- loss surfaces -------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Surface:
    """A loss surface Loss(w) over ``w`` of shape ``(dim,)``, with its derivative rules.

    ``value_rule(*w)`` returns Loss, ``gradient_rule(*w)`` the tuple of partial
    derivatives dLoss/dw_i, ``hessian_rule(*w)`` the nested tuple of second
    derivatives d^2 Loss / dw_i dw_j.  The rules take the components of w as
    separate arguments and use arithmetic only, so they accept floats, numpy
    grids and SymPy symbols alike.

    ``window`` is the default plotting box, one ``(low, high)`` per component;
    ``start`` a default starting point; ``minimum_value`` the lowest value of the
    loss (None if it is unbounded below); ``curvatures`` the Hessian's
    eigenvalues when they are the same everywhere (a quadratic), else None;
    ``critical_points`` the points where the gradient vanishes, each as
    ``(point, kind)``: "global minimum" (no point is lower), "local minimum",
    "local maximum" or "saddle point".
    """

    name: str
    formula: str
    dim: int
    value_rule: Callable
    gradient_rule: Callable
    hessian_rule: Callable
    window: tuple
    start: tuple
    minimum_value: float | None
    curvatures: tuple | None
    critical_points: tuple

    # -- numeric evaluation ------------------------------------------------------------------
    def point(self, w, name: str = "w") -> np.ndarray:
        """``w`` as a float64 array of shape ``(dim,)`` (a number is accepted when dim = 1)."""
        arr = as_array(w, name, ndim=(0, 1), meaning=f"of shape ({self.dim},), one entry per parameter of "
                                                     f"the surface '{self.name}'")
        if arr.ndim == 0 and self.dim == 1:
            arr = arr.reshape(1)
        if arr.shape != (self.dim,):
            raise ValueError(
                f"argument '{name}' expected shape ({self.dim},), one entry per parameter of the surface "
                f"'{self.name}', got shape {arr.shape}"
            )
        return arr

    def f(self, w) -> float:
        """Loss(w) at one point ``w`` of shape ``(dim,)``."""
        return float(self.value_rule(*self.point(w)))

    def grad(self, w) -> np.ndarray:
        """The gradient at ``w``: shape ``(dim,)``, the transpose of the row vector dLoss/dw."""
        return np.array([float(g) for g in self.gradient_rule(*self.point(w))])

    def hessian(self, w) -> np.ndarray:
        """The Hessian at ``w``: shape ``(dim, dim)``, entry ``[i, j]`` = d^2 Loss / dw_i dw_j."""
        return np.array([[float(h) for h in row] for row in self.hessian_rule(*self.point(w))])

    def values(self, points) -> np.ndarray:
        """Loss at many points: ``(..., dim)`` in, ``(...)`` out (e.g. along a descent path)."""
        pts = as_array(points, "points", meaning=f"(..., {self.dim})")
        if pts.ndim == 0 or pts.shape[-1] != self.dim:
            raise ValueError(f"argument 'points' expected shape (..., {self.dim}), got shape {pts.shape}")
        with np.errstate(over="ignore", invalid="ignore"):  # far-away points of a diverged path: inf, not a warning
            return np.asarray(self.value_rule(*np.moveaxis(pts, -1, 0)), dtype=np.float64) * np.ones(pts.shape[:-1])

    def grid(self, n: int = 201, window=None) -> tuple[list[np.ndarray], np.ndarray]:
        """The loss on a regular grid over ``window``: ``(axes, values)``.

        1-D: ``axes = [w]`` of shape ``(n,)``, values ``(n,)``.  2-D: ``axes = [W1, W2]``
        from ``meshgrid`` and values, all of shape ``(n, n)``.
        """
        n = check_positive_int(n, "n")
        window = self.window if window is None else _check_window(window, self.dim)
        axes = [np.linspace(lo, hi, n) for lo, hi in window]
        mesh = np.meshgrid(*axes) if self.dim > 1 else axes
        return list(mesh), self.values(np.stack(mesh, axis=-1))

    def __repr__(self) -> str:
        return f"Surface({self.name!r}, {self.formula!r})"


def _check_window(window, dim) -> tuple:
    arr = as_array(window, "window", ndim=2, meaning=f"of shape ({dim}, 2), one (low, high) per parameter")
    if arr.shape != (dim, 2) or np.any(arr[:, 0] >= arr[:, 1]):
        raise ValueError(f"argument 'window' expected {dim} pairs (low, high) with low < high, got {arr.tolist()}")
    return tuple((float(lo), float(hi)) for lo, hi in arr)


def _coefficient(c: float) -> str:
    """``c`` as a factor in a formula: omitted when 1."""
    return "" if c == 1 else f"{c:g}"


def _shifted(w: str, m: float) -> str:
    """``(w - m)`` in a formula, or just ``w`` when m = 0."""
    if m == 0:
        return w
    return f"({w} - {m:g})" if m > 0 else f"({w} + {-m:g})"


def quadratic_1d(curvature: float = 4.0, minimum: float = 1.0) -> Surface:
    """f(w) = (c/2) (w - m)^2: one parameter, second derivative c everywhere, minimum at m.

    The model case for the learning rate: one step multiplies w - m by 1 - eta c.
    """
    c = check_positive(curvature, "curvature", "a curvature (the second derivative f'' of a bowl)")
    m = check_real(minimum, "minimum")
    return Surface(
        name="quadratic_1d", formula=f"{_coefficient(c / 2)}{_shifted('w', m)}^2", dim=1,
        value_rule=lambda w: c / 2 * (w - m) ** 2,
        gradient_rule=lambda w: (c * (w - m),),
        hessian_rule=lambda w: ((c + 0 * w,),),
        window=((m - 3.5, m + 3.5),), start=(m - 2.5,), minimum_value=0.0, curvatures=(c,),
        critical_points=(((m,), "global minimum"),),
    )


def two_minima_1d() -> Surface:
    """f(w) = w^4/4 - w^3/3 - w^2: a local minimum at w = -1, a maximum at 0, the global minimum at 2.

    f'(w) = w (w + 1) (w - 2); f(-1) = -5/12, f(2) = -8/3.  Descent ends in the
    minimum of the valley it starts in.
    """
    return Surface(
        name="two_minima_1d", formula="w^4/4 - w^3/3 - w^2", dim=1,
        value_rule=lambda w: w**4 / 4 - w**3 / 3 - w**2,
        gradient_rule=lambda w: (w**3 - w**2 - 2 * w,),
        hessian_rule=lambda w: ((3 * w**2 - 2 * w - 2,),),
        window=((-2.2, 3.2),), start=(-2.0,), minimum_value=-8 / 3, curvatures=None,
        critical_points=(((-1.0,), "local minimum"), ((0.0,), "local maximum"), ((2.0,), "global minimum")),
    )


def elongated_bowl(curvatures: Sequence[float] = (1.0, 10.0)) -> Surface:
    """f(w) = (a w_1^2 + b w_2^2) / 2: a bowl whose curvature is a along w_1 and b along w_2.

    Each direction has its own step factor 1 - eta a and 1 - eta b, so the
    steepest direction (largest curvature) sets the limit eta < 2 / max(a, b).
    """
    if isinstance(curvatures, (str, bytes)) or not isinstance(curvatures, Sequence) or len(curvatures) != 2:
        raise TypeError(f"argument 'curvatures' expected a pair (a, b) of positive numbers, got {describe(curvatures)}")
    a, b = (check_positive(v, f"curvatures[{i}]", "a curvature (a bowl curves up in every direction)") for i, v in enumerate(curvatures))
    return Surface(
        name="elongated_bowl", formula=f"({_coefficient(a)}w_1^2 + {_coefficient(b)}w_2^2)/2", dim=2,
        value_rule=lambda w1, w2: (a * w1**2 + b * w2**2) / 2,
        gradient_rule=lambda w1, w2: (a * w1, b * w2),
        hessian_rule=lambda w1, w2: ((a + 0 * w1, 0 * w1), (0 * w1, b + 0 * w1)),
        window=((-6.0, 6.0), (-3.0, 3.0)), start=(-5.0, 2.0), minimum_value=0.0, curvatures=(a, b),
        critical_points=(((0.0, 0.0), "global minimum"),),
    )


def saddle() -> Surface:
    """f(w) = w_1^2 - w_2^2: the textbook saddle point at the origin (no minimum at all).

    Along w_1 it curves up (curvature 2), along w_2 down (-2).  Started on the
    line w_2 = 0, descent walks into the saddle and stops there.
    """
    return Surface(
        name="saddle", formula="w_1^2 - w_2^2", dim=2,
        value_rule=lambda w1, w2: w1**2 - w2**2,
        gradient_rule=lambda w1, w2: (2 * w1, -2 * w2),
        hessian_rule=lambda w1, w2: ((2 + 0 * w1, 0 * w1), (0 * w1, -2 + 0 * w1)),
        window=((-2.5, 2.5), (-2.5, 2.5)), start=(2.0, 1e-3), minimum_value=None, curvatures=(2.0, -2.0),
        critical_points=(((0.0, 0.0), "saddle point"),),
    )


def saddle_between_minima() -> Surface:
    """f(w) = w_1^2 + w_2^4/4 - w_2^2/2: a saddle at (0, 0) between minima at (0, -1) and (0, 1).

    The gradient (2 w_1, w_2^3 - w_2) vanishes at all three points; the Hessian
    diag(2, 3 w_2^2 - 1) is diag(2, -1) at the saddle and diag(2, 2) at the minima,
    where f = -1/4.
    """
    return Surface(
        name="saddle_between_minima", formula="w_1^2 + w_2^4/4 - w_2^2/2", dim=2,
        value_rule=lambda w1, w2: w1**2 + w2**4 / 4 - w2**2 / 2,
        gradient_rule=lambda w1, w2: (2 * w1, w2**3 - w2),
        hessian_rule=lambda w1, w2: ((2 + 0 * w1, 0 * w1), (0 * w1, 3 * w2**2 - 1)),
        window=((-2.5, 2.5), (-1.8, 1.8)), start=(2.0, 1e-3), minimum_value=-0.25, curvatures=None,
        critical_points=(((0.0, -1.0), "global minimum"), ((0.0, 0.0), "saddle point"),
                         ((0.0, 1.0), "global minimum")),
    )


#: the named surfaces, each with its default parameters
SURFACES: dict[str, Callable[[], Surface]] = {
    "quadratic_1d": quadratic_1d,
    "two_minima_1d": two_minima_1d,
    "elongated_bowl": elongated_bowl,
    "saddle": saddle,
    "saddle_between_minima": saddle_between_minima,
}


def get_surface(spec="quadratic_1d") -> Surface:
    """A surface from its name (see ``SURFACES``) or a :class:`Surface`, returned as is."""
    if isinstance(spec, Surface):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"argument 'surface' expected a name in {sorted(SURFACES)} or a Surface, got {describe(spec)}")
    check_choice(spec, "surface", SURFACES)
    return SURFACES[spec]()


# -- gradient descent --------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class DescentPath:
    """The iterates of gradient descent and how the run ended.

    ``points``: ``(steps_taken + 1, dim)``, row t is w(t) (row 0 the start).
    ``status``: ``"completed"`` (all requested steps taken), ``"converged"`` (the
    gradient's norm fell to ``tol``) or ``"diverged"`` (the iterate left the ball
    of radius ``blowup`` or stopped being finite; the rows end at the last finite
    iterate).
    """

    points: np.ndarray
    eta: float
    steps: int
    status: str

    @property
    def steps_taken(self) -> int:
        return self.points.shape[0] - 1

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"

    @property
    def final(self) -> np.ndarray:
        """The last iterate, shape ``(dim,)``."""
        return self.points[-1]

    def __repr__(self) -> str:
        return (f"DescentPath(eta={self.eta:g}, {self.steps_taken} of {self.steps} steps, {self.status}, "
                f"final w = {np.array2string(self.final, precision=6)})")


def _check_eta(eta) -> float:
    return check_positive(eta, "eta", "a learning rate (the step size)")


def gradient_descent(grad, w0, eta, steps, *, tol: float | None = None, blowup: float = 1e6) -> DescentPath:
    """Run w(t+1) = w(t) - eta * grad(w(t)) for ``steps`` steps from ``w0``.

    ``grad``: a :class:`Surface` or a function ``(dim,) -> (dim,)`` returning the
    gradient.  ``w0``: the start, shape ``(dim,)`` (a number when dim = 1).
    ``eta`` > 0: the learning rate.  ``steps`` >= 1: the number of updates.
    ``tol``: if given, stop early once the gradient's norm is at most ``tol``.
    ``blowup``: stop with status ``"diverged"`` as soon as an iterate has an entry
    larger than this in absolute value (or a non-finite one), so a runaway run
    ends cleanly, without overflow warnings.  Returns a :class:`DescentPath`.
    """
    if isinstance(grad, Surface):
        w = grad.point(w0, "w0")
        rule = grad.gradient_rule
        grad = lambda v: np.array(rule(*v), dtype=np.float64)  # noqa: E731 - the iterates need no re-checking
    elif callable(grad):
        w = np.atleast_1d(as_array(w0, "w0", ndim=(0, 1), meaning="(dim,)")).copy()
    else:
        raise TypeError(f"argument 'grad' expected a Surface or a function w -> gradient, got {describe(grad)}")
    eta = _check_eta(eta)
    steps = check_positive_int(steps, "steps")
    if tol is not None:
        tol = check_real(tol, "tol")
    blowup = check_positive(blowup, "blowup", "the size at which an iterate counts as diverged")

    points, status = [w], "completed"
    with np.errstate(over="ignore", invalid="ignore"):  # a runaway iterate is reported by status, not a warning
        for _ in range(steps):
            g = np.asarray(grad(w), dtype=np.float64)
            if g.shape != w.shape:
                raise ValueError(f"argument 'grad' expected a function returning a gradient shaped like w0 "
                                 f"{w.shape}, got shape {g.shape}")
            if tol is not None and math.sqrt(float(g @ g)) <= tol:
                status = "converged"
                break
            w = w - eta * g
            size = float(np.max(np.abs(w)))
            if not math.isfinite(size):
                status = "diverged"
                break
            points.append(w)
            if size > blowup:
                status = "diverged"
                break
    return DescentPath(np.array(points), eta, steps, status)


def steps_to_converge(surface, w0, eta, *, tol: float = 1e-8, max_steps: int = 10_000) -> int | None:
    """How many updates until the gradient's norm is at most ``tol``; None if not within ``max_steps``."""
    surface = get_surface(surface)
    path = gradient_descent(surface, w0, eta, max_steps, tol=tol)
    return path.steps_taken if path.status == "converged" else None


def quadratic_step_factor(eta, curvature) -> float:
    """The factor 1 - eta c by which one step multiplies the error w - m on f = (c/2)(w - m)^2.

    From w(t+1) - m = w(t) - m - eta c (w(t) - m).
    """
    return 1.0 - _check_eta(eta) * check_real(curvature, "curvature")


def learning_rate_regime(eta, curvature) -> str:
    """How descent behaves along a direction of constant curvature c, from r = 1 - eta c.

    ``"monotone"`` (0 < r < 1, eta < 1/c: steady approach, slow when eta << 1/c),
    ``"one step"`` (r = 0, eta = 1/c), ``"oscillating"`` (-1 < r < 0: overshoots,
    flips side each step, still converges), ``"bouncing"`` (r = -1, eta = 2/c:
    jumps between two points forever), ``"diverging"`` (r < -1, eta > 2/c),
    ``"flat"`` (c = 0) and ``"escaping"`` (c < 0: a direction curving down, the
    distance grows by 1 + eta |c| per step).  "=" is judged to a relative 1e-9,
    so eta = 1/c given as a rounded decimal still counts.
    """
    eta = _check_eta(eta)
    c = check_real(curvature, "curvature")
    if c == 0:
        return "flat"
    if c < 0:
        return "escaping"
    x = eta * c  # r = 1 - x
    if np.isclose(x, 1.0, rtol=1e-9, atol=0):
        return "one step"
    if np.isclose(x, 2.0, rtol=1e-9, atol=0):
        return "bouncing"
    return "monotone" if x < 1 else "oscillating" if x < 2 else "diverging"
