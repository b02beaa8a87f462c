"""worldjepa."""
