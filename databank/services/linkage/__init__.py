"""The linkage zone's service side: the only code that reads or writes linkage tables."""
