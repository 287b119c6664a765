"""libclang front end: one translation unit in, plain Facts out."""
