"""Data: the store, importers, text clean-up and dataset preparation."""
