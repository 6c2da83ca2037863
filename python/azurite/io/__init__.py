"""Moving data into and out of Azurite."""
