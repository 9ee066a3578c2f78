"""What auditors and admins use: the log console, alert review, verify, proofs, policy view."""
