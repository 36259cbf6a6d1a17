"""The strategy screens: the funnel, its timeline, and importing a strategy file."""
