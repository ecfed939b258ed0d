"""Step kinds: function steps (``@step``), condition steps and fail steps, with their policies."""

from __future__ import annotations

import hashlib
import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, overload

from truckflow.events import Severity
from truckflow.pipeline.conditions import Condition
from truckflow.pipeline.errors import DefinitionError
from truckflow.pipeline.refs import StepRef, encode_value

__all__ = [
    "CachePolicy",
    "ConditionStep",
    "FailStep",
    "FunctionStep",
    "RetryPolicy",
    "Step",
    "StepFunction",
    "load_function",
    "step",
]

_CONTEXT_NAMES = ("context", "ctx")


@dataclass(frozen=True)
class RetryPolicy:
    """Retry a failing step: up to ``max_attempts`` tries in all, waiting ``interval_s`` before
    the second and ``backoff_rate`` times longer before each next one; only for ``exceptions``."""

    max_attempts: int = 1
    interval_s: float = 1.0
    backoff_rate: float = 2.0
    exceptions: tuple[type[BaseException], ...] = (Exception,)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise DefinitionError(f"RetryPolicy.max_attempts must be >= 1, got {self.max_attempts}")
        if self.interval_s < 0 or self.backoff_rate < 1:
            raise DefinitionError("RetryPolicy needs interval_s >= 0 and backoff_rate >= 1")

    def delay_before(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt`` (2, 3, ...)."""
        return float(self.interval_s * self.backoff_rate ** (attempt - 2))

    def retries(self, error: BaseException) -> bool:
        return isinstance(error, self.exceptions)

    def to_json(self) -> dict[str, Any]:
        return {
            "max_attempts": self.max_attempts,
            "interval_s": self.interval_s,
            "backoff_rate": self.backoff_rate,
            "exceptions": sorted(f"{e.__module__}.{e.__qualname__}" for e in self.exceptions),
        }


@dataclass(frozen=True)
class CachePolicy:
    """Reuse a step's outputs when its code, inputs and artifacts are unchanged, for
    ``expire_after`` at most (``None``: never expires)."""

    enabled: bool = True
    expire_after: timedelta | None = None

    def to_json(self) -> dict[str, Any]:
        expiry = None if self.expire_after is None else self.expire_after.total_seconds()
        return {"enabled": self.enabled, "expire_after_s": expiry}


def _as_cache(value: CachePolicy | bool | None) -> CachePolicy | None:
    if value is None or isinstance(value, CachePolicy):
        return value
    return CachePolicy(enabled=bool(value))


def load_function(path: str) -> Callable[..., Any]:
    """The callable at ``module:qualname`` (a ``@step`` yields its plain function)."""
    module_name, _, qualname = path.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target.fn if isinstance(target, StepFunction) else target  # type: ignore[no-any-return]


def _code_hash(fn: Callable[..., Any]) -> str:
    try:
        code = inspect.getsource(fn)
    except (OSError, TypeError):  # no source (e.g. built in the REPL): fall back to bytecode
        raw = getattr(fn, "__code__", None)
        code = repr((raw.co_code, raw.co_consts)) if raw is not None else repr(fn)
    return hashlib.sha256(code.encode()).hexdigest()


class StepFunction:
    """A plain function marked as a step, with its default options. Calling it calls the
    function; ``.as_step(...)`` puts it in a pipeline with its inputs."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        retry: RetryPolicy | None = None,
        cache: CachePolicy | bool | None = None,
        timeout_s: float | None = None,
    ) -> None:
        self.fn = fn
        self.retry = retry
        self.cache = _as_cache(cache)
        self.timeout_s = timeout_s
        self.__name__ = fn.__name__
        self.__qualname__ = fn.__qualname__
        self.__module__ = fn.__module__
        self.__doc__ = fn.__doc__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        return (load_function, (function_path(self.fn),))

    def as_step(
        self,
        name: str | None = None,
        *,
        inputs: Mapping[str, Any] | None = None,
        depends_on: Iterable[str | Step] = (),
        retry: RetryPolicy | None = None,
        cache: CachePolicy | bool | None = None,
        timeout_s: float | None = None,
        **more_inputs: Any,
    ) -> FunctionStep:
        return FunctionStep(
            name or self.fn.__name__,
            self.fn,
            inputs={**(inputs or {}), **more_inputs},
            depends_on=depends_on,
            retry=retry or self.retry,
            cache=cache if cache is not None else self.cache,
            timeout_s=timeout_s if timeout_s is not None else self.timeout_s,
        )


@overload
def step(fn: Callable[..., Any], /) -> StepFunction: ...


@overload
def step(
    *,
    retry: RetryPolicy | None = None,
    cache: CachePolicy | bool | None = None,
    timeout_s: float | None = None,
) -> Callable[[Callable[..., Any]], StepFunction]: ...


def step(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    retry: RetryPolicy | None = None,
    cache: CachePolicy | bool | None = None,
    timeout_s: float | None = None,
) -> StepFunction | Callable[[Callable[..., Any]], StepFunction]:
    """Mark a module-level function as a pipeline step: ``@step`` or ``@step(retry=..., ...)``."""

    def wrap(func: Callable[..., Any]) -> StepFunction:
        return StepFunction(func, retry=retry, cache=cache, timeout_s=timeout_s)

    return wrap(fn) if fn is not None else wrap


def function_path(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}:{fn.__qualname__}"


def _dependency_names(depends_on: Iterable[str | Step]) -> tuple[str, ...]:
    return tuple(d if isinstance(d, str) else d.name for d in depends_on)


@dataclass(eq=False)
class Step:
    """What every step has: a name and explicit dependencies (beyond its references)."""

    name: str
    depends_on: tuple[str, ...] = field(default=(), kw_only=True)

    kind = "step"

    def __post_init__(self) -> None:
        if not self.name or not all(c.isalnum() or c in "_-" for c in self.name):
            raise DefinitionError(f"step name {self.name!r}: use letters, digits, '_' and '-'")

    @property
    def output(self) -> StepRef:
        return StepRef(self.name)

    def __getitem__(self, key: str | int) -> StepRef:
        return StepRef(self.name)[key]

    def references(self) -> list[Any]:
        """Values that may hold references (walked for dependencies)."""
        return []

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "depends_on": sorted(self.depends_on)}


class FunctionStep(Step):
    """Runs ``fn(**resolved inputs)``; the function returns a dict of JSON-able outputs."""

    kind = "function"

    def __init__(
        self,
        name: str,
        fn: Callable[..., Any],
        *,
        inputs: Mapping[str, Any] | None = None,
        depends_on: Iterable[str | Step] = (),
        retry: RetryPolicy | None = None,
        cache: CachePolicy | bool | None = None,
        timeout_s: float | None = None,
    ) -> None:
        super().__init__(name, depends_on=_dependency_names(depends_on))
        self.fn = fn.fn if isinstance(fn, StepFunction) else fn
        self.inputs = dict(inputs or {})
        self.retry = retry or RetryPolicy()
        self.cache = _as_cache(cache)
        self.timeout_s = timeout_s
        if "<locals>" in self.fn.__qualname__ or self.fn.__name__ == "<lambda>":
            raise DefinitionError(
                f"step {name!r}: {self.fn.__qualname__} must be a module-level function "
                "(runners import it by name)"
            )
        self.path = function_path(self.fn)
        self.code_hash = _code_hash(self.fn)
        self.context_arg = _context_argument(self.fn)
        self._check_signature()

    def _check_signature(self) -> None:
        sig = inspect.signature(self.fn)
        params = sig.parameters
        takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
        for key in self.inputs:
            if key not in params and not takes_any:
                raise DefinitionError(f"step {self.name!r}: {self.path} takes no argument {key!r}")
        for pname, p in params.items():
            if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) or pname == self.context_arg:
                continue
            if p.default is p.empty and pname not in self.inputs:
                raise DefinitionError(f"step {self.name!r}: no input given for argument {pname!r}")
        encode_value(self.inputs)

    def references(self) -> list[Any]:
        return [self.inputs]

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "function": self.path,
            "inputs": encode_value(self.inputs),
            "retry": self.retry.to_json(),
            "cache": None if self.cache is None else self.cache.to_json(),
            "timeout_s": self.timeout_s,
        }


def _context_argument(fn: Callable[..., Any]) -> str | None:
    for pname, p in inspect.signature(fn).parameters.items():
        annotation = (
            p.annotation if isinstance(p.annotation, str) else getattr(p.annotation, "__name__", "")
        )
        if pname in _CONTEXT_NAMES or str(annotation).endswith("StepContext"):
            return pname
    return None


class ConditionStep(Step):
    """Evaluates ``condition``; the steps of the branch not taken (and what needs them) are
    skipped. Its output is ``{"outcome": true|false}``."""

    kind = "condition"

    def __init__(
        self,
        name: str,
        condition: Condition,
        *,
        if_steps: Sequence[Step] = (),
        else_steps: Sequence[Step] = (),
        depends_on: Iterable[str | Step] = (),
    ) -> None:
        super().__init__(name, depends_on=_dependency_names(depends_on))
        if not isinstance(condition, Condition):
            raise DefinitionError(f"condition step {name!r}: {condition!r} is not a Condition")
        self.condition = condition
        self.if_steps = list(if_steps)
        self.else_steps = list(else_steps)

    def references(self) -> list[Any]:
        return [self.condition]

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "condition": self.condition.to_json(),
            "if_steps": [s.name for s in self.if_steps],
            "else_steps": [s.name for s in self.else_steps],
        }


class FailStep(Step):
    """Ends the execution as failed with ``message`` (``str.format`` fields filled from
    ``values``, which may be references): ``FailStep("low", "f1 {f1} too low", f1=ref("e")["f1"])``.

    ``severity`` is that of its events: ``warning`` for a check that refuses as it should
    (a gate), so that the refusal is not logged and announced as an error."""

    kind = "fail"

    def __init__(
        self,
        name: str,
        message: str,
        *,
        depends_on: Iterable[str | Step] = (),
        severity: str = "error",
        **values: Any,
    ) -> None:
        super().__init__(name, depends_on=_dependency_names(depends_on))
        self.message = message
        self.values = values
        self.severity = Severity(severity)
        encode_value(values)

    def references(self) -> list[Any]:
        return [self.values]

    def render(self, resolved: Mapping[str, Any]) -> str:
        try:
            return self.message.format(**resolved)
        except (KeyError, IndexError, ValueError) as exc:
            return f"{self.message} (could not fill in {exc})"

    def to_json(self) -> dict[str, Any]:
        out = {**super().to_json(), "message": self.message, "values": encode_value(self.values)}
        if self.severity != Severity.ERROR:  # the default stays out: recorded hashes hold
            out["severity"] = str(self.severity)
        return out
