"""The Publishing screen: the outbox queue and the week/month calendar."""
