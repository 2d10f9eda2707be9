"""The support package's overrides of RQ: few, and pinned when private.

Each override of an RQ method is listed here. A private one (RQ may change
it in any release) is pinned by the SHA-256 of the installed RQ's source
of the method it overrides: an RQ upgrade that changes it fails its pin,
naming the method to check again.
"""
import hashlib
import importlib
import inspect

import pytest

from helpers import ROOT

MODULES = ["events", "kue", "options", "recovery", "scheduling", "signals",
           "worker", "workers"]
# (RQ's class, method): the SHA-256 of its source the override was written
# against, in rq 3.0.0.
PINS = {
    ("BaseWorker", "_install_signal_handlers"): "f30e3c58661a235a",
    ("BaseWorker", "_shutdown"): "828be105b616d1d6",
}
MAX_OVERRIDES = 20
MAX_PRIVATE = 3


def rq_method(base: type, name: str):
    """Return the function behind BASE's attribute NAME."""
    attribute = base.__dict__[name]
    return getattr(attribute, "__func__", attribute)


def overrides() -> list[tuple[str, str, type]]:
    """Return each (our class, method, RQ's class) where we override RQ."""
    found = []
    for module_name in MODULES:
        module = importlib.import_module(f"queuing.{module_name}")
        for cls in vars(module).values():
            if not inspect.isclass(cls) or cls.__module__ != module.__name__:
                continue
            rq_bases = [base for base in cls.__mro__[1:]
                        if base.__module__.split(".")[0] == "rq"]
            for name, value in cls.__dict__.items():
                function = getattr(value, "__func__", value)
                if not inspect.isfunction(function) or (
                        name.startswith("__") and name != "__init__"):
                    continue
                for base in rq_bases:
                    if name in base.__dict__:
                        found.append((cls.__name__, name, base))
                        break
    return found


def private_overrides() -> list[tuple[str, str, type]]:
    """Return the overrides of RQ's private methods (see overrides)."""
    return [(cls, name, base) for cls, name, base in overrides()
            if name.startswith("_") and name != "__init__"]


def source_digest(base: type, name: str) -> str:
    """Return the first 16 hex digits of the SHA-256 of BASE.NAME's source."""
    source = inspect.getsource(rq_method(base, name))
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def test_the_package_overrides_at_most_20_rq_methods_3_of_them_private():
    found = overrides()
    private = private_overrides()
    assert len(found) <= MAX_OVERRIDES, found
    assert len(private) <= MAX_PRIVATE, private


def test_every_private_override_is_pinned():
    pinned = {(base.__name__, name) for _, name, base in private_overrides()}
    assert pinned == set(PINS)


@pytest.mark.parametrize("base_name, name", sorted(PINS))
def test_rq_s_source_of_each_privately_overridden_method_is_unchanged(
        base_name, name):
    [base] = {base for _, method, base in overrides()
              if (base.__name__, method) == (base_name, name)}
    assert source_digest(base, name) == PINS[base_name, name], (
        f"RQ's {base.__module__}.{base_name}.{name} changed: check the "
        f"override of it in queuing, then update its pin")


def test_a_pin_fails_when_rq_s_method_changes(monkeypatch):
    [base] = {base for _, method, base in overrides()
              if (base.__name__, method) == ("BaseWorker", "_shutdown")}

    def _shutdown(self) -> None:
        """A changed RQ method."""

    monkeypatch.setattr(base, "_shutdown", _shutdown)
    assert source_digest(base, "_shutdown") != PINS["BaseWorker", "_shutdown"]


def test_docs_internals_names_the_overrides_found():
    found = overrides()
    private = sorted(f"`{base.__name__}.{name}`"
                     for _, name, base in private_overrides())
    sentence = (f"The package overrides {len(found)} RQ methods, "
                f"{len(private)} of them private ({' and '.join(private)})")
    text = " ".join((ROOT / "docs" / "internals.md").read_text().split())
    assert sentence in text, f"docs/internals.md should say: {sentence}"
