"""The strategy screens: the funnel editor, its timeline, strategy files and their import."""
