"""Whether a recorded checkpoint holds: its signature (with which key) and the stored chain at the head it attests.

The integrity page shows each of the latest checkpoints with these two answers. The signature is checked against
the configured key's public half when the checkpoint names that key; a checkpoint signed by an older (rotated) key
is reported by its id, for the auditor to check with the published key (openbook holds only the configured key).
The chain answer compares the checkpoint's hash with the chain hash stored at its position: a history rewritten
before it, every later hash recomputed, no longer matches. Neither records anything.
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature

from ledger.audit.signing import SigningKey, checkpoint_message


def signature_check(checkpoint: dict[str, Any], key: SigningKey | None) -> tuple[str, bool | None]:
    """(what the signature shows, whether it verifies: None when it cannot be checked here)."""
    key_id, signature = checkpoint.get("key_id"), checkpoint.get("signature")
    if not signature:
        return "not signed", None
    if key is None or key_id != key.key_id:
        return f"signed with key {key_id}, not the configured key: check it with that key's published line", None
    try:
        key.public.verify(bytes.fromhex(signature), checkpoint_message(checkpoint))
    except (InvalidSignature, ValueError):
        return f"signed with key {key_id}: the signature does NOT verify", False
    return f"signed with key {key_id}: the signature verifies", True


def chain_check(recorder: Any, checkpoint: dict[str, Any]) -> tuple[str, bool]:
    """(what the stored chain shows at the attested head, whether it matches the checkpoint's hash)."""
    position = checkpoint["position"]
    stored = recorder.select_hashes(position, 1) if position > 0 else []
    if not stored or stored[0][0] != position:
        return f"no event is stored at position {position}", False
    if stored[0][1] != checkpoint["hash"]:
        return f"the chain hash stored at position {position} is NOT the checkpoint's", False
    return f"the chain hash stored at position {position} is the checkpoint's", True


def checkpoint_checks(recorder: Any, key: SigningKey | None, recorded: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each recorded checkpoint (``ledger.queries.checkpoints.recorded_checkpoints``) with both answers."""
    found = []
    for row in recorded:
        c = row["checkpoint"]
        signature, verifies = signature_check(c, key)
        chain, matches = chain_check(recorder, c)
        found.append({**row, "signature": signature, "verifies": verifies, "chain": chain, "matches": matches})
    return found
