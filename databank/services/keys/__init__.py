"""Keys: the keyring, rotation and retirement, sealing of fields, erasure by crypto-shredding."""
