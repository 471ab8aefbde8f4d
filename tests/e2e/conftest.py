"""The live server and the browser of test_browser.py, for every browser test module."""

from tests.e2e.test_browser import browser, live_server  # noqa: F401
