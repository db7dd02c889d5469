#!/usr/bin/env python3
"""Independent verifier for traceledger evidence bundles (traceledger.org/evidence-bundle@v1).

Written from docs/formats/evidence-bundle.md and the pages it builds on (ledger-entry.md,
merkle-tree.md, checkpoint.md) only, with Python's standard library and the `cryptography`
package for Ed25519: it shares no code with api/evidence/, so agreement between the two shows
that the document is precise enough for a third party to write a verifier from it.

usage: verify_bundle_independently.py BUNDLE_FILE VKEY_FILE
Prints one verdict line per entry (OK or FAILED with what failed), the bundle-level problems
and an overall verdict. Exits 0 if the bundle verifies, 1 if it does not, 2 on usage errors.
"""
import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT_LINE = b"traceledger.org/evidence-bundle@v1"
SIGNATURE_PREFIX = "\u2014 ".encode()  # U+2014 EM DASH, then a space
MAX_BUNDLE_BYTES = 64 << 20
MAX_ENTRIES = 10000
MAX_PROOF_HASHES = 64
MAX_TEXT_BYTES = 256  # an event id or the title, decoded
MIN_CHECKPOINT_LINES = 3
MAX_CHECKPOINT_LINES = 19  # origin, size, root and up to 16 extension lines
MAX_VARINT_BYTES = 10
MAX_GROUP_DEPTH = 64

# LedgerEntry (ledger-entry.md) and Event (events.md) field numbers.
ENTRY_FORMAT_VERSION = 1
ENTRY_SEQUENCE = 2
ENTRY_EVENT_ID = 6
ENTRY_SUBMITTER_ID = 7
ENTRY_EVENT_ENCODING = 8
ENTRY_EVENT = 9
EVENT_EVENT_ID = 1
ENCODING_JSON, ENCODING_PROTOBUF, ENCODING_EPCIS_JSON = 1, 2, 3
ERROR_DECLARATION_SUFFIX = "#error-declaration"

WIRE_VARINT, WIRE_I64, WIRE_LEN, WIRE_SGROUP, WIRE_EGROUP, WIRE_I32 = 0, 1, 2, 3, 4, 5


class Failure(Exception):
    pass


# ------------------------------------------------------------------------------ spellings


def parse_decimal(text, what):
    """ASCII digits, no sign, no leading zeros. `text` is bytes (bytes.isdigit is ASCII only)."""
    if not text or not text.isdigit() or (len(text) > 1 and text[:1] == b"0"):
        raise Failure(f"{what} {text!r} is not a decimal number without leading zeros")
    return int(text)


def b64decode_canonical(text, what):
    """Standard base64 with padding, and the one canonical spelling of its bytes: Python (like
    Go) would otherwise accept non-zero unused low bits, so two texts would decode alike."""
    try:
        raw = base64.b64decode(text, validate=True)
    except Exception as e:  # noqa: BLE001 - any decoding error is a verification failure
        raise Failure(f"{what} is not base64: {e}")
    if base64.b64encode(raw) != text:
        raise Failure(f"{what} is not canonical base64")
    return raw


HEX_UPPER = b"0123456789ABCDEF"


def pct_decode(text, what):
    """pct-text: bytes 0x21..0x7E other than '%' stand for themselves; every other byte is '%'
    and two uppercase hex digits, and only those bytes may be escaped."""
    out = bytearray()
    i = 0
    while i < len(text):
        byte = text[i]
        if byte == 0x25:
            digits = text[i + 1 : i + 3]
            if len(digits) != 2 or any(d not in HEX_UPPER for d in digits):
                raise Failure(f"{what}: '%' at byte {i} is not followed by two uppercase hex digits")
            value = int(digits, 16)
            if 0x21 <= value <= 0x7E and value != 0x25:
                raise Failure(f"{what}: %{digits.decode()} escapes a byte that stands for itself")
            out.append(value)
            i += 3
        elif 0x21 <= byte <= 0x7E:
            out.append(byte)
            i += 1
        else:
            raise Failure(f"{what}: byte 0x{byte:02x} at {i} must be written %XX")
    if not 1 <= len(out) <= MAX_TEXT_BYTES:
        raise Failure(f"{what} is {len(out)} bytes decoded, want 1..{MAX_TEXT_BYTES}")
    return bytes(out)


def show(raw):
    """Decoded text for messages (the bytes need not be UTF-8)."""
    return raw.decode("utf-8", errors="backslashreplace")


# ------------------------------------------------------------------------------ key and note


def parse_vkey(text):
    """`<name>+<key id, 8 lowercase hex>+<base64(0x01 || public key)>` (checkpoint.md). The name
    has no '+', the base64 may have some: split at the first two."""
    parts = text.split(b"+", 2)
    if len(parts) != 3 or not parts[0] or len(parts[1]) != 8:
        raise Failure(f"verifier key {show(text)!r} is not name+keyid+key")
    name, key_id_hex, key_b64 = parts
    raw = b64decode_canonical(key_b64, "verifier key")
    if len(raw) != 33 or raw[0] != 0x01:
        raise Failure("verifier key is not 0x01 || a 32-byte Ed25519 public key")
    key_id = hashlib.sha256(name + b"\n" + raw).digest()[:4]
    if key_id_hex != key_id.hex().encode():
        raise Failure(f"verifier key id {show(key_id_hex)} does not match the key "
                      f"(want {key_id.hex()})")
    return name, key_id, Ed25519PublicKey.from_public_bytes(raw[1:])


def check_signature(text, signature_line, vkey):
    """C2SP signed note: `— <key name> <base64(key id || signature)>` over `text`."""
    name, key_id, public_key = vkey
    if not signature_line.startswith(SIGNATURE_PREFIX):
        raise Failure("signature line does not start with an em dash and a space")
    parts = signature_line[len(SIGNATURE_PREFIX) :].split(b" ")
    if len(parts) != 2:
        raise Failure("signature line is not '— <key name> <signature>'")
    signer, sig_b64 = parts
    sig = b64decode_canonical(sig_b64, "signature")
    if len(sig) != 4 + 64:
        raise Failure(f"signature is {len(sig)} bytes, want 4 + 64")
    if signer != name:
        raise Failure(f"signed by {show(signer)!r}, not by the key's name {show(name)!r}")
    if sig[:4] != key_id:
        raise Failure(f"signature key id {sig[:4].hex()} is not the key's {key_id.hex()}")
    try:
        public_key.verify(sig[4:], text)
    except InvalidSignature:
        raise Failure("the checkpoint signature does not verify with the key")


def parse_checkpoint_body(lines, origin):
    if lines[0] != origin:
        raise Failure(f"origin {show(lines[0])!r} is not the key's name {show(origin)!r}")
    size = parse_decimal(lines[1], "tree size")
    root = b64decode_canonical(lines[2], "root hash")
    if len(root) != 32:
        raise Failure(f"root hash is {len(root)} bytes, want 32")
    return size, root


# ------------------------------------------------------------------------------ parsing


class Entry:
    def __init__(self, line_number, index, event_id, entry, proof):
        self.line_number = line_number
        self.index = index
        self.event_id = event_id
        self.entry = entry
        self.proof = proof


class Bundle:
    title = None
    key_line = None
    entries = ()
    note_text = None
    note_lines = ()
    signature_line = None
    sha256_line = None
    hashed = None


class Lines:
    """The bundle's lines with 1-based numbers for messages."""

    def __init__(self, lines):
        self.lines = lines
        self.next = 0

    def take(self, what):
        if self.next >= len(self.lines):
            raise Failure(f"line {self.next + 1}: the file ends where {what} belongs")
        self.next += 1
        return self.lines[self.next - 1]

    def keyword(self, word, what):
        line = self.take(what)
        prefix = word + b" "
        if not line.startswith(prefix):
            raise Failure(f"line {self.next}: got {show(line[:40])!r}, want {what}")
        return line[len(prefix) :]

    def blank(self, what):
        line = self.take("a blank line")
        if line:
            raise Failure(f"line {self.next}: got {show(line[:40])!r}, want a blank line {what}")

    def peek(self):
        return self.lines[self.next] if self.next < len(self.lines) else None

    def here(self):
        return self.next  # the 1-based number of the line taken last


def parse_bundle(data):
    """The grammar of evidence-bundle.md; any other spelling is a Failure."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise Failure(f"bundle is {len(data)} bytes, more than {MAX_BUNDLE_BYTES}")
    if data.startswith(b"\xef\xbb\xbf"):
        raise Failure("bundle starts with a byte-order mark")
    if not data.endswith(b"\n"):
        raise Failure("bundle does not end with LF")
    if b"\r" in data:
        line_number = data[: data.index(b"\r")].count(b"\n") + 1
        raise Failure(f"line {line_number}: CR in the bundle")
    raw_lines = data[:-1].split(b"\n")
    for number, line in enumerate(raw_lines, 1):
        if line.endswith(b" "):
            raise Failure(f"line {number}: trailing space")
    lines = Lines(raw_lines)
    bundle = Bundle()

    if lines.take("the format line") != FORMAT_LINE:
        raise Failure(f"line 1: not {FORMAT_LINE.decode()}")
    if lines.peek() is not None and lines.peek().startswith(b"title "):
        title = lines.keyword(b"title", "title")
        bundle.title = pct_decode(title, f"line {lines.here()}: title")
    bundle.key_line = lines.keyword(b"key", "the key line")
    count = parse_decimal(lines.keyword(b"entries", "the entries line"), f"line {lines.here()}: entries")
    if not 1 <= count <= MAX_ENTRIES:
        raise Failure(f"line {lines.here()}: entries {count}, want 1..{MAX_ENTRIES}")
    lines.blank("after the header")

    entries = []
    for _ in range(count):
        index_text = lines.keyword(b"index", "an entry block's index line")
        line_number = lines.here()
        index = parse_decimal(index_text, f"line {line_number}: index")
        if entries and index <= entries[-1].index:
            raise Failure(f"line {line_number}: index {index} does not increase "
                          f"(previous {entries[-1].index})")
        event_id_text = lines.keyword(b"event-id", "the event-id line")
        event_id = pct_decode(event_id_text, f"line {lines.here()}: event-id")
        entry_b64 = lines.keyword(b"entry", "the entry line")
        entry = b64decode_canonical(entry_b64, f"line {lines.here()}: entry")
        if not entry:
            raise Failure(f"line {lines.here()}: entry is empty")
        proof_count = parse_decimal(lines.keyword(b"proof", "the proof line"),
                                    f"line {lines.here()}: proof")
        if proof_count > MAX_PROOF_HASHES:
            raise Failure(f"line {lines.here()}: proof {proof_count}, at most {MAX_PROOF_HASHES}")
        proof = []
        for _ in range(proof_count):
            text = lines.take("a proof hash")
            if len(text) != 44:
                raise Failure(f"line {lines.here()}: got {show(text[:50])!r}, want a proof hash "
                              "(44 base64 characters)")
            proof.append(b64decode_canonical(text, f"line {lines.here()}: proof hash"))
        lines.blank("after the entry block")
        entries.append(Entry(line_number, index, event_id, entry, proof))
    bundle.entries = entries

    # The checkpoint note: 3..19 non-empty lines, a blank line, exactly one signature line.
    note_start = lines.next
    if (lines.peek() or b"").startswith(b"index "):
        raise Failure(f"line {note_start + 1}: more entry blocks than `entries {count}`")
    body = []
    while lines.peek():
        body.append(lines.take("a checkpoint line"))
    if not MIN_CHECKPOINT_LINES <= len(body) <= MAX_CHECKPOINT_LINES:
        raise Failure(f"line {note_start + 1}: the checkpoint has {len(body)} lines before its "
                      f"blank line, want {MIN_CHECKPOINT_LINES}..{MAX_CHECKPOINT_LINES}")
    lines.blank("between the checkpoint text and its signature")
    bundle.signature_line = lines.take("the checkpoint's signature line")
    if not bundle.signature_line.startswith(SIGNATURE_PREFIX):
        raise Failure(f"line {lines.here()}: not a signature line (— <key name> <signature>)")
    bundle.note_lines = body
    bundle.note_text = b"\n".join(body) + b"\n"
    lines.blank("after the signature line (a v1 bundle carries exactly one signature)")

    sha256_start = sum(len(line) + 1 for line in raw_lines[: lines.next])
    bundle.hashed = data[:sha256_start]
    sha256_hex = lines.keyword(b"sha256", "the sha256 line")
    if len(sha256_hex) != 64 or any(c not in b"0123456789abcdef" for c in sha256_hex):
        raise Failure(f"line {lines.here()}: sha256 is not 64 lowercase hex digits")
    bundle.sha256_line = sha256_hex
    if lines.peek() is not None:
        raise Failure(f"line {lines.here() + 1}: bytes after the sha256 line")
    return bundle


# ------------------------------------------------------------------------------ protobuf


def read_varint(buf, pos):
    value = 0
    for i in range(MAX_VARINT_BYTES):
        if pos >= len(buf):
            raise Failure("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if value >> 64:
                raise Failure("varint overflows 64 bits")
            return value, pos
    raise Failure(f"varint longer than {MAX_VARINT_BYTES} bytes")


def read_field(buf, pos, depth=0):
    """One field at `pos`: returns (number, wire type, value, next pos). Groups are skipped."""
    key, pos = read_varint(buf, pos)
    number, wire = key >> 3, key & 7
    if not 1 <= number <= (1 << 29) - 1:
        raise Failure(f"field number {number} is out of range")
    if wire == WIRE_VARINT:
        value, pos = read_varint(buf, pos)
    elif wire in (WIRE_I64, WIRE_I32):
        width = 8 if wire == WIRE_I64 else 4
        if pos + width > len(buf):
            raise Failure(f"field {number}: truncated fixed-width value")
        value, pos = buf[pos : pos + width], pos + width
    elif wire == WIRE_LEN:
        length, pos = read_varint(buf, pos)
        if length > len(buf) - pos:
            raise Failure(f"field {number}: length {length} runs past the end")
        value, pos = buf[pos : pos + length], pos + length
    elif wire == WIRE_SGROUP:
        if depth >= MAX_GROUP_DEPTH:
            raise Failure("groups nested too deeply")
        while True:
            if pos >= len(buf):
                raise Failure(f"group {number} is not closed")
            inner, inner_wire, _, pos = read_field(buf, pos, depth + 1)
            if inner_wire == WIRE_EGROUP:
                if inner != number:
                    raise Failure(f"group {number} closed by {inner}")
                break
        value = None
    elif wire == WIRE_EGROUP:
        if depth == 0:
            raise Failure(f"end of group {number} without a start")
        value = None
    else:
        raise Failure(f"field {number}: invalid wire type {wire}")
    return number, wire, value, pos


def decode_message(buf, wanted):
    """Parses the whole message; returns {number: last value} for the `wanted` {number: wire
    type} (the last occurrence of a scalar field wins), skipping every other field."""
    found = {}
    pos = 0
    while pos < len(buf):
        number, wire, value, pos = read_field(buf, pos)
        if number in wanted:
            if wire != wanted[number]:
                raise Failure(f"field {number} has wire type {wire}, want {wanted[number]}")
            found[number] = value
    return found


def utf8(raw, what):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Failure(f"{what} is not UTF-8")


# ------------------------------------------------------------------------------ the event


def reject_duplicate_keys(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise Failure(f"duplicate JSON key {key!r}")
        obj[key] = value
    return obj


def json_object(raw, what):
    try:
        value = json.loads(utf8(raw, what), object_pairs_hook=reject_duplicate_keys)
    except (ValueError, RecursionError) as e:
        raise Failure(f"{what} is not JSON: {e}")
    if not isinstance(value, dict):
        raise Failure(f"{what} is not a JSON object")
    return value


def event_id_of(encoding, event):
    """The event id the entry's event bytes carry in their encoding (evidence-bundle.md step 5.2).

    This checks the bytes parse in that encoding and reads the id; it does not re-run the
    event validation (which would need every schema of events.md)."""
    if encoding == ENCODING_JSON:
        obj = json_object(event, "native JSON event")
        names = [name for name in ("eventId", "event_id") if name in obj]
        if len(names) != 1:
            raise Failure("native JSON event has no single eventId")
        value = obj[names[0]]
    elif encoding == ENCODING_PROTOBUF:
        fields = decode_message(event, {EVENT_EVENT_ID: WIRE_LEN})
        value = utf8(fields.get(EVENT_EVENT_ID, b""), "protobuf event's eventId")
    elif encoding == ENCODING_EPCIS_JSON:
        obj = json_object(event, "EPCIS JSON event")
        value = obj.get("eventID")
        if isinstance(value, str) and "errorDeclaration" in obj:
            value += ERROR_DECLARATION_SUFFIX
    else:
        raise Failure(f"unknown event_encoding {encoding}")
    if not isinstance(value, str) or not value:
        raise Failure("the event has no event id")
    return value.encode("utf-8")


def check_entry(entry, size, root):
    """Steps 5.1-5.3 for one entry block; returns the submitter id, raises Failure."""
    try:
        fields = decode_message(entry.entry, {
            ENTRY_FORMAT_VERSION: WIRE_VARINT, ENTRY_SEQUENCE: WIRE_VARINT,
            ENTRY_EVENT_ID: WIRE_LEN, ENTRY_SUBMITTER_ID: WIRE_LEN,
            ENTRY_EVENT_ENCODING: WIRE_VARINT, ENTRY_EVENT: WIRE_LEN})
    except Failure as failure:
        raise Failure(f"entry bytes do not decode as LedgerEntry: {failure}")
    version = fields.get(ENTRY_FORMAT_VERSION, 0)
    if version != 1:
        raise Failure(f"format_version got {version}, want 1")
    sequence = fields.get(ENTRY_SEQUENCE, 0)
    if sequence != entry.index:
        raise Failure(f"entry sequence got {sequence}, want the index {entry.index}")
    event_id = fields.get(ENTRY_EVENT_ID, b"")
    utf8(event_id, "entry event_id")
    if event_id != entry.event_id:
        raise Failure(f"entry event_id got {show(event_id)!r}, want {show(entry.event_id)!r}")
    submitter = utf8(fields.get(ENTRY_SUBMITTER_ID, b""), "entry submitter_id")
    try:
        decoded_id = event_id_of(fields.get(ENTRY_EVENT_ENCODING, 0), fields.get(ENTRY_EVENT, b""))
    except Failure as failure:
        raise Failure(f"the entry's event does not decode: {failure}")
    if decoded_id != entry.event_id:
        raise Failure(f"the event's own id got {show(decoded_id)!r}, want {show(entry.event_id)!r}")
    leaf_hash = hashlib.sha256(b"\x00" + entry.entry).digest()
    verify_inclusion(entry.index, size, leaf_hash, entry.proof, root)
    return submitter


# ------------------------------------------------------------------------------ Merkle


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(index, size, leaf_hash, path, root):
    """RFC 9162 section 2.1.3.2, as evidence-bundle.md step 5.3 spells it out."""
    if index >= size:
        raise Failure(f"index {index} is not below the tree size {size}")
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            raise Failure("inclusion proof has too many hashes")
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Failure("inclusion proof has too few hashes")
    if r != root:
        raise Failure("inclusion proof does not lead to the checkpoint root")


# ------------------------------------------------------------------------------ main


def verify(data, vkey_text):
    """Prints the verdicts; returns True if the bundle verifies."""
    try:
        bundle = parse_bundle(data)
    except Failure as failure:
        print(f"problem: parse: {failure}")
        print("verdict: FAILED: the bundle does not parse")
        return False

    problems = []
    if bundle.title is not None:
        print(f"title: {show(bundle.title)!r} (a label: not attested by the log)")

    # Steps 2-4: the key, the checkpoint signature and body. Entries are checked against the
    # root even if these fail, so the report says which proofs would hold; none is proven then.
    size = root = None
    try:
        vkey = parse_vkey(vkey_text)
        if bundle.key_line != vkey_text:
            raise Failure(f"key line {show(bundle.key_line)!r} is not the given key")
        check_signature(bundle.note_text, bundle.signature_line, vkey)
        print(f"checkpoint: signature by {show(vkey[0])} verifies")
    except Failure as failure:
        problems.append(f"key/checkpoint: {failure}")
        vkey = None
    try:
        origin = vkey[0] if vkey else bundle.note_lines[0]
        size, root = parse_checkpoint_body(bundle.note_lines, origin)
        print(f"checkpoint: {show(bundle.note_lines[0])}, tree size {size}, root {root.hex()}")
    except Failure as failure:
        problems.append(f"checkpoint: {failure}")

    failed = 0
    for entry in bundle.entries:
        where = f"index {entry.index} event {show(entry.event_id)}"
        try:
            if size is None:
                raise Failure("no checkpoint root to check against")
            submitter = check_entry(entry, size, root)
            print(f"OK      {where} (submitter {submitter})")
        except Failure as failure:
            failed += 1
            print(f"FAILED  {where} (line {entry.line_number}): {failure}")

    # Step 6: the only check that covers the title.
    computed = hashlib.sha256(bundle.hashed).hexdigest().encode()
    if computed != bundle.sha256_line:
        problems.append(f"sha256 line: got {bundle.sha256_line.decode()}, the bytes before it "
                        f"hash to {computed.decode()}")

    for problem in problems:
        print(f"problem: {problem}")
    total = len(bundle.entries)
    if failed or problems:
        proven = "" if not problems else "; no entry is proven while a bundle-level check fails"
        print(f"verdict: FAILED: {failed} of {total} entries failed, {len(problems)} "
              f"bundle-level problem(s){proven}")
        return False
    print(f"verdict: VERIFIED: all {total} entries are in the log's signed checkpoint of size {size}")
    return True


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[3], file=sys.stderr)
        return 2
    try:
        data = open(argv[1], "rb").read()
        vkey_text = open(argv[2], "rb").read()
    except OSError as e:
        print(f"cannot read: {e}", file=sys.stderr)
        return 2
    if vkey_text.endswith(b"\n"):
        vkey_text = vkey_text[:-1]  # the trailing newline is ignored (step 2)
    print(f"bundle: {argv[1]}")
    return 0 if verify(data, vkey_text) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
