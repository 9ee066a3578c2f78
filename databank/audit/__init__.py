"""Audit log primitives: canonical entry bodies, for the Merkle log. No Flask, no ORM."""

from databank.audit.entries import canonical_body

__all__ = ["canonical_body"]
