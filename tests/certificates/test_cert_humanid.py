"""Short certificate ids: readable aloud, forgiving of lookalikes, and self-checking against typos."""

from __future__ import annotations

from inspector.certificates import humanid


def test_ids_have_ten_unambiguous_symbols() -> None:
    """Ids are 10 symbols from an alphabet without I, L, O, U and always pass their own check."""
    for _ in range(200):
        hid = humanid.new_human_id()
        assert len(hid) == 10 and not set(hid) & set("ILOU")
        assert humanid.normalize(hid) == hid


def test_lookalikes_case_and_grouping_are_forgiven() -> None:
    """A buyer typing 'o' for 0, 'l' for 1, lowercase or the printed dashes still finds the id."""
    hid = "0" + humanid.new_human_id()[1:9]
    hid += humanid._luhn_check(hid)
    typed = humanid.pretty(hid).lower().replace("0", "o", 1)
    assert humanid.normalize(typed) == hid
    assert humanid.normalize(f"  {hid[:5]} {hid[5:]} ") == hid


def test_every_single_symbol_typo_is_detected() -> None:
    """Changing any one symbol to any other gives an invalid id (no wrong certificate shown)."""
    hid = humanid.new_human_id()
    for pos in range(10):
        for c in humanid.ALPHABET:
            if c != hid[pos]:
                assert humanid.normalize(hid[:pos] + c + hid[pos + 1 :]) is None


def test_garbage_is_rejected() -> None:
    """Wrong lengths and foreign characters are not ids."""
    for text in ["", "ABC", "A" * 11, "ÄÄÄÄÄÄÄÄÄÄ", "<script>xx"]:
        assert humanid.normalize(text) is None
