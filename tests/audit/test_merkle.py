"""Tests of the RFC 6962 Merkle tree: published vectors, the frontier, inclusion proofs."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from databank.audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    inclusion_proof,
    inclusion_proofs,
    leaf_hash,
    node_hash,
    root_of,
    verify_inclusion,
)

# Known answers from transparency-dev/merkle testonly/constants.go and proof/verify_test.go (the
# Certificate Transparency test data): inputs, then the root for every tree size 0..8.
CT_INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_LEAVES = [leaf_hash(d) for d in CT_INPUTS]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# NodeHashes(): every perfect subtree of the 8-leaf tree, level by level.
CT_NODES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]
# CompactTrees(): the frontier after each size, as (level, position) in CT_NODES.
CT_FRONTIERS = [
    [],
    [(0, 0)],
    [(1, 0)],
    [(1, 0), (0, 2)],
    [(2, 0)],
    [(2, 0), (0, 4)],
    [(2, 0), (1, 2)],
    [(2, 0), (1, 2), (0, 6)],
    [(3, 0)],
]
# Inclusion proof vectors as (leaf index from 0, tree size, path).
CT_PROOFS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


# Reference definitions transcribed from RFC 6962 section 2.1 (slices and recursion, no
# cleverness), over leaf hashes, and independent of the module under test.
def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return _node(mth(d[:k]), mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*path(m, d[:k]), mth(d[k:])]
    return [*path(m - k, d[k:]), mth(d[:k])]


def leaves_for(n: int, seed: bytes = b"") -> list[bytes]:
    return [hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(n)]


def test_hash_functions_use_the_rfc_6962_prefixes() -> None:
    """Leaves are SHA-256(0x00 || body) and nodes SHA-256(0x01 || left || right)."""
    assert EMPTY_ROOT.hex() == CT_ROOTS[0]
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert (
        node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    )
    assert [h.hex() for h in CT_LEAVES] == CT_NODES[0]


def test_perfect_subtrees_match_the_published_node_hashes() -> None:
    for level in range(1, 4):
        below = [bytes.fromhex(h) for h in CT_NODES[level - 1]]
        got = [node_hash(below[i], below[i + 1]).hex() for i in range(0, len(below), 2)]
        assert got == CT_NODES[level]


@pytest.mark.parametrize("size", range(9))
def test_roots_match_the_published_tree_heads(size: int) -> None:
    """Our roots equal Certificate Transparency's for every size of the reference tree."""
    frontier = Frontier()
    frontier.extend(CT_LEAVES[:size])
    assert root_of(CT_LEAVES[:size]).hex() == CT_ROOTS[size]
    assert frontier.root().hex() == CT_ROOTS[size]
    want = [bytes.fromhex(CT_NODES[level][pos]) for level, pos in CT_FRONTIERS[size]]
    assert list(frontier.hashes) == want


@pytest.mark.parametrize(("index", "size", "proof"), CT_PROOFS)
def test_inclusion_proofs_match_the_published_vectors(
    index: int, size: int, proof: list[str]
) -> None:
    want = [bytes.fromhex(h) for h in proof]
    assert inclusion_proof(CT_LEAVES, index, size) == want
    assert inclusion_proofs(CT_LEAVES, size, [index]) == {index: want}
    root = bytes.fromhex(CT_ROOTS[size])
    assert verify_inclusion(CT_LEAVES[index], index, size, want, root)


def test_frontier_root_equals_the_rfc_definition_at_every_size_up_to_300() -> None:
    leaves = leaves_for(300)
    frontier = Frontier()
    assert frontier.root() == mth([])
    for n, leaf in enumerate(leaves, start=1):
        frontier.append(leaf)
        assert frontier.size == n
        assert len(frontier.hashes) == n.bit_count()
        assert frontier.root() == mth(leaves[:n]) == root_of(leaves[:n])


@settings(max_examples=60, deadline=None)
@given(size=st.integers(0, 300), seed=st.binary(max_size=8), cut=st.integers(0, 300))
def test_frontier_equals_the_rfc_definition_for_random_leaves(
    size: int, seed: bytes, cut: int
) -> None:
    """Appending one by one, in bulk, or across a save and reload gives the RFC 6962 root."""
    leaves = leaves_for(size, seed)
    one_by_one = Frontier()
    for leaf in leaves:
        one_by_one.append(leaf)
    cut = min(cut, size)
    first = Frontier()
    first.extend(leaves[:cut])
    resumed = Frontier.from_bytes(first.to_bytes())
    resumed.extend(leaves[cut:])
    assert one_by_one.root() == resumed.root() == mth(leaves)
    assert one_by_one == resumed


@pytest.mark.parametrize("size", [0, 1, 2, 3, 7, 8, 255, 256, 1000, 2**40 - 1])
def test_serialisation_round_trips(size: int) -> None:
    hashes = leaves_for(size.bit_count(), b"frontier")
    frontier = Frontier(size, hashes)
    data = frontier.to_bytes()
    assert len(data) == 1 + 8 + 32 * size.bit_count()
    restored = Frontier.from_bytes(data)
    assert restored == frontier
    assert restored.size == size
    assert restored.root() == frontier.root()


def _good() -> bytes:
    frontier = Frontier()
    frontier.extend(leaves_for(5))
    return frontier.to_bytes()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "truncated"),
        (b"\x01\x00\x00", "truncated"),
        (b"\x02" + _good()[1:], "version"),
        (b"\x00" + _good()[1:], "version"),
        (_good()[:-1], "wrong length"),
        (_good() + b"\x00", "wrong length"),
        (_good()[:-32], "wrong length"),
        (b"\x01" + (7).to_bytes(8, "big") + _good()[9:], "wrong length"),  # 7 needs 3 hashes
        (b"\x01" + (0).to_bytes(8, "big") + b"\x00" * 32, "wrong length"),
    ],
    ids=[
        "empty",
        "short header",
        "version 2",
        "version 0",
        "hash cut short",
        "trailing byte",
        "hash missing",
        "size needs more hashes",
        "empty tree with a hash",
    ],
)
def test_malformed_frontier_bytes_are_rejected(data: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        Frontier.from_bytes(data)


@given(st.binary(max_size=120))
def test_frontier_parser_accepts_only_its_own_encoding(data: bytes) -> None:
    try:
        frontier = Frontier.from_bytes(data)
    except ValueError:
        return
    assert frontier.to_bytes() == data


@pytest.mark.parametrize(
    ("size", "hashes", "reason"),
    [
        (-1, [], "negative"),
        (3, [b"\x00" * 32], "2 frontier hashes"),
        (0, [b"\x00" * 32], "0 frontier hashes"),
        (1, [b"\x00" * 31], "32 bytes"),
    ],
)
def test_inconsistent_frontiers_are_rejected(size: int, hashes: list[bytes], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        Frontier(size, hashes)


def test_copy_is_independent() -> None:
    frontier = Frontier()
    frontier.extend(leaves_for(3))
    copy = frontier.copy()
    copy.append(leaves_for(1)[0])
    assert frontier.size == 3
    assert copy.size == 4
    assert frontier != copy
    assert frontier != "a frontier"
    assert "size=3" in repr(frontier)


@pytest.mark.parametrize("size", range(1, 70))
def test_proofs_equal_the_rfc_definition(size: int) -> None:
    leaves = leaves_for(size)
    batch = inclusion_proofs(leaves, size, range(size))
    for index in range(size):
        assert inclusion_proof(leaves, index, size) == batch[index] == path(index, leaves)


@pytest.mark.parametrize("size", [1000, 1024, 1025, 4097])
def test_batch_proofs_equal_single_proofs_in_larger_trees(size: int) -> None:
    leaves = leaves_for(size + 10)  # more leaves than the tree: only the first `size` count
    indices = [*random.Random(size).sample(range(size), 40), 0, size - 1]
    batch = inclusion_proofs(leaves, size, indices)
    root = root_of(leaves[:size])
    assert sorted(batch) == sorted(set(indices))
    for index in indices:
        assert batch[index] == inclusion_proof(leaves, index, size)
        assert verify_inclusion(leaves[index], index, size, batch[index], root)


def test_proof_arguments_are_checked() -> None:
    leaves = leaves_for(4)
    for index, size in [(4, 4), (-1, 4), (0, 0), (0, 5)]:
        with pytest.raises(ValueError, match=r"outside|between"):
            inclusion_proof(leaves, index, size)
        with pytest.raises(ValueError, match=r"outside|between"):
            inclusion_proofs(leaves, size, [index])
    assert inclusion_proofs(leaves, 4, []) == {}
    with pytest.raises(ValueError, match="32 bytes"):
        inclusion_proofs([b"short", *leaves], 4, [0])


Probe = tuple[int, int, list[bytes], bytes, bytes]  # index, size, proof, root, leaf


def _tampered(
    index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes
) -> Iterator[Probe]:
    """Every corruption of transparency-dev's proof/verify_test.go."""
    other = hashlib.sha256(b"some other hash").digest()
    yield index - 1, size, proof, root, leaf
    yield index + 1, size, proof, root, leaf
    yield index ^ 2, size, proof, root, leaf
    yield index, size * 2, proof, root, leaf
    yield index, size // 2, proof, root, leaf
    yield index, size, proof, root, leaf_hash(b"wrong leaf")
    yield index, size, proof, EMPTY_ROOT, leaf
    yield index, size, proof, other, leaf
    yield index, size, [*proof, b""], root, leaf
    yield index, size, [*proof, root], root, leaf
    yield index, size, [b"", *proof], root, leaf
    yield index, size, [root, *proof], root, leaf
    for i in range(len(proof)):
        changed = list(proof)
        changed[i] = bytes([changed[i][0] ^ 8]) + changed[i][1:]
        yield index, size, changed, root, leaf
    if proof:
        yield index, size, proof[:-1], root, leaf
    if len(proof) > 1:
        yield index, size, [proof[0], other, *proof[1:]], root, leaf


@pytest.mark.parametrize("size", [*range(1, 34), 100, 257])
def test_verification_accepts_valid_proofs_and_rejects_every_corruption(size: int) -> None:
    """A proof verifies only for its own leaf, index, tree size and root, and only unchanged."""
    leaves = leaves_for(size)
    root = root_of(leaves)
    proofs = inclusion_proofs(leaves, size, range(size))
    for index in range(size):
        proof = proofs[index]
        assert verify_inclusion(leaves[index], index, size, proof, root)
        for bad in _tampered(index, size, proof, root, leaves[index]):
            bad_index, bad_size, bad_proof, bad_root, bad_leaf = bad
            assert not verify_inclusion(bad_leaf, bad_index, bad_size, bad_proof, bad_root), bad[:2]


def test_verification_rejects_impossible_arguments() -> None:
    leaf = leaf_hash(b"data")
    assert verify_inclusion(leaf, 0, 1, [], leaf)
    assert not verify_inclusion(b"", 0, 1, [], leaf)
    assert not verify_inclusion(leaf, 0, 1, [], b"")
    for index, size in [(0, 0), (1, 0), (1, 1), (2, 1), (-1, 1)]:
        assert not verify_inclusion(leaf, index, size, [], leaf)
