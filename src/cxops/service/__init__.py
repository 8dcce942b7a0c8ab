"""Use cases the command line (and later the web service) call: typed results, domain errors.

Public API::

    from cxops.service.evaluation import run_evaluation, explain_seller  # -> cxops.runs.result.Evaluation
    from cxops.service.outputs import write_evaluation, emit_criteria, newest_transitions
"""
