#!/usr/bin/env python3
"""Independent verifier for traceledger checkpoints and proofs.

Written from the specifications only (C2SP signed-note and tlog-checkpoint, RFC 9162 section
2.1), with Python's `cryptography` package for Ed25519: it shares no code with the C++
implementation, so agreement between the two is evidence that both follow the standards.

usage: verify_independently.py VKEY_FILE NEW_CHECKPOINT OLD_CHECKPOINT CONSISTENCY_JSON \
           (PROOF_JSON ENTRY_JSON)...
Exits 0 if every check passes, 1 with a message otherwise.
"""
import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EM_DASH = "\u2014 "


class Failure(Exception):
    pass


def b64decode_canonical(text, what):
    """Standard base64 that must be the one canonical encoding of its bytes: Python (like Go)
    would otherwise accept non-zero unused trailing bits, so two texts would decode alike."""
    try:
        raw = base64.b64decode(text, validate=True)
    except Exception as e:  # noqa: BLE001 - any decoding error is a verification failure
        raise Failure(f"{what} is not base64: {e}")
    if base64.b64encode(raw).decode() != text:
        raise Failure(f"{what} is not canonical base64")
    return raw


def parse_vkey(text):
    name, key_id_hex, key_b64 = text.strip().split("+", 2)
    raw = b64decode_canonical(key_b64, "verifier key")
    if len(raw) != 33 or raw[0] != 0x01:
        raise Failure("verifier key is not Ed25519")
    computed = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    if computed.hex() != key_id_hex:
        raise Failure(f"key id {key_id_hex} does not match the key ({computed.hex()})")
    return name, computed, Ed25519PublicKey.from_public_bytes(raw[1:])


def open_note(note, vkey):
    """Returns the note text if a signature by vkey verifies (C2SP signed-note)."""
    name, key_id, public_key = vkey
    if not note.endswith("\n"):
        raise Failure("note does not end with a newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise Failure("note has no signature block")
    text = note[: split + 1]
    for ch in text:
        if (ord(ch) < 0x20 and ch != "\n") or ord(ch) == 0x7F:
            raise Failure("note text has a control character")
    verified = False
    for line in note[split + 2 :].splitlines():
        if not line.startswith(EM_DASH):
            raise Failure(f"bad signature line {line!r}")
        signer, sig_b64 = line[len(EM_DASH) :].split(" ", 1)
        sig = b64decode_canonical(sig_b64, "signature")
        if signer != name or sig[:4] != key_id:
            continue  # C2SP: ignore signatures by unknown keys
        try:
            public_key.verify(sig[4:], text.encode())
            verified = True
        except InvalidSignature:
            raise Failure("signature does not verify")
    if not verified:
        raise Failure("no signature by the log's key")
    return text


def parse_checkpoint(text, origin):
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise Failure("checkpoint is not origin/size/root lines")
    if lines[0] != origin:
        raise Failure(f"origin {lines[0]!r}, want {origin!r}")
    size = lines[1]
    if not size.isdigit() or (len(size) > 1 and size[0] == "0"):
        raise Failure(f"bad tree size {size!r}")
    root = b64decode_canonical(lines[2], "root hash")
    if len(root) != 32:
        raise Failure("root hash is not 32 bytes")
    return int(size), root


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(index, size, leaf_hash, path, root):
    """RFC 9162 2.1.3.2."""
    if index >= size:
        raise Failure("leaf index beyond tree")
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            raise Failure("inclusion proof too long")
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != root:
        raise Failure(f"inclusion proof of {index} in {size} does not lead to the root")


def verify_consistency(size1, size2, path, root1, root2):
    """RFC 9162 2.1.4.2."""
    if size1 == size2:
        if path or root1 != root2:
            raise Failure("equal sizes need an empty proof and equal roots")
        return
    if size1 == 0 or size1 > size2 or not path:
        raise Failure("impossible consistency proof")
    if size1 & (size1 - 1) == 0:
        path = [root1] + path
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise Failure("consistency proof too long")
        if fn & 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != root1 or sr != root2:
        raise Failure(f"consistency proof {size1}->{size2} does not match the roots")


def main(argv):
    vkey_text, new_note_path, old_note_path, consistency_path = argv[1:5]
    pairs = argv[5:]
    vkey = parse_vkey(open(vkey_text).read())
    origin = vkey[0]
    new_note = open(new_note_path, encoding="utf-8").read()
    old_note = open(old_note_path, encoding="utf-8").read()
    size, root = parse_checkpoint(open_note(new_note, vkey), origin)
    old_size, old_root = parse_checkpoint(open_note(old_note, vkey), origin)
    print(f"checkpoints verified: size {old_size} and size {size}")

    checked = 0
    for proof_path, entry_path in zip(pairs[0::2], pairs[1::2]):
        proof = json.load(open(proof_path))
        entry = json.load(open(entry_path))
        entry_bytes = base64.b64decode(entry["entry_base64"], validate=True)
        leaf_hash = hashlib.sha256(b"\x00" + entry_bytes).digest()
        if leaf_hash.hex() != proof["leaf_hash"] or proof["leaf_index"] != entry["seq"]:
            raise Failure(f"entry {entry['seq']} does not hash to the proven leaf")
        if proof["tree_size"] != size or bytes.fromhex(proof["root_hash"]) != root:
            raise Failure("proof is not against the signed checkpoint")
        verify_inclusion(entry["seq"], size, leaf_hash,
                         [bytes.fromhex(h) for h in proof["path"]], root)
        checked += 1
    print(f"inclusion proofs verified against the signed root: {checked}")

    consistency = json.load(open(consistency_path))
    if consistency["from"] != old_size or consistency["to"] != size:
        raise Failure("consistency proof is not between the two checkpoints")
    verify_consistency(old_size, size, [bytes.fromhex(h) for h in consistency["path"]],
                       old_root, root)
    print(f"consistency proof verified: {old_size} -> {size}")

    # Any changed byte of the signed checkpoint must make it fail.
    raw = new_note.encode()
    for i in range(len(raw)):
        changed = bytearray(raw)
        changed[i] ^= 0x01
        try:
            text = open_note(changed.decode("utf-8"), vkey)
            changed_size, changed_root = parse_checkpoint(text, origin)
        except (Failure, UnicodeDecodeError, ValueError):
            continue
        raise Failure(f"checkpoint with byte {i} changed still verifies")
    print(f"every one of {len(raw)} single-byte changes to the checkpoint is rejected")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Failure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
