"""The diary's machine state in its git-ignored folder: the SQLite store, migrations, journal and write lock."""
