"""The local Google Cloud stack: emulators plus one process serving every function."""
