"""What people call the codes a claim stores: states, outcomes, problems, roles, item kinds.

The codes stay English in the database, the signed certificates, the API and the CSV exports;
these are the words pages and messages show for them (in the reader's language through the
catalogue). A code with no word here is shown as it is.
"""

from __future__ import annotations

from inspector.i18n import N_
from warranty.messages import Message

STATE_WORDS = {
    "submitted": N_("submitted"),
    "awaiting_item": N_("awaiting item"),
    "received": N_("received"),
    "reinspected": N_("re-inspected"),
    "approved": N_("approved"),
    "denied": N_("denied"),
    "resolved": N_("resolved"),
    "closed": N_("closed"),
}
OUTCOME_WORDS = {"repair": N_("repair"), "replace": N_("replacement"), "refund": N_("refund")}
PROBLEM_WORDS = {
    "functional_fault": N_("Functional fault"),
    "authenticity": N_("Not authentic"),
    "weight_material": N_("Weight or material differs"),
    "no_reason_return": N_("No-reason return"),
}
ROLE_WORDS = {
    "buyer": N_("buyer"),
    "operator": N_("station operator"),
    "staff": N_("warehouse staff"),
    "supervisor": N_("supervisor"),
    "admin": N_("administrator"),
}
KIND_WORDS = {"phone": N_("phone"), "jewelry": N_("jewelry")}
CERTIFICATE_STATUS_WORDS = {
    "valid": N_("valid"),
    "revoked": N_("revoked"),
    "suspended": N_("suspended"),
}
# The audit log's actions (a transition's code, or opening the claim).
ACTION_WORDS = {
    "open": N_("opened"),
    "accept": N_("accepted"),
    "receive": N_("received"),
    "reinspect": N_("re-inspected"),
    "approve": N_("approved"),
    "deny": N_("denied"),
    "resolve": N_("resolved"),
    "close": N_("closed"),
    "withdraw": N_("withdrawn"),
}
# Where a defect is (the station names the photo's side).
REGION_WORDS = {
    "back": N_("back"),
    "front": N_("front"),
    "screen": N_("screen"),
    "frame": N_("frame"),
    "side": N_("side"),
    "edge": N_("frame edge"),
}
# Defect kinds are the grade scales' class keys; their words are the scales' labels, which the
# grading catalogue translates (so they are not marked again here).
DEFECT_WORDS = {
    "crack": "crack",
    "scratch": "scratch",
    "chip": "chip/dent",
    "dent": "dent",
    "missing_stone": "missing stone",
    "loose_stone": "loose stone",
    "tarnish": "tarnish patch",
}
# How a defect found at re-inspection compares with the certificate (``warranty.evidence``).
DEFECT_STATUS_WORDS = {
    "new": N_("new since the certificate"),
    "worse": N_("worse than certified"),
    "unchanged": N_("as certified"),
    "not_found": N_("certified, not found now"),
}
# The workflow's verbs (a transition's code is its English verb).
VERB_WORDS = {
    "accept": N_("accept"),
    "receive": N_("receive"),
    "reinspect": N_("reinspect"),
    "approve": N_("approve"),
    "deny": N_("deny"),
    "resolve": N_("resolve"),
    "close": N_("close"),
    "withdraw": N_("withdraw"),
}
# What each permission lets a person do, for "role x may not ..." refusals.
PERMISSION_WORDS = {
    "open": N_("open a claim"),
    "record_sale": N_("record a sale"),
    "view_queue": N_("see the claim queue"),
    "view_claim": N_("see a claim"),
    "label": N_("print a return label"),
    "reports": N_("see the reports"),
    "accept": N_("accept a claim"),
    "receive": N_("receive an item"),
    "reinspect": N_("record a re-inspection"),
    "approve": N_("approve a claim"),
    "deny": N_("deny a claim"),
    "resolve": N_("resolve a claim"),
    "close": N_("close a claim"),
    "withdraw": N_("withdraw a claim"),
}


def word(words: dict[str, str], code: str | None) -> Message | str:
    """The word for ``code`` (a message to translate), or the code itself when it has none."""
    if code in words:
        return Message(words[code])
    return code or ""


def state_word(code: str) -> Message | str:
    return word(STATE_WORDS, code)


def states_words(codes: tuple[str, ...] | list[str]) -> tuple[Message | str, ...]:
    return tuple(state_word(c) for c in codes)
