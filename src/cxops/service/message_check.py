"""The message check use case: a draft buyer message in, findings with explanations out.

The CLI (``cxops check-message``), the API (``POST /api/v1/check-message``) and the seller's page call
:func:`check_message`. It reads a string and returns findings; it never sends, stores or logs the
message.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from cxops.advisor.message_check import Finding, compiled
from cxops.advisor.message_check import check_message as _check
from cxops.errors import InputError
from cxops.report.i18n import get_translator, normalize_lang

#: The longest message checked (characters); marketplaces cap buyer messages well below this.
MAX_CHARS = 20_000


@dataclass(frozen=True)
class ExplainedFinding:
    """A :class:`~cxops.advisor.message_check.Finding` with its texts in the asked language.

    Attributes
    ----------
    rule, start, end, text, kind, language, severity
        As in :class:`~cxops.advisor.message_check.Finding` (``start``/``end``: code-point offsets in
        the message, end exclusive).
    title : str
        The rule's name (``msgcheck.rule.<rule>``).
    explanation : str
        Why it is not allowed and what to do (``msgcheck.why.<rule>``).
    found : str
        What was found (``msgcheck.kind.<kind>``: wording, an e-mail address, a card number …).
    """

    rule: str
    start: int
    end: int
    text: str
    kind: str
    language: str | None
    severity: str
    title: str
    explanation: str
    found: str


@dataclass(frozen=True)
class MessageCheck:
    """The result of checking one message.

    Attributes
    ----------
    message : str
        The message as checked.
    lang : str
        The language of the explanations (a catalog language: en, zh, de, fr, ja).
    findings : tuple of ExplainedFinding
        In order of position; empty when the message is clean.
    """

    message: str
    lang: str
    findings: tuple[ExplainedFinding, ...]

    @property
    def clean(self) -> bool:
        return not self.findings

    def to_json(self) -> dict:
        return {
            "clean": self.clean,
            "lang": self.lang,
            "length": len(self.message),
            "findings": [asdict(f) for f in self.findings],
        }


def explain(finding: Finding, lang: str) -> ExplainedFinding:
    """A finding with its title, explanation and what was found, in ``lang``."""
    tr = get_translator(lang)
    return ExplainedFinding(
        **asdict(finding),
        title=tr(f"msgcheck.rule.{finding.rule}"),
        explanation=tr(f"msgcheck.why.{finding.rule}"),
        found=tr(f"msgcheck.kind.{finding.kind}"),
    )


def check_message(
    message: str,
    *,
    lang: str = "en",
    languages: list[str] | None = None,
    source: str = "the message",
) -> MessageCheck:
    """Check a draft buyer message against the marketplace communication rules.

    Parameters
    ----------
    message : str
        The draft.
    lang : str, default "en"
        Language of the explanations (en, zh, de, fr, ja or a tag such as ``zh-CN``).
    languages : list of str, optional
        Message languages whose wording rules apply (default: all: en, zh, de, fr, ja, es, pt).
    source : str
        What to call the input in an error (a file name, ``standard input``).

    Returns
    -------
    MessageCheck

    Raises
    ------
    InputError
        The message is empty or only white space, longer than :data:`MAX_CHARS`, or a language is
        not supported.
    """
    try:
        lang = normalize_lang(lang)
    except ValueError as e:
        raise InputError(str(e)) from None
    if not message or not message.strip():
        raise InputError(f"{source} is empty: there is no message to check", hint="give the draft text")
    if len(message) > MAX_CHARS:
        raise InputError(
            f"{source} has {len(message):,} characters; the check takes at most {MAX_CHARS:,}",
            hint="check one message at a time",
        )
    known = compiled().table.languages
    if languages:
        bad = sorted(set(languages) - set(known))
        if bad:
            raise InputError(f"unsupported message language {', '.join(bad)}; supported: {', '.join(known)}")
    found = _check(message, languages=languages or None)
    return MessageCheck(message, lang, tuple(explain(f, lang) for f in found))
