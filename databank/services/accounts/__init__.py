"""Staff accounts: organisations and users, sign-in, two-factor, invitations, tokens, throttling."""
