"""Use cases: the only code that reads or changes case data. Every read passes services.access."""
