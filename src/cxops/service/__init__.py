"""Use cases: typed results for the CLI and the web (the only API they call).

Evaluation::

    from cxops.service.evaluation import run_evaluation, explain_seller  # -> cxops.runs.result.Evaluation
    from cxops.service.outputs import write_evaluation, emit_criteria, newest_transitions
"""
