"""Loading policies: built-in packs (``policy/packs/*.toml``) and user TOML files.

Every problem of a file is reported at once in one :class:`PolicyError`: TOML syntax, pydantic type
errors and the semantic checks of :mod:`cxops.policy.checks`, each with the file, the key path
(``admission.criteria[2].threshold``) and the reason.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cxops.errors import InputError
from cxops.policy.checks import semantic_issues
from cxops.policy.model import Policy

DEFAULT_PACK = "customer-excellence"


@dataclass(frozen=True)
class PolicyIssue:
    """One problem in a policy file.

    Attributes
    ----------
    file : str
        The file (or ``pack:<name>`` for a built-in pack, ``<memory>`` for a dict).
    key : str
        Key path such as ``removal.rules[0].consecutive``; empty for file-level problems.
    reason : str
        What is wrong, in English.
    """

    file: str
    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key or '(file)'}: {self.reason}"


class PolicyError(InputError):
    """A policy could not be loaded; carries every problem found.

    Attributes
    ----------
    issues : list of PolicyIssue
        All problems, in document order (type errors first, then semantic ones).
    """

    def __init__(self, issues: list[PolicyIssue]):
        self.issues = list(issues)
        n = len(self.issues)
        lines = [f"{n} error{'s' if n != 1 else ''} in policy:"] + [f"  {i}" for i in self.issues]
        super().__init__("\n".join(lines))


def _packs_dir():
    return resources.files("cxops.policy").joinpath("packs")


def _pack_names() -> list[str]:
    return sorted(p.name[: -len(".toml")] for p in _packs_dir().iterdir() if p.name.endswith(".toml"))


def _key_path(loc: tuple[Any, ...], doc: Any) -> str:
    """Render a pydantic ``loc`` as ``a.b[2].c``, folding flat removal rules back to their form."""
    parts: list[str] = []
    node = doc
    skip = 0
    for i, item in enumerate(loc):
        if skip:
            skip -= 1
            continue
        if isinstance(item, int):
            parts.append(f"[{item}]")
            node = node[item] if isinstance(node, list) and item < len(node) else None
            continue
        # A flat removal rule is validated as rules[i].criteria[0]; report it as rules[i].<key>.
        if item == "criteria" and isinstance(node, dict) and "criteria" not in node and "metric" in node:
            if i + 1 < len(loc) and loc[i + 1] == 0:
                skip = 1
            continue
        parts.append(("." if parts else "") + str(item))
        node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts)


def _reason(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    msg = error.get("msg", "invalid")
    value = error.get("input")
    if not isinstance(value, dict | list) and kind not in ("missing",):
        return f"{msg} (got {value!r})"
    return msg


def parse_policy(doc: dict[str, Any], file: str = "<memory>") -> Policy:
    """Validate a parsed policy document.

    Parameters
    ----------
    doc : dict
        The document, as returned by ``tomllib.load``.
    file : str
        Name used in error messages.

    Returns
    -------
    Policy

    Raises
    ------
    PolicyError
        With every type and semantic problem found.
    """
    issues: list[PolicyIssue] = []
    policy: Policy | None = None
    try:
        policy = Policy.model_validate(doc)
    except ValidationError as exc:
        for error in exc.errors():
            issues.append(PolicyIssue(file, _key_path(error["loc"], doc), _reason(error)))
    seen = {(i.key, i.reason) for i in issues}
    for key, reason in semantic_issues(doc):
        if (key, reason) not in seen:
            issues.append(PolicyIssue(file, key, reason))
    if issues:
        raise PolicyError(issues)
    assert policy is not None
    return policy


def loads_policy(text: str, file: str = "<memory>") -> Policy:
    """Parse and validate policy TOML text.

    Raises
    ------
    PolicyError
        On a TOML syntax error (one issue, with line and column) or any validation problem.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError([PolicyIssue(file, "", f"TOML syntax error: {exc}")]) from exc
    return parse_policy(doc, file)


def policy_source(name_or_path: str | os.PathLike[str]) -> tuple[str, str]:
    """The file label and TOML text of a built-in pack name or a file path.

    A value naming an existing file, ending in ``.toml`` or containing a path separator is a path;
    anything else is a pack name.

    Raises
    ------
    PolicyError
        If the file does not exist or the pack is unknown.
    """
    raw = os.fspath(name_or_path)
    is_path = (
        isinstance(name_or_path, os.PathLike)
        or raw.endswith(".toml")
        or os.sep in raw
        or "/" in raw
        or Path(raw).is_file()
    )
    if is_path:
        path = Path(raw)
        if not path.is_file():
            raise PolicyError([PolicyIssue(raw, "", "file not found")])
        try:
            return str(path), path.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            reason = f"not a TOML text file (byte {e.start} is not UTF-8 text)"
            raise PolicyError([PolicyIssue(raw, "", reason)]) from None
        except OSError as e:
            raise PolicyError([PolicyIssue(raw, "", f"cannot be read: {e.strerror or e}")]) from None
    pack = _packs_dir().joinpath(f"{raw}.toml")
    if not pack.is_file():
        known = ", ".join(_pack_names())
        raise PolicyError(
            [PolicyIssue(raw, "", f"no such built-in policy pack or file; built-in packs: {known}")]
        )
    return f"pack:{raw}", pack.read_text(encoding="utf-8")


def load_policy(name_or_path: str | os.PathLike[str] = DEFAULT_PACK) -> Policy:
    """Load a built-in policy pack by name or a policy TOML file by path.

    Parameters
    ----------
    name_or_path : str or path-like
        ``"customer-excellence"`` (default), ``"amazon-account-health"``, or a path to a TOML file.

    Returns
    -------
    Policy

    Raises
    ------
    PolicyError
        With every problem found (file, key path, reason).
    """
    file, text = policy_source(name_or_path)
    return loads_policy(text, file)


def list_packs() -> list[tuple[str, str, str]]:
    """Built-in packs as ``(name, version, description)``, sorted by name.

    Raises
    ------
    PolicyError
        If a built-in pack is invalid (a packaging bug).
    """
    out = []
    for name in _pack_names():
        policy = load_policy(name)
        out.append((name, policy.version, policy.description))
    return out
