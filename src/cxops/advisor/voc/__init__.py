"""Voice of the customer: buyer comments and return reasons grouped into themes, in seven languages.

* :mod:`cxops.advisor.voc.keywords` — the themes and the keyword table (the one declaration of both);
* :mod:`cxops.advisor.voc.text` — language detection, normalisation, Chinese and Japanese segmentation;
* :mod:`cxops.advisor.voc.themes` — the matcher (:func:`~cxops.advisor.voc.themes.classify`);
* :mod:`cxops.advisor.voc.trends` — theme counts per window, monthly trends per SKU, rising SKUs.

No I/O: the service layer (:mod:`cxops.service.voice`) reads the warehouse and calls these.
"""
