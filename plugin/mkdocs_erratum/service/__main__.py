"""``python -m mkdocs_erratum.service``: the same as ``erratum serve``."""

from mkdocs_erratum.service.cli import serve

if __name__ == "__main__":
    serve(prog_name="erratum serve")
