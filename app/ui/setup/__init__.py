"""The first-run set-up assistant, the first-account welcome, and File > New workspace."""
