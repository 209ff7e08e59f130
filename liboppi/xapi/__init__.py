"""xAPI 1.0.3 for Liboppi: vocabulary, statement building, and delivery to an LRS (pure)."""
