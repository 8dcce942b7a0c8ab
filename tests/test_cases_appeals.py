"""Reinstatement appeals on SQLite and PostgreSQL: who may appeal, accepting records the reinstatement
(pending operator action) in the same transaction as the decision, rejecting needs a reason."""

from __future__ import annotations

import pytest
from _cases import P, count, events, seed

from cxops import store as st
from cxops.errors import ConflictError, InputError, NotFoundError
from cxops.service import cases as C
from cxops.service.actions import request_action
from cxops.service.documents import FileStore

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


@pytest.fixture
def shop(store):
    seed(store)  # S2 is removed; S1 enrolled
    return store


def test_removed_seller_appeals_and_an_operator_accepts(shop, tmp_path):
    files = FileStore(str(tmp_path / "docs"))
    a = C.open_appeal(
        shop,
        "S2",
        "US",
        "Root cause: a carrier lost parcels.\nWe moved to UPS with tracking.",
        actor="s2-owner",
        attachments=[("plan.pdf", PDF)],
        files=files,
    )
    assert (a.kind, a.status, a.subject, a.owner) == (
        "appeal",
        "open",
        "Root cause: a carrier lost parcels.",
        None,
    )
    assert a.details == {"state": "removed", "since": None}
    assert a.files[["filename", "content_type", "size"]].values.tolist() == [
        ["plan.pdf", "application/pdf", len(PDF)]
    ]
    assert files.get(a.files["sha256"].item()) == PDF
    v, action = C.accept_appeal(shop, a.id, actor="carla", reason="credible plan, carrier changed")
    assert v.status == "accepted" and v.action_id == action.action_id
    # customer-excellence has no immunity days: the accepted plan enrols the seller
    assert (action.kind, action.state, action.expected_state) == ("accept_plan", "removed", "enrolled")
    with shop.unit_of_work(write=False) as s:
        pending = st.pending_actions(s, program=P, seller_id="S2")
    assert pending[["id", "kind", "actor"]].values.tolist() == [[action.action_id, "accept_plan", "carla"]]
    assert pending["reason"].item() == f"appeal {a.id} accepted: credible plan, carrier changed"
    assert list(v.history["to_status"]) == ["open", "accepted"]
    assert v.entries["kind"].tolist() == ["action_plan", "decision"]
    kinds = events(shop)["kind"].tolist()
    assert "action_requested" in kinds and kinds.count("case.updated") == 2
    with pytest.raises(ConflictError, match="is accepted: it can become closed, not accepted"):
        C.accept_appeal(shop, a.id, actor="carla", reason="again")


def test_reject_needs_a_reason_and_tells_the_seller(shop):
    a = C.open_appeal(shop, "S2", "US", "plan", actor="s2")
    with pytest.raises(InputError, match="reason for rejecting"):
        C.reject_appeal(shop, a.id, actor="carla", reason=" ")
    v = C.reject_appeal(shop, a.id, actor="carla", reason="no root cause given")
    assert v.status == "rejected" and v.action_id is not None
    with shop.unit_of_work(write=False) as s:
        pending = st.pending_actions(s, program=P, seller_id="S2")
    assert pending[["id", "kind"]].values.tolist() == [[v.action_id, "reject_plan"]]  # the lifecycle logs it
    notice = events(shop, ["case.updated"])["details"].tolist()[-1]
    assert notice["event"] == "appeal_rejected" and notice["reason"] == "no root cause given"
    # a new appeal may follow a rejected one
    assert C.open_appeal(shop, "S2", "US", "better plan", actor="s2").status == "open"


def test_who_may_appeal(shop):
    with pytest.raises(ConflictError, match="S1 on US is enrolled: an appeal is for a seller who is"):
        C.open_appeal(shop, "S1", "US", "plan", actor="s1")
    with pytest.raises(NotFoundError, match="unknown seller"):
        C.open_appeal(shop, "NOBODY", "US", "plan", actor="x")
    with pytest.raises(InputError, match="action plan"):
        C.open_appeal(shop, "S2", "US", "   ", actor="s2")
    first = C.open_appeal(shop, "S2", "US", "plan", actor="s2")
    with pytest.raises(ConflictError, match=f"has an open appeal: case {first.id}"):
        C.open_appeal(shop, "S2", "US", "another plan", actor="s2")
    assert count(shop, "cases") == 1


def test_bad_attachment_refuses_the_appeal_and_stores_nothing(shop, tmp_path):
    files = FileStore(str(tmp_path / "docs"))
    with pytest.raises(InputError, match="not a PDF, PNG or JPEG file: its content is a ZIP archive"):
        C.open_appeal(
            shop,
            "S2",
            "US",
            "plan",
            actor="s2",
            files=files,
            attachments=[("plan.pdf", PDF), ("plan.docx", b"PK\x03\x04rest-of-a-docx")],
        )
    assert count(shop, "cases") == 0 and files.stored().empty


def test_accept_is_all_or_nothing(shop):
    a = C.open_appeal(shop, "S2", "US", "plan", actor="s2")
    # someone reinstated the seller by hand meanwhile: the appeal's reinstatement is refused
    request_action(shop, "reinstate", "S2", "US", reason="manual", actor="bo")
    before = (
        count(shop, "actions"),
        count(shop, "case_entries"),
        count(shop, "case_status_changes"),
        len(events(shop)),
    )
    with pytest.raises(ConflictError, match="will be enrolled at the next run"):
        C.accept_appeal(shop, a.id, actor="carla", reason="ok")
    after = (
        count(shop, "actions"),
        count(shop, "case_entries"),
        count(shop, "case_status_changes"),
        len(events(shop)),
    )
    assert after == before
    assert C.get_case(shop, a.id).status == "open"


def test_not_an_appeal(shop):
    v = C.open_appeal(shop, "S2", "US", "plan", actor="s2")
    C.close(shop, v.id, actor="s2", reason="withdrawn")
    with pytest.raises(ConflictError, match="is closed"):
        C.accept_appeal(shop, v.id, actor="carla", reason="ok")


def test_a_failure_after_the_action_was_recorded_rolls_the_action_back(shop, monkeypatch):
    a = C.open_appeal(shop, "S2", "US", "plan", actor="s2")
    before = (count(shop, "actions"), count(shop, "case_entries"), len(events(shop)))

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(C.repo, "set_status", boom)  # fails after request_action wrote the action
    with pytest.raises(RuntimeError, match="disk full"):
        C.accept_appeal(shop, a.id, actor="carla", reason="ok")
    assert (count(shop, "actions"), count(shop, "case_entries"), len(events(shop))) == before
    monkeypatch.undo()
    v, action = C.accept_appeal(shop, a.id, actor="carla", reason="ok")
    assert v.status == "accepted" and count(shop, "actions") == before[0] + 1
