"""PDQ, Meta's perceptual hash of pictures, as four signed 64-bit words: pure functions, no
database (README "Picture hashes").

**Bit order.** `pdqhash` returns the 256 bits as 0/1 in the order of PDQ's canonical 64-digit
hex string, most significant bit first. Word h0 holds bits 0-63, h1 bits 64-127, h2 bits
128-191, h3 bits 192-255; inside a word the first bit is the most significant. Read as
unsigned numbers and written as 16 hex digits each, h0 h1 h2 h3 are the canonical hex string
(`pdq_hex`); they are kept signed (two's complement) because PostgreSQL's bigint is.

**Variants.** `pdqhash.compute_dihedral` hashes the picture and its seven other dihedral
transforms in this order (checked against Pillow's transposes): original, rotated 90°, 180°
and 270° counter-clockwise, flipped top to bottom, flipped left to right, transposed,
anti-transposed. A mirrored or rotated copy of a stored picture is then within a few bits of
one of its variants.

**Chunks.** Multi-index hashing cuts a hash into 16 chunks of 16 bits, chunk k being
`(h[k // 4] >> 16 * (k % 4)) & 0xFFFF` — the expression of the 16 database indexes
(reports.models.pdq_chunk_expression; Python's `>>` on a negative number is arithmetic, like
PostgreSQL's, so both give the same number). Two hashes within distance 31 differ by at most
one bit in some chunk (16 chunks each differing by 2 or more bits make 32 or more), so the
candidates of a search are the stored hashes having some chunk equal to one of the 17 values
of `chunk_neighbourhood` of the searched hash's chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pdqhash
from PIL import Image

PdqWords = tuple[int, int, int, int]

CHUNKS = 16
CHUNK_BITS = 16
CHUNK_MASK = (1 << CHUNK_BITS) - 1
# The largest distance multi-index hashing with one-bit chunk neighbourhoods finds them all at:
# 16 chunks each differing by 2 bits or more differ by 32 bits or more.
MAX_INDEXED_DISTANCE = CHUNKS * 2 - 1
VARIANTS = (
    "original",
    "rotated_90",
    "rotated_180",
    "rotated_270",
    "flipped_top_bottom",
    "flipped_left_right",
    "transposed",
    "anti_transposed",
)
# Every picture is reduced to 64x64 pixels (Lanczos) before PDQ sees it. PDQ reduces to 64x64
# itself, ignoring the aspect ratio too, but with a filter whose windows are not symmetric at
# most sizes: a mirrored or rotated copy of a 256x192 picture can come out 32 bits away from
# the original's variant, and of a 1024x768 one 14 bits; at 64x64 they match to a bit or two.
# It is also about ten times faster (a JPEG is decoded at 1/2, 1/4 or 1/8 scale). The hashes
# are within about a dozen bits of the reference PDQ of the full-size picture (at most 14 and
# 6.6 on average over bench/pictures.py's 1024x768 pictures).
HASH_SIDE = 64

_WORD_MASK = (1 << 64) - 1


@dataclass(frozen=True)
class PdqResult:
    """A picture's hash, its seven other dihedral variants (VARIANTS order) and its quality
    (0-100; PDQ calls a hash below about 50 too featureless to compare)."""

    variants: tuple[PdqWords, ...]
    quality: int

    @property
    def original(self) -> PdqWords:
        return self.variants[0]

    @property
    def others_flat(self) -> list[int]:
        """The seven other variants' words, one after the other (PictureVariants.words)."""
        return [word for variant in self.variants[1:] for word in variant]


def words_from_bits(bits: np.ndarray) -> PdqWords:
    """Four signed 64-bit words from pdqhash's 256 bits (in the bit order above)."""
    packed = np.packbits(np.asarray(bits, dtype=np.uint8)).view(">i8")
    h0, h1, h2, h3 = (int(word) for word in packed)
    return h0, h1, h2, h3


def variants_from_flat(words: list[int]) -> list[PdqWords]:
    """Four-word hashes from words stored one after the other (PictureVariants.words)."""
    return [(words[i], words[i + 1], words[i + 2], words[i + 3]) for i in range(0, len(words), 4)]


def pdq_compute(image: Image.Image) -> PdqResult:
    """The PDQ hash, dihedral variants and quality of a picture. Give it an image just opened
    (not yet loaded): a JPEG is then decoded at a reduced scale, which is much faster."""
    if image.format == "JPEG":
        image.draft("RGB", (HASH_SIDE, HASH_SIDE))
    image = image.convert("RGB")
    if image.size != (HASH_SIDE, HASH_SIDE):
        image = image.resize((HASH_SIDE, HASH_SIDE), Image.Resampling.LANCZOS)
    hashes, quality = pdqhash.compute_dihedral(np.asarray(image, dtype=np.uint8))
    return PdqResult(variants=tuple(words_from_bits(bits) for bits in hashes), quality=quality)


def pdq_hex(words: PdqWords) -> str:
    """The canonical 64-digit hex string of a hash (as Meta's tools print it)."""
    return "".join(f"{word & _WORD_MASK:016x}" for word in words)


def hamming(a: PdqWords, b: PdqWords) -> int:
    """How many of the 256 bits differ."""
    return sum(((x ^ y) & _WORD_MASK).bit_count() for x, y in zip(a, b, strict=True))


def chunks(words: PdqWords) -> tuple[int, ...]:
    """The 16 chunks of a hash, as 16-bit numbers (chunk k as the k-th database index has it)."""
    return tuple((words[k // 4] >> (CHUNK_BITS * (k % 4))) & CHUNK_MASK for k in range(CHUNKS))


def chunk_neighbourhood(chunk: int) -> tuple[int, ...]:
    """A chunk and the 16 values one bit away from it: 17 values."""
    return (chunk, *(chunk ^ (1 << bit) for bit in range(CHUNK_BITS)))
