"""Render a message context into a subject, a plain-text part and an HTML part (Jinja2).

Each kind has one template, ``templates/<kind>.j2``, rendered twice: once with a plain-text writer and
once with an HTML writer (``out.p``, ``out.h``, ``out.ul``, ``out.link`` …), so the two parts always
say the same thing. Every sentence is a catalog key (``tr.t``, ``tr.n``, :mod:`cxops.notify.translate`);
values reach the HTML escaped (autoescape), the seller's and operator's free text included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from cxops.notify.messages import MANDATORY, Seller, kind_of
from cxops.notify.translate import MailTranslator, message_language


@dataclass(frozen=True)
class Links:
    """Links a message may carry: the seller's page and, for alerts, the one-click unsubscribe URL."""

    page: str | None = None
    unsubscribe: str | None = None


@dataclass(frozen=True)
class Rendered:
    """A rendered message: ``subject``, ``text`` (text/plain), ``html`` (text/html), in ``language``."""

    kind: str
    language: str
    subject: str
    text: str
    html: str


class _Text:
    """Plain-text writer: paragraphs separated by a blank line, lists with ``-``."""

    html = False

    def p(self, *parts: Any) -> str:
        return " ".join(str(p) for p in parts if p) + "\n\n"

    def h(self, text: Any) -> str:
        return f"{text}\n{'-' * min(len(str(text)), 60)}\n"

    def ul(self, items, fn=str) -> str:
        return "".join(f"- {fn(i)}\n" for i in items) + "\n"

    def lines(self, *parts: Any) -> str:
        return "\n".join(str(p) for p in parts) + "\n\n"

    def link(self, url: str, label: Any) -> str:
        return f"{label}: {url}\n\n"

    def quote(self, text: Any) -> str:
        return "".join(f"> {line}\n" for line in str(text).splitlines()) + "\n"

    def small(self, *parts: Any) -> str:
        return self.p(*parts)

    def rule(self) -> str:
        return "-- \n"


class _Html:
    """HTML writer: escaped text in simple, mail-client-safe markup (inline styles)."""

    html = True

    def p(self, *parts: Any) -> Markup:
        return Markup("<p>{}</p>\n").format(Markup(" ").join(escape(p) for p in parts if p))

    def h(self, text: Any) -> Markup:
        return Markup('<h2 style="font-size:16px;margin:20px 0 8px">{}</h2>\n').format(text)

    def ul(self, items, fn=str) -> Markup:
        return Markup("<ul>\n{}</ul>\n").format(
            Markup("").join(Markup("<li>{}</li>\n").format(fn(i)) for i in items)
        )

    def lines(self, *parts: Any) -> Markup:
        return Markup("<p>{}</p>\n").format(Markup("<br>\n").join(escape(p) for p in parts))

    def link(self, url: str, label: Any) -> Markup:
        return Markup('<p><a href="{}">{}</a></p>\n').format(url, label)

    def quote(self, text: Any) -> Markup:
        return Markup(
            '<blockquote style="border-left:3px solid #ccc;margin:8px 0;padding-left:12px">{}</blockquote>\n'
        ).format(Markup("<br>").join(escape(line) for line in str(text).splitlines()))

    def small(self, *parts: Any) -> Markup:
        return Markup('<p style="color:#666;font-size:12px">{}</p>\n').format(
            Markup(" ").join(escape(p) for p in parts if p)
        )

    def rule(self) -> Markup:
        return Markup('<hr style="border:none;border-top:1px solid #ddd;margin:24px 0">\n')


@cache
def _env(html: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("cxops.notify", "templates"),
        autoescape=html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() if line != "-- " else line for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def render(
    context: Seller, lang: str | None, *, links: Links | None = None, translator: MailTranslator | None = None
) -> Rendered:
    """Render ``context`` in ``lang`` (an unsupported language falls back to English).

    Parameters
    ----------
    context : Seller
        A message context of :mod:`cxops.notify.messages`.
    lang : str or None
        The recipient's language.
    links : Links, optional
        URLs to put in the message (none by default).
    translator : MailTranslator, optional
        To inspect missing keys afterwards (tests); a new one by default.

    Returns
    -------
    Rendered
    """
    kind = kind_of(context)
    tr = translator or MailTranslator(message_language(lang))
    links = links or Links()
    values = {
        "c": context,
        "tr": tr,
        "kind": kind,
        "lang": tr.lang,
        "links": links,
        "mandatory": kind in MANDATORY,
        "seller": context.seller_name or context.seller_id,
        "program": tr.vocab("program", context.program) if context.program else tr.t("program_default"),
        "market": context.marketplace_id,
    }
    name = f"{kind}.j2"
    text_template = _env(False).get_template(name)
    text = text_template.render(out=_Text(), **values)
    subject = "".join(text_template.blocks["subject"](text_template.new_context({"out": _Text(), **values})))
    html = _env(True).get_template(name).render(out=_Html(), **values)
    return Rendered(kind, tr.lang, " ".join(subject.split()), _tidy_text(text), html)
