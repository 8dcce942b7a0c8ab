"""The labelled message corpus (``tests/data/messages/corpus.jsonl``) and its scores.

Two sets, both written for cxops (original text): ``corpus.jsonl``, the development corpus the rule
table was written alongside (its scores are in-sample), and ``heldout.jsonl``, written after the rules
were frozen and never used to change them (its scores say how the check does on wording it has not
seen).

Each line: ``id``, ``lang``, ``text``, ``rules`` (the rule ids a careful reader of the marketplace rules
expects; empty for a compliant message) and an optional ``note``. Written for cxops (original text).

Scores are per message: a rule is *predicted* for a message when the check reports at least one finding
of it. Precision = TP / (TP + FP) and recall = TP / (TP + FN), per rule and per language (micro-averaged
over rules), and the share of compliant messages with no finding at all.

``python tests/_message_corpus.py`` prints the tables (the README shows them).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from cxops.advisor.message_check import check_message, rule_ids

CORPUS = Path(__file__).parent / "data" / "messages" / "corpus.jsonl"
HELDOUT = Path(__file__).parent / "data" / "messages" / "heldout.jsonl"


def load(path: Path = CORPUS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


def evaluate(messages: list[dict] | None = None):
    """``(by_rule, by_lang, clean, errors)``: scores per rule and per language, ``(clean, compliant)``
    counts per language, and the messages whose predicted rules differ from the labels."""
    messages = load() if messages is None else messages
    by_rule = {r: Score() for r in rule_ids()}
    by_lang: dict[str, Score] = {}
    clean: dict[str, list[int]] = {}
    errors = []
    for m in messages:
        predicted = {f.rule for f in check_message(m["text"])}
        expected = set(m["rules"])
        lang = by_lang.setdefault(m["lang"], Score())
        if not expected:
            c = clean.setdefault(m["lang"], [0, 0])
            c[0] += not predicted
            c[1] += 1
        for r in rule_ids():
            s = by_rule[r]
            hit, want = r in predicted, r in expected
            if hit and want:
                s.tp += 1
                lang.tp += 1
            elif hit:
                s.fp += 1
                lang.fp += 1
            elif want:
                s.fn += 1
                lang.fn += 1
        if predicted != expected:
            errors.append((m["id"], sorted(expected), sorted(predicted), m["text"]))
    return by_rule, by_lang, clean, errors


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


def total(by_rule: dict[str, Score]) -> Score:
    """Scores summed over the rules (micro average)."""
    return Score(*(sum(getattr(s, k) for s in by_rule.values()) for k in ("tp", "fp", "fn")))


def table(path: Path = CORPUS) -> str:
    messages = load(path)
    by_rule, by_lang, clean, errors = evaluate(messages)
    counts = Counter(m["lang"] for m in messages)
    lines = ["| rule | messages | precision | recall |", "|---|---:|---:|---:|"]
    for r, s in by_rule.items():
        lines.append(f"| `{r}` | {s.tp + s.fn} | {_pct(s.precision)} | {_pct(s.recall)} |")
    lines += [
        "",
        "| language | messages | compliant (no finding) | precision | recall |",
        "|---|---:|---:|---:|---:|",
    ]
    for lang, s in by_lang.items():
        c = clean.get(lang, [0, 0])
        lines.append(f"| {lang} | {counts[lang]} | {c[0]}/{c[1]} | {_pct(s.precision)} | {_pct(s.recall)} |")
    t = total(by_rule)
    ok, compliant = sum(c[0] for c in clean.values()), sum(c[1] for c in clean.values())
    lines.append(f"| all | {len(messages)} | {ok}/{compliant} | {_pct(t.precision)} | {_pct(t.recall)} |")
    if errors:
        lines += ["", "Messages the check gets wrong:"]
        lines += [f"- {i}: expected {e}, found {p}: {t}" for i, e, p, t in errors]
    return "\n".join(lines)


if __name__ == "__main__":
    print("Development corpus (tests/data/messages/corpus.jsonl; in-sample)\n")
    print(table(CORPUS))
    print("\nHeld-out set (tests/data/messages/heldout.jsonl; written after the rules were frozen)\n")
    print(table(HELDOUT))
