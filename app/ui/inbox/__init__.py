"""The inbox screen: unit tree, conversation list and thread."""
