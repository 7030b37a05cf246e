"""Drafting: the Draft contract, the offline and LLM drafters, and the grounding of claims in the paper."""
