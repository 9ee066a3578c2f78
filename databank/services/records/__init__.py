"""The case model's use cases: people, cases, needs, encounters, consents, referrals, timelines."""
