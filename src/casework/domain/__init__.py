"""Pure-Python rules of the case lifecycle: no SQL, no HTTP, importable anywhere."""
