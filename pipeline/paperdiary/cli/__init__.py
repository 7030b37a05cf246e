"""The command line: click command groups, one module each, and the only room that talks to the terminal (rich)."""
