"""Azurite's own version, in a module both packages ship: the full package (whose
compiled engine reports the same version, from the Rust workspace) and the thin
HTTP-only client (which has no compiled engine and reads its version from here)."""

__version__ = "0.1.0"
