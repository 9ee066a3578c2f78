"""Anonymised statistics with disclosure control (the analytics issue). No Flask, no ORM."""
