"""Detectors of contact details and personal data that patterns of words cannot describe.

E-mail addresses (also written ``name (at) gmail (dot) com``), phone numbers, web addresses outside the
marketplace's own domains, payment card numbers (13–19 digits with a card network's prefix that pass
the Luhn check, ISO/IEC 7812-1 annex B), IBANs (ISO 13616 mod-97 check) and postal addresses (the
patterns of ``rules.toml``). They run on the original text with full-width digits and letters read as
ASCII, so a span is a span of the original.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Detected:
    """A detector's match: ``kind`` (email, phone, url, card, iban, address) and its span."""

    kind: str
    start: int
    end: int


_MAIL_HOSTS = (
    r"(?:gmail|googlemail|yahoo|hotmail|outlook|live|icloud|qq|163|126|gmx|web|orange|free|aol"
    r"|proton(?:mail)?|yandex|naver|sina|foxmail)"
)
EMAIL = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|[\w.+-]+\s*(?:\(at\)|\[at\]|\{at\}|＠)\s*[\w-]+\s*(?:\.|\(dot\)|\[dot\]|\{dot\})\s*[a-z]{2,6}"
    r"|[\w.+-]+\s+at\s+" + _MAIL_HOSTS + r"\s*(?:\.|\(dot\)|\[dot\]|\s+dot\s+)\s*[a-z]{2,6}",
    re.IGNORECASE,
)
_TLDS = (
    "com|net|org|info|biz|shop|store|online|site|xyz|top|club|vip|io|co|me|ly|link|app|page|blog|"
    "de|fr|es|pt|br|jp|cn|uk|it|nl|eu|us|ca|mx|ar|au|in|ru|tv|cc|gl|gd"
)
URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'()\[\]{}，。、「」]+"
    r"|(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:"
    + _TLDS
    + r")(?![\w-])(?:/[^\s<>\"'，。、]*)?",
    re.IGNORECASE,
)
PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d \t().\-/]{5,22}\d(?![\w])")
PHONE_CUE = re.compile(
    r"(?:tel|phone|call|mobile|cell|whatsapp|wechat|line|fax|zap|whats|wpp|电话|手机|致电|微信|電話|携帯|telefon|handy|"
    r"anruf|téléphone|telephone|portable|appel|teléfono|telefono|llam|móvil|movil|telefone|celular|ligue|☎|📞)",
    re.IGNORECASE,
)
ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")  # an Amazon order number
DAY = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$")
US_PHONE = re.compile(r"^\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}$")
JP_PHONE = re.compile(r"^0\d{1,4}-\d{1,4}-\d{3,4}$")
CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
BR_PHONE = re.compile(r"^\(\d{2}\)\s?9?\d{4}-?\d{4}$|^\d{2}\s9?\d{4}-\d{4}$")
CARD = re.compile(
    r"(?<![\d-])(?:\d{4}[ -]){3}\d{1,7}(?![\d-])"  # groups of four (Visa, Mastercard …)
    r"|(?<![\d-])\d{4}[ -]\d{6}[ -]\d{5}(?![\d-])"  # 4-6-5 (American Express)
    r"|(?<![\d-])\d{13,19}(?![\d-])"
)
#: Card networks: (prefix pattern, allowed lengths) — Visa, Mastercard (51–55, 2221–2720), American
#: Express, Discover, JCB, Diners Club, UnionPay (ISO/IEC 7812 issuer identification numbers).
CARD_NETWORKS = (
    (re.compile(r"^4"), (13, 16, 19)),
    (re.compile(r"^(?:5[1-5]|222[1-9]|22[3-9]\d|2[3-6]\d\d|27[01]\d|2720)"), (16,)),
    (re.compile(r"^3[47]"), (15,)),
    (re.compile(r"^(?:6011|65|64[4-9])"), (16, 17, 18, 19)),
    (re.compile(r"^35(?:2[89]|[3-8]\d)"), (16, 17, 18, 19)),
    (re.compile(r"^(?:30[0-5]|36|38)"), (14, 15, 16, 17, 18, 19)),
    (re.compile(r"^62"), (16, 17, 18, 19)),
)
#: Country-code top-level domains that are also common words ("Sim.eu", "Danke.Es" with a missing
#: space): a bare domain with one of them needs a name of four letters or more, not written as a word
#: (``Danke.Es``).
AMBIGUOUS_TLDS = frozenset(
    "eu de me es it us in co ca pt fr br mx ar tv cc gl gd nl uk jp cn au ru ly io".split()
)


def card_number(digits: str) -> bool:
    """Whether ``digits`` has a card network's prefix and length and passes the Luhn check."""
    network = any(p.match(digits) and len(digits) in lengths for p, lengths in CARD_NETWORKS)
    return network and luhn_valid(digits)


IBAN = re.compile(r"(?<![A-Z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Z0-9])")


def ascii_view(text: str) -> str:
    """``text`` with each character NFKC-normalised where that gives one character (full-width digits
    and letters become ASCII), so that offsets stay those of ``text``."""
    out = []
    for ch in text:
        n = unicodedata.normalize("NFKC", ch)
        out.append(n if len(n) == 1 else ch)
    return "".join(out)


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check of a string of digits (ISO/IEC 7812-1)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    """The ISO 13616 check of an IBAN (spaces ignored): 15–34 characters, mod 97 equals 1."""
    s = iban.replace(" ", "").upper()
    if not 15 <= len(s) <= 34 or not s.isalnum():
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    """Whether ``host`` is one of ``allowed`` or a subdomain of one (``sellercentral.amazon.de``)."""
    h = host.lower().rstrip(".")
    return any(h == d or h.endswith("." + d) for d in allowed)


def _host(url: str) -> str:
    s = re.sub(r"^(?:https?://)", "", url, flags=re.IGNORECASE)
    return re.split(r"[/?#:]", s, maxsplit=1)[0]


def _overlaps(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in taken)


def detect(
    text: str, allowed_domains: Iterable[str], address: dict[str, tuple[re.Pattern, ...]]
) -> Iterator[Detected]:
    """Every contact detail and piece of personal data in ``text``.

    Parameters
    ----------
    text : str
        The message as given.
    allowed_domains : iterable of str
        Domains a link may point to (the marketplace's own).
    address : dict of str to tuple of re.Pattern
        Postal-address patterns per language.

    Yields
    ------
    Detected
        In order of kind, then position. A span claimed by an e-mail address is not also a link, a card
        number or IBAN is not also a phone number.
    """
    view = ascii_view(text)
    taken: list[tuple[int, int]] = []
    for m in EMAIL.finditer(view):
        taken.append(m.span())
        yield Detected("email", *m.span())
    allowed = tuple(d.lower() for d in allowed_domains)
    for m in URL.finditer(view):
        url = m.group(0).rstrip(".,;:!?")
        start, end = m.start(), m.start() + len(url)
        if not re.match(r"(?:https?://|www\.)", url, re.IGNORECASE) and "/" not in url:
            name, _, tld = url.rpartition(".")
            if tld.lower() in AMBIGUOUS_TLDS and "." not in name and (len(name) < 4 or name.istitle()):
                continue  # "Sim.eu recebi": a sentence without its space, not a link
        if _overlaps(start, end, taken) or host_allowed(_host(url), allowed):
            continue
        taken.append((start, end))
        yield Detected("url", start, end)
    for m in CARD.finditer(view):
        digits = re.sub(r"\D", "", m.group(0))
        if card_number(digits):
            if not ORDER_ID.match(m.group(0)) and not _overlaps(*m.span(), taken):
                taken.append(m.span())
                yield Detected("card", *m.span())
    for m in IBAN.finditer(view):
        if iban_valid(m.group(0)) and not _overlaps(*m.span(), taken):
            taken.append(m.span())
            yield Detected("iban", *m.span())
    for m in PHONE.finditer(view):
        raw = m.group(0).strip()
        start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
        end = start + len(raw)
        digits = re.sub(r"\D", "", raw)
        if not 7 <= len(digits) <= 15 or _overlaps(start, end, taken):
            continue
        if ORDER_ID.match(raw) or DAY.match(raw):
            continue
        cue = PHONE_CUE.search(view[max(0, start - 30) : start])
        shaped = (
            raw.startswith("+")
            or US_PHONE.match(raw)
            or JP_PHONE.match(raw)
            or BR_PHONE.match(raw)
            or CN_MOBILE.match(digits)
        )
        if not (cue or shaped):
            continue
        if not raw.startswith("+") and len(digits) >= 12 and not cue:
            continue  # a long run of digits without a cue is a tracking or order number
        taken.append((start, end))
        yield Detected("phone", start, end)
    for patterns in address.values():
        for p in patterns:
            for m in p.finditer(view):
                span = (m.start(), len(m.group(0).rstrip(" ,.")) + m.start())
                if not _overlaps(*span, taken):
                    taken.append(span)
                    yield Detected("address", *span)
