"""The diary itself: the README model, the lessons queue and review, the catalog of entries and what is built on it."""
