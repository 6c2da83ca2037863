"""Client-side API helpers shared by the Client and Collection classes."""
