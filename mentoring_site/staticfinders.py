"""Serve ``plotly/plotly.min.js`` exactly as the installed plotly package ships it.

The package's data folder also holds a 4.8 MB widget bundle and sample data sets;
this finder exposes the one file the pages load, so collectstatic copies nothing else.
"""

from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_DIR = Path(plotly.__file__).parent / "package_data"
PLOTLY_FILE = "plotly.min.js"
PREFIX = "plotly"


class PlotlyFinder(BaseFinder):
    storage = FileSystemStorage(location=PLOTLY_DIR)

    def check(self, **kwargs) -> list:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs):
        if path != f"{PREFIX}/{PLOTLY_FILE}":
            return [] if find_all else None
        found = str(PLOTLY_DIR / PLOTLY_FILE)
        return [found] if find_all else found

    def list(self, ignore_patterns):
        self.storage.prefix = PREFIX
        yield PLOTLY_FILE, self.storage
