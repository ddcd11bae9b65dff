#!/usr/bin/env python3
"""Check Saring's audit log from outside Saring: one file, Python 3.11+, standard library only.

Saring keeps its audit trail as a Merkle tree in the shape of RFC 9162 (Certificate
Transparency): every event is a leaf, leaf hash = SHA-256(0x00 || the event's canonical bytes),
interior node = SHA-256(0x01 || left || right). Every few seconds Saring signs a checkpoint (the
tree's size and root) in the C2SP tlog-checkpoint format with an Ed25519 key the database never
holds. This file checks those signatures (pure-Python Ed25519, RFC 8032), inclusion proofs (an
event is in the tree a checkpoint commits to) and consistency proofs (a later tree extends an
earlier one), and an export's proof bundle against a checkpoint someone kept.

Saring itself uses these functions too, so what it proves and what an outsider checks are the
same code. Usage (see `--help`):

    python saring_verify.py checkpoint KEY CHECKPOINT
    python saring_verify.py export KEY EXPORT_FILE PROOF_BUNDLE

KEY is the log's verifier key as Saring prints it (`name+keyid+base64`, the signed-note form).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# --- The Merkle tree (RFC 9162 section 2.1) ---------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) straight from the definition, for leaf hashes already computed."""
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    while len(level) > 1:  # pairs left to right; an odd last node moves up unchanged
        level = [
            node_hash(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)
        ]
    return level[0]


def root_from_frontier(frontier: Sequence[bytes]) -> bytes:
    """The root from the right edge's complete subtrees, largest (leftmost) first."""
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for subtree in reversed(frontier[:-1]):
        root = node_hash(subtree, root)
    return root


class TreeBuilder:
    """Appends leaf hashes to a tree known only by its size and right edge, and says which
    complete subtrees each append finishes (to be stored for proofs)."""

    def __init__(self, size: int = 0, frontier: Sequence[bytes] = ()) -> None:
        self.size = size
        self.frontier = list(frontier)  # one subtree per set bit of size, largest first
        if len(self.frontier) != size.bit_count():
            raise ValueError("a tree's right edge has one subtree per set bit of its size")

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf; return the (level, index, hash) of every subtree it completed."""
        finished = []
        index, node, level = self.size, leaf, 0
        while index & (1 << level):  # merge with the equal-sized subtree to its left
            node = node_hash(self.frontier.pop(), node)
            level += 1
            finished.append((level, index >> level, node))
        self.frontier.append(node)
        self.size += 1
        return finished

    @property
    def root(self) -> bytes:
        return root_from_frontier(self.frontier)


# A node is (level, index): the complete subtree of 2**level leaves starting at index << level.
Node = tuple[int, int]


def subtree_nodes(start: int, end: int) -> list[Node]:
    """The complete subtrees whose hashes make MTH(D[start:end]), left to right, for a range
    that starts on a multiple of a power of two at least as large as the range (every range
    a proof uses does)."""
    nodes = []
    while start < end:
        size = split_point(end - start) if end - start > 1 else 1
        if size * 2 <= end - start:
            size *= 2
        nodes.append((size.bit_length() - 1, start // size))
        start += size
    return nodes


def subtree_hash(start: int, end: int, get: Callable[[Node], bytes]) -> bytes:
    nodes = [get(node) for node in subtree_nodes(start, end)]
    return root_from_frontier(nodes)


def _inclusion_ranges(index: int, start: int, end: int) -> list[tuple[int, int]]:
    """The ranges whose roots make PATH(index, D[start:end]), leaf first (RFC 9162 2.1.3.1)."""
    ranges: list[tuple[int, int]] = []
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start = start + k
    ranges.reverse()
    return ranges


def _consistency_ranges(m: int, start: int, end: int) -> list[tuple[int, int]]:
    """The ranges whose roots make PROOF(m, D[start:end]) (RFC 9162 2.1.4.1), in order."""
    ranges: list[tuple[int, int]] = []
    complete = True
    while True:
        n = end - start
        if m == n:
            if not complete:
                ranges.append((start, end))
            break
        k = split_point(n)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            m -= k
            start += k
            complete = False
    ranges.reverse()
    return ranges


def inclusion_nodes(index: int, size: int) -> list[list[Node]]:
    return [subtree_nodes(a, b) for a, b in _inclusion_ranges(index, 0, size)]


def consistency_nodes(old: int, new: int) -> list[list[Node]]:
    if not 0 < old < new:
        return []
    return [subtree_nodes(a, b) for a, b in _consistency_ranges(old, 0, new)]


def proof_from(nodes: list[list[Node]], hashes: dict[Node, bytes]) -> list[bytes]:
    return [root_from_frontier([hashes[node] for node in group]) for group in nodes]


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2; an empty tree is consistent with every tree."""
    if old == 0:
        return not proof
    if old == new:
        return not proof and old_root == new_root
    if old > new or not proof and old & (old - 1):
        return False
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


# --- An event's canonical bytes ---------------------------------------------------------------

EVENT_FIELDS = (
    "sequence",
    "created_at",
    "actor_kind",
    "actor_user_id",
    "actor_label",
    "action",
    "subject_type",
    "subject_id",
    "subject_label",
    "data",
    "ip_address",
    "prev_hash",
)


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_event(fields: dict[str, Any]) -> bytes:
    """JSON with sorted keys, no spaces, UTF-8, times as UTC with microseconds."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# --- Ed25519 verification (RFC 8032 section 5.1.7), pure Python ---------------------------------

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
_Point = tuple[int, int, int, int]  # extended coordinates X, Y, Z, T with x = X/Z, y = Y/Z


def _add(a: _Point, b: _Point) -> _Point:
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    p1 = (y1 - x1) * (y2 - x2) % _P
    p2 = (y1 + x1) * (y2 + x2) % _P
    c = 2 * t1 * t2 * _D % _P
    d = 2 * z1 * z2 % _P
    e, f, g, h = p2 - p1, d - c, d + c, p2 + p1
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _multiply(scalar: int, point: _Point) -> _Point:
    result: _Point = (0, 1, 1, 0)
    while scalar:
        if scalar & 1:
            result = _add(result, point)
        point = _add(point, point)
        scalar >>= 1
    return result


def _same(a: _Point, b: _Point) -> bool:
    return (a[0] * b[2] - b[0] * a[2]) % _P == 0 and (a[1] * b[2] - b[1] * a[2]) % _P == 0


def _decode_point(encoded: bytes) -> _Point | None:
    y = int.from_bytes(encoded, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        if sign:
            return None
        return (0, y, 1, 0)
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    if x & 1 != sign:
        x = _P - x
    return (x, y, 1, x * y % _P)


_BASE = _decode_point((4 * pow(5, _P - 2, _P) % _P).to_bytes(32, "little"))


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    if len(public_key) != 32 or len(signature) != 64 or _BASE is None:
        return False
    a, r = _decode_point(public_key), _decode_point(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little")
    return _same(_multiply(s, _BASE), _add(r, _multiply(k % _L, a)))


# --- Signed notes and checkpoints (c2sp.org/signed-note, c2sp.org/tlog-checkpoint) --------------


class BadNote(ValueError):
    pass


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n\x01" + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    """The signed-note verifier key: name+hex key id+base64(0x01 || public key)."""
    encoded = base64.b64encode(b"\x01" + public_key).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def parse_verifier_key(text: str) -> tuple[str, bytes]:
    try:
        name, hex_id, encoded = text.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
    except ValueError as exc:
        raise BadNote("the key is not in the form name+keyid+base64") from exc
    if len(raw) != 33 or raw[0] != 1:
        raise BadNote("the key is not an Ed25519 signed-note key")
    if key_id(name, raw[1:]).hex() != hex_id:
        raise BadNote("the key's id does not match its name and bytes")
    return name, raw[1:]


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...]
    text: str  # the signed note text (body), ending in a newline

    @property
    def timestamp(self) -> datetime | None:
        for line in self.extensions:
            if line.startswith("timestamp "):
                return datetime.fromtimestamp(int(line.split()[1]), UTC)
        return None


def checkpoint_body(origin: str, size: int, root: bytes, timestamp: int) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\ntimestamp {timestamp}\n"


def open_checkpoint(note: str, key: str) -> Checkpoint:
    """Parse a signed checkpoint and check the log's signature on it; raise BadNote if not."""
    name, public_key = parse_verifier_key(key)
    if "\n\n" not in note:
        raise BadNote("not a signed note: no blank line before the signatures")
    text, _, signatures = note.rpartition("\n\n")
    text += "\n"
    if any(ord(ch) < 0x20 and ch != "\n" for ch in note):
        raise BadNote("a signed note holds no control characters")
    wanted = key_id(name, public_key)
    verified = False
    for line in signatures.splitlines():
        if not line.startswith("\u2014 "):
            raise BadNote(f"not a signature line: {line[:40]!r}")
        try:
            signer, encoded = line[2:].split(" ")
            raw = base64.b64decode(encoded, validate=True)
        except ValueError as exc:
            raise BadNote("a signature line is malformed") from exc
        if signer != name or raw[:4] != wanted:
            continue  # somebody else's signature (e.g. a witness): not ours to judge
        if not ed25519_verify(public_key, text.encode(), raw[4:]):
            raise BadNote("the log's signature does not verify: the checkpoint was changed")
        verified = True
    if not verified:
        raise BadNote(f"the checkpoint is not signed by {name}")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not lines[1].isdigit():
        raise BadNote("a checkpoint has an origin, a tree size and a root hash")
    root = base64.b64decode(lines[2], validate=True)
    if len(root) != 32:
        raise BadNote("the root hash is not 32 bytes")
    return Checkpoint(lines[0], int(lines[1]), root, tuple(lines[3:]), text)


# --- An export's proof bundle -------------------------------------------------------------------

BUNDLE_FORMAT = "saring-export-proof/v1"


def check_bundle(bundle: dict[str, Any], key: str, export_file: bytes) -> tuple[Checkpoint, str]:
    """Check that `export_file` is the file Saring's log says an export produced.

    The bundle holds a signed checkpoint, the audit event that recorded the export's completion
    (its canonical bytes, naming the file's SHA-256 and row count), the event's leaf index
    and its inclusion proof. The checkpoint must verify with the log's key, the event must be
    in the tree it signs, and the file must have the SHA-256 the event recorded: change one
    byte of one row and it does not. Returns the checkpoint and a summary; raises BadNote."""
    if bundle.get("format") != BUNDLE_FORMAT:
        raise BadNote(f"not a {BUNDLE_FORMAT} bundle")
    checkpoint = open_checkpoint(bundle["checkpoint"], key)
    event_bytes = base64.b64decode(bundle["event"], validate=True)
    proof = [base64.b64decode(p, validate=True) for p in bundle["proof"]]
    index = int(bundle["leaf_index"])
    if not verify_inclusion(index, checkpoint.size, leaf_hash(event_bytes), proof, checkpoint.root):
        raise BadNote(f"the event is not leaf {index} of the tree the checkpoint signs")
    event = json.loads(event_bytes)
    if event.get("action") != "export.completed":
        raise BadNote("the proven event is not an export's completion")
    recorded = event.get("data", {})
    digest = hashlib.sha256(export_file).hexdigest()
    if recorded.get("sha256") != digest:
        raise BadNote(
            "the export file is not the one the log recorded: its SHA-256 is "
            f"{digest}, the log says {recorded.get('sha256')} (a row was changed, added or removed)"
        )
    summary = (
        f"export {event.get('subject_id')}: {recorded.get('rows')} rows, {recorded.get('format')},"
        f" recorded at leaf {index} of {checkpoint.size} ({event.get('created_at')})"
    )
    return checkpoint, summary


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("checkpoint", help="check a checkpoint's signature")
    one.add_argument("key")
    one.add_argument("checkpoint")
    two = commands.add_parser("export", help="check an export file against its proof bundle")
    two.add_argument("key")
    two.add_argument("export")
    two.add_argument("bundle")
    args = parser.parse_args(argv)
    try:
        if args.command == "checkpoint":
            with open(args.checkpoint, encoding="utf-8") as handle:
                checkpoint = open_checkpoint(handle.read(), args.key)
            print(f"OK: {checkpoint.origin} tree size {checkpoint.size}, signed")
            return 0
        with open(args.export, "rb") as handle:
            data = handle.read()
        with open(args.bundle, encoding="utf-8") as handle:
            bundle = json.load(handle)
        checkpoint, summary = check_bundle(bundle, args.key, data)
    except BadNote as exc:
        print(f"REJECTED: {exc}")
        return 1
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"REJECTED: cannot be read: {exc}")
        return 1
    print(f"OK: {summary}; signed by {checkpoint.origin}")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
