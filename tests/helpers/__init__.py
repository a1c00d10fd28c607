"""Test helpers shared by several test packages (a tiny local checkpoint, a real `transformers serve`)."""
