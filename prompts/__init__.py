"""The packaged templates (installed as ``paperdiary.prompts``; read through importlib.resources)."""
