"""Use cases the command line (and later the web service) call: typed results, domain errors.

Public API::

    from cxops.service.evaluation import Evaluation, run_evaluation, explain_seller
"""
