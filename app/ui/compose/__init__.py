"""The compose pane: new posts, replies and direct messages with live checks and autosave."""
