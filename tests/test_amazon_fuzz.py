"""Fuzz every Amazon reader with random and mutated report files (hypothesis; bounded).

The only outcomes allowed: a successful import whose accounting holds, a no-data report, or an
``IngestError`` (a ``ValueError``) naming the file with nothing written — see
:mod:`cxops.ingest.amazon.fuzz`. A coverage-guided atheris harness runs the same check outside CI:
``python -m cxops.ingest.amazon.fuzz``.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxops.ingest.amazon.fuzz import CHARSETS, MARKETPLACES, SEEDS, TOKENS, check, mutate

EDIT = st.tuples(st.integers(0, 5), st.integers(0, 4096), st.integers(0, 255), st.binary(max_size=8))
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


@st.composite
def report_files(draw):
    name = draw(st.sampled_from(sorted(SEEDS)))
    suffix, rtype, seed = SEEDS[name]
    if draw(st.integers(0, 9)) == 0:
        data = draw(st.binary(max_size=300) | st.lists(st.sampled_from(TOKENS), max_size=20).map(b"".join))
    else:
        data = mutate(seed, draw(st.lists(EDIT, max_size=5)))
    return (
        data,
        suffix,
        draw(st.sampled_from(MARKETPLACES)),
        draw(st.sampled_from([None, rtype])),
        draw(st.sampled_from(CHARSETS)),
    )


def test_seeds_import_cleanly():
    for name, (suffix, rtype, seed) in SEEDS.items():
        assert check(seed, suffix, "US", rtype, None, write=True) == (
            "no_data" if name == "cancelled" else "ok"
        )


@settings(FUZZ, max_examples=300)
@given(report_files())
def test_fuzz_readers(case):
    data, suffix, mp, rtype, charset = case
    assert check(data, suffix, mp, rtype, charset) in ("ok", "no_data", "error")


@settings(FUZZ, max_examples=30)
@given(report_files())
def test_fuzz_full_imports(case):
    data, suffix, mp, rtype, charset = case
    assert check(data, suffix, mp, rtype, charset, write=True) in ("ok", "no_data", "error")
