"""Constants and small helpers shared by every layer."""
