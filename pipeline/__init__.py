"""PaperDiary: turn a paper-a-day habit into a living diary."""

__version__ = "0.1.0"
