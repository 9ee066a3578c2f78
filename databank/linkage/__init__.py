"""The linkage zone: turns identifiers into keyed encodings and matches people on those alone.

It holds the linkage secret, which the rest of the app never loads, and callers see only this
narrow interface (encode an identity; compare the encodings), so the zone can later move to its own
process or to a trusted third party without touching them. Today an encoding is one exact keyed
token; probabilistic matching (Splink over keyed Bloom filters) will replace it behind the same
interface.
"""

from databank.linkage.tokens import LinkageEncoder, LinkageEncoding

__all__ = ["LinkageEncoder", "LinkageEncoding"]
