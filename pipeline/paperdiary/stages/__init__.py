"""A paper's journey, one stage a module: identify, fetch, extract, chunk, draft, write the entry."""
