"""Talking to language models: the one client (structured answers, retries, cache, ledger), tokens, costs, batches."""
