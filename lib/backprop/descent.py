"""Gradient descent on small loss surfaces, and the learning rate (notebook 00).

Training minimises the loss, Loss(W) = (1/T) sum_t Div(Y_t, d_t), by gradient
descent: starting from W(0), repeat

    W(t+1) = W(t) - eta * grad Loss(W(t))

where the gradient is the transpose of the row-vector derivative dLoss/dW.
This module holds the pieces notebook 00 needs to *see* that update at work:

* :class:`Surface` -- a named loss surface over a parameter vector ``w`` of
  shape ``(dim,)``, with its value, gradient and Hessian rules side by side.
  The rules are polynomials written with plain arithmetic, so the *same code*
  runs on SymPy symbols and :meth:`Surface.verify` proves it equals
  ``sympy.diff``.  Constructors: :func:`quadratic_1d`, :func:`two_minima_1d`,
  :func:`elongated_bowl`, :func:`saddle`, :func:`saddle_between_minima`;
  :func:`get_surface` builds one by name.
* :func:`gradient_descent` -- the update above, returning a :class:`DescentPath`
  of shape ``(steps + 1, dim)`` that stops cleanly (status ``"diverged"``, no
  overflow warning) when the iterate runs away.
* the 1-D quadratic facts: on f(w) = (c/2)(w - m)^2 one step multiplies the
  error w - m by :func:`quadratic_step_factor` ``1 - eta c``, so eta = 1/c lands
  on the minimum in one step and eta > 2/c diverges (:func:`learning_rate_regime`).
* critical points: :func:`classify_critical_point` reads the Hessian's
  eigenvalues (exactly, with SymPy) to tell a minimum from a saddle point.
* the bias as a weight on a constant input 1: :func:`extended_input`,
  :func:`extended_weights`.
* figures (``matplotlib.figure.Figure``, no pyplot): :func:`plot_descent_1d`,
  :func:`plot_descent_2d`, :func:`plot_loss_curves`, :func:`compare_learning_rates`,
  :func:`plot_curves`; and the interactive :func:`learning_rate_explorer`, whose
  callback is the pure function :func:`explorer_figure`.

ipywidgets and SymPy are imported inside the functions that need them, so
``import backprop`` imports neither on this module's account.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from ._checks import as_array, check_choice, check_positive_int, check_real, describe

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
    "CriticalPoint",
    "classify_critical_point",
    "extended_input",
    "extended_weights",
    "plot_curves",
    "plot_descent_1d",
    "plot_descent_2d",
    "plot_loss_curves",
    "compare_learning_rates",
    "explorer_figure",
    "learning_rate_explorer",
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
    ``(point, kind)``.
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

    # -- symbolic --------------------------------------------------------------------------
    def symbols(self):
        """The SymPy symbols of the parameters: ``(w,)`` in 1-D, ``(w_1, w_2)`` in 2-D."""
        import sympy as sp

        if self.dim == 1:
            return (sp.Symbol("w", real=True),)
        return tuple(sp.Symbol(f"w_{i + 1}", real=True) for i in range(self.dim))

    def expression(self):
        """Loss as a SymPy expression in :meth:`symbols` (the value rule run on symbols)."""
        import sympy as sp

        return sp.expand(sp.sympify(self.value_rule(*self.symbols())))

    def verify(self) -> list:
        """The gradient and Hessian rules against ``sympy.diff`` of the value rule.

        Returns two :class:`backprop.symbolic.RuleCheck` (gradient, Hessian); each
        ``.ok`` is True when library minus SymPy simplifies to 0 in every entry.
        """
        import sympy as sp

        from .symbolic import RuleCheck

        ws = self.symbols()
        expr = self.expression()
        checks = []
        for what, library, reference in [
            ("gradient", list(self.gradient_rule(*ws)), [sp.diff(expr, v) for v in ws]),
            ("hessian", sp.Matrix(self.hessian_rule(*ws)), sp.hessian(expr, ws)),
        ]:
            library = sp.Matrix(library)
            reference = sp.Matrix(reference)
            difference = (library - reference).applyfunc(sp.simplify)
            statement = "dLoss/dw_i" if what == "gradient" else "d^2 Loss / dw_i dw_j"
            checks.append(RuleCheck(f"{self.name}_{what}", f"{statement} of {self.formula}",
                                    library, reference, difference, difference.is_zero_matrix))
        return checks

    def solve_critical_points(self) -> list[tuple]:
        """Every real point where the gradient vanishes, solved exactly by SymPy, sorted."""
        import sympy as sp

        ws = self.symbols()
        sols = sp.solve([sp.diff(self.expression(), v) for v in ws], ws, dict=True)
        points = {tuple(sp.nsimplify(s.get(v, v)) for v in ws) for s in sols}
        return sorted((p for p in points if all(c.is_real for c in p)), key=lambda p: tuple(float(c) for c in p))

    def __repr__(self) -> str:
        return f"Surface({self.name!r}, {self.formula!r})"


def _check_window(window, dim) -> tuple:
    arr = as_array(window, "window", ndim=2, meaning=f"of shape ({dim}, 2), one (low, high) per parameter")
    if arr.shape != (dim, 2) or np.any(arr[:, 0] >= arr[:, 1]):
        raise ValueError(f"argument 'window' expected {dim} pairs (low, high) with low < high, got {arr.tolist()}")
    return tuple((float(lo), float(hi)) for lo, hi in arr)


def _positive(value, name: str, why: str) -> float:
    value = check_real(value, name)
    if value <= 0:
        raise ValueError(f"argument '{name}' expected a positive number ({why}), got {value:g}")
    return value


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
    c = _positive(curvature, "curvature", "the second derivative f'' of a bowl")
    m = check_real(minimum, "minimum")
    return Surface(
        name="quadratic_1d", formula=f"{_coefficient(c / 2)}{_shifted('w', m)}^2", dim=1,
        value_rule=lambda w: c / 2 * (w - m) ** 2,
        gradient_rule=lambda w: (c * (w - m),),
        hessian_rule=lambda w: ((c + 0 * w,),),
        window=((m - 3.5, m + 3.5),), start=(m - 2.5,), minimum_value=0.0, curvatures=(c,),
        critical_points=(((m,), "local minimum"),),
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
        critical_points=(((-1.0,), "local minimum"), ((0.0,), "local maximum"), ((2.0,), "local minimum")),
    )


def elongated_bowl(curvatures: Sequence[float] = (1.0, 10.0)) -> Surface:
    """f(w) = (a w_1^2 + b w_2^2) / 2: a bowl whose curvature is a along w_1 and b along w_2.

    Each direction has its own step factor 1 - eta a and 1 - eta b, so the
    steepest direction (largest curvature) sets the limit eta < 2 / max(a, b).
    """
    if isinstance(curvatures, (str, bytes)) or not isinstance(curvatures, Sequence) or len(curvatures) != 2:
        raise TypeError(f"argument 'curvatures' expected a pair (a, b) of positive numbers, got {describe(curvatures)}")
    a, b = (_positive(v, f"curvatures[{i}]", "a bowl curves up in every direction") for i, v in enumerate(curvatures))
    return Surface(
        name="elongated_bowl", formula=f"({_coefficient(a)}w_1^2 + {_coefficient(b)}w_2^2)/2", dim=2,
        value_rule=lambda w1, w2: (a * w1**2 + b * w2**2) / 2,
        gradient_rule=lambda w1, w2: (a * w1, b * w2),
        hessian_rule=lambda w1, w2: ((a + 0 * w1, 0 * w1), (0 * w1, b + 0 * w1)),
        window=((-6.0, 6.0), (-3.0, 3.0)), start=(-5.0, 2.0), minimum_value=0.0, curvatures=(a, b),
        critical_points=(((0.0, 0.0), "local minimum"),),
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
        critical_points=(((0.0, -1.0), "local minimum"), ((0.0, 0.0), "saddle point"),
                         ((0.0, 1.0), "local minimum")),
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
    eta = check_real(eta, "eta")
    if eta <= 0:
        raise ValueError(f"argument 'eta' expected a positive learning rate (the step size), got {eta:g}")
    return eta


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
    blowup = _positive(blowup, "blowup", "the size at which an iterate counts as diverged")

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


# -- critical points -----------------------------------------------------------------------
@dataclass(frozen=True)
class CriticalPoint:
    """A point where the gradient vanishes, its exact Hessian and eigenvalues, and its kind."""

    point: tuple
    hessian: object  # sympy.Matrix
    eigenvalues: tuple
    kind: str

    def __str__(self) -> str:
        where = ", ".join(str(c) for c in self.point)
        eigs = ", ".join(str(e) for e in self.eigenvalues)
        return f"w = ({where}): Hessian eigenvalues {eigs} -> {self.kind}"


def classify_critical_point(surface, point) -> CriticalPoint:
    """Classify a critical point by the signs of the Hessian's eigenvalues (exact, with SymPy).

    All positive: ``"local minimum"``; all negative: ``"local maximum"``; both
    signs: ``"saddle point"``; any zero: ``"degenerate"`` (the second
    derivatives cannot decide, e.g. the monkey saddle).  ``point`` must have
    gradient exactly 0; numbers are converted to exact rationals.
    """
    import sympy as sp

    surface = get_surface(surface)
    values = surface.point(point, "point")
    exact = tuple(sp.nsimplify(float(v), rational=True) for v in values)
    ws = surface.symbols()
    at = dict(zip(ws, exact))
    gradient = [sp.simplify(sp.diff(surface.expression(), v).subs(at)) for v in ws]
    if any(g != 0 for g in gradient):
        raise ValueError(f"argument 'point' expected a critical point of '{surface.name}' (gradient 0), "
                         f"got {list(exact)} where the gradient is {gradient}")
    hessian = sp.hessian(surface.expression(), ws).subs(at)
    eigenvalues = tuple(sorted((e for e, k in hessian.eigenvals().items() for _ in range(k)), key=float))
    if any(e == 0 for e in eigenvalues):
        kind = "degenerate"
    elif all(e > 0 for e in eigenvalues):
        kind = "local minimum"
    elif all(e < 0 for e in eigenvalues):
        kind = "local maximum"
    else:
        kind = "saddle point"
    return CriticalPoint(exact, hessian, eigenvalues, kind)


# -- the bias as a weight on a constant input 1 -------------------------------------------
def extended_input(Y) -> np.ndarray:
    """Append a constant 1 to each instance: ``(width,) -> (width + 1,)``, ``(B, width) -> (B, width + 1)``.

    With :func:`extended_weights`, z = W y + b becomes z = W~ y~ (the lecture's
    extended notation, where the bias is one more weight).
    """
    Y = as_array(Y, "Y", ndim=(1, 2), meaning="(width,) or (B, width)")
    return np.concatenate([Y, np.ones(Y.shape[:-1] + (1,))], axis=-1)


def extended_weights(W, b) -> np.ndarray:
    """``[W | b]``: W of shape ``(width_k, width_(k-1))`` and b ``(width_k,)`` -> ``(width_k, width_(k-1) + 1)``.

    The last column holds the bias: the weight on the constant input 1.
    """
    W = as_array(W, "W", ndim=2, meaning="(width_k, width_(k-1))")
    b = as_array(b, "b", ndim=1, meaning="(width_k,)")
    if b.shape[0] != W.shape[0]:
        raise ValueError(f"argument 'b' expected shape ({W.shape[0]},), one bias per row of W, got {b.shape}")
    return np.concatenate([W, b[:, None]], axis=1)


# -- figures ------------------------------------------------------------------------------------
_FLOOR = 1e-16  # log-scale loss curves: a gap of exactly 0 (reached in one step) is drawn here
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
_MARKERS = {"local minimum": ("*", 13), "local maximum": ("^", 8), "saddle point": ("X", 9)}


def _colour(i: int) -> str:
    return _COLOURS[i % len(_COLOURS)]


def _colours(colours, n) -> list[str]:
    if colours is None:
        return [_colour(i) for i in range(n)]
    if isinstance(colours, (str, bytes)) or not isinstance(colours, Sequence) or len(colours) != n:
        raise ValueError(f"argument 'colours' expected one matplotlib colour per path ({n}), got {describe(colours)}")
    return list(colours)


def _marker_size(i: int, n: int) -> float:
    """Earlier paths get bigger markers, so a path that retraces another stays visible beneath it."""
    return 3.5 + 2.5 * (n - 1 - i)


def _new_axes(ax, figsize):
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.add_subplot()
    return ax.get_figure(root=True), ax


def _check_paths(paths, dim=None) -> list[DescentPath]:
    if isinstance(paths, DescentPath):
        paths = [paths]
    if isinstance(paths, (str, bytes)) or not isinstance(paths, Sequence) or not paths:
        raise TypeError(f"argument 'paths' expected a DescentPath or a non-empty list of them, got {describe(paths)}")
    for i, p in enumerate(paths):
        if not isinstance(p, DescentPath):
            raise TypeError(f"argument 'paths' expected DescentPath entries, got {describe(p)} at index {i}")
        if dim is not None and p.points.shape[1] != dim:
            raise ValueError(f"argument 'paths' expected paths in {dim}-D (the surface's dimension), "
                             f"got one in {p.points.shape[1]}-D at index {i}")
    return list(paths)


def _labels(labels, paths) -> list[str]:
    if labels is None:
        return [f"eta = {p.eta:g}" for p in paths]
    if isinstance(labels, (str, bytes)) or not isinstance(labels, Sequence) or len(labels) != len(paths):
        raise ValueError(f"argument 'labels' expected one label per path ({len(paths)}), got {describe(labels)}")
    return [str(s) for s in labels]


def _check_dim(surface, dim, what):
    if surface.dim != dim:
        raise ValueError(f"argument 'surface' expected a {dim}-D surface for {what}, got '{surface.name}' in "
                         f"{surface.dim}-D")


def plot_curves(x, curves: Mapping, *, xlabel: str = "", ylabel: str = "", title: str | None = None,
                logy: bool = False, vlines: Mapping | None = None, ax=None) -> Figure:
    """Line plot of several curves over one x: ``curves`` maps a label to y values shaped like ``x``.

    ``vlines`` maps a label to an x position drawn as a dotted vertical line
    (e.g. eta = 1/c).  ``logy`` uses a logarithmic y axis.  Returns the Figure.
    """
    x = as_array(x, "x", ndim=1, meaning="(n,)")
    if not isinstance(curves, Mapping) or not curves:
        raise TypeError(f"argument 'curves' expected a non-empty mapping label -> y values, got {describe(curves)}")
    fig, ax = _new_axes(ax, (6.4, 3.6))
    for i, (label, y) in enumerate(curves.items()):
        y = as_array(y, f"curves[{label!r}]", ndim=1, meaning=f"shaped like x ({x.size},)", finite=False)
        if y.shape != x.shape:
            raise ValueError(f"argument 'curves[{label!r}]' expected shape {x.shape} (like x), got {y.shape}")
        ax.plot(x, y, color=_colour(i), lw=1.8, label=str(label))
    for j, (label, at) in enumerate((vlines or {}).items()):
        ax.axvline(check_real(at, f"vlines[{label!r}]"), color="0.35", ls=(0, (1 + j, 2)), lw=1.2, label=str(label))
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def _mark_critical_points(ax, surface, with_labels=True):
    for point, kind in surface.critical_points:
        marker, size = _MARKERS.get(kind, ("o", 7))
        xy = (point[0], surface.f(point)) if surface.dim == 1 else point
        ax.plot(*xy, ls="none", marker=marker, ms=size, color="black", mfc="white" if kind != "local minimum"
                else "gold", zorder=5, label=kind if with_labels else None)


def _dedupe_legend(ax, **kwargs):
    handles, labels = ax.get_legend_handles_labels()
    seen = {}
    for h, lab in zip(handles, labels):
        seen.setdefault(lab, h)
    ax.legend(list(seen.values()), list(seen), **kwargs)


def plot_descent_1d(surface, paths, labels: Sequence[str] | None = None, *, ax=None, title: str | None = None,
                    colours: Sequence[str] | None = None) -> Figure:
    """A 1-D loss curve with descent paths drawn on it: each iterate (w(t), f(w(t))) joined in order.

    The start is an open circle.  The axes show the surface's window; iterates
    that ran off it are clipped.  ``labels`` and ``colours``: one per path.
    """
    surface = get_surface(surface)
    _check_dim(surface, 1, "plot_descent_1d")
    paths = _check_paths(paths, 1)
    labels, colours = _labels(labels, paths), _colours(colours, len(paths))
    fig, ax = _new_axes(ax, (6.0, 3.8))
    (w,), f = surface.grid(401)
    ax.plot(w, f, color="0.25", lw=2, zorder=1)
    for i, (p, lab, c) in enumerate(zip(paths, labels, colours)):
        ys = surface.values(p.points)
        ax.plot(p.points[:, 0], ys, "-o", color=c, ms=_marker_size(i, len(paths)), lw=1, alpha=0.85, label=lab,
                zorder=3)
        ax.plot(p.points[0, 0], ys[0], "o", color=c, ms=8, mfc="white", mew=2, zorder=4)
    _mark_critical_points(ax, surface, with_labels=False)
    span = f.max() - f.min()
    ax.set_xlim(*surface.window[0])
    ax.set_ylim(f.min() - 0.08 * span, f.max() + 0.08 * span)
    ax.set_xlabel("$w$")
    ax.set_ylabel("Loss$(w)$")
    ax.set_title(title if title is not None else f"${surface.formula}$")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper center")
    return fig


def plot_descent_2d(surface, paths, labels: Sequence[str] | None = None, *, ax=None, title: str | None = None,
                    colours: Sequence[str] | None = None, levels: int = 18) -> Figure:
    """Contours of a 2-D loss with descent paths on top (start: open circle) and its critical points.

    Contour levels are spaced more densely near the lowest value, where the
    paths end.  The axes show the surface's window, with equal scales.
    ``labels`` and ``colours``: one per path.
    """
    surface = get_surface(surface)
    _check_dim(surface, 2, "plot_descent_2d")
    paths = _check_paths(paths, 2)
    labels, colours = _labels(labels, paths), _colours(colours, len(paths))
    levels = check_positive_int(levels, "levels")
    fig, ax = _new_axes(ax, (6.0, 4.2))
    (W1, W2), F = surface.grid(201)
    lo, hi = F.min(), F.max()
    ticks = lo + (hi - lo) * np.linspace(0, 1, levels + 2)[1:-1] ** 2
    # filled bands only, from mid blue (low) to near white (high): contour lines would triple the PNG's size
    shades = colormaps["Blues"](np.linspace(0.6, 0.03, levels + 1))
    ax.contourf(W1, W2, F, levels=np.concatenate([[lo], ticks, [hi]]), colors=shades)
    for i, (p, lab, c) in enumerate(zip(paths, labels, colours)):
        ax.plot(p.points[:, 0], p.points[:, 1], "-o", color=c, ms=_marker_size(i, len(paths)), lw=1.2, label=lab,
                zorder=3)
        ax.plot(*p.points[0], "o", color=c, ms=8, mfc="white", mew=2, zorder=4)
    _mark_critical_points(ax, surface)
    ax.set_xlim(*surface.window[0])
    ax.set_ylim(*surface.window[1])
    ax.set_aspect("equal")
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.set_title(title if title is not None else f"${surface.formula}$")
    _dedupe_legend(ax, fontsize=8, loc="upper left", framealpha=0.9)
    return fig


def plot_loss_curves(surface, paths, labels: Sequence[str] | None = None, *, ax=None,
                     title: str | None = None, colours: Sequence[str] | None = None) -> Figure:
    """Loss against the step t for each path.

    If the surface has a known minimum value f*, the gap f(w(t)) - f* is drawn on
    a log scale (a gap of exactly 0 at 1e-16, the bottom of the scale then);
    otherwise f(w(t)) itself.  The y
    axis spans the values the loss takes over the surface's window, so a
    diverging path leaves the plot through the top (or bottom).
    """
    surface = get_surface(surface)
    paths = _check_paths(paths, surface.dim)
    labels, colours = _labels(labels, paths), _colours(colours, len(paths))
    fig, ax = _new_axes(ax, (6.0, 3.6))
    _, F = surface.grid(101)
    fstar = surface.minimum_value
    lowest = np.inf
    for p, lab, c in zip(paths, labels, colours):
        v = surface.values(p.points)
        v = np.maximum(v - fstar, _FLOOR) if fstar is not None else v
        lowest = min(lowest, v.min())
        ax.plot(np.arange(v.size), v, "-o", color=c, ms=2.5, lw=1.3, label=lab)
    if fstar is not None:
        ax.set_yscale("log")
        top = 3 * (F.max() - fstar)
        ax.set_ylim(max(_FLOOR / 3, min(lowest, top) / 10), top)
        ax.set_ylabel("Loss$(w(t))$ (its minimum is 0)" if fstar == 0 else f"Loss$(w(t))$ - min Loss (min = {fstar:.4g})")
    else:
        span = F.max() - F.min()
        ax.set_ylim(F.min() - 0.05 * span, F.max() + 0.05 * span)
        ax.set_ylabel("Loss$(w(t))$")
    ax.set_xlabel("step $t$")
    ax.set_xlim(left=0)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def _describe_run(surface: Surface, path: DescentPath) -> str:
    """Two lines: the learning rate with its regime (per direction for quadratics), and how the run ended."""
    first = f"eta = {path.eta:.3g}"
    if surface.curvatures is not None:
        regimes = [learning_rate_regime(path.eta, c) for c in surface.curvatures]
        if surface.dim == 1:
            factor = quadratic_step_factor(path.eta, surface.curvatures[0])
            first += f": {regimes[0]} (1 - eta f'' = {factor:.3g})"
        else:
            first += ": " + ", ".join(f"$w_{i + 1}$ {r}" for i, r in enumerate(regimes))
    if path.diverged:
        second = f"diverged: left |w| < 1e6 after {path.steps_taken} steps"
    else:
        end = ", ".join(f"{v:.3g}" for v in path.final)
        second = f"after {path.steps_taken} steps: w = ({end})"
    return f"{first}\n{second}"


def compare_learning_rates(surface, etas: Sequence[float], steps: int, w0=None) -> Figure:
    """One panel per learning rate (the path on the surface) and a last panel of loss curves.

    Every run starts at ``w0`` (default: the surface's start) and takes ``steps``
    updates; each panel's title says the regime and how the run ended.
    """
    surface = get_surface(surface)
    if isinstance(etas, (str, bytes)) or not isinstance(etas, Sequence) or not etas:
        raise TypeError(f"argument 'etas' expected a non-empty list of learning rates, got {describe(etas)}")
    w0 = surface.start if w0 is None else w0
    paths = [gradient_descent(surface, w0, eta, steps) for eta in etas]
    n = len(paths) + 1
    cols = min(n, 3)
    rows = -(-n // cols)
    fig = Figure(figsize=(4.6 * cols, 3.7 * rows), dpi=72, layout="constrained")  # ~1000 px wide
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    plot = plot_descent_1d if surface.dim == 1 else plot_descent_2d
    for i, (ax, p) in enumerate(zip(axes, paths)):
        plot(surface, [p], ax=ax, title=_describe_run(surface, p), colours=[_colour(i)])
    plot_loss_curves(surface, paths, ax=axes[len(paths)], title="loss against the step")
    for ax in axes[n:]:
        ax.set_axis_off()
    fig.suptitle(f"Gradient descent on ${surface.formula}$ from w(0) = "
                 f"({', '.join(f'{v:g}' for v in surface.point(w0, 'w0'))}), {steps} steps")
    return fig


def explorer_figure(surface="quadratic_1d", eta: float = 0.1, steps: int = 20) -> Figure:
    """What the learning-rate explorer shows for one setting of its controls (a pure function).

    Runs ``steps`` updates with learning rate ``eta`` from the surface's start and
    returns a Figure: the path on the surface, and its loss against the step.
    """
    return compare_learning_rates(surface, [eta], steps)


def learning_rate_explorer(surfaces: Sequence[str] | None = None, eta: float = 0.1, steps: int = 20,
                           eta_range: tuple[float, float] = (1e-3, 3.0), max_steps: int = 150):
    """An ipywidgets ``VBox``: a surface menu, a learning-rate slider (log scale), a step slider, the figure.

    Every change of a control redraws :func:`explorer_figure` (the pure callback)
    into an ``Image`` widget as PNG.  Children: ``(controls HBox, Image)``; the
    controls are ``(Dropdown surface, FloatLogSlider eta, IntSlider steps)``.
    """
    import ipywidgets as widgets

    names = list(SURFACES) if surfaces is None else [check_choice(s, "surfaces", SURFACES) for s in surfaces]
    if not names:
        raise ValueError("argument 'surfaces' expected at least one surface name, got an empty list")
    lo, hi = (_positive(v, "eta_range", "learning rates are positive") for v in eta_range)
    if lo >= hi:
        raise ValueError(f"argument 'eta_range' expected (low, high) with low < high, got {eta_range}")
    eta = _check_eta(eta)
    max_steps = check_positive_int(max_steps, "max_steps")
    steps = check_positive_int(steps, "steps")
    surface = widgets.Dropdown(options=names, value=names[0], description="surface")
    eta_slider = widgets.FloatLogSlider(value=min(max(eta, lo), hi), base=10, min=np.log10(lo), max=np.log10(hi),
                                        step=0.01, description="eta", readout_format=".3g", continuous_update=False)
    steps_slider = widgets.IntSlider(value=min(steps, max_steps), min=1, max=max_steps, description="steps",
                                     continuous_update=False)
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))

    def redraw(_=None):
        fig = explorer_figure(surface.value, eta_slider.value, steps_slider.value)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        image.value = buffer.getvalue()

    for control in (surface, eta_slider, steps_slider):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([surface, eta_slider, steps_slider]), image])
