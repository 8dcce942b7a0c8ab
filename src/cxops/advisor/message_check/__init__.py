"""The message check: a draft buyer message against marketplace buyer-seller communication rules.

Rules (``rules.toml``, the one declaration): ``review_change`` (asking to change or remove a review),
``review_incentive`` (offering something for a review or a change), ``review_positive`` (asking for a
positive review only, or not to leave a negative one), ``off_platform_contact`` (e-mail, phone,
messenger ids, "contact us directly"), ``external_link`` (links outside the marketplace's domains),
``marketing`` (promotion) and ``personal_data`` (card numbers, IBANs, addresses, asking for the buyer's
personal data). Languages: English, Chinese, German, French, Japanese, Spanish, Portuguese. The check
never sends anything.
"""

from __future__ import annotations

from cxops.advisor.message_check.check import DETECTOR_RULES, Finding, check_message
from cxops.advisor.message_check.table import compiled, load_table, rule_ids

__all__ = ["DETECTOR_RULES", "Finding", "check_message", "compiled", "load_table", "rule_ids"]
