"""The Strategy screen and the strategy file editor: one funnel editor over either source."""
