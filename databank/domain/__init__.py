"""Domain vocabulary shared by every layer: enums, vocabularies, errors. Imports nothing else."""
