"""Calendars and deadline arithmetic: working days, holidays, carrier holidays, seller overrides, ship-by.

* :mod:`cxops.deadlines.calendars` — per marketplace (and per seller with overrides) which local days
  are open, as arrays; a vectorised business-day offset.
* :mod:`cxops.deadlines.shipby` — the ship-by deadline derived from the order time, the cut-off, the
  handling time and the seller's calendar.

Pure computation (numpy / pandas): no I/O. The warehouse tables they read are declared in
:mod:`cxops.canonical.schema` (``deadline_rules``, ``calendar_days``, ``seller_calendar_days``,
``handling_times``, ``ship_by_corrections``).
"""
